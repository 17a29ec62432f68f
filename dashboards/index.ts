/**
 * The generated dashboards: one module per dashboard exporting `(cfg) => DashboardBuilder`
 * (CONVENTIONS: Dashboards). Grafana provisions them from the `files/grafana/dashboards/<uid>.json`
 * this module renders; tests and the live checks walk every panel query with
 * {@link allPanelQueries}.
 */
import type { DashboardBuilder } from "@grafana/grafana-foundation-sdk/dashboard";
import type { DashboardConfig } from "./common";
import { systemOverview } from "./system-overview";
import { apiPerformance } from "./api-performance";
import { providerMonitoring } from "./provider-monitoring";
import { websocket } from "./websocket";
import { infrastructure } from "./infrastructure";
import { slo } from "./slo";
import { DASHBOARD_UIDS } from "./common";

export { dashboardConfigOf, DASHBOARD_UIDS } from "./common";
export type { DashboardConfig } from "./common";

/** Every dashboard, in the order of the dashboards dropdown. */
export const DASHBOARDS: readonly { readonly uid: string; readonly build: (cfg: DashboardConfig) => DashboardBuilder }[] = [
    { uid: DASHBOARD_UIDS.overview, build: systemOverview },
    { uid: DASHBOARD_UIDS.api, build: apiPerformance },
    { uid: DASHBOARD_UIDS.providers, build: providerMonitoring },
    { uid: DASHBOARD_UIDS.websocket, build: websocket },
    { uid: DASHBOARD_UIDS.infrastructure, build: infrastructure },
    { uid: DASHBOARD_UIDS.slo, build: slo },
];

/** A dashboard as Grafana stores it (the JSON model). */
export type DashboardJson = ReturnType<DashboardBuilder["build"]>;

/** Every dashboard's JSON model; throws when a module builds another uid than it is listed with. */
export function buildDashboards(cfg: DashboardConfig): DashboardJson[] {
    return DASHBOARDS.map((d) => {
        const json = withDefaultPlacement(d.build(cfg).build());
        if (json.uid !== d.uid) throw new Error(`dashboard module for "${d.uid}" built uid "${json.uid}"`);
        return json;
    });
}

/**
 * Drops the SDK's `placement: "inControlsMenu"` from links and annotations: Grafana versions that
 * know the setting would fold them into the controls menu, where a phone user does not find them.
 */
function withDefaultPlacement(d: DashboardJson): DashboardJson {
    const strip = <T>(o: T): T => {
        if (o && typeof o === "object") delete (o as { placement?: unknown }).placement;
        return o;
    };
    (d.links ?? []).forEach(strip);
    (d.annotations?.list ?? []).forEach(strip);
    for (const p of (d.panels ?? []) as { fieldConfig?: { defaults?: { links?: unknown[] } } }[]) (p.fieldConfig?.defaults?.links ?? []).forEach(strip);
    return d;
}

/** `<uid>.json` → pretty-printed JSON: the files of the dashboards ConfigMap. */
export function renderDashboards(cfg: DashboardConfig): Record<string, string> {
    return Object.fromEntries(buildDashboards(cfg).map((d) => [`${d.uid}.json`, `${JSON.stringify(d, null, 2)}\n`]));
}

/** One query of one panel. */
export interface PanelQuery {
    readonly dashboardUid: string;
    readonly dashboardTitle: string;
    readonly panelId: number;
    readonly panelTitle: string;
    readonly panelType: string;
    readonly refId: string;
    /** The query as the dashboard runs it (reading recording rules where they fit). */
    readonly expr: string;
    /** The same query over the raw series, as it would be written without recording rules. */
    readonly exprWithoutRecordingRules: string;
    readonly datasourceType: string;
    /** The datasource reference as written (`${datasource}` for every panel). */
    readonly datasourceUid: string;
    /** An instant query (tables, bar gauges, stats over the whole range) instead of a range query. */
    readonly instant: boolean;
    /** The query's minimum step (Grafana's "Min interval"), when it reads coarser recording rules. */
    readonly minInterval?: string;
    /** The same for {@link exprWithoutRecordingRules}. */
    readonly minIntervalWithoutRecordingRules?: string;
    /** Template variables the query uses (without the `$`), e.g. `cluster`, `__rate_interval`. */
    readonly variables: readonly string[];
}

/** A template variable of a dashboard and the query that lists its values. */
export interface DashboardVariable {
    readonly dashboardUid: string;
    readonly name: string;
    readonly type: string;
    /** `label_values(<selector>, <label>)` for query variables; the plugin type for the datasource variable. */
    readonly query: string;
    /** The value used when every option is selected (`.*`). */
    readonly allValue?: string;
}

const VARIABLE = /\$\{([A-Za-z0-9_]+)(?::[A-Za-z0-9_]+)?\}|\$([A-Za-z0-9_]+)/g;

/** Names of the template variables `text` uses. */
export function variablesIn(text: string): string[] {
    const names = new Set<string>();
    for (const m of text.matchAll(VARIABLE)) names.add((m[1] ?? m[2])!);
    return [...names].sort();
}

type PanelJson = { id?: number; type?: string; title?: string; targets?: { refId?: string; expr?: string; instant?: boolean; interval?: string; datasource?: { type?: string; uid?: string } }[] };

function panelsOf(d: DashboardJson): PanelJson[] {
    return ((d.panels ?? []) as PanelJson[]).filter((p) => p.type !== "row");
}

/**
 * Every query of every panel of every dashboard, with the variables it uses and its form
 * without recording rules. What the live "no empty panel" check and the dashboard benchmark run.
 */
export function allPanelQueries(cfg: DashboardConfig): PanelQuery[] {
    const withRules = buildDashboards({ ...cfg, recordingRules: true });
    const raw = buildDashboards({ ...cfg, recordingRules: false });
    const out: PanelQuery[] = [];
    withRules.forEach((d, i) => {
        const rawPanels = new Map(panelsOf(raw[i]!).map((p) => [p.id, p]));
        for (const p of panelsOf(d)) {
            for (const t of p.targets ?? []) {
                const rawTarget = rawPanels.get(p.id)?.targets?.find((x) => x.refId === t.refId);
                out.push({
                    dashboardUid: d.uid!,
                    dashboardTitle: d.title!,
                    panelId: p.id!,
                    panelTitle: p.title!,
                    panelType: p.type!,
                    refId: t.refId!,
                    expr: t.expr!,
                    exprWithoutRecordingRules: rawTarget?.expr ?? t.expr!,
                    datasourceType: t.datasource?.type ?? "",
                    datasourceUid: t.datasource?.uid ?? "",
                    instant: t.instant === true,
                    ...(t.interval ? { minInterval: t.interval } : {}),
                    ...(rawTarget?.interval ? { minIntervalWithoutRecordingRules: rawTarget.interval } : {}),
                    variables: variablesIn(t.expr ?? ""),
                });
            }
        }
    });
    return out;
}

/** Every template variable of every dashboard. */
export function dashboardVariables(cfg: DashboardConfig): DashboardVariable[] {
    return buildDashboards(cfg).flatMap((d) =>
        (d.templating?.list ?? []).map((v) => ({
            dashboardUid: d.uid!,
            name: v.name,
            type: v.type,
            query: typeof v.query === "string" ? v.query : JSON.stringify(v.query ?? ""),
            ...(v.allValue ? { allValue: v.allValue } : {}),
        })),
    );
}

/**
 * Grafana's built-in variables at a given panel width and time range, for running a panel's
 * query outside Grafana. `$__rate_interval` is four scrape intervals at least, as Grafana does.
 */
export function builtinVariables(opts: { readonly rangeSeconds: number; readonly stepSeconds: number; readonly scrapeIntervalSeconds: number }): Record<string, string> {
    const rate = Math.max(opts.stepSeconds + opts.scrapeIntervalSeconds, 4 * opts.scrapeIntervalSeconds);
    return {
        __rate_interval: `${rate}s`,
        __interval: `${opts.stepSeconds}s`,
        __range: `${opts.rangeSeconds}s`,
        __range_s: String(opts.rangeSeconds),
    };
}

/**
 * Substitutes template variables as Grafana does for Prometheus queries: a multi-value variable
 * becomes `(a|b)` (regex-escaped), the "All" selection its `allValue`. Unknown variables are left.
 */
export function substituteVariables(expr: string, values: Readonly<Record<string, string | readonly string[]>>): string {
    return expr.replace(VARIABLE, (whole, braced: string | undefined, bare: string | undefined) => {
        const name = (braced ?? bare)!;
        const v = values[name];
        if (v === undefined) return whole;
        if (typeof v === "string") return v;
        if (v.length === 1) return escapeRegex(v[0]!);
        return `(${v.map(escapeRegex).join("|")})`;
    });
}

/** Regex-escapes a value inside a PromQL string literal (the backslash itself escaped), as Grafana does. */
function escapeRegex(s: string): string {
    return s.replace(/\\/g, "\\\\\\\\").replace(/[$^*{}[\]'+?.()|]/g, "\\\\$&");
}
