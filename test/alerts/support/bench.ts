/**
 * The alert-quality benchmark: incident and benign scenarios run through `promtool test rules`
 * in simulated time (15 s samples and evaluations, like prod) against the full rule set of the
 * default config, reporting per scenario the minutes from onset to the first warning and the
 * first page, and every alert that fired where it should not have.
 *
 * promtool is asked, at the end of each scenario, for the first firing time of every alert
 * (`min_over_time(timestamp(ALERTS{alertstate="firing"})[...])`) with an expectation that cannot
 * hold; the times are read from what it reports instead.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { ruleContext, RuleContext } from "../../../alerts";
import { INFRA, label, SELF } from "../../../telemetry";
import { toolPath } from "../../support/tools";
import { ASSISTANT, CATALOG, CHECKOUT, componentLabels, SLOW } from "./cases";
import { gotSamples, minutes, tempDir, TestGroup, writeRuleFiles } from "./promtool";
import { counter, FAST, gauge, HttpPhase, httpSeries, InputSeries, Phase, steady } from "./series";

/** Samples and evaluations every 15 s (the prod scrape and evaluation interval). */
export const STEP = 15;

export interface Scenario {
    readonly name: string;
    readonly kind: "incident" | "benign";
    /** Minute the incident (or the benign event) starts. */
    readonly onset: number;
    /** Simulated minutes in total. */
    readonly minutes: number;
    readonly series: InputSeries[];
    /** Sample and evaluation interval in seconds. @default {@link STEP} */
    readonly step?: number;
}

export interface FiredAlert {
    readonly alertname: string;
    readonly severity: string;
    /** Minutes from the scenario's onset to the first firing (negative: before the onset). */
    readonly after: number;
}

export interface ScenarioResult {
    readonly scenario: Scenario;
    readonly fired: readonly FiredAlert[];
    /** Minutes from onset to the first warning / page, undefined when none fired after the onset. */
    readonly firstWarning?: number;
    readonly firstPage?: number;
    /** Alerts that should not have fired: any in a benign scenario, before the onset in an incident. */
    readonly falseAlerts: readonly FiredAlert[];
    readonly wallMs: number;
}

/** A healthy stack around the application: every absent()-based alert stays quiet. */
function background(total: number, step = STEP): InputSeries[] {
    const g = (name: string, labels: Record<string, string>, v: number) => gauge(name, labels, step, steady(total, v));
    const prom = componentLabels("prometheus", "prometheus-0");
    return [
        g(INFRA.up, componentLabels("grafana", "grafana-0"), 1),
        g(INFRA.up, prom, 1),
        ...[0, 1, 2].map((i) => g(INFRA.up, componentLabels("alertmanager", `alertmanager-${i}`), 1)),
        ...["node-a", "node-b", "node-c"].map((node) => g(INFRA.kube.nodeReady, { node, condition: "Ready", status: "true" }, 1)),
        ...[0, 1, 2, 3, 4, 5].map((i) => g(INFRA.up, { job: "kubernetes-pods", namespace: "shop", service: "inventory", pod: `inventory-${i}`, instance: `10.0.2.${i}:8080` }, 1)),
        g(SELF.prometheus.configReloadSuccessful, prom, 1),
        g(SELF.prometheus.alertmanagersDiscovered, prom, 3),
    ];
}

/** `up` of an application's pods. */
function upOf(target: { namespace: string; service: string }, pods: readonly string[], total: number, down?: { pod: string; from: number }, step = STEP): InputSeries[] {
    return pods.map((pod, i) =>
        gauge(
            INFRA.up,
            { job: "kubernetes-pods", namespace: target.namespace, service: target.service, pod, instance: `10.0.0.${i + 1}:8080` },
            step,
            down && down.pod === pod ? [{ minutes: down.from, value: 1 }, { minutes: total - down.from, value: 0 }] : steady(total, 1),
        ),
    );
}

/** A service's HTTP series and its targets, from traffic phases. */
function service(ctx: RuleContext, phases: HttpPhase[], target: { namespace: string; service: string } = CHECKOUT, pods = ["checkout-0", "checkout-1"], step = STEP): InputSeries[] {
    const total = phases.reduce((s, p) => s + p.minutes, 0);
    return [...httpSeries(ctx.m, { ...target, pods }, step, phases), ...upOf(target, pods, total, undefined, step)];
}

/**
 * Healthy history before every onset: 6 hours, so both paging burn-rate pairs (1h and 6h long
 * windows) are complete, as they are in a Prometheus that has been running for a while. (Rules
 * judge a pair only once its long window is full; the ticket pairs need 1d and 3d, which only
 * the steady 0.5% scenario runs long enough to reach.)
 */
const WARMUP = 360;
const RPS = 10;
const BASE_ERRORS = 0.0005;

/** Baseline traffic, then `incident` from the onset. */
function errorIncident(ctx: RuleContext, name: string, ratio: number, after: number): Scenario {
    return {
        name,
        kind: "incident",
        onset: WARMUP,
        minutes: WARMUP + after,
        series: [
            ...background(WARMUP + after),
            ...service(ctx, [
                { minutes: WARMUP, rps: RPS, errorRatio: BASE_ERRORS },
                { minutes: after, rps: RPS, errorRatio: ratio },
            ]),
        ],
    };
}

export function scenarios(ctx: RuleContext = ruleContext()): Scenario[] {
    const m = ctx.m;
    const llm = m.llm;
    const { cache, db } = m;
    const out: Scenario[] = [];

    // --- Incidents
    out.push(errorIncident(ctx, "full outage (100% errors)", 1, 30));
    out.push(errorIncident(ctx, "20% errors", 0.2, 30));
    out.push(errorIncident(ctx, "6% errors", 0.06, 30));
    out.push(errorIncident(ctx, "2% errors sustained for hours", 0.02, 240));
    out.push({
        name: "p95 latency 200 ms → 1.5 s",
        kind: "incident",
        onset: WARMUP,
        minutes: WARMUP + 90,
        series: [
            ...background(WARMUP + 90),
            ...service(ctx, [
                { minutes: WARMUP, rps: RPS, errorRatio: BASE_ERRORS, latency: FAST },
                { minutes: 90, rps: RPS, errorRatio: BASE_ERRORS, latency: SLOW },
            ]),
        ],
    });
    {
        const total = WARMUP + 30;
        const pods = ["checkout-0", "checkout-1"];
        // checkout-1 stops answering: its target is down and its series go stale.
        const live = httpSeries(m, { ...CHECKOUT, pods: ["checkout-0"] }, STEP, [{ minutes: total, rps: RPS / 2, errorRatio: BASE_ERRORS }]);
        const dying = httpSeries(m, { ...CHECKOUT, pods: ["checkout-1"] }, STEP, [{ minutes: WARMUP, rps: RPS / 2, errorRatio: BASE_ERRORS }]);
        out.push({
            name: "target down (one of two pods)",
            kind: "incident",
            onset: WARMUP,
            minutes: total,
            series: [...background(total), ...live, ...dying, ...upOf(CHECKOUT, pods, total, { pod: "checkout-1", from: WARMUP })],
        });
    }
    {
        const total = WARMUP + 30;
        const lbl = (provider: string, status: string) => ({
            namespace: ASSISTANT.namespace,
            pod: "assistant-0",
            [label(llm.requests, "service")]: ASSISTANT.service,
            [label(llm.requests, "provider")]: provider,
            [label(llm.requests, "model")]: provider === "openai" ? "gpt-4o" : "claude",
            [label(llm.requests, "status")]: status,
        });
        const phases = (before: number, after: number): Phase<number>[] => [
            { minutes: WARMUP, value: before },
            { minutes: 30, value: after },
        ];
        out.push({
            name: "one provider failing",
            kind: "incident",
            onset: WARMUP,
            minutes: total,
            series: [
                ...background(total),
                ...service(ctx, [{ minutes: total, rps: RPS, errorRatio: BASE_ERRORS }]),
                counter(llm.requests.name, lbl("openai", "success"), STEP, phases(2, 0)),
                counter(llm.requests.name, lbl("openai", "error"), STEP, phases(0.01, 2)),
                counter(llm.requests.name, lbl("anthropic", "success"), STEP, phases(1, 1)),
            ],
        });
    }
    {
        const total = WARMUP + 30;
        const cl = (result: string) => ({ namespace: CATALOG.namespace, pod: "catalog-0", [label(cache.requests, "service")]: CATALOG.service, [label(cache.requests, "cache")]: "products", [label(cache.requests, "result")]: result });
        out.push({
            name: "cache hit rate collapse (90% → 20%)",
            kind: "incident",
            onset: WARMUP,
            minutes: total,
            series: [
                ...background(total),
                ...service(ctx, [{ minutes: total, rps: RPS, errorRatio: BASE_ERRORS }]),
                counter(cache.requests.name, cl("hit"), STEP, [{ minutes: WARMUP, value: 18 }, { minutes: 30, value: 4 }]),
                counter(cache.requests.name, cl("miss"), STEP, [{ minutes: WARMUP, value: 2 }, { minutes: 30, value: 16 }]),
            ],
        });
    }
    {
        const total = WARMUP + 30;
        const dl = { namespace: CATALOG.namespace, pod: "catalog-0", [label(db.connections, "service")]: CATALOG.service, [label(db.connections, "db")]: "orders" };
        out.push({
            name: "database pool exhausted",
            kind: "incident",
            onset: WARMUP,
            minutes: total,
            series: [
                ...background(total),
                ...service(ctx, [{ minutes: total, rps: RPS, errorRatio: BASE_ERRORS }]),
                gauge(db.connections.name, { ...dl, [label(db.connections, "state")]: "active" }, STEP, [{ minutes: WARMUP, value: 12 }, { minutes: 30, value: 20 }]),
                gauge(db.connections.name, { ...dl, [label(db.connections, "state")]: "idle" }, STEP, [{ minutes: WARMUP, value: 8 }, { minutes: 30, value: 0 }]),
                gauge(db.connectionsMax.name, dl, STEP, steady(total, 20)),
            ],
        });
    }

    // --- Benign
    // A day and a half, so the 1-day ticket window is full: 0.5% on a 99.9% SLO burns its budget 5x.
    out.push({
        name: "steady 0.5% errors (36 h)",
        kind: "benign",
        onset: 0,
        minutes: 36 * 60,
        step: 60,
        series: [...background(36 * 60, 60), ...service(ctx, [{ minutes: 36 * 60, rps: RPS, errorRatio: 0.005 }], CHECKOUT, ["checkout-0", "checkout-1"], 60)],
    });
    out.push({
        name: "one-minute spike to 10% errors",
        kind: "benign",
        onset: WARMUP,
        minutes: WARMUP + 60,
        series: [
            ...background(WARMUP + 60),
            ...service(ctx, [
                { minutes: WARMUP, rps: RPS, errorRatio: BASE_ERRORS },
                { minutes: 1, rps: RPS, errorRatio: 0.1 },
                { minutes: 59, rps: RPS, errorRatio: BASE_ERRORS },
            ]),
        ],
    });
    {
        // Three pods replaced one after another, 2 minutes apart: each old pod's series end, its
        // replacement's start from zero 30 s later (its first scrape fails: not ready yet), and
        // the 30 s swap costs 5% errors on the whole service (connections reset).
        const total = WARMUP + 30;
        const series: InputSeries[] = [...background(total)];
        const third = RPS / 3;
        for (let i = 0; i < 3; i++) {
            const swap = WARMUP + 2 * i;
            const old = `checkout-old-${i}`;
            const fresh = `checkout-new-${i}`;
            series.push(
                ...httpSeries(m, { ...CHECKOUT, pods: [old] }, STEP, [
                    { minutes: swap, rps: third, errorRatio: BASE_ERRORS },
                    { minutes: 0.5, rps: third, errorRatio: 0.15 },
                    { minutes: total - swap - 0.5, rps: 0, absent: true },
                ]),
                ...httpSeries(m, { ...CHECKOUT, pods: [fresh] }, STEP, [
                    { minutes: swap + 0.5, rps: 0, absent: true },
                    { minutes: total - swap - 0.5, rps: third, errorRatio: BASE_ERRORS },
                ]),
                gauge(INFRA.up, { job: "kubernetes-pods", ...CHECKOUT, pod: old, instance: `10.0.3.${i}:8080` }, STEP, [{ minutes: swap + 0.5, value: 1 }, { minutes: total - swap - 0.5, value: null }]),
                gauge(INFRA.up, { job: "kubernetes-pods", ...CHECKOUT, pod: fresh, instance: `10.0.4.${i}:8080` }, STEP, [
                    { minutes: swap + 0.5, value: null },
                    { minutes: 0.25, value: 0 },
                    { minutes: total - swap - 0.75, value: 1 },
                ]),
            );
        }
        out.push({ name: "rolling restart blip", kind: "benign", onset: WARMUP, minutes: total, series });
    }
    {
        // reports: 3 requests in 10 minutes, one of them failing; checkout is healthy alongside.
        const total = WARMUP + 30;
        out.push({
            name: "low-traffic service, 1 of 3 requests failed",
            kind: "benign",
            onset: WARMUP,
            minutes: total,
            series: [
                ...background(total),
                ...service(ctx, [{ minutes: total, rps: RPS, errorRatio: BASE_ERRORS }]),
                ...service(
                    ctx,
                    [
                        { minutes: WARMUP, rps: 0, errorRatio: 0 },
                        { minutes: 10, rps: 3 / 600, errorRatio: 1 / 3 },
                        { minutes: 20, rps: 0, errorRatio: 0 },
                    ],
                    { namespace: "shop", service: "reports" },
                    ["reports-0"],
                ),
            ],
        });
    }
    {
        // Evening to night: 20 req/s falling to 0.5 req/s over three hours, in 15-minute steps.
        const steps = 12;
        const phases: HttpPhase[] = Array.from({ length: steps + 4 }, (_, i) => ({
            minutes: 15,
            rps: i < steps ? 20 * Math.pow(0.5 / 20, i / (steps - 1)) : 0.5,
            errorRatio: BASE_ERRORS,
        }));
        out.push({ name: "traffic falling at night (20 → 0.5 req/s)", kind: "benign", onset: 0, minutes: (steps + 4) * 15, series: [...background((steps + 4) * 15), ...service(ctx, phases)] });
    }
    return out;
}

const FIRST_FIRING = (total: number, step: number) => `min by (alertname, severity) (min_over_time(timestamp(ALERTS{alertstate="firing"})[${minutes(total)}:${step}s]))`;

async function runScenario(ruleFiles: string[], s: Scenario, dir: string): Promise<ScenarioResult> {
    const file = path.join(dir, `${s.name.replace(/\W+/g, "-")}.yml`);
    const step = s.step ?? STEP;
    const expr = FIRST_FIRING(s.minutes, step);
    const group: TestGroup = { name: s.name, interval: `${step}s`, input_series: s.series, promql_expr_test: [{ expr, eval_time: minutes(s.minutes), exp_samples: [] }] };
    fs.writeFileSync(file, yaml.dump({ rule_files: ruleFiles, evaluation_interval: `${step}s`, tests: [group] }, { lineWidth: -1, noRefs: true }));
    const started = Date.now();
    const { status, output } = await new Promise<{ status: number | null; output: string }>((resolve, reject) => {
        const p = spawn(toolPath("promtool"), ["test", "rules", file]);
        let output = "";
        p.stdout.on("data", (d) => (output += d));
        p.stderr.on("data", (d) => (output += d));
        p.on("error", reject);
        p.on("close", (code) => resolve({ status: code, output }));
    });
    const samples = gotSamples(output, expr);
    if (status !== 0 && samples.length === 0) throw new Error(`promtool failed on scenario "${s.name}" (${file}):\n${output}`);
    const fired = samples
        .filter((x) => x.labels.alertname !== "Watchdog" && x.labels.severity !== "info")
        .map((x) => ({ alertname: x.labels.alertname!, severity: x.labels.severity!, after: x.value / 60 - s.onset }))
        .sort((a, b) => a.after - b.after);
    const afterOnset = fired.filter((f) => f.after >= 0);
    const first = (sev: string) => afterOnset.find((f) => f.severity === sev)?.after;
    const firstWarning = first("warning");
    const firstPage = first("critical");
    return {
        scenario: s,
        fired,
        ...(firstWarning !== undefined ? { firstWarning } : {}),
        ...(firstPage !== undefined ? { firstPage } : {}),
        falseAlerts: s.kind === "benign" ? fired : fired.filter((f) => f.after < 0),
        wallMs: Date.now() - started,
    };
}

/** Runs every scenario (or those `only` keeps), `parallel` promtool processes at a time. */
export async function runBench(parallel = 2, ctx: RuleContext = ruleContext(), only: (s: Scenario) => boolean = () => true): Promise<ScenarioResult[]> {
    const dir = tempDir("bench-alerts");
    try {
        const ruleFiles = writeRuleFiles(ctx, path.join(dir, "rules"));
        const list = scenarios(ctx).filter(only);
        const results: ScenarioResult[] = new Array(list.length);
        let next = 0;
        const worker = async () => {
            while (next < list.length) {
                const i = next++;
                results[i] = await runScenario(ruleFiles, list[i]!, dir);
            }
        };
        await Promise.all(Array.from({ length: parallel }, worker));
        return results;
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

export interface Verdict {
    readonly target: string;
    readonly met: boolean;
    readonly detail: string;
}

/** The targets, checked against the results. */
export function verdicts(results: readonly ScenarioResult[]): Verdict[] {
    const by = (n: string) => results.find((r) => r.scenario.name === n)!;
    const fmt = (v?: number) => (v === undefined ? "none" : `${v.toFixed(2)} min`);
    const incidents = results.filter((r) => r.scenario.kind === "incident");
    const benign = results.filter((r) => r.scenario.kind === "benign");
    const benignWarnings = benign.flatMap((r) => r.fired.filter((f) => f.severity === "warning").map((f) => `${r.scenario.name}: ${f.alertname}`));
    const benignPages = benign.flatMap((r) => r.fired.filter((f) => f.severity === "critical").map((f) => `${r.scenario.name}: ${f.alertname}`));
    const alerted = (r: ScenarioResult) => Math.min(r.firstWarning ?? Infinity, r.firstPage ?? Infinity);
    const fivePct = ["full outage (100% errors)", "20% errors", "6% errors"].map(by);
    return [
        { target: "full outage paged within 2 min", met: (by("full outage (100% errors)").firstPage ?? Infinity) <= 2, detail: fmt(by("full outage (100% errors)").firstPage) },
        {
            target: "15% or more errors paged within 3 min",
            met: ["full outage (100% errors)", "20% errors"].every((n) => (by(n).firstPage ?? Infinity) <= 3),
            detail: `outage ${fmt(by("full outage (100% errors)").firstPage)}, 20% ${fmt(by("20% errors").firstPage)}`,
        },
        {
            target: "5% or more errors warned (or paged) within 5 min",
            met: fivePct.every((r) => alerted(r) <= 5),
            detail: fivePct.map((r) => `${r.scenario.name}: ${fmt(alerted(r) === Infinity ? undefined : alerted(r))}`).join(", "),
        },
        { target: "every incident alerted", met: incidents.every((r) => alerted(r) < Infinity), detail: incidents.filter((r) => alerted(r) === Infinity).map((r) => r.scenario.name).join(", ") || "all" },
        { target: "no false alert before an incident's onset", met: incidents.every((r) => r.falseAlerts.length === 0), detail: incidents.flatMap((r) => r.falseAlerts.map((f) => `${r.scenario.name}: ${f.alertname}`)).join(", ") || "none" },
        { target: "no page in any benign scenario", met: benignPages.length === 0, detail: benignPages.join(", ") || "none" },
        { target: "at most one warning across all benign scenarios", met: benignWarnings.length <= 1, detail: benignWarnings.join(", ") || "none" },
    ];
}

/** The report: one table row per scenario, then the targets. */
export function report(results: readonly ScenarioResult[]): string {
    const fmt = (v?: number) => (v === undefined ? "—" : v.toFixed(2));
    const rows = results.map((r) => {
        const alerts = r.fired.map((f) => `${f.alertname} (${f.severity[0]}) ${f.after >= 0 ? "+" : ""}${f.after.toFixed(2)}`).join(", ") || "—";
        const falses = r.falseAlerts.map((f) => f.alertname).join(", ") || "none";
        return `| ${r.scenario.kind} | ${r.scenario.name} | ${fmt(r.firstWarning)} | ${fmt(r.firstPage)} | ${falses} | ${alerts} | ${(r.wallMs / 1000).toFixed(0)} s |`;
    });
    const v = verdicts(results);
    return [
        "| kind | scenario | first warning (min) | first page (min) | false alerts | alerts fired (w/c, minutes from onset) | promtool |",
        "|---|---|---|---|---|---|---|",
        ...rows,
        "",
        "| target | result | detail |",
        "|---|---|---|",
        ...v.map((x) => `| ${x.target} | ${x.met ? "met" : "NOT met"} | ${x.detail} |`),
    ].join("\n");
}
