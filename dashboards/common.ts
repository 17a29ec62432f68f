/**
 * Building blocks of the dashboards (CONVENTIONS: Dashboards): the shared config, the variables,
 * annotations and links every dashboard has, panel factories (`timeseries`, `stat`, `table`,
 * `heatmap`, `barGauge`) and a grid layout that keeps every dashboard usable on a phone.
 *
 * Panel factories take a {@link PanelSpec}: a title, a description, a unit and the queries are
 * required, so no panel can ship without them. Every query runs on the `$datasource` variable.
 */
import * as cog from "@grafana/grafana-foundation-sdk/cog";
import * as common from "@grafana/grafana-foundation-sdk/common";
import * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import * as bargauge from "@grafana/grafana-foundation-sdk/bargauge";
import * as heatmap from "@grafana/grafana-foundation-sdk/heatmap";
import * as prometheus from "@grafana/grafana-foundation-sdk/prometheus";
import * as stat from "@grafana/grafana-foundation-sdk/stat";
import * as table from "@grafana/grafana-foundation-sdk/table";
import * as timeseries from "@grafana/grafana-foundation-sdk/timeseries";
import type { AlertingConfig, MetricPreset, SloConfig, StackConfig } from "../config";
import { DEFAULT_ALERTING } from "../config/defaults";
import type { MetricDef } from "../telemetry";
import { INFRA, label, matchers, series } from "../telemetry";
import { DATASOURCE_UIDS, LOG_STREAM_LABELS } from "../components/kube/constants";
import { Queries, ruleResolution, VAR, scope } from "./queries";

/** Everything the dashboards are generated from. */
export interface DashboardConfig {
    readonly metricPreset: MetricPreset;
    readonly slos: readonly SloConfig[];
    readonly logsBackend: "loki" | "elasticsearch";
    /** Alert thresholds and windows: panels draw the levels at which the alerts fire. @default DEFAULT_ALERTING */
    readonly alerting?: AlertingConfig;
    /**
     * Read the recording rules where one fits. Off gives the same panels written against the
     * raw series (what the dashboard benchmark compares with). @default true
     */
    readonly recordingRules?: boolean;
}

/** The dashboard config of a stack. */
export function dashboardConfigOf(cfg: Pick<StackConfig, "metricPreset" | "slos" | "logs" | "alerting">): DashboardConfig {
    return { metricPreset: cfg.metricPreset, slos: cfg.slos, logsBackend: cfg.logs.backend, alerting: cfg.alerting };
}

/**
 * Levels drawn on panels that no alert watches: a plain share of a node's CPU, memory or disk is
 * a warning sign, not a page (the disk alert predicts filling up instead).
 */
export const ADVISORY_LEVELS = {
    /** Share of the node CPU in use. */
    nodeCpu: 0.8,
    /** Share of node memory in use. */
    nodeMemory: 0.85,
    /** Share of a filesystem in use. */
    diskUsage: 0.85,
    /** PostgreSQL block reads served from shared buffers. */
    postgresCacheHit: 0.9,
} as const;

/** `0.05` → `5%`. */
export function pct(x: number): string {
    return `${Number((x * 100).toPrecision(6))}%`;
}

/** Prometheus' own synthetic series (not application or exporter metrics). */
export const PROMETHEUS_SERIES = { alerts: "ALERTS" } as const;

/** What a dashboard module gets: the config, the queries of its preset and the alert thresholds. */
export interface Ctx {
    readonly cfg: DashboardConfig;
    readonly q: Queries;
    readonly alerting: AlertingConfig;
}

export function context(cfg: DashboardConfig): Ctx {
    const alerting = cfg.alerting ?? DEFAULT_ALERTING;
    return { cfg, q: new Queries(cfg.metricPreset, cfg.recordingRules ?? true, alerting), alerting };
}

/**
 * Burn-rate thresholds of the SLO alerts by long window (default: page at 14.4x over 1h and 6x
 * over 6h, ticket at 3x over 1d and 1x over 3d), slowest window first.
 */
export function burnRateLevels(a: AlertingConfig): { readonly window: string; readonly factor: number; readonly pages: boolean }[] {
    const all = [...a.slo.page.map((w) => ({ window: w.long, factor: w.factor, pages: true })), ...a.slo.ticket.map((w) => ({ window: w.long, factor: w.factor, pages: false }))];
    return all.sort((x, y) => x.factor - y.factor);
}

// ---------------------------------------------------------------------------------------------
// Queries and thresholds

/** The `$datasource` variable as a datasource reference. */
export const DATASOURCE: { type: string; uid: string } = { type: "prometheus", uid: VAR.datasource };

/** One PromQL query of a panel. */
export interface Query {
    readonly expr: string;
    /** Legend template, e.g. `{{service}}`. */
    readonly legend?: string;
    /** An instant query (tables, bar gauges) instead of a range query. */
    readonly instant?: boolean;
    readonly format?: "time_series" | "table" | "heatmap";
    /** Ask for exemplars (trace ids on latency panels). */
    readonly exemplar?: boolean;
}

export const prom = (expr: string, legend?: string, opts: Omit<Query, "expr" | "legend"> = {}): Query => ({ expr, ...(legend !== undefined ? { legend } : {}), ...opts });

/** Legend placeholder of a logical label of a catalog metric, e.g. `{{route}}`. */
export function legendOf<L extends string>(m: MetricDef<L>, ...labels: L[]): string {
    return labels.map((l) => `{{${label(m, l)}}}`).join(" ");
}

export type Color = "green" | "yellow" | "orange" | "red" | "dark-red" | "blue" | "text";
export type Steps = readonly { readonly value: number | null; readonly color: Color }[];

/** No alert level: one neutral step. */
export const NEUTRAL: Steps = [{ value: null, color: "green" }];

/** Higher is worse: green, then `warning` (orange), then `critical` (red). */
export function above(warning: number, critical?: number): Steps {
    return [{ value: null, color: "green" }, { value: warning, color: "orange" }, ...(critical !== undefined ? [{ value: critical, color: "red" as const }] : [])];
}

/** Lower is worse: red under `critical`, orange under `warning`, green above. */
export function below(critical: number, warning?: number): Steps {
    return [{ value: null, color: "red" }, ...(warning !== undefined ? [{ value: critical, color: "orange" as const }, { value: warning, color: "green" as const }] : [{ value: critical, color: "green" as const }])];
}

// ---------------------------------------------------------------------------------------------
// Links

export interface Link {
    readonly title: string;
    readonly url: string;
    readonly newTab?: boolean;
}

/**
 * Percent-encodes `text` for a URL but leaves Grafana `${...}` placeholders intact, so Grafana
 * still interpolates them when the link is followed.
 */
export function encodeKeepingVariables(text: string): string {
    return text
        .split(/(\$\{[^}]+\})/)
        .map((part) => (part.startsWith("${") ? part : encodeURIComponent(part)))
        .join("");
}

/** An Explore URL running one query on a fixed datasource over the panel's time range. */
export function exploreUrl(ds: { type: string; uid: string }, query: Record<string, unknown>): string {
    const panes = { a: { datasource: ds.uid, queries: [{ refId: "A", datasource: ds, ...query }], range: { from: "${__from}", to: "${__to}" } } };
    return `/explore?schemaVersion=1&orgId=1&panes=${encodeKeepingVariables(JSON.stringify(panes))}`;
}

/** Jaeger search for the traces of `service` (a Grafana placeholder such as `${__field.labels.service}`). */
export function tracesLink(service: string, opts: { readonly title?: string; readonly tags?: string; readonly minDuration?: string } = {}): Link {
    return {
        title: opts.title ?? `Traces of ${service}`,
        url: exploreUrl(
            { type: "jaeger", uid: DATASOURCE_UIDS.jaeger },
            { queryType: "search", service, ...(opts.tags ? { tags: opts.tags } : {}), ...(opts.minDuration ? { minDuration: opts.minDuration } : {}), limit: 20 },
        ),
        newTab: true,
    };
}

/** LogQL selecting the logs of `service`, optionally of some levels only. */
export function logQuery(service: string, levels?: readonly string[]): string {
    const sel = [`${LOG_STREAM_LABELS.service}="${service}"`, ...(levels ? [`${LOG_STREAM_LABELS.level}=~"${levels.join("|")}"`] : [])];
    return `{${sel.join(", ")}}`;
}

/** Lucene query selecting the logs of `service` in Elasticsearch. */
export function luceneQuery(service: string, levels?: readonly string[]): string {
    return `${LOG_STREAM_LABELS.service}:"${service}"${levels ? ` AND ${LOG_STREAM_LABELS.level}:(${levels.join(" OR ")})` : ""}`;
}

/** Explore link to the logs of `service` over the same time range, in the stack's log backend. */
export function logsLink(ctx: Ctx, service: string, opts: { readonly title?: string; readonly levels?: readonly string[] } = {}): Link {
    const title = opts.title ?? `Logs of ${service}`;
    if (ctx.cfg.logsBackend === "elasticsearch") {
        return {
            title,
            url: exploreUrl({ type: "elasticsearch", uid: DATASOURCE_UIDS.elasticsearch }, { query: luceneQuery(service, opts.levels), metrics: [{ id: "1", type: "logs" }] }),
            newTab: true,
        };
    }
    return { title, url: exploreUrl({ type: "loki", uid: DATASOURCE_UIDS.loki }, { expr: logQuery(service, opts.levels), queryType: "range" }), newTab: true };
}

/**
 * Explore link to the latency of `service` over the raw histogram with exemplars: each dot is a
 * sampled request that opens its trace (recorded series carry no exemplars).
 */
export function exemplarsLink(ctx: Ctx, service: string): Link {
    const h = ctx.q.m.http.duration;
    const expr = `histogram_quantile(0.95, sum by (le) (rate(${series(h, "_bucket")}${matchers(h, { service }, [])}[5m])))`;
    return {
        title: `Exemplars (traces) of ${service}`,
        url: exploreUrl({ type: "prometheus", uid: DATASOURCE_UIDS.prometheus }, { expr, exemplar: true, range: true, instant: false }),
        newTab: true,
    };
}

/** Link to another generated dashboard keeping the datasource, scope and time range. */
export function dashboardLink(title: string, uid: string, params: Readonly<Record<string, string>> = {}): Link {
    const keep = ["datasource", "cluster", "namespace"].map((v) => `\${${v}:queryparam}`);
    const extra = Object.entries(params).map(([k, v]) => `var-${k}=${v}`);
    return { title, url: `/d/${uid}?${[...keep, ...extra, "${__url_time_range}"].join("&")}` };
}

/** Series placeholder of a label of the clicked series. */
export const fieldLabel = (name: string): string => `\${__field.labels.${name}}`;

// ---------------------------------------------------------------------------------------------
// Panels

export interface PanelSpec {
    readonly title: string;
    /** What the panel shows and how to read it (shown as the panel's info tooltip). */
    readonly description: string;
    /** Grafana unit id, e.g. `reqps`, `percentunit`, `s`, `bytes`. */
    readonly unit: string;
    readonly queries: readonly Query[];
    readonly thresholds?: Steps;
    /** Data links on the panel's series or cells. */
    readonly links?: readonly Link[];
    readonly min?: number;
    readonly max?: number;
    readonly decimals?: number;
}

/** A panel builder with its preferred height in grid units. */
export interface PanelDef {
    readonly builder: cog.Builder<dashboard.Panel> & { id(id: number): unknown; gridPos(g: dashboard.GridPos): unknown };
    readonly height: number;
}

type AnyPanelBuilder = timeseries.PanelBuilder | stat.PanelBuilder | table.PanelBuilder | heatmap.PanelBuilder | bargauge.PanelBuilder;

function target(q: Query, refId: string): prometheus.DataqueryBuilder {
    const b = new prometheus.DataqueryBuilder().refId(refId).datasource(DATASOURCE).expr(q.expr);
    if (q.legend !== undefined) b.legendFormat(q.legend);
    if (q.instant) b.instant();
    else b.range();
    if (q.format) b.format(q.format as prometheus.PromQueryFormat);
    if (q.exemplar) b.exemplar(true);
    const minStep = ruleResolution(q.expr);
    if (minStep) b.interval(minStep);
    return b;
}

function thresholdsOf(steps: Steps): dashboard.ThresholdsConfigBuilder {
    return new dashboard.ThresholdsConfigBuilder().mode(dashboard.ThresholdsMode.Absolute).steps(steps.map((s) => ({ value: s.value, color: s.color })));
}

function linkBuilder(l: Link): dashboard.DashboardLinkBuilder {
    return new dashboard.DashboardLinkBuilder(l.title).url(l.url).targetBlank(l.newTab ?? false);
}

function apply<B extends AnyPanelBuilder>(b: B, spec: PanelSpec): B {
    if (spec.queries.length === 0) throw new Error(`panel "${spec.title}": expected at least one query`);
    if (spec.queries.length > 26) throw new Error(`panel "${spec.title}": at most 26 queries`);
    b.title(spec.title).description(spec.description).unit(spec.unit).datasource(DATASOURCE);
    spec.queries.forEach((q, i) => b.withTarget(target(q, String.fromCharCode(65 + i))));
    b.thresholds(thresholdsOf(spec.thresholds ?? NEUTRAL));
    if (spec.links?.length) b.dataLinks(spec.links.map(linkBuilder));
    if (spec.min !== undefined) b.min(spec.min);
    if (spec.max !== undefined) b.max(spec.max);
    if (spec.decimals !== undefined) b.decimals(spec.decimals);
    return b;
}

/** A time series graph; alert thresholds show as dashed lines. */
export function timeseriesPanel(spec: PanelSpec, opts: { readonly stack?: boolean; readonly legendTable?: boolean } = {}): PanelDef {
    const b = apply(new timeseries.PanelBuilder(), spec)
        .lineWidth(1)
        .fillOpacity(opts.stack ? 60 : 10)
        .showPoints(common.VisibilityMode.Never)
        .spanNulls(false)
        .legend(
            new common.VizLegendOptionsBuilder()
                .showLegend(true)
                .displayMode(opts.legendTable ? common.LegendDisplayMode.Table : common.LegendDisplayMode.List)
                .placement(common.LegendPlacement.Bottom)
                .calcs(opts.legendTable ? ["mean", "max", "lastNotNull"] : []),
        )
        .tooltip(new common.VizTooltipOptionsBuilder().mode(common.TooltipDisplayMode.Multi).sort(common.SortOrder.Descending));
    if (spec.thresholds && spec.thresholds.length > 1) {
        b.thresholdsStyle(new common.GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.Dashed));
    }
    if (opts.stack) b.stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal));
    return { builder: b, height: 8 };
}

/** A single big number (last value), coloured by the thresholds, with a sparkline. */
export function statPanel(spec: PanelSpec, opts: { readonly reduce?: "lastNotNull" | "mean" | "sum"; readonly sparkline?: boolean } = {}): PanelDef {
    const b = apply(new stat.PanelBuilder(), spec)
        .reduceOptions(new common.ReduceDataOptionsBuilder().values(false).calcs([opts.reduce ?? "lastNotNull"]))
        .graphMode(opts.sparkline === false ? common.BigValueGraphMode.None : common.BigValueGraphMode.Area)
        .colorMode(common.BigValueColorMode.Value)
        .textMode(common.BigValueTextMode.Auto)
        .justifyMode(common.BigValueJustifyMode.Auto)
        .orientation(common.VizOrientation.Auto);
    return { builder: b, height: 5 };
}

/** A table of instant query results; `columns` renames label and value columns in order. */
export function tablePanel(spec: PanelSpec, opts: { readonly columns?: Readonly<Record<string, string>>; readonly sortBy?: string; readonly gauge?: boolean } = {}): PanelDef {
    const b = apply(new table.PanelBuilder(), { ...spec, queries: spec.queries.map((q) => ({ ...q, instant: true, format: "table" as const })) })
        .cellHeight(common.TableCellHeight.Sm)
        .footer(new common.TableFooterOptionsBuilder().show(false).reducer(["sum"]).countRows(false));
    // Several instant queries become one row per series with a column per query.
    if (spec.queries.length > 1) b.withTransformation({ id: "merge", options: {} });
    b.withTransformation({ id: "organize", options: { excludeByName: { Time: true }, renameByName: { ...(opts.columns ?? {}) } } });
    if (opts.sortBy) b.sortBy([new common.TableSortByFieldStateBuilder().displayName(opts.sortBy).desc(true)]);
    if (opts.gauge) b.cellOptions({ type: common.TableCellDisplayMode.Gauge, mode: common.BarGaugeDisplayMode.Basic } as common.TableCellOptions);
    return { builder: b, height: 9 };
}

/** A heatmap of histogram bucket rates (Prometheus `heatmap` format, no re-bucketing). */
export function heatmapPanel(spec: PanelSpec): PanelDef {
    const b = apply(new heatmap.PanelBuilder(), { ...spec, queries: spec.queries.map((q) => ({ ...q, format: "heatmap" as const })) })
        .calculate(false)
        .color(new heatmap.HeatmapColorOptionsBuilder().mode(heatmap.HeatmapColorMode.Scheme).scheme("Oranges").scale(heatmap.HeatmapColorScale.Exponential).exponent(0.5).steps(64))
        .yAxis(new heatmap.YAxisConfigBuilder().unit(spec.unit))
        .cellGap(1)
        .showValue(common.VisibilityMode.Never)
        .exemplarsColor("rgba(255,0,255,0.7)")
        .tooltip(new heatmap.HeatmapTooltipBuilder().mode(common.TooltipDisplayMode.Single).yHistogram(true).showColorScale(true));
    return { builder: b, height: 9 };
}

/** Horizontal bars of the last values: a readable distribution on a narrow screen. */
export function barGaugePanel(spec: PanelSpec, opts: { readonly reduce?: "lastNotNull" | "mean" } = {}): PanelDef {
    const b = apply(new bargauge.PanelBuilder(), spec)
        .orientation(common.VizOrientation.Horizontal)
        .displayMode(common.BarGaugeDisplayMode.Gradient)
        .valueMode(common.BarGaugeValueMode.Color)
        .showUnfilled(true)
        .minVizHeight(16)
        .maxVizHeight(32)
        .namePlacement(common.BarGaugeNamePlacement.Top)
        .sizing(common.BarGaugeSizing.Auto)
        .reduceOptions(new common.ReduceDataOptionsBuilder().values(false).calcs([opts.reduce ?? "lastNotNull"]));
    return { builder: b, height: 8 };
}

// ---------------------------------------------------------------------------------------------
// Layout

/** Panel widths in grid columns (of 24): full, half, a third or a quarter, never narrower. */
export type Width = 24 | 12 | 8 | 6;

/** A titled row of panels; the widths of each visual line must add up to 24. */
export interface Section {
    readonly title: string;
    readonly panels: readonly (readonly [PanelDef, Width])[];
}

/**
 * Places sections on the grid: a row header per section, then the panels left to right in lines
 * of exactly 24 columns, each line as tall as its tallest panel. Panel ids are assigned in order
 * (row headers included), so they are stable and unique within the dashboard.
 */
export function layout(b: dashboard.DashboardBuilder, sections: readonly Section[]): dashboard.DashboardBuilder {
    let id = 1;
    let y = 0;
    for (const s of sections) {
        b.withRow(new dashboard.RowBuilder(s.title).id(id++).collapsed(false).gridPos({ x: 0, y, w: 24, h: 1 }));
        y += 1;
        let line: (readonly [PanelDef, Width])[] = [];
        const flush = () => {
            const h = Math.max(...line.map(([p]) => p.height));
            let x = 0;
            for (const [p, w] of line) {
                p.builder.id(id++);
                p.builder.gridPos({ x, y, w, h });
                b.withPanel(p.builder);
                x += w;
            }
            y += h;
            line = [];
        };
        let used = 0;
        for (const entry of s.panels) {
            line.push(entry);
            used += entry[1];
            if (used > 24) throw new Error(`section "${s.title}": a line of panels is wider than 24 columns`);
            if (used === 24) {
                flush();
                used = 0;
            }
        }
        if (used !== 0) throw new Error(`section "${s.title}": the last line of panels is ${used} columns wide, expected 24`);
    }
    return b;
}

// ---------------------------------------------------------------------------------------------
// Dashboard shell: variables, annotations, links, time

/** Extra template variables a dashboard may add after `$service`. */
export type ExtraVariable = "route" | "provider" | "node";

export interface DashboardSpec {
    readonly uid: string;
    readonly title: string;
    readonly description: string;
    /** Tags besides `generated`. */
    readonly tags: readonly string[];
    /**
     * The series whose labels list the services (and routes, providers) this dashboard shows:
     * a catalog metric, or an upstream series name with its label matchers.
     */
    readonly anchor: string;
    readonly extraVariables?: readonly { readonly name: ExtraVariable; readonly query: string; readonly label: string }[];
    /** Dashboard-level links besides the dashboards dropdown. */
    readonly links?: readonly Link[];
}

/** The tag every generated dashboard carries (and the dashboards dropdown lists). */
export const GENERATED_TAG = "generated";

/** `label_values(<selector>, <label>)`. */
export const labelValues = (selector: string, labelName: string): string => `label_values(${selector}, ${labelName})`;

function queryVariable(name: string, labelText: string, query: string): dashboard.QueryVariableBuilder {
    return new dashboard.QueryVariableBuilder(name)
        .label(labelText)
        .datasource(DATASOURCE)
        .query(query)
        .definition(query)
        .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
        .sort(dashboard.VariableSort.AlphabeticalAsc)
        .multi(true)
        .includeAll(true)
        .allValue(".*")
        .current({ selected: true, text: "All", value: "$__all" });
}

/**
 * A selector of `anchor` restricted by the variables before `upTo`, for chained variables
 * (namespace lists the namespaces of the chosen clusters, and so on).
 */
export function anchored(anchor: string, matchers: readonly string[]): string {
    if (matchers.length === 0) return anchor;
    const i = anchor.indexOf("{");
    return i < 0 ? `${anchor}{${matchers.join(",")}}` : `${anchor.slice(0, -1)},${matchers.join(",")}}`;
}

/** A new dashboard with the standard variables, alert annotations, links, refresh and time range. */
export function newDashboard(spec: DashboardSpec): dashboard.DashboardBuilder {
    const b = new dashboard.DashboardBuilder(spec.title)
        .uid(spec.uid)
        .description(spec.description)
        .tags([GENERATED_TAG, ...spec.tags])
        .refresh("30s")
        .time({ from: "now-1h", to: "now" })
        .timezone("browser")
        .tooltip(dashboard.DashboardCursorSync.Crosshair)
        .readonly()
        .timepicker(new dashboard.TimePickerBuilder().refreshIntervals(["30s", "1m", "5m", "15m", "1h"]));

    b.withVariable(
        new dashboard.DatasourceVariableBuilder("datasource")
            .label("Data source")
            .type("prometheus")
            .current({ selected: true, text: "Prometheus", value: DATASOURCE_UIDS.prometheus }),
    );
    b.withVariable(queryVariable("cluster", "Cluster", labelValues(INFRA.up, "cluster")));
    b.withVariable(queryVariable("namespace", "Namespace", labelValues(anchored(spec.anchor, scope(["cluster"])), "namespace")));
    b.withVariable(queryVariable("service", "Service", labelValues(anchored(spec.anchor, scope()), "service")));
    for (const v of spec.extraVariables ?? []) b.withVariable(queryVariable(v.name, v.label, v.query));

    b.annotation(
        new dashboard.AnnotationQueryBuilder()
            .name("Annotations & Alerts")
            .builtIn(1)
            .datasource({ type: "grafana", uid: "-- Grafana --" })
            .enable(true)
            .hide(true)
            .iconColor("rgba(0, 211, 255, 1)")
            .type("dashboard"),
    );
    for (const [severity, color] of [["critical", "red"], ["warning", "orange"]] as const) {
        b.annotation(
            new dashboard.AnnotationQueryBuilder()
                .name(`Firing ${severity} alerts`)
                .datasource(DATASOURCE)
                .enable(true)
                .iconColor(color)
                .expr(alertsSelector(severity))
                .step("60s")
                .titleFormat("{{alertname}}")
                .textFormat("{{severity}}: {{alertname}} {{service}} {{namespace}}")
                .tagKeys("severity,service"),
        );
    }

    b.link(
        new dashboard.DashboardLinkBuilder("Dashboards")
            .type(dashboard.DashboardLinkType.Dashboards)
            .tags([GENERATED_TAG])
            .asDropdown(true)
            .includeVars(true)
            .keepTime(true),
    );
    for (const l of spec.links ?? []) {
        b.link(new dashboard.DashboardLinkBuilder(l.title).type(dashboard.DashboardLinkType.Link).url(l.url).targetBlank(l.newTab ?? false).icon("external link"));
    }
    return b;
}

/** `ALERTS{alertstate="firing", ...}` scoped by the dashboard variables. */
export function alertsSelector(severity?: "critical" | "warning" | "info"): string {
    const ms = [`alertstate="firing"`, ...(severity ? [`severity="${severity}"`] : []), ...scope(), `service=~"${VAR.service}"`];
    return `${PROMETHEUS_SERIES.alerts}{${ms.join(",")}}`;
}

/** Fixed dashboard UIDs: links, alert notifications and bookmarks rely on them. */
export const DASHBOARD_UIDS = {
    overview: "system-overview",
    api: "api-performance",
    providers: "provider-monitoring",
    websocket: "websocket",
    infrastructure: "infrastructure",
    slo: "slo",
} as const;

/**
 * Data links of a per-service series: drill into API Performance for the clicked service, and
 * open its traces and logs over the same time range.
 */
export function serviceLinks(ctx: Ctx, opts: { readonly drillDown?: boolean; readonly levels?: readonly string[]; readonly exemplars?: boolean } = {}): Link[] {
    const svc = fieldLabel("service");
    return [
        ...(opts.drillDown === false ? [] : [dashboardLink(`API performance of ${svc}`, DASHBOARD_UIDS.api, { service: svc })]),
        tracesLink(svc),
        ...(opts.exemplars ? [exemplarsLink(ctx, svc)] : []),
        logsLink(ctx, svc, opts.levels ? { levels: opts.levels, title: `${opts.levels.join("/")} logs of ${svc}` } : {}),
    ];
}
