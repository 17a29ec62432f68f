/**
 * Switching `metricPreset` from prometheus (the telemetry contract) to otel (OTel HTTP semantic
 * conventions) changes every rule that reads HTTP server metrics, directly or through recording
 * rules, to the OTel names and labels, and nothing else. (That the otel rules pass promtool check
 * and fire on OTel-named series is proven in rule-files.test.ts and alert-behaviour.test.ts.)
 */
import { isAlert, ruleContext, ruleGroups, RuleGroup } from "../../alerts";
import { catalog, knownMetricNames, MetricDef, series } from "../../telemetry";
import { metricNames } from "./support/promql";

const contract = catalog("prometheus");
const otel = catalog("otel");

/** Physical series names of the HTTP server metrics of a preset. */
function httpNames(c: typeof contract): Set<string> {
    const names = new Set<string>();
    for (const m of Object.values(c.http) as MetricDef[]) {
        if (m.type === "histogram") for (const s of ["_bucket", "_count", "_sum"] as const) names.add(series(m, s));
        else names.add(m.name);
    }
    return names;
}

/** HTTP series the presets name differently (`active_users` is the same under both: no switch concerns it). */
const [CONTRACT_HTTP, OTEL_HTTP] = ((c: Set<string>, o: Set<string>) => [new Set([...c].filter((n) => !o.has(n))), new Set([...o].filter((n) => !c.has(n)))])(httpNames(contract), httpNames(otel));

interface Flat {
    readonly id: string;
    readonly expr: string;
    /** Raw metric names the rule reads, recording rules resolved to what they read. */
    readonly raw: ReadonlySet<string>;
}

/** Every rule with the raw metrics it depends on (through recording rules, transitively). */
function flatten(groups: readonly RuleGroup[]): Flat[] {
    const rules = groups.flatMap((g) => g.rules);
    const byRecord = new Map<string, string[]>();
    for (const r of rules) if (!isAlert(r)) byRecord.set(r.record, [...(byRecord.get(r.record) ?? []), r.expr]);
    const resolve = (expr: string, seen: Set<string>): Set<string> => {
        const out = new Set<string>();
        for (const n of metricNames(expr)) {
            const exprs = byRecord.get(n);
            if (!exprs) out.add(n);
            else if (!seen.has(n)) for (const e of exprs) for (const x of resolve(e, new Set([...seen, n]))) out.add(x);
        }
        return out;
    };
    return rules.map((r, i) => ({ id: `${isAlert(r) ? r.alert : r.record}#${i}`, expr: r.expr, raw: resolve(r.expr, new Set()) }));
}

const before = flatten(ruleGroups(ruleContext({ preset: "prometheus" })));
const after = flatten(ruleGroups(ruleContext({ preset: "otel" })));
const readsHttp = (f: Flat) => [...f.raw].some((n) => CONTRACT_HTTP.has(n) || OTEL_HTTP.has(n));

describe("switching the metric preset from prometheus to otel", () => {
    it("keeps the same rules in the same order, with the same names", () => {
        expect(after.map((f) => f.id)).toEqual(before.map((f) => f.id));
    });

    it("concerns a substantial part of the rule set (API recordings and alerts, every SLO rule)", () => {
        const ids = before.filter(readsHttp).map((f) => f.id.split("#")[0]!);
        expect(ids.length).toBeGreaterThanOrEqual(30);
        for (const name of ["ApiErrorRateHigh", "ApiErrorRateCritical", "ApiLatencyP95High", "ApiLatencyP99High", "ApiTrafficDropped", "ApiInFlightSaturation", "SloErrorBudgetBurnFast", "SloErrorBudgetBurnSlow"]) {
            expect(ids).toContain(name);
        }
    });

    it("makes every rule that reads HTTP server metrics read only the OTel names, and change its expression or its inputs", () => {
        const problems: string[] = [];
        before.forEach((b, i) => {
            if (!readsHttp(b)) return;
            const a = after[i]!;
            const stillContract = [...a.raw].filter((n) => CONTRACT_HTTP.has(n) && !OTEL_HTTP.has(n));
            if (stillContract.length) problems.push(`${a.id} still reads ${stillContract.join(", ")}`);
            if (![...a.raw].some((n) => OTEL_HTTP.has(n))) problems.push(`${a.id} reads no OTel HTTP metric`);
            if ([...b.raw].some((n) => OTEL_HTTP.has(n) && !CONTRACT_HTTP.has(n))) problems.push(`${b.id} reads OTel names under the prometheus preset`);
            if ([...a.raw].sort().join() === [...b.raw].sort().join()) problems.push(`${a.id} reads the same metrics under both presets`);
        });
        expect(problems).toEqual([]);
    });

    it("uses the OTel label names in the rules that read HTTP metrics directly", () => {
        const direct = after.filter((f) => metricNames(f.expr).some((n) => OTEL_HTTP.has(n)));
        expect(direct.length).toBeGreaterThan(0);
        const contractLabels = /\b(status|route|method)(=|!=|=~|!~)"|by \([^)]*\b(status|route|method)\b/;
        expect(direct.filter((f) => contractLabels.test(f.expr)).map((f) => f.id)).toEqual([]);
        expect(direct.filter((f) => f.expr.includes("http_response_status_code")).length).toBeGreaterThan(0);
    });

    it("leaves every rule that does not read HTTP metrics exactly as it was", () => {
        const changed = before.filter((b, i) => !readsHttp(b) && b.expr !== after[i]!.expr).map((b) => b.id);
        expect(changed).toEqual([]);
    });

    it("selects only metric names the otel catalog knows, so no contract name survives by accident", () => {
        const known = knownMetricNames("otel");
        const unknown = after.flatMap((f) => [...f.raw].filter((n) => !known.has(n)).map((n) => `${f.id}: ${n}`));
        expect(unknown).toEqual([]);
    });
});
