/**
 * The metric catalog: every metric of ../shared/TELEMETRY-CONTRACT.md with its type and labels,
 * under logical names. Rules and dashboards reach metrics only through this catalog and the
 * helpers in ./promql.ts, so a renamed metric or label changes here alone and a typo in a label
 * name fails to compile.
 *
 * Two presets map logical metrics to physical series: `prometheus` (the contract's names) and
 * `otel` (OpenTelemetry HTTP semantic conventions as the collector's Prometheus exporter writes
 * them, with `service.name` mapped to `service`).
 */
import type { MetricPreset } from "../config/types";

export type MetricType = "counter" | "gauge" | "histogram";

/** A metric: logical labels `L`, and per preset the physical name and label names. */
export interface MetricDef<L extends string = string> {
    readonly type: MetricType;
    /** Physical metric name (for histograms: the base name without _bucket/_sum/_count). */
    readonly name: string;
    /** Logical label → physical label name. */
    readonly labels: Readonly<Record<L, string>>;
    readonly help: string;
    /**
     * Counters that the preset only has as a histogram's `_count` (OTel has no separate request
     * counter): the physical series to use for rates.
     */
    readonly countOf?: string;
}

const same = <L extends string>(...names: L[]): Record<L, L> => Object.fromEntries(names.map((n) => [n, n])) as Record<L, L>;

function contract() {
    return {
        http: {
            requests: { type: "counter", name: "http_requests_total", labels: same("service", "method", "route", "status"), help: "HTTP requests served" } as MetricDef<"service" | "method" | "route" | "status">,
            duration: { type: "histogram", name: "http_request_duration_seconds", labels: same("service", "method", "route"), help: "HTTP request latency" } as MetricDef<"service" | "method" | "route">,
            requestSize: { type: "histogram", name: "http_request_size_bytes", labels: same("service", "route"), help: "HTTP request payload size" } as MetricDef<"service" | "route">,
            inFlight: { type: "gauge", name: "http_requests_in_flight", labels: same("service"), help: "HTTP requests being served" } as MetricDef<"service">,
            activeUsers: { type: "gauge", name: "active_users", labels: same("service"), help: "Active users" } as MetricDef<"service">,
        },
        websocket: {
            active: { type: "gauge", name: "websocket_connections_active", labels: same("service"), help: "Open WebSocket connections" } as MetricDef<"service">,
            opened: { type: "counter", name: "websocket_connections_total", labels: same("service"), help: "WebSocket connections opened" } as MetricDef<"service">,
            disconnections: { type: "counter", name: "websocket_disconnections_total", labels: same("service", "reason"), help: "WebSocket disconnections by reason" } as MetricDef<"service" | "reason">,
            messages: { type: "counter", name: "websocket_messages_total", labels: same("service", "direction", "type"), help: "WebSocket messages" } as MetricDef<"service" | "direction" | "type">,
            messageSize: { type: "histogram", name: "websocket_message_size_bytes", labels: same("service", "direction"), help: "WebSocket message size" } as MetricDef<"service" | "direction">,
            duration: { type: "histogram", name: "websocket_connection_duration_seconds", labels: same("service"), help: "WebSocket connection lifetime" } as MetricDef<"service">,
        },
        llm: {
            requests: { type: "counter", name: "llm_requests_total", labels: same("service", "provider", "model", "status"), help: "Provider requests" } as MetricDef<"service" | "provider" | "model" | "status">,
            duration: { type: "histogram", name: "llm_request_duration_seconds", labels: same("service", "provider", "model"), help: "Provider latency" } as MetricDef<"service" | "provider" | "model">,
            tokens: { type: "counter", name: "llm_tokens_total", labels: same("service", "provider", "model", "type"), help: "Tokens used" } as MetricDef<"service" | "provider" | "model" | "type">,
            cost: { type: "counter", name: "llm_cost_usd_total", labels: same("service", "provider", "model"), help: "Provider spend in USD" } as MetricDef<"service" | "provider" | "model">,
            rateLimitRemaining: { type: "gauge", name: "llm_rate_limit_remaining", labels: same("service", "provider"), help: "Provider rate limit remaining" } as MetricDef<"service" | "provider">,
        },
        cache: {
            requests: { type: "counter", name: "cache_requests_total", labels: same("service", "cache", "result"), help: "Cache lookups by result (hit/miss)" } as MetricDef<"service" | "cache" | "result">,
            evictions: { type: "counter", name: "cache_evictions_total", labels: same("service", "cache"), help: "Cache evictions" } as MetricDef<"service" | "cache">,
        },
        db: {
            queryDuration: { type: "histogram", name: "db_query_duration_seconds", labels: same("service", "db", "operation"), help: "Database query latency" } as MetricDef<"service" | "db" | "operation">,
            connections: { type: "gauge", name: "db_connections", labels: same("service", "db", "state"), help: "Database pool connections by state" } as MetricDef<"service" | "db" | "state">,
            connectionsMax: { type: "gauge", name: "db_connections_max", labels: same("service", "db"), help: "Database pool size" } as MetricDef<"service" | "db">,
        },
    };
}

export type Catalog = ReturnType<typeof contract>;

/** The OTel preset: HTTP server metrics per the semantic conventions; the rest as in the contract. */
function otel(): Catalog {
    const c = contract();
    const httpLabels = { service: "service", method: "http_request_method", route: "http_route", status: "http_response_status_code" } as const;
    return {
        ...c,
        http: {
            ...c.http,
            requests: { ...c.http.requests, name: "http_server_request_duration_seconds_count", countOf: "http_server_request_duration_seconds", labels: httpLabels },
            duration: { ...c.http.duration, name: "http_server_request_duration_seconds", labels: { service: "service", method: "http_request_method", route: "http_route" } },
            requestSize: { ...c.http.requestSize, name: "http_server_request_body_size_bytes", labels: { service: "service", route: "http_route" } },
            inFlight: { ...c.http.inFlight, name: "http_server_active_requests" },
        },
    };
}

/** The catalog of a preset. */
export function catalog(preset: MetricPreset): Catalog {
    return preset === "otel" ? otel() : contract();
}

/**
 * Infrastructure metrics: upstream names that are not ours to change (node-exporter, kubelet
 * and cAdvisor, kube-state-metrics, redis and postgres exporters).
 */
export const INFRA = {
    up: "up",
    node: {
        cpuSeconds: "node_cpu_seconds_total",
        memAvailable: "node_memory_MemAvailable_bytes",
        memTotal: "node_memory_MemTotal_bytes",
        fsAvail: "node_filesystem_avail_bytes",
        fsSize: "node_filesystem_size_bytes",
        netReceive: "node_network_receive_bytes_total",
        netTransmit: "node_network_transmit_bytes_total",
        diskRead: "node_disk_read_bytes_total",
        diskWritten: "node_disk_written_bytes_total",
    },
    container: {
        cpu: "container_cpu_usage_seconds_total",
        cpuThrottledPeriods: "container_cpu_cfs_throttled_periods_total",
        cpuPeriods: "container_cpu_cfs_periods_total",
        memoryWorkingSet: "container_memory_working_set_bytes",
        netReceive: "container_network_receive_bytes_total",
        netTransmit: "container_network_transmit_bytes_total",
    },
    kube: {
        restarts: "kube_pod_container_status_restarts_total",
        waitingReason: "kube_pod_container_status_waiting_reason",
        podPhase: "kube_pod_status_phase",
        deploymentAvailable: "kube_deployment_status_replicas_available",
        limits: "kube_pod_container_resource_limits",
        nodeReady: "kube_node_status_condition",
    },
    redis: {
        up: "redis_up",
        memoryUsed: "redis_memory_used_bytes",
        hits: "redis_keyspace_hits_total",
        misses: "redis_keyspace_misses_total",
        clients: "redis_connected_clients",
        commands: "redis_commands_processed_total",
    },
    postgres: {
        up: "pg_up",
        backends: "pg_stat_database_numbackends",
        commits: "pg_stat_database_xact_commit",
        blocksHit: "pg_stat_database_blks_hit",
        blocksRead: "pg_stat_database_blks_read",
        deadlocks: "pg_stat_database_deadlocks",
    },
    /** blackbox_exporter 0.28 probe results (one set per probe scrape). */
    probe: {
        success: "probe_success",
        duration: "probe_duration_seconds",
        /** Expiry (Unix time) of the earliest certificate the TLS peer presented. */
        sslEarliestCertExpiry: "probe_ssl_earliest_cert_expiry",
        httpStatusCode: "probe_http_status_code",
        httpDuration: "probe_http_duration_seconds",
        dnsLookupTime: "probe_dns_lookup_time_seconds",
        /** 4 or 6; 0 when the target's host name did not resolve. */
        ipProtocol: "probe_ip_protocol",
    },
} as const;

/**
 * node_exporter network devices that are not the node's own interfaces (loopback, container
 * veths, CNI bridges and overlays), as a regex for `device!~`: traffic on them is counted again
 * on the physical interface.
 */
export const VIRTUAL_NETWORK_DEVICES = "lo|veth.*|cali.*|flannel.*|cni.*|docker.*|br-.*|vxlan.*|tunl.*|lxc.*";

/**
 * Scrape job names of the stack's own components (the `job` label, also their `service` label:
 * components/prometheus/config.ts). components/stack.ts `componentTargets()` declares the jobs; a
 * test keeps the two in step.
 */
export const STACK_JOBS = {
    prometheus: "prometheus",
    alertmanager: "alertmanager",
    grafana: "grafana",
    loki: "loki",
    collectorAgent: "otel-collector-agent",
    collectorGateway: "otel-collector-gateway",
} as const;

/**
 * Self-monitoring metrics of the stack's components (upstream names: Prometheus 3.16,
 * Alertmanager 0.35, OpenTelemetry Collector 0.129 internal telemetry, Loki 3).
 */
export const SELF = {
    prometheus: {
        configReloadSuccessful: "prometheus_config_last_reload_successful",
        ruleEvaluationFailures: "prometheus_rule_evaluation_failures_total",
        alertmanagersDiscovered: "prometheus_notifications_alertmanagers_discovered",
        compactionsFailed: "prometheus_tsdb_compactions_failed_total",
    },
    alertmanager: {
        notifications: "alertmanager_notifications_total",
        notificationsFailed: "alertmanager_notifications_failed_total",
        clusterMembers: "alertmanager_cluster_members",
    },
    collector: {
        /** Items a receiver accepted and refused, one counter per signal. */
        accepted: ["otelcol_receiver_accepted_spans_total", "otelcol_receiver_accepted_metric_points_total", "otelcol_receiver_accepted_log_records_total"],
        refused: ["otelcol_receiver_refused_spans_total", "otelcol_receiver_refused_metric_points_total", "otelcol_receiver_refused_log_records_total"],
        /** Items an exporter sent, failed to send, or could not enqueue (dropped). */
        sent: ["otelcol_exporter_sent_spans_total", "otelcol_exporter_sent_metric_points_total", "otelcol_exporter_sent_log_records_total"],
        sendFailed: ["otelcol_exporter_send_failed_spans_total", "otelcol_exporter_send_failed_metric_points_total", "otelcol_exporter_send_failed_log_records_total"],
        enqueueFailed: ["otelcol_exporter_enqueue_failed_spans_total", "otelcol_exporter_enqueue_failed_metric_points_total", "otelcol_exporter_enqueue_failed_log_records_total"],
        /** Log records only (the log backend's ingestion as the collector sees it). */
        logsSent: "otelcol_exporter_sent_log_records_total",
        logsSendFailed: "otelcol_exporter_send_failed_log_records_total",
    },
    loki: {
        linesReceived: "loki_distributor_lines_received_total",
        discardedSamples: "loki_discarded_samples_total",
    },
} as const;

/** Every physical metric name a preset's catalog and the infrastructure and self-monitoring lists contain. */
export function knownMetricNames(preset: MetricPreset): Set<string> {
    const names = new Set<string>();
    for (const group of Object.values(catalog(preset))) {
        for (const m of Object.values(group) as MetricDef[]) {
            if (m.type === "histogram") for (const s of ["_bucket", "_sum", "_count"]) names.add(`${m.name}${s}`);
            else names.add(m.name);
            if (m.countOf) names.add(`${m.countOf}_bucket`).add(`${m.countOf}_sum`).add(`${m.countOf}_count`);
        }
    }
    const walk = (o: unknown): void => {
        if (typeof o === "string") names.add(o);
        else if (o && typeof o === "object") Object.values(o).forEach(walk);
    };
    walk(INFRA);
    walk(SELF);
    return names;
}
