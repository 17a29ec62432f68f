/**
 * What the dashboard tests share: the configurations they build dashboards for, PromQL and LogQL
 * parsing with the real Grafana/Prometheus grammars, and walkers over the dashboard JSON.
 */
import { parser as promqlParser } from "@prometheus-io/lezer-promql";
import { parser as logqlParser } from "@grafana/lezer-logql";
import type { DashboardConfig } from "../../dashboards";
import { DEFAULT_ALERTING, DEFAULT_SLOS } from "../../config/defaults";
import type { MetricPreset } from "../../config";
import { knownMetricNames } from "../../telemetry";
import { RECORDING, ruleContext, sliWindows, SLO_RECORDING } from "../../alerts";
import { PROMETHEUS_SERIES } from "../../dashboards/common";
import { substituteVariables } from "../../dashboards";

export const PRESETS: readonly MetricPreset[] = ["prometheus", "otel"];

/** The default config of a preset and log backend. */
export function config(preset: MetricPreset = "prometheus", logsBackend: "loki" | "elasticsearch" = "loki", recordingRules = true): DashboardConfig {
    return { metricPreset: preset, slos: DEFAULT_SLOS, logsBackend, alerting: DEFAULT_ALERTING, recordingRules };
}

/** Values every template variable takes for parsing: what Grafana substitutes at run time. */
export const SAMPLE_VALUES: Readonly<Record<string, string | readonly string[]>> = {
    cluster: ".*",
    namespace: ["shop", "payments"],
    service: ["checkout", "cart"],
    route: ".*",
    provider: ["openai"],
    node: ".*",
    datasource: "prometheus",
    __rate_interval: "2m",
    __interval: "30s",
    __range: "3600s",
    __range_s: "3600",
    __tags: 'service="checkout"',
};

export interface ParseResult {
    readonly errors: { readonly from: number; readonly to: number; readonly text: string }[];
    /** Metric names of every vector selector. */
    readonly metrics: string[];
}

/** Parses PromQL with the Prometheus UI's grammar; error nodes (⚠) are collected, not thrown. */
export function parsePromql(expr: string): ParseResult {
    const tree = promqlParser.parse(expr);
    const errors: ParseResult["errors"] = [];
    const metrics: string[] = [];
    tree.iterate({
        enter(n) {
            if (n.type.isError) errors.push({ from: n.from, to: n.to, text: expr.slice(Math.max(0, n.from - 20), n.to + 20) });
            if (n.name === "VectorSelector") {
                const id = n.node.getChild("Identifier");
                if (id) metrics.push(expr.slice(id.from, id.to));
            }
        },
    });
    return { errors, metrics };
}

/** Parses LogQL with Grafana's grammar; error nodes are collected. */
export function parseLogql(expr: string): ParseResult["errors"] {
    const tree = logqlParser.parse(expr);
    const errors: ParseResult["errors"] = [];
    tree.iterate({
        enter(n) {
            if (n.type.isError) errors.push({ from: n.from, to: n.to, text: expr.slice(Math.max(0, n.from - 20), n.to + 20) });
        },
    });
    return errors;
}

/** Every series name a dashboard may name: the preset's catalog, the recording rules, ALERTS. */
export function allowedMetricNames(preset: MetricPreset): Set<string> {
    const names = knownMetricNames(preset);
    for (const r of Object.values(RECORDING)) names.add(r.record);
    for (const w of [...sliWindows(ruleContext({ alerting: DEFAULT_ALERTING })), ...DEFAULT_SLOS.map((s) => s.window)]) {
        names.add(SLO_RECORDING.requests(w)).add(SLO_RECORDING.errors(w)).add(SLO_RECORDING.errorRatio(w));
    }
    names.add(SLO_RECORDING.budgetRemaining).add(SLO_RECORDING.objective);
    for (const s of Object.values(PROMETHEUS_SERIES)) names.add(s);
    return names;
}

export const substitute = (expr: string): string => substituteVariables(expr, SAMPLE_VALUES);

export type Panel = {
    id: number;
    type: string;
    title: string;
    description?: string;
    gridPos: { x: number; y: number; w: number; h: number };
    datasource?: { type?: string; uid?: string };
    targets?: { refId?: string; expr?: string; datasource?: { type?: string; uid?: string }; format?: string; instant?: boolean; range?: boolean }[];
    fieldConfig?: { defaults?: { unit?: string; thresholds?: { mode: string; steps: { value: number | null; color: string }[] }; links?: { title: string; url: string }[] } };
};

/** The panels of a dashboard JSON, row headers included. */
export function panelsOf(d: { panels?: unknown[] }): Panel[] {
    return (d.panels ?? []) as Panel[];
}

/** The panels that show data (not row headers). */
export function dataPanels(d: { panels?: unknown[] }): Panel[] {
    return panelsOf(d).filter((p) => p.type !== "row");
}

/**
 * The queries inside an Explore link: `panes=<json>` decoded, Grafana `${...}` placeholders
 * substituted with plausible values.
 */
export function exploreQueries(url: string): { datasource: { type: string; uid: string }; query: Record<string, unknown> }[] {
    const m = /[?&]panes=([^&]*)/.exec(url);
    if (!m) return [];
    const placeholders: Record<string, string> = {
        "${__from}": "1700000000000",
        "${__to}": "1700003600000",
        "${__field.labels.service}": "checkout",
        "${__data.fields.service}": "checkout",
        "${__data.fields.route}": "/api/items",
        "${__data.fields.http_route}": "/api/items",
    };
    let json = decodeURIComponent(m[1]!);
    for (const [k, v] of Object.entries(placeholders)) json = json.split(k).join(v);
    const panes = JSON.parse(json) as Record<string, { queries: { datasource: { type: string; uid: string } }[] }>;
    return Object.values(panes).flatMap((p) => p.queries.map((q) => ({ datasource: q.datasource, query: q as unknown as Record<string, unknown> })));
}
