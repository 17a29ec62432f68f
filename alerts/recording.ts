/**
 * Names of the recording rules, for the dashboards and the alerts that read them.
 *
 * Naming follows `level:metric:operations` (Prometheus best practice): `level` lists the labels
 * kept besides `cluster` and `namespace` (`service`, `service_route`, `service_le`, ...), `metric`
 * is the metric name without `_total`, and `operations` the functions applied, newest first
 * (`rate5m`, `ratio_rate5m`, `p95_5m`). The names do not depend on the metric preset: a preset
 * switch changes the rules' expressions, never the series the dashboards read.
 *
 * Every rule keeps `cluster` (an external label: present behind federation or remote storage,
 * absent inside one Prometheus, where the selector `cluster=~".*"` still matches) and
 * `namespace`, plus the labels in its `labels`. Those are the catalog's logical label names;
 * the series carry the preset's physical ones (under `otel`, `route` is `http_route` and
 * `status` is `http_response_status_code`): use `label(catalog(preset).http.requests, "route")`.
 * Ratios and quantiles are absent, never NaN, when there was no request in the window.
 */

/** A recording rule: the series it writes and the labels it keeps. */
export interface RecordingRef {
    readonly record: string;
    readonly labels: readonly string[];
}

const ref = (record: string, ...labels: string[]): RecordingRef => ({ record, labels: ["cluster", "namespace", ...labels] });

/** Recording rules for the dashboards' expensive queries and the alerts built on them. */
export const RECORDING = {
    // --- API (HTTP server)
    /** Requests per second. */
    serviceRequestRate: ref("service:http_requests:rate5m", "service"),
    /** 5xx responses per second (0 when there are requests and no 5xx). */
    serviceErrorRate: ref("service:http_request_errors:rate5m", "service"),
    /** Share of requests answered 5xx; absent (not NaN) without requests. */
    serviceErrorRatio: ref("service:http_request_errors:ratio_rate5m", "service"),
    /** Requests per second by status code. */
    serviceStatusRequestRate: ref("service_status:http_requests:rate5m", "service", "status"),
    /** Requests per second by route. */
    serviceRouteRequestRate: ref("service_route:http_requests:rate5m", "service", "route"),
    /** Share of a route's requests answered 5xx; absent without requests. */
    serviceRouteErrorRatio: ref("service_route:http_request_errors:ratio_rate5m", "service", "route"),
    /** Latency histogram bucket rates (heatmaps; `histogram_quantile` over it gives any quantile). */
    serviceLatencyBuckets: ref("service_le:http_request_duration_seconds_bucket:rate5m", "service", "le"),
    /** Latency histogram bucket rates by route. */
    serviceRouteLatencyBuckets: ref("service_route_le:http_request_duration_seconds_bucket:rate5m", "service", "route", "le"),
    /** Median latency in seconds (absent without requests, like every quantile here). */
    serviceLatencyP50: ref("service:http_request_duration_seconds:p50_5m", "service"),
    /** 95th percentile latency in seconds. */
    serviceLatencyP95: ref("service:http_request_duration_seconds:p95_5m", "service"),
    /** 99th percentile latency in seconds. */
    serviceLatencyP99: ref("service:http_request_duration_seconds:p99_5m", "service"),
    /** 95th percentile latency by route in seconds. */
    serviceRouteLatencyP95: ref("service_route:http_request_duration_seconds:p95_5m", "service", "route"),

    // --- WebSocket
    /** Connections opened per second. */
    websocketOpenRate: ref("service:websocket_connections:rate5m", "service"),
    /** Open connections. */
    websocketActive: ref("service:websocket_connections_active:sum", "service"),
    /** Disconnections per second by reason. */
    websocketDisconnectRate: ref("service_reason:websocket_disconnections:rate5m", "service", "reason"),
    /** Messages per second by direction. */
    websocketMessageRate: ref("service_direction:websocket_messages:rate5m", "service", "direction"),
    /** Share of messages of the error type; absent without messages. */
    websocketMessageErrorRatio: ref("service:websocket_message_errors:ratio_rate5m", "service"),

    // --- LLM / external providers
    /** Provider requests per second by status. */
    providerRequestRate: ref("service_provider_status:llm_requests:rate5m", "service", "provider", "status"),
    /** Share of a provider's requests with status error; absent without requests. */
    providerErrorRatio: ref("service_provider:llm_request_errors:ratio_rate5m", "service", "provider"),
    /** 95th percentile provider latency in seconds. */
    providerLatencyP95: ref("service_provider:llm_request_duration_seconds:p95_5m", "service", "provider"),
    /** Tokens per second by provider and model (input and output). */
    providerTokenRate: ref("service_provider_model:llm_tokens:rate5m", "service", "provider", "model"),
    /** Spend in USD per second by provider and model. */
    providerCostRate: ref("service_provider_model:llm_cost_usd:rate5m", "service", "provider", "model"),

    // --- Cache and database
    /** Cache lookups per second. */
    cacheRequestRate: ref("service_cache:cache_requests:rate5m", "service", "cache"),
    /** Share of cache lookups that hit; absent without lookups. */
    cacheHitRatio: ref("service_cache:cache_hits:ratio_rate5m", "service", "cache"),
    /** Evictions per second. */
    cacheEvictionRate: ref("service_cache:cache_evictions:rate5m", "service", "cache"),
    /** 95th percentile query latency in seconds. */
    dbQueryLatencyP95: ref("service_db:db_query_duration_seconds:p95_5m", "service", "db"),
    /** Active connections as a share of the pool size. */
    dbPoolUtilisation: ref("service_db:db_connections_active:ratio", "service", "db"),

    // --- Infrastructure
    /** Busy share of a node's CPUs (1 - idle), averaged over its CPUs. */
    nodeCpuUtilisation: { record: "instance:node_cpu_utilisation:rate5m", labels: ["cluster", "instance", "node"] } as RecordingRef,
    /** Used share of a node's memory (1 - available / total). */
    nodeMemoryUtilisation: { record: "instance:node_memory_utilisation:ratio", labels: ["cluster", "instance", "node"] } as RecordingRef,
    /** CPU cores a container uses. */
    containerCpuUsage: ref("namespace_pod_container:container_cpu_usage_seconds:rate5m", "pod", "container"),
    /** A container's working set as a share of its memory limit (containers with a limit only). */
    containerMemoryLimitRatio: ref("namespace_pod_container:container_memory_working_set_bytes:limit_ratio", "pod", "container"),
} as const satisfies Record<string, RecordingRef>;

export type RecordingKey = keyof typeof RECORDING;

/**
 * SLI windows recorded for every SLO: the short and long windows of the default burn-rate
 * alert pairs (Google SRE workbook, "Alerting on SLOs"). Windows a stack configures besides these
 * are recorded too (`sliWindows()` in ./slo.ts).
 */
export const SLI_WINDOWS = ["5m", "30m", "1h", "2h", "6h", "1d", "3d"] as const;

/**
 * SLO recording rules. Each series carries the label `slo` (the SLO's name) and `cluster`,
 * `namespace`, `service`. Ratios are absent, never NaN, when a service had no request in the window.
 */
export const SLO_RECORDING = {
    /** Requests per second over `window` (the SLI's denominator). */
    requests: (window: string): string => `slo:sli_requests:rate${window}`,
    /** Bad requests (5xx, or slower than the threshold) per second over `window`. */
    errors: (window: string): string => `slo:sli_errors:rate${window}`,
    /** Share of bad requests over `window`; the burn rate is this divided by the error budget. */
    errorRatio: (window: string): string => `slo:sli_error:ratio_rate${window}`,
    /** Share of the error budget left over the SLO's window: 1 untouched, 0 spent, below 0 overspent. */
    budgetRemaining: "slo:error_budget_remaining:ratio",
    /** The objective as a ratio (99.9 → 0.999), labelled `slo` only; for budget lines on dashboards. */
    objective: "slo:objective:ratio",
} as const;
