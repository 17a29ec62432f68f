/**
 * promtool as the tests and the bench use it: rule files rendered from a rule context into a
 * temp dir, unit-test files written as YAML next to them, and `promtool test rules` / `check
 * rules` run on them (a missing promtool fails with the install command: test/support/tools.ts).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import { renderRuleFiles, ruleGroups, RuleContext } from "../../../alerts";
import { run, RunResult } from "../../support/tools";
import type { InputSeries } from "./series";

export const RUNBOOK_BASE = "https://example.com/docs/runbooks";

/** Renders every rule file of a context into `dir`; returns their absolute paths. */
export function writeRuleFiles(ctx: RuleContext, dir: string): string[] {
    fs.mkdirSync(dir, { recursive: true });
    return Object.entries(renderRuleFiles(ruleGroups(ctx), { runbookBaseUrl: RUNBOOK_BASE })).map(([name, text]) => {
        const file = path.join(dir, name);
        fs.writeFileSync(file, text);
        return file;
    });
}

export function tempDir(prefix: string): string {
    return fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
}

export interface ExpSample {
    readonly labels: string;
    readonly value: number;
}

export interface PromqlExprTest {
    readonly expr: string;
    readonly eval_time: string;
    readonly exp_samples: readonly ExpSample[];
}

export interface AlertRuleTest {
    readonly alertname: string;
    readonly eval_time: string;
    readonly exp_alerts: readonly { exp_labels?: Record<string, string>; exp_annotations?: Record<string, string> }[];
}

/** One promtool test group. */
export interface TestGroup {
    readonly name: string;
    readonly interval: string;
    readonly input_series: readonly InputSeries[];
    readonly alert_rule_test?: readonly AlertRuleTest[];
    readonly promql_expr_test?: readonly PromqlExprTest[];
}

/** Minutes as a promtool duration (`90` → `90m`, `0.5` → `30s`). */
export function minutes(m: number): string {
    const s = Math.round(m * 60);
    return s % 60 === 0 ? `${s / 60}m` : `${s}s`;
}

/**
 * Writes a unit-test file for `groups` against `ruleFiles` and runs `promtool test rules` on it.
 * The file is kept (its path is in the result) so a failure can be reproduced by hand.
 */
export function promtoolTest(ruleFiles: readonly string[], groups: readonly TestGroup[], file: string, evaluationInterval = "30s"): RunResult & { file: string } {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, yaml.dump({ rule_files: [...ruleFiles], evaluation_interval: evaluationInterval, tests: groups }, { lineWidth: -1, noRefs: true }));
    return { ...run("promtool", ["test", "rules", file], { timeoutMs: 600_000 }), file };
}

/** A failed promtool run as readable text for an assertion message. */
export function explain(r: RunResult & { file: string }): string {
    return `promtool test rules ${r.file} exited ${r.status}\n${r.stdout}${r.stderr}`;
}

/** One sample of promtool's "got:" output: labels and value. */
export interface GotSample {
    readonly labels: Readonly<Record<string, string>>;
    readonly value: number;
}

/**
 * Reads the samples promtool printed for a failed `promql_expr_test` whose expected result was
 * empty: the bench asks "which alerts fired, and first when?" this way, with an expectation that
 * cannot hold, and parses what promtool reports instead.
 */
export function gotSamples(output: string, expr: string): GotSample[] {
    const at = output.indexOf(`expr: ${JSON.stringify(expr)}`);
    if (at < 0) return [];
    const got = /got: (.*)/.exec(output.slice(at));
    if (!got || got[1]!.trim() === "nil") return [];
    const out: GotSample[] = [];
    for (const m of got[1]!.matchAll(/\{([^}]*)\} ([-+0-9.eE]+|NaN|[+-]Inf)/g)) {
        const labels: Record<string, string> = {};
        for (const l of m[1]!.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = JSON.parse(`"${l[2]!}"`);
        out.push({ labels, value: Number(m[2]) });
    }
    return out;
}
