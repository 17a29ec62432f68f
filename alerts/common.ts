/**
 * What every rule module shares: the context rules are built from (metric catalog of the preset,
 * thresholds, SLOs), the label sets aggregations keep, and small PromQL and alert builders.
 */
import type { AlertingConfig, MetricPreset, SloConfig } from "../config";
import { DEFAULT_ALERTING, DEFAULT_SLOS } from "../config/defaults";
import { by, catalog, Catalog, MetricDef } from "../telemetry";
import type { AlertRule } from "./index";

/** Everything a rule module needs; built once from the StackConfig by {@link ruleContext}. */
export interface RuleContext {
    /** Metric naming preset the rules query. */
    readonly preset: MetricPreset;
    /** The catalog of {@link preset}: every application metric is named through it. */
    readonly m: Catalog;
    /** Thresholds and windows. */
    readonly alerting: AlertingConfig;
    /** Service level objectives (SLI recording rules and burn-rate alerts). */
    readonly slos: readonly SloConfig[];
    /** The log backend, whose ingestion errors the self-monitoring rules watch. */
    readonly logsBackend: "loki" | "elasticsearch";
}

/** What {@link ruleContext} needs; unset fields take the defaults of config/defaults.ts. */
export interface RuleContextArgs {
    readonly preset?: MetricPreset;
    readonly alerting?: AlertingConfig;
    readonly slos?: readonly SloConfig[];
    readonly logsBackend?: "loki" | "elasticsearch";
}

export function ruleContext(a: RuleContextArgs = {}): RuleContext {
    const preset = a.preset ?? "prometheus";
    return {
        preset,
        m: catalog(preset),
        alerting: a.alerting ?? DEFAULT_ALERTING,
        slos: a.slos ?? DEFAULT_SLOS,
        logsBackend: a.logsBackend ?? "loki",
    };
}

/**
 * Target labels service-level aggregations keep besides the metric's own labels. `cluster` is
 * an external label (absent inside Prometheus, present behind federation or remote storage):
 * keeping it costs nothing and keeps a global view correct.
 */
export const SCOPE = ["cluster", "namespace"] as const;

/** Physical `by` labels: {@link SCOPE} plus logical labels of `m`. */
export function groupBy<L extends string>(m: MetricDef<L>, labels: readonly L[]): string[] {
    return [...SCOPE, ...by(m, labels)];
}

/** A number as PromQL text, without float noise (0.1 + 0.2 → 0.3). */
export function num(n: number): string {
    return String(Number(n.toPrecision(12)));
}

/** `(a)\nand\n(b)\nand\n(c)`: every condition, keeping the first one's value and labels. */
export function allOf(conditions: readonly string[]): string {
    return conditions.map((c) => `(\n${c}\n)`).join("\nand\n");
}

/** `(a)\nand\n(b)`: both conditions, keeping `a`'s value and labels. */
export function and(a: string, b: string, on?: readonly string[]): string {
    return `(\n${a}\n)\nand${on ? ` on (${on.join(", ")})` : ""}\n(\n${b}\n)`;
}

/**
 * `count by (g) (<selector> offset <ago>)`: the series existed `ago` back, so a baseline window
 * ending `ago - window` back is complete. Without it a service's first hour looks like a spike
 * against an empty previous hour.
 */
export function existedAgo(selector: string, group: readonly string[], ago: string): string {
    return `count by (${group.join(", ")}) (${selector} offset ${ago})`;
}

/** The severities rules may use (alerts/routing.ts routes more; CONVENTIONS allow these three). */
export type RuleSeverity = AlertRule["labels"]["severity"];

export interface AlertSpec {
    readonly name: string;
    readonly expr: string;
    readonly for?: string;
    readonly severity: RuleSeverity;
    readonly team: string;
    /** One line; may use `{{ $labels.x }}`. */
    readonly summary: string;
    /** Must show the value (`{{ $value ... }}`) and say what it compares against. */
    readonly description: string;
    readonly labels?: Readonly<Record<string, string>>;
}

export function alert(s: AlertSpec): AlertRule {
    if (!/\{\{\s*\$value/.test(s.description)) throw new Error(`alert ${s.name}: its description must show the value ({{ $value }})`);
    return {
        alert: s.name,
        expr: s.expr,
        ...(s.for ? { for: s.for } : {}),
        labels: { severity: s.severity, team: s.team, ...(s.labels ?? {}) },
        annotations: { summary: s.summary, description: s.description },
    };
}

/** `{{ $labels.namespace }}/{{ $labels.service }}` for summaries. */
export const SERVICE_REF = "{{ $labels.namespace }}/{{ $labels.service }}";

/** A percentage for annotations: 0.05 → "5%". */
export function pct(ratio: number): string {
    return `${num(ratio * 100)}%`;
}
