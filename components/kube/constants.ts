/**
 * Names every signal path shares: datasource UIDs, the trace-id field, the log stream labels and
 * the in-cluster addresses of the backends. Grafana's cross-links (exemplars → traces, logs →
 * traces, traces → logs and metrics) and the collector's pipelines import them from here, so the
 * two ends of a link cannot drift apart.
 */

/** Fixed UIDs of the provisioned Grafana datasources (dashboards and links refer to them). */
export const DATASOURCE_UIDS = {
    prometheus: "prometheus",
    alertmanager: "alertmanager",
    loki: "loki",
    elasticsearch: "elasticsearch",
    jaeger: "jaeger",
} as const;

export type DatasourceKey = keyof typeof DATASOURCE_UIDS;

/** Log field / Loki structured-metadata key holding the W3C trace id (TELEMETRY-CONTRACT: Logs). */
export const TRACE_ID_FIELD = "trace_id";

/** Log field holding the span id. */
export const SPAN_ID_FIELD = "span_id";

/**
 * The only indexed labels of a log stream (TELEMETRY-CONTRACT: Logs). High-cardinality fields
 * such as the trace id stay out of the index.
 */
export const LOG_STREAM_LABELS = { service: "service", level: "level" } as const;

/** OTLP resource attribute naming the service; mapped to the `service` label of every signal. */
export const SERVICE_NAME_ATTRIBUTE = "service.name";

/** Index pattern of the logs in Elasticsearch. */
export const ELASTICSEARCH_LOG_INDEX = "logs-*";

/**
 * In-cluster Services of the backends: Service name and port. The backend components name their
 * Services after these; until a backend exists its consumers use {@link backendUrls}.
 */
export const BACKEND_SERVICES = {
    loki: { name: "loki", port: 3100 },
    elasticsearch: { name: "elasticsearch", port: 9200 },
    jaegerQuery: { name: "jaeger-query", port: 16686 },
} as const;

/** In-cluster URLs of the backends in `namespace` (e.g. `http://loki.monitoring.svc:3100`). */
export function backendUrls(namespace: string): Record<keyof typeof BACKEND_SERVICES, string> {
    const url = (s: { readonly name: string; readonly port: number }) => `http://${s.name}.${namespace}.svc:${s.port}`;
    return {
        loki: url(BACKEND_SERVICES.loki),
        elasticsearch: url(BACKEND_SERVICES.elasticsearch),
        jaegerQuery: url(BACKEND_SERVICES.jaegerQuery),
    };
}
