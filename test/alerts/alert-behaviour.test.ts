/**
 * Every alert, run by the real `promtool test rules` against the rendered rule files: input
 * series that make it fire, and series near its threshold (or held shorter than its `for:`) that
 * keep it silent. The HTTP-based alerts (API, SLO) run under both metric presets; the log
 * backend's ingestion alert under both log backends.
 */
import * as fs from "fs";
import * as path from "path";
import { alertRules, ruleContext, ruleGroups, RuleContext } from "../../alerts";
import { toolPath } from "../support/tools";
import { alertCases, AlertCases, Case, componentLabels, EXPECTED, INTERVAL } from "./support/cases";
import { explain, promtoolTest, tempDir, writeRuleFiles } from "./support/promtool";
import { counter, steady } from "./support/series";
import { SELF } from "../../telemetry";
import { fireGroup, silentGroup } from "./support/unit";

let tmp: string;
const rules: Record<string, string[]> = {};
/** A latency SLO at a whole-second bound: Prometheus 3 stores it as `le="1.0"` when scraped, `le="1"` over OTLP. */
const WHOLE_SECOND_SLO = [{ name: "latency-1s", kind: "latency" as const, objective: 95, window: "7d", latencyThreshold: 1 }];
const CONTEXTS: Record<string, RuleContext> = {
    prometheus: ruleContext({ preset: "prometheus" }),
    otel: ruleContext({ preset: "otel" }),
    elasticsearch: ruleContext({ logsBackend: "elasticsearch" }),
    "prometheus-slo-1s": ruleContext({ preset: "prometheus", slos: WHOLE_SECOND_SLO }),
    "otel-slo-1s": ruleContext({ preset: "otel", slos: WHOLE_SECOND_SLO }),
};

beforeAll(() => {
    toolPath("promtool");
    tmp = tempDir("alert-behaviour");
    for (const [name, ctx] of Object.entries(CONTEXTS)) rules[name] = writeRuleFiles(ctx, path.join(tmp, name, "rules"));
});

afterAll(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

let counterId = 0;
function expectFires(variant: string, alert: string, c: Case): void {
    const r = promtoolTest(rules[variant]!, [fireGroup(CONTEXTS[variant]!, alert, c)], path.join(tmp, variant, "tests", `${alert}-fire-${++counterId}.yml`), `${c.evaluation ?? INTERVAL}s`);
    if (r.status !== 0) throw new Error(explain(r));
    expect(r.stdout).toContain("SUCCESS");
}

function expectSilent(variant: string, alert: string, c: Case): void {
    const r = promtoolTest(rules[variant]!, [silentGroup(alert, c)], path.join(tmp, variant, "tests", `${alert}-silent-${++counterId}.yml`), `${c.evaluation ?? INTERVAL}s`);
    if (r.status !== 0) throw new Error(explain(r));
    expect(r.stdout).toContain("SUCCESS");
}

const prometheusCases = alertCases(CONTEXTS.prometheus!);

describe("the alert cases cover every alert", () => {
    it("have a fire case and a near-threshold silent case for every alert of the rule set, and none for an alert that does not exist", () => {
        const names = alertRules(ruleGroups(CONTEXTS.prometheus!)).map((a) => a.alert).sort();
        expect(Object.keys(prometheusCases).sort()).toEqual(names);
        expect(Object.keys(EXPECTED).sort()).toEqual(names);
        const missing = names.filter((n) => prometheusCases[n]!.fire.length === 0 || (n !== "Watchdog" && prometheusCases[n]!.silent.length === 0));
        expect(missing).toEqual([]);
    });

    it("leave the Watchdog without a silent case, because vector(1) fires by design", () => {
        expect(alertRules(ruleGroups(CONTEXTS.prometheus!)).find((a) => a.alert === "Watchdog")?.expr).toBe("vector(1)");
        expect(prometheusCases.Watchdog!.silent).toEqual([]);
    });
});

const table = (cases: Record<string, AlertCases>, kind: "fire" | "silent", only?: (alert: string) => boolean) =>
    Object.entries(cases)
        .filter(([alert]) => !only || only(alert))
        .flatMap(([alert, c]) => c[kind].map((k) => [alert, k.what, k] as const));

describe("under the prometheus preset, promtool", () => {
    it.each(table(prometheusCases, "fire"))("fires %s when %s", (alert, _what, c) => expectFires("prometheus", alert, c));
    it.each(table(prometheusCases, "silent"))("keeps %s silent when %s", (alert, _what, c) => expectSilent("prometheus", alert, c));
});

describe("under the otel preset (OTel HTTP semantic-convention series), promtool", () => {
    const otelCases = alertCases(CONTEXTS.otel!);
    const http = (alert: string) => /^(Api|Slo)/.test(alert);
    it.each(table(otelCases, "fire", http))("fires %s when %s", (alert, _what, c) => expectFires("otel", alert, c));
    it.each(table(otelCases, "silent", http))("keeps %s silent when %s", (alert, _what, c) => expectSilent("otel", alert, c));
});

describe.each([
    ["prometheus-slo-1s", "scraped contract histograms, stored with le=\"1.0\""],
    ["otel-slo-1s", "OTel histograms pushed over OTLP, stored with le=\"1\""],
])("with a latency SLO at 1 s under %s (%s), promtool", (variant) => {
    const cases = alertCases(CONTEXTS[variant]!);
    const latency = (alert: string) => alert === "SloErrorBudgetBurnFast";
    it("has a fire case reading the SLO's 1 s bucket", () => expect(table(cases, "fire", latency).map(([, what]) => what)).toContainEqual(expect.stringContaining("slower than 1s")));
    it.each(table(cases, "fire", latency))("fires %s when %s", (alert, _what, c) => expectFires(variant, alert, c));
    it.each(table(cases, "silent", latency))("keeps %s silent when %s", (alert, _what, c) => expectSilent(variant, alert, c));
});

describe("with Elasticsearch as the log backend, promtool", () => {
    const ctx = CONTEXTS.elasticsearch!;
    const threshold = ctx.alerting.selfMonitoring.logIngestionErrors.threshold;
    const gateway = componentLabels("otel-collector-gateway", "otel-collector-gateway-0");
    const logs = (share: number) => [
        counter(SELF.collector.logsSent, { ...gateway, exporter: "elasticsearch/logs" }, 30, steady(20, 100)),
        counter(SELF.collector.logsSendFailed, { ...gateway, exporter: "elasticsearch/logs" }, 30, steady(20, (100 * share) / (1 - share))),
        // Failures of another exporter are not the log backend's.
        counter(SELF.collector.logsSendFailed, { ...gateway, exporter: "otlp/elsewhere" }, 30, steady(20, 50)),
    ];
    const at = 15;

    it("fires LogBackendIngestionErrors when the collector fails to write 3% of log records to Elasticsearch", () =>
        expectFires("elasticsearch", "LogBackendIngestionErrors", { what: "3% of log records fail", series: logs(threshold * 3), at, labels: { namespace: "monitoring", service: "otel-collector-gateway" } }));

    it("keeps LogBackendIngestionErrors silent when the collector fails to write 0.9% of log records to Elasticsearch", () =>
        expectSilent("elasticsearch", "LogBackendIngestionErrors", { what: "0.9% of log records fail", series: logs(threshold * 0.9), at }));
});
