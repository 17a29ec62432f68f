/**
 * The rule files as Prometheus loads them: `promtool check rules` with every lint, unique alert
 * names, the labels and annotations every alert must carry, recording-rule naming, PromQL syntax
 * and metric names, the thresholds of the stack config flowing into the rules, and the rendered
 * stack mounting exactly this rule set.
 */
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import * as pulumi from "@pulumi/pulumi";
import { alertRules, isAlert, panelThresholds, recordingRules, renderRuleFiles, ruleContext, ruleGroups, RuleContext, stackRuleFiles, DEFAULT_ALERTING } from "../../alerts";
import { resolveConfig } from "../../config/resolve";
import type { StackConfig } from "../../config";
import { DURATION_RE } from "../../config/schema";
import { SCALAR_KEYS, STRUCTURED_KEYS } from "../../config/keys";
import { knownMetricNames, STACK_JOBS } from "../../telemetry";
import { componentTargets } from "../../components/stack";
import { readStackConfig } from "../../scripts/lib/stack-files";
import { ROOT } from "../support/program";
import { renderStack, run, toolPath } from "../support/tools";
import { EXPECTED } from "./support/cases";
import { explain, promtoolTest, RUNBOOK_BASE, tempDir, writeRuleFiles } from "./support/promtool";
import { metricNames, promqlErrors } from "./support/promql";
import { httpSeries } from "./support/series";

const VARIANTS: Record<string, RuleContext> = {
    "prometheus preset, Loki": ruleContext({ preset: "prometheus", logsBackend: "loki" }),
    "otel preset, Loki": ruleContext({ preset: "otel", logsBackend: "loki" }),
    "prometheus preset, Elasticsearch": ruleContext({ preset: "prometheus", logsBackend: "elasticsearch" }),
    "three SLOs, one of them for a single service": ruleContext({
        slos: [
            { name: "availability", kind: "availability", objective: 99.9, window: "30d" },
            { name: "latency", kind: "latency", objective: 95, window: "7d", latencyThreshold: 0.5 },
            { name: "checkout-fast", kind: "latency", objective: 99, window: "1d", latencyThreshold: 0.25, service: "checkout" },
        ],
    }),
};

let tmp: string;
beforeAll(() => {
    toolPath("promtool");
    tmp = tempDir("rule-files");
});
afterAll(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** A stack's resolved config from its committed stack file, with stand-in secrets. */
function stackConfig(stack: "dev" | "prod", overrides: Record<string, unknown> = {}): StackConfig {
    const { project, config } = readStackConfig(ROOT, stack);
    const values: Record<string, unknown> = {};
    for (const key of SCALAR_KEYS) if (`${project}:${key}` in config) values[key] = config[`${project}:${key}`];
    for (const key of STRUCTURED_KEYS) if (`${project}:${key}` in config) values[key] = JSON.parse(config[`${project}:${key}`]!);
    return resolveConfig({ project, stack, values: { ...values, ...overrides } }, (key) => pulumi.secret(`test-${key}`));
}

describe.each(Object.entries(VARIANTS))("the rule files (%s)", (name, ctx) => {
    const groups = ruleGroups(ctx);
    const alerts = alertRules(groups);

    it("pass promtool check rules with every lint enabled and fatal", () => {
        const files = writeRuleFiles(ctx, path.join(tmp, name.replace(/\W+/g, "-")));
        const r = run("promtool", ["check", "rules", "--lint=all", "--lint-fatal", ...files]);
        expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: "" });
        const found = [...r.stdout.matchAll(/SUCCESS: (\d+) rules found/g)].reduce((s, m) => s + Number(m[1]), 0);
        expect(found).toBe(groups.reduce((s, g) => s + g.rules.length, 0));
    });

    it("name every alert once", () => {
        const names = alerts.map((a) => a.alert);
        expect(names.filter((n, i) => names.indexOf(n) !== i)).toEqual([]);
        expect(names.every((n) => /^[A-Z][A-Za-z0-9]+$/.test(n))).toBe(true);
    });

    it("give every alert a severity of critical, warning or info, its team, a summary, a description showing the value, and a valid for:", () => {
        const problems: string[] = [];
        for (const a of alerts) {
            if (!["critical", "warning", "info"].includes(a.labels.severity)) problems.push(`${a.alert}: severity ${a.labels.severity}`);
            if (a.labels.severity !== EXPECTED[a.alert]?.severity) problems.push(`${a.alert}: severity ${a.labels.severity}, expected ${EXPECTED[a.alert]?.severity}`);
            if (a.labels.team !== ctx.alerting.teams[EXPECTED[a.alert]?.team ?? "platform"]) problems.push(`${a.alert}: team ${a.labels.team}`);
            if (!a.annotations.summary.trim()) problems.push(`${a.alert}: no summary`);
            if (!/\{\{\s*\$value\b/.test(a.annotations.description)) problems.push(`${a.alert}: description does not show $value`);
            if (a.for !== undefined && !DURATION_RE.test(a.for)) problems.push(`${a.alert}: for ${a.for}`);
        }
        expect(problems).toEqual([]);
    });

    it("link every alert to docs/runbooks/<AlertName>.md under the configured base URL", () => {
        const rendered = Object.values(renderRuleFiles(groups, { runbookBaseUrl: `${RUNBOOK_BASE}/` })).flatMap(
            (text) => (yaml.load(text) as { groups: { rules: { alert?: string; annotations?: Record<string, string> }[] }[] }).groups[0]!.rules,
        );
        const links = rendered.filter((r) => r.alert).map((r) => [r.alert, r.annotations!.runbook_url]);
        expect(links).toEqual(alerts.map((a) => [a.alert, `${RUNBOOK_BASE}/${a.alert}.md`]));
    });

    it("name recording rules level:metric:operations and keep them in groups of their own", () => {
        const bad = recordingRules(groups)
            .map((r) => r.record)
            .filter((r) => !/^[a-z][a-z0-9_]*:[a-z][a-z0-9_]*:[a-z0-9][a-z0-9_]*$/.test(r));
        expect(bad).toEqual([]);
        const mixed = groups.filter((g) => new Set(g.rules.map((r) => (isAlert(r) ? "alert" : "record"))).size > 1).map((g) => g.name);
        expect(mixed).toEqual([]);
        for (const g of groups) expect(g.name.endsWith(".alerts")).toBe(g.rules.every(isAlert));
    });

    it("write every expression in valid PromQL that selects only metrics the catalog knows or the rules record", () => {
        const known = knownMetricNames(ctx.preset);
        const recorded = new Set(recordingRules(groups).map((r) => r.record));
        const problems: string[] = [];
        for (const r of groups.flatMap((g) => g.rules)) {
            const id = isAlert(r) ? r.alert : r.record;
            for (const e of promqlErrors(r.expr)) problems.push(`${id}: ${e}`);
            for (const n of metricNames(r.expr)) if (!known.has(n) && !recorded.has(n)) problems.push(`${id}: unknown metric ${n}`);
        }
        expect(problems).toEqual([]);
    });
});

describe("the alerting defaults", () => {
    it("are the thresholds and windows issue 4 asks for", () => {
        const a = DEFAULT_ALERTING;
        expect([a.api.errorRatioWarning, a.api.errorRatioCritical]).toEqual([
            { threshold: 0.05, for: "2m" },
            { threshold: 0.15, for: "1m" },
        ]);
        expect([a.api.latencyP95, a.api.latencyP99]).toEqual([
            { threshold: 1, for: "10m" },
            { threshold: 1, for: "5m" },
        ]);
        expect(a.cacheDb.cacheHitRatio).toEqual({ threshold: 0.7, for: "10m" });
        expect(a.cacheDb.dbPoolUtilisation.threshold).toBe(0.9);
        expect(a.infrastructure.targetDown).toEqual({ for: "1m" });
        expect(a.infrastructure.containerMemory.threshold).toBe(0.8);
        expect(a.infrastructure.diskFull.threshold).toBe(4);
        expect(a.slo).toEqual({
            page: [
                { factor: 14.4, long: "1h", short: "5m" },
                { factor: 6, long: "6h", short: "30m" },
            ],
            ticket: [
                { factor: 3, long: "1d", short: "2h" },
                { factor: 1, long: "3d", short: "6h" },
            ],
        });
    });
});

describe("thresholds from the stack config", () => {
    it("reach the rules: a stack's alerting overrides change the expressions, for: and team labels", () => {
        const cfg = stackConfig("dev", {
            alerting: { api: { errorRatioWarning: { threshold: 0.07, for: "4m" } }, teams: { application: "shop-team" }, minRequestRate: 0.5 },
        });
        expect(cfg.alerting.api.errorRatioWarning).toEqual({ threshold: 0.07, for: "4m" });
        // The untouched half and the other thresholds keep their defaults.
        expect(cfg.alerting.api.errorRatioCritical).toEqual(DEFAULT_ALERTING.api.errorRatioCritical);
        const rules = Object.values(stackRuleFiles(cfg)).flatMap((t) => (yaml.load(t) as { groups: { rules: Record<string, any>[] }[] }).groups[0]!.rules);
        const warn = rules.find((r) => r.alert === "ApiErrorRateHigh")!;
        expect(warn.expr).toMatch(/\) > 0\.07\n/);
        expect(warn.expr).toContain("> 0.5");
        expect(warn.for).toBe("4m");
        expect(warn.labels.team).toBe("shop-team");
        expect(warn.expr).not.toContain("> 0.05");
        expect(warn.expr).not.toContain("> 0.1\n");
    });

    it("change what fires: 6% errors warn under the default 5% threshold and stay silent under a 7% one", () => {
        const series = httpSeries(ruleContext().m, { namespace: "shop", service: "checkout" }, 30, [{ minutes: 15, rps: 10, errorRatio: 0.06 }]);
        const outcome = (ctx: RuleContext, file: string) =>
            promtoolTest(
                writeRuleFiles(ctx, path.join(tmp, file, "rules")),
                [{ name: file, interval: "30s", input_series: series, alert_rule_test: [{ alertname: "ApiErrorRateHigh", eval_time: "15m", exp_alerts: [] }] }],
                path.join(tmp, file, "test.yml"),
            );
        const defaults = outcome(ruleContext(), "defaults");
        expect(defaults.status).toBe(1);
        expect(defaults.stdout + defaults.stderr).toContain('alertname="ApiErrorRateHigh"');
        const raised = outcome(ruleContext({ alerting: { ...DEFAULT_ALERTING, api: { ...DEFAULT_ALERTING.api, errorRatioWarning: { threshold: 0.07, for: "2m" } } } }), "raised");
        if (raised.status !== 0) throw new Error(explain(raised));
    });
});

describe("the thresholds dashboards draw (panelThresholds)", () => {
    it("are the numbers the alerts compare against, and follow the stack's overrides", () => {
        const alerting = stackConfig("dev", { alerting: { api: { errorRatioWarning: { threshold: 0.07 } }, cacheDb: { cacheHitRatio: { threshold: 0.8 } } } }).alerting;
        const t = panelThresholds(alerting);
        expect(t.apiErrorRatio).toEqual({ warning: 0.07, critical: 0.15 });
        expect(t.cacheHitRatioMin).toEqual({ warning: 0.8 });
        expect(t.sloBurnRate).toEqual({ warning: 1, critical: 6 });
        const expr = (name: string) => alertRules(ruleGroups(ruleContext({ alerting }))).find((a) => a.alert === name)!.expr;
        expect(expr("ApiErrorRateHigh")).toContain(`) > ${t.apiErrorRatio.warning}\n`);
        expect(expr("ApiErrorRateCritical")).toContain(`) > ${t.apiErrorRatio.critical}\n`);
        expect(expr("ApiLatencyP95High")).toContain(`p95_5m > ${t.apiLatencyP95.warning}\n`);
        expect(expr("CacheHitRateLow")).toContain(`ratio_rate5m < ${t.cacheHitRatioMin.warning}\n`);
        expect(expr("DbConnectionPoolSaturated")).toContain(`> ${t.dbPoolUtilisation.warning}`);
        expect(expr("ContainerMemoryNearLimit")).toContain(`> ${t.containerMemoryRatio.warning}`);
        expect(expr("SloErrorBudgetBurnFast")).toContain(`> ${t.sloBurnRate.critical}\n`);
        expect(expr("SloErrorBudgetBurnSlow")).toContain(`> ${t.sloBurnRate.warning}\n`);
    });
});

describe("the self-monitoring rules", () => {
    it.each(["dev", "prod"] as const)("select by job only jobs the %s stack scrapes (STACK_JOBS follows componentTargets())", (stack) => {
        const scraped = new Set(componentTargets(stackConfig(stack)).map((t) => t.job));
        expect(Object.values(STACK_JOBS).filter((j) => !scraped.has(j))).toEqual([]);
        const jobs = alertRules(ruleGroups(ruleContext())).flatMap((a) => [...a.expr.matchAll(/job="([^"]+)"/g)].map((m) => m[1]!));
        expect(jobs.length).toBeGreaterThan(0);
        expect(jobs.filter((j) => !scraped.has(j))).toEqual([]);
    });
});

describe("the rendered stacks", () => {
    it.each(["dev", "prod"] as const)("mount in %s exactly the rule files the stack config gives (every group of the full rule set)", (stack) => {
        const out = renderStack(stack, path.join(tmp, `render-${stack}`));
        const dir = path.join(out, "files", "prometheus", "rules");
        const rendered = Object.fromEntries(fs.readdirSync(dir).map((f) => [f, fs.readFileSync(path.join(dir, f), "utf8")]));
        const expected = stackRuleFiles(stackConfig(stack));
        expect(Object.keys(rendered).sort()).toEqual(Object.keys(expected).sort());
        for (const [f, text] of Object.entries(expected)) expect(rendered[f]).toBe(text);
        expect(Object.keys(expected)).toEqual(expect.arrayContaining(["api-alerts.yml", "slo-alerts.yml", "slo-sli.yml", "self-monitoring-alerts.yml", "infrastructure-alerts.yml"]));
    });
});
