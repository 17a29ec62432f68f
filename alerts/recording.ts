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
    /**
     * Evaluation interval of its group, when it is not the stack's evaluation interval: the
     * series' resolution, and so the finest step a dashboard asks of it.
     */
    readonly interval?: string;
}

const ref = (record: string, ...labels: string[]): RecordingRef => ({ record, labels: ["cluster", "namespace", ...labels] });

/**
 * Evaluation interval of the per-route rules. They are the costliest rules to evaluate and to
 * read (services × routes, times the histogram buckets), no alert reads them, and a 5-minute
 * rate moves little within a minute: once a minute costs a quarter of every 15 s at the same
 * information, and the panels that read them step by a minute at least.
 */
export const ROUTE_RULES_INTERVAL = "1m";

const perRoute = (record: string, ...labels: string[]): RecordingRef => ({ ...ref(record, ...labels), interval: ROUTE_RULES_INTERVAL });

/** A node-exporter rule: one series per node (`instance` and the `node` name relabeling adds). */
const perNode = (record: string): RecordingRef => ({ record, labels: ["cluster", "instance", "node"] });

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
    serviceRouteRequestRate: perRoute("service_route:http_requests:rate5m", "service", "route"),
    /** 5xx responses per second by route (0 when a route has requests and no 5xx). */
    serviceRouteErrorRate: perRoute("service_route:http_request_errors:rate5m", "service", "route"),
    /** Share of a route's requests answered 5xx; absent without requests. */
    serviceRouteErrorRatio: perRoute("service_route:http_request_errors:ratio_rate5m", "service", "route"),
    /** Latency histogram bucket rates (heatmaps; `histogram_quantile` over it gives any quantile). */
    serviceLatencyBuckets: ref("service_le:http_request_duration_seconds_bucket:rate5m", "service", "le"),
    /** Latency histogram bucket rates by route. */
    serviceRouteLatencyBuckets: perRoute("service_route_le:http_request_duration_seconds_bucket:rate5m", "service", "route", "le"),
    /** Median latency in seconds (absent without requests, like every quantile here). */
    serviceLatencyP50: ref("service:http_request_duration_seconds:p50_5m", "service"),
    /** 95th percentile latency in seconds. */
    serviceLatencyP95: ref("service:http_request_duration_seconds:p95_5m", "service"),
    /** 99th percentile latency in seconds. */
    serviceLatencyP99: ref("service:http_request_duration_seconds:p99_5m", "service"),
    /** 95th percentile latency by route in seconds. */
    serviceRouteLatencyP95: perRoute("service_route:http_request_duration_seconds:p95_5m", "service", "route"),
    /**
     * Request payload size histogram bucket rates by route. The `le="+Inf"` bucket is the rate of
     * requests with a body size observed, the denominator of the mean size.
     */
    serviceRouteRequestSizeBuckets: perRoute("service_route_le:http_request_size_bytes_bucket:rate5m", "service", "route", "le"),
    /** Request payload bytes per second by route (the size histogram's `_sum` rate). */
    serviceRouteRequestSizeSum: perRoute("service_route:http_request_size_bytes_sum:rate5m", "service", "route"),
    /** Requests in flight. */
    serviceInFlight: ref("service:http_requests_in_flight:sum", "service"),
    /** Active users. */
    serviceActiveUsers: ref("service:active_users:sum", "service"),

    // --- WebSocket
    /** Connections opened per second. */
    websocketOpenRate: ref("service:websocket_connections:rate5m", "service"),
    /** Open connections. */
    websocketActive: ref("service:websocket_connections_active:sum", "service"),
    /** Disconnections per second by reason. */
    websocketDisconnectRate: ref("service_reason:websocket_disconnections:rate5m", "service", "reason"),
    /** Share of a service's disconnections with each reason; absent without disconnections. */
    websocketDisconnectShare: ref("service_reason:websocket_disconnections:ratio_rate5m", "service", "reason"),
    /** Messages per second by direction and message type. */
    websocketMessageRate: ref("service_direction_type:websocket_messages:rate5m", "service", "direction", "type"),
    /** Median message size in bytes by direction. */
    websocketMessageSizeP50: ref("service_direction:websocket_message_size_bytes:p50_5m", "service", "direction"),
    /** 95th percentile message size in bytes by direction. */
    websocketMessageSizeP95: ref("service_direction:websocket_message_size_bytes:p95_5m", "service", "direction"),
    /** Message size histogram bucket rates by direction. */
    websocketMessageSizeBuckets: ref("service_direction_le:websocket_message_size_bytes_bucket:rate5m", "service", "direction", "le"),
    /** Connection lifetime histogram bucket rates (connections closed per second per bucket). */
    websocketDurationBuckets: ref("service_le:websocket_connection_duration_seconds_bucket:rate5m", "service", "le"),
    /** Share of messages of the error type; absent without messages. */
    websocketMessageErrorRatio: ref("service:websocket_message_errors:ratio_rate5m", "service"),

    // --- LLM / external providers
    /** Provider requests per second by status. */
    providerRequestRate: ref("service_provider_status:llm_requests:rate5m", "service", "provider", "status"),
    /** Share of a provider's requests with status error; absent without requests. */
    providerErrorRatio: ref("service_provider:llm_request_errors:ratio_rate5m", "service", "provider"),
    /** Provider latency histogram bucket rates. */
    providerLatencyBuckets: ref("service_provider_le:llm_request_duration_seconds_bucket:rate5m", "service", "provider", "le"),
    /** 95th percentile provider latency in seconds. */
    providerLatencyP95: ref("service_provider:llm_request_duration_seconds:p95_5m", "service", "provider"),
    /** Requests left in the provider's rate-limit window: the lowest over the service's pods. */
    providerRateLimitRemaining: ref("service_provider:llm_rate_limit_remaining:min", "service", "provider"),
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
    /** Pool connections by state (active, idle), summed over the service's pods. */
    dbConnections: ref("service_db_state:db_connections:sum", "service", "db", "state"),

    // --- Infrastructure
    /** Busy share of a node's CPUs (1 - idle), averaged over its CPUs. */
    nodeCpuUtilisation: perNode("instance:node_cpu_utilisation:rate5m"),
    /** Used share of a node's memory (1 - available / total). */
    nodeMemoryUtilisation: perNode("instance:node_memory_utilisation:ratio"),
    /** CPU cores a container uses. */
    containerCpuUsage: ref("namespace_pod_container:container_cpu_usage_seconds:rate5m", "pod", "container"),
    /** A container's working set as a share of its memory limit (containers with a limit only). */
    containerMemoryLimitRatio: ref("namespace_pod_container:container_memory_working_set_bytes:limit_ratio", "pod", "container"),
    /** A container's working set in bytes (the pod sandbox and cgroup totals left out). */
    containerMemoryWorkingSet: ref("namespace_pod_container:container_memory_working_set_bytes:max", "pod", "container"),
    /** Share of a container's CFS periods throttled by its CPU limit; absent for containers without a limit. */
    containerCpuThrottledRatio: ref("namespace_pod_container:container_cpu_cfs_throttled_periods:ratio_rate5m", "pod", "container"),
    /** Container restarts of a pod over the last hour. */
    podRestarts: ref("namespace_pod:kube_pod_container_status_restarts:increase1h", "pod"),
    /** Bytes per second a pod receives (all its interfaces). */
    podNetworkReceive: ref("namespace_pod:container_network_receive_bytes:rate5m", "pod"),
    /** Bytes per second a pod transmits (all its interfaces). */
    podNetworkTransmit: ref("namespace_pod:container_network_transmit_bytes:rate5m", "pod"),
    /** Bytes per second a node reads from its disks. */
    nodeDiskRead: perNode("instance:node_disk_read_bytes:rate5m"),
    /** Bytes per second a node writes to its disks. */
    nodeDiskWritten: perNode("instance:node_disk_written_bytes:rate5m"),
    /** Bytes per second a node receives on its physical interfaces (not loopback, veths or overlays). */
    nodeNetworkReceive: perNode("instance:node_network_receive_bytes_physical:rate5m"),
    /** Bytes per second a node transmits on its physical interfaces. */
    nodeNetworkTransmit: perNode("instance:node_network_transmit_bytes_physical:rate5m"),
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
