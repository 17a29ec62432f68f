/**
 * Every recording rule, evaluated by the real `promtool test rules` over a steady three-day
 * fixture (support/fixture.ts): one `promql_expr_test` per expected series. Values are compared
 * in millionths (`round(x * 1e6)`), since promtool compares floats exactly and the expected
 * values are computed independently here. Runs under both metric presets: the recorded series
 * (names and values) are the same whichever naming the applications use.
 */
import * as fs from "fs";
import * as path from "path";
import { isAlert, RECORDING, recordingRules, ROUTE_RULES_INTERVAL, ruleContext, ruleGroups, RuleContext } from "../../alerts";
import type { MetricPreset } from "../../config";
import { toolPath } from "../support/tools";
import { Expectation, FIXTURE_INTERVAL, FIXTURE_MINUTES, recordingFixture } from "./support/fixture";
import { explain, minutes, promtoolTest, PromqlExprTest, tempDir, writeRuleFiles } from "./support/promtool";
import { seriesText } from "./support/series";

const PRESETS: readonly MetricPreset[] = ["prometheus", "otel"];
let tmp: string;
const results: Record<string, { status: number | null; output: string; file: string }> = {};

function exprTest(e: Expectation): PromqlExprTest {
    const selector = seriesText(e.record, e.labels);
    return {
        expr: `round(${selector} * 1e6)`,
        eval_time: minutes(FIXTURE_MINUTES),
        exp_samples: e.value === null ? [] : [{ labels: seriesText("", e.labels), value: Math.round(e.value * 1e6) }],
    };
}

/** The expression test's failure block in promtool's output, if it failed. */
function failureOf(output: string, e: Expectation): string | undefined {
    const needle = `expr: ${JSON.stringify(exprTest(e).expr)}`;
    const at = output.indexOf(needle);
    if (at < 0) return undefined;
    return output.slice(at, output.indexOf("\n    expr:", at + 1) > 0 ? output.indexOf("\n    expr:", at + 1) : undefined).trim();
}

const ctxs: Record<MetricPreset, RuleContext> = { prometheus: ruleContext({ preset: "prometheus" }), otel: ruleContext({ preset: "otel" }) };

beforeAll(() => {
    toolPath("promtool");
    tmp = tempDir("recording-rules");
    for (const preset of PRESETS) {
        const ctx = ctxs[preset];
        const { series, expectations } = recordingFixture(ctx);
        const r = promtoolTest(
            writeRuleFiles(ctx, path.join(tmp, preset, "rules")),
            [{ name: `recording rules (${preset})`, interval: `${FIXTURE_INTERVAL}s`, input_series: series, promql_expr_test: expectations.map(exprTest) }],
            path.join(tmp, preset, "recording-test.yml"),
            // Long enough for the 3d windows; the expressions are read at the last evaluation.
            "1h",
        );
        results[preset] = { status: r.status, output: `${r.stdout}${r.stderr}`, file: r.file };
    }
});

afterAll(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

const recordKey = (record: string, slo?: string) => `${record}${slo ? `{slo="${slo}"}` : ""}`;

describe("evaluation intervals", () => {
    it("put every rule in a group evaluated at the interval its RecordingRef gives (the resolution dashboards step by), the others at the stack's", () => {
        const declared = new Map<string, string | undefined>(Object.values(RECORDING).map((r) => [r.record, r.interval]));
        for (const g of ruleGroups(ctxs.prometheus)) {
            for (const r of g.rules) {
                if (isAlert(r) || !declared.has(r.record)) continue;
                expect([r.record, g.interval]).toEqual([r.record, declared.get(r.record)]);
            }
        }
        expect(ruleGroups(ctxs.prometheus).find((g) => g.name === "api.routes.recording")?.interval).toBe(ROUTE_RULES_INTERVAL);
    });
});

describe.each(PRESETS)("the recording rules under the %s preset", (preset) => {
    const ctx = ctxs[preset];
    const { expectations } = recordingFixture(ctx);

    it("each have at least one expression test, and every expression test reads a recording rule that exists", () => {
        const rules = recordingRules(ruleGroups(ctx)).map((r) => recordKey(r.record, r.labels?.slo));
        const tested = new Set(expectations.map((e) => recordKey(e.record, e.labels.slo)));
        expect(rules.filter((r) => !tested.has(r))).toEqual([]);
        expect([...tested].filter((t) => !rules.includes(t))).toEqual([]);
    });

    it("pass promtool's run of the fixture (the run itself loads the rules and the input without error)", () => {
        const r = results[preset]!;
        const unattributed = r.output.split("\n").filter((l) => /err:|error|could not/i.test(l));
        expect(unattributed).toEqual([]);
        if (r.status !== 0 && !expectations.some((e) => failureOf(r.output, e))) throw new Error(explain({ ...r, stdout: r.output, stderr: "" }));
    });

    it.each(expectations.map((e) => [e.record, e.note, e] as const))("record %s: %s", (_record, _note, e) => {
        const r = results[preset]!;
        // Only a run that got as far as comparing expressions can vouch for this one.
        if (r.status !== 0 && !/FAILED:\s+expr:/.test(r.output)) throw new Error(explain({ ...r, stdout: r.output, stderr: "" }));
        const failure = failureOf(r.output, e);
        if (failure) throw new Error(`${failure}\n(values in millionths; test file ${results[preset]!.file})`);
        expect(results[preset]!.output).not.toContain(JSON.stringify(exprTest(e).expr));
    });
});
