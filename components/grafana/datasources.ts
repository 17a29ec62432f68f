/**
 * Grafana datasource provisioning (`datasources.yml`): Prometheus, Alertmanager, the log
 * backend (Loki or Elasticsearch) and Jaeger, with fixed UIDs and the correlation links between
 * them: exemplars → trace, log line → trace, trace → logs and → service metrics. A pure function
 * of its arguments; the UIDs, the trace-id field and the log labels are the shared constants the
 * collector uses too (components/kube/constants.ts).
 */
import * as yaml from "js-yaml";
import type { MetricPreset } from "../../config";
import { catalog, matchers, series, sumBy } from "../../telemetry";
import {
    DATASOURCE_UIDS, ELASTICSEARCH_LOG_INDEX, LOG_STREAM_LABELS, SERVICE_NAME_ATTRIBUTE, TRACE_ID_FIELD,
} from "../kube/constants";

export { DATASOURCE_UIDS, TRACE_ID_FIELD } from "../kube/constants";

/** The log backend Grafana reads. */
export type LogsDatasource =
    | { readonly backend: "loki"; readonly url: string }
    | {
          readonly backend: "elasticsearch";
          readonly url: string;
          /** Index pattern. @default "logs-*" */
          readonly index?: string;
          /** Basic-auth user, when the cluster has security on. */
          readonly username?: string;
          /** Environment variable of the Grafana container holding that user's password. */
          readonly passwordEnv?: string;
      };

export interface DatasourcesArgs {
    readonly prometheusUrl: string;
    readonly alertmanagerUrl: string;
    readonly jaegerUrl: string;
    readonly logs: LogsDatasource;
    /** Metric names of the traces → metrics queries. */
    readonly metricPreset: MetricPreset;
    /** Prometheus' scrape interval: Grafana's minimum step and `$__rate_interval` base. */
    readonly scrapeInterval: string;
    /** Prometheus version, so Grafana uses the APIs it has. */
    readonly prometheusVersion: string;
}

/** One provisioned datasource (Grafana's provisioning schema, apiVersion 1). */
export interface ProvisionedDatasource {
    readonly name: string;
    readonly type: string;
    readonly uid: string;
    readonly access: "proxy";
    readonly url: string;
    readonly isDefault: boolean;
    readonly editable: false;
    readonly basicAuth?: boolean;
    readonly basicAuthUser?: string;
    readonly jsonData: Record<string, unknown>;
    readonly secureJsonData?: Record<string, string>;
}

/**
 * Grafana expands `$NAME` and `${NAME}` in provisioning files from its environment; `$$` is a
 * literal `$`. Grafana's own link templates (`${__value.raw}`, `${__trace.traceId}`) go through this.
 */
export function literal(text: string): string {
    return text.replace(/\$/g, "$$$$");
}

/** Undoes {@link literal}: what Grafana sees after loading the file. */
export function unliteral(text: string): string {
    return text.replace(/\$\$/g, "$");
}

/** Window of the traces → metrics queries and of the span time shifts. */
const SPAN_SHIFT = { spanStartTimeShift: "-5m", spanEndTimeShift: "5m" } as const;

/** Span attribute → log label / metric label of the same service. */
const SERVICE_TAG = { key: SERVICE_NAME_ATTRIBUTE, value: LOG_STREAM_LABELS.service } as const;

/** The traces → metrics queries of the Jaeger datasource (`$__tags` becomes `service="..."`). */
export function traceMetricQueries(preset: MetricPreset): { name: string; query: string }[] {
    const m = catalog(preset).http;
    const tags = ["$__tags"];
    const reqs = `${series(m.requests)}${matchers(m.requests, {}, tags)}`;
    const errors = `${series(m.requests)}${matchers(m.requests, { status: { op: "=~", value: "5.." } }, tags)}`;
    const buckets = `${series(m.duration, "_bucket")}${matchers(m.duration, {}, tags)}`;
    return [
        { name: "Request rate", query: sumBy([], `rate(${reqs}[5m])`) },
        { name: "Error ratio", query: `${sumBy([], `rate(${errors}[5m])`)} / ${sumBy([], `rate(${reqs}[5m])`)}` },
        { name: "p95 latency", query: `histogram_quantile(0.95, ${sumBy(["le"], `rate(${buckets}[5m])`)})` },
    ];
}

/** LogQL of the logs of a span's service with its trace id (trace id from Loki structured metadata). */
export const TRACE_LOGS_LOGQL = `{\${__tags}} | ${TRACE_ID_FIELD}="\${__trace.traceId}"`;
/** Lucene query of the logs with a span's trace id. */
export const TRACE_LOGS_LUCENE = `${TRACE_ID_FIELD}:"\${__trace.traceId}"`;

/** The datasources, as Grafana will see them once loaded (template variables unescaped). */
export function datasourceList(a: DatasourcesArgs): ProvisionedDatasource[] {
    const traceLink = { datasourceUid: DATASOURCE_UIDS.jaeger, urlDisplayLabel: "View trace" };
    const logs: ProvisionedDatasource =
        a.logs.backend === "loki"
            ? {
                  name: "Loki",
                  type: "loki",
                  uid: DATASOURCE_UIDS.loki,
                  access: "proxy",
                  url: a.logs.url,
                  isDefault: false,
                  editable: false,
                  jsonData: {
                      maxLines: 1000,
                      timeout: 60,
                      // The pipeline keeps the trace id out of the stream labels, as structured
                      // metadata: a label matcher finds it on every line that has one.
                      derivedFields: [{ name: "Trace", matcherType: "label", matcherRegex: TRACE_ID_FIELD, url: "${__value.raw}", ...traceLink }],
                  },
              }
            : {
                  name: "Elasticsearch",
                  type: "elasticsearch",
                  uid: DATASOURCE_UIDS.elasticsearch,
                  access: "proxy",
                  url: a.logs.url,
                  isDefault: false,
                  editable: false,
                  ...(a.logs.username ? { basicAuth: true, basicAuthUser: a.logs.username } : {}),
                  jsonData: {
                      index: a.logs.index ?? ELASTICSEARCH_LOG_INDEX,
                      timeField: "@timestamp",
                      logMessageField: "message",
                      logLevelField: LOG_STREAM_LABELS.level,
                      maxConcurrentShardRequests: 5,
                      dataLinks: [{ field: TRACE_ID_FIELD, url: "${__value.raw}", ...traceLink }],
                  },
                  ...(a.logs.username && a.logs.passwordEnv ? { secureJsonData: { basicAuthPassword: `\${${a.logs.passwordEnv}}` } } : {}),
              };
    return [
        {
            name: "Prometheus",
            type: "prometheus",
            uid: DATASOURCE_UIDS.prometheus,
            access: "proxy",
            url: a.prometheusUrl,
            isDefault: true,
            editable: false,
            jsonData: {
                httpMethod: "POST",
                timeInterval: a.scrapeInterval,
                prometheusType: "Prometheus",
                prometheusVersion: a.prometheusVersion,
                cacheLevel: "Low",
                exemplarTraceIdDestinations: [{ name: TRACE_ID_FIELD, ...traceLink }],
            },
        },
        {
            name: "Alertmanager",
            type: "alertmanager",
            uid: DATASOURCE_UIDS.alertmanager,
            access: "proxy",
            url: a.alertmanagerUrl,
            isDefault: false,
            editable: false,
            jsonData: { implementation: "prometheus", handleGrafanaManagedAlerts: false },
        },
        logs,
        {
            name: "Jaeger",
            type: "jaeger",
            uid: DATASOURCE_UIDS.jaeger,
            access: "proxy",
            url: a.jaegerUrl,
            isDefault: false,
            editable: false,
            jsonData: {
                tracesToLogsV2: {
                    datasourceUid: logs.uid,
                    ...SPAN_SHIFT,
                    filterByTraceID: true,
                    filterBySpanID: false,
                    tags: [SERVICE_TAG],
                    customQuery: true,
                    query: a.logs.backend === "loki" ? TRACE_LOGS_LOGQL : TRACE_LOGS_LUCENE,
                },
                tracesToMetrics: { datasourceUid: DATASOURCE_UIDS.prometheus, ...SPAN_SHIFT, tags: [SERVICE_TAG], queries: traceMetricQueries(a.metricPreset) },
                nodeGraph: { enabled: true },
                traceQuery: { timeShiftEnabled: true, spanStartTimeShift: "-30m", spanEndTimeShift: "30m" },
                spanBar: { type: "Duration" },
            },
        },
    ];
}

/** Escapes Grafana template variables in every string, except the env references of secureJsonData. */
function escapeTemplates(v: unknown, path: readonly string[] = []): unknown {
    if (typeof v === "string") return path.includes("secureJsonData") ? v : literal(v);
    if (Array.isArray(v)) return v.map((x) => escapeTemplates(x, path));
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, escapeTemplates(x, [...path, k])]));
    return v;
}

/**
 * `datasources.yml`. `prune: true` deletes provisioned datasources that left the file, so the
 * file is the whole truth.
 */
export function renderDatasources(a: DatasourcesArgs): string {
    const doc = { apiVersion: 1, prune: true, datasources: datasourceList(a).map((d) => escapeTemplates(d)) };
    return `# Generated by components/grafana/datasources.ts; do not edit.\n${yaml.dump(doc, { lineWidth: -1, noRefs: true, quotingType: '"' })}`;
}

/** The dashboard provider (`dashboard-providers.yml`): the generated dashboards, not editable in the UI. */
export function renderDashboardProvider(dashboardsDir: string): string {
    const doc = {
        apiVersion: 1,
        providers: [
            {
                name: "observability",
                orgId: 1,
                folder: "Observability",
                folderUid: "observability",
                type: "file",
                disableDeletion: true,
                // UI edits of provisioned dashboards are not saved: the code is the source.
                allowUiUpdates: false,
                updateIntervalSeconds: 30,
                options: { path: dashboardsDir, foldersFromFilesStructure: false },
            },
        ],
    };
    return `# Generated by components/grafana/datasources.ts; do not edit.\n${yaml.dump(doc, { lineWidth: -1, noRefs: true, quotingType: '"' })}`;
}
