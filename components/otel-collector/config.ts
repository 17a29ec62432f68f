/**
 * Pure generators of the OpenTelemetry Collector configs: the per-node agent and the gateway.
 * Plain objects in, plain objects out; `renderCollectorConfig` turns one into the YAML the pods
 * load. The components in ./index.ts only wrap the result into ConfigMaps.
 *
 * Signal paths:
 * - traces: app → agent (node-local) or gateway Service → [trace-id routing] → gateway
 *   (redaction, health-check filter, tail sampling) → Jaeger over OTLP;
 * - metrics: app → agent or gateway → Prometheus remote-write receiver of every Prometheus
 *   replica (see {@link GatewayConfigArgs.metrics});
 * - logs: /var/log/pods (agent filelog) or OTLP → gateway (redaction, `service`/`level`
 *   labels) → Loki's OTLP endpoint or Elasticsearch.
 */
import * as yaml from "js-yaml";
import { LOG_STREAM_LABELS, SERVICE_NAME_ATTRIBUTE } from "../kube/constants";
import { attributeStatements, bodyStatements, HEALTH_CHECK_PATH_PATTERN, ottlString, PATH_ATTRIBUTES } from "./redaction";

export const OTLP_GRPC_PORT = 4317;
export const OTLP_HTTP_PORT = 4318;
/** Gateway-internal OTLP gRPC port that receives trace-id-routed spans (only with >1 replica). */
export const LOADBALANCED_OTLP_PORT = 4319;
/** The collector's own metrics (Prometheus scrapes the `metrics` port). */
export const COLLECTOR_METRICS_PORT = 8888;
/** health_check extension: liveness and readiness. */
export const HEALTH_PORT = 13133;

/** Environment variable holding the node name (downward API) in the agent pods. */
export const NODE_NAME_ENV = "K8S_NODE_NAME";
/** Environment variable holding the Elasticsearch password of the collector's user. */
export const ELASTICSEARCH_PASSWORD_ENV = "ELASTICSEARCH_PASSWORD";
/** Directory of the agent's filelog checkpoints (a hostPath, so a restart resumes where it stopped). */
export const CHECKPOINT_DIR = "/var/lib/otelcol/file_storage";
/** Where the kubelet writes container logs. */
export const POD_LOGS_DIR = "/var/log/pods";

export type CollectorConfigObject = Record<string, any>;

/** What every collector config carries. */
export interface CollectorCommonArgs {
    /** `k8s.cluster.name` on every signal. */
    readonly clusterName: string;
    /** `deployment.environment` on every signal. */
    readonly environment: string;
    /** `service.name` of the collector's own telemetry. */
    readonly selfServiceName: string;
}

/** Where the gateway sends logs. */
export type GatewayLogsTarget =
    | { readonly backend: "loki"; /** Loki's OTLP base URL, e.g. `http://loki.monitoring.svc:3100/otlp`. */ readonly otlpUrl: string }
    | {
          readonly backend: "elasticsearch";
          /** Elasticsearch HTTP URLs. */
          readonly endpoints: readonly string[];
          /** The ingest user (its password comes from {@link ELASTICSEARCH_PASSWORD_ENV}). */
          readonly user: string;
      };

export interface TailSamplingArgs {
    /** Share of ordinary traces kept, in [0, 1]; 1 turns tail sampling off (everything is kept). */
    readonly ratio: number;
    /** Traces with a span slower than this are always kept. @default 1000 */
    readonly slowThresholdMs?: number;
    /** How long the gateway waits for a trace's spans before deciding. @default "10s" */
    readonly decisionWait?: string;
}

export interface GatewayConfigArgs extends CollectorCommonArgs {
    /** Gateway replicas: more than one turns on trace-id routing between them. */
    readonly replicas: number;
    /** DNS name of the gateway's headless Service (trace-id routing resolves the pods through it). */
    readonly headlessHost: string;
    /** `host:port` of Jaeger's OTLP gRPC receiver. */
    readonly jaegerOtlpEndpoint: string;
    /**
     * Metrics go to Prometheus's remote-write receiver, one exporter per Prometheus replica (every
     * replica of an HA pair gets every sample, as it would by scraping). Pushing keeps OTLP
     * series identical whichever gateway replica received them, where a scraped `prometheus`
     * exporter on each replica would expose the same series twice with different `instance`
     * labels (and stale copies for 5 minutes after an app reconnects to the other replica).
     */
    readonly metrics: { readonly remoteWriteUrls: readonly string[] };
    readonly logs: GatewayLogsTarget;
    readonly sampling: TailSamplingArgs;
}

export interface AgentConfigArgs extends CollectorCommonArgs {
    /** `host:port` of the gateway Service's OTLP gRPC port (logs and metrics). */
    readonly gatewayOtlpEndpoint: string;
    /**
     * Set when the gateway has more than one replica: traces go straight to the gateway replica
     * that owns their trace id (see {@link routedTraces}).
     */
    readonly traceRouting?: { readonly headlessHost: string; readonly port: number };
    /** Namespace of the agent pods, whose own log files the agent must not read back. */
    readonly agentNamespace: string;
    /** Pod-name prefix of the agent pods (the DaemonSet name). */
    readonly agentPodPrefix: string;
}

/** Metadata k8s_attributes adds to every signal, keyed by the pod that emitted it. */
function k8sAttributes(nodeFilter: boolean): CollectorConfigObject {
    return {
        auth_type: "serviceAccount",
        passthrough: false,
        ...(nodeFilter ? { filter: { node_from_env_var: NODE_NAME_ENV } } : {}),
        extract: {
            metadata: [
                "k8s.namespace.name", "k8s.pod.name", "k8s.pod.uid", "k8s.pod.start_time", "k8s.deployment.name",
                "k8s.statefulset.name", "k8s.daemonset.name", "k8s.cronjob.name", "k8s.job.name", "k8s.node.name",
                "container.image.name", "container.image.tag",
            ],
            // `service.name` falls back to the pod's app.kubernetes.io/name label (TELEMETRY-CONTRACT:
            // `service` ← app.kubernetes.io/name); an app's own service.name is never overwritten.
            labels: [
                { tag_name: SERVICE_NAME_ATTRIBUTE, key: "app.kubernetes.io/name", from: "pod" },
                { tag_name: "service.version", key: "app.kubernetes.io/version", from: "pod" },
            ],
        },
        // Resource attributes first: after a hop (agent → gateway) the connection is the agent's,
        // not the application pod's.
        pod_association: [
            { sources: [{ from: "resource_attribute", name: "k8s.pod.uid" }] },
            { sources: [{ from: "resource_attribute", name: "k8s.pod.ip" }] },
            { sources: [{ from: "connection" }] },
        ],
    };
}

function memoryLimiter(): CollectorConfigObject {
    // Percentages of the container's memory limit (read from the cgroup): refuse data before the
    // kernel kills the pod, so senders retry instead of losing a whole in-memory queue.
    return { check_interval: "1s", limit_percentage: 80, spike_limit_percentage: 25 };
}

function batch(): CollectorConfigObject {
    return { send_batch_size: 8192, send_batch_max_size: 10000, timeout: "1s" };
}

function environmentResource(a: CollectorCommonArgs): CollectorConfigObject {
    // upsert: the stack's config is the authority on which cluster and environment data comes from.
    return {
        attributes: [
            { key: "deployment.environment", value: a.environment, action: "upsert" },
            { key: "k8s.cluster.name", value: a.clusterName, action: "upsert" },
        ],
    };
}

function telemetry(a: CollectorCommonArgs): CollectorConfigObject {
    return {
        resource: { "service.name": a.selfServiceName },
        metrics: { level: "normal", readers: [{ pull: { exporter: { prometheus: { host: "0.0.0.0", port: COLLECTOR_METRICS_PORT } } } }] },
        logs: { level: "info", encoding: "json" },
    };
}

function otlpReceiver(): CollectorConfigObject {
    return {
        protocols: {
            grpc: { endpoint: `0.0.0.0:${OTLP_GRPC_PORT}` },
            http: { endpoint: `0.0.0.0:${OTLP_HTTP_PORT}` },
        },
    };
}

const retry = { enabled: true, initial_interval: "1s", max_interval: "30s", max_elapsed_time: "5m" };
const queue = (size: number) => ({ enabled: true, num_consumers: 4, queue_size: size });

function otlpExporter(endpoint: string): CollectorConfigObject {
    // In-cluster hop between our own components; NetworkPolicies admit only the collector.
    return { endpoint, tls: { insecure: true }, sending_queue: queue(5000), retry_on_failure: retry };
}

/**
 * Trace-id routing. Tail sampling decides per trace, so every span of a trace must reach the same
 * gateway replica; with more than one replica the Service's connection balancing would spread a
 * trace over several replicas, each seeing a fragment (an error span on one, the slow root on
 * another) and deciding wrongly. The loadbalancing exporter hashes the trace id onto a ring of the
 * gateway pods (resolved through the headless Service), so one replica owns each trace. The agent
 * and the gateway's own entry pipeline build the same ring from the same DNS name and port, so
 * they agree on the owner; while pods come and go the ring briefly differs and a few traces may
 * be decided on partial data.
 */
export function routedTraces(headlessHost: string, port: number): CollectorConfigObject {
    return {
        routing_key: "traceID",
        protocol: { otlp: { tls: { insecure: true }, timeout: "5s", sending_queue: queue(5000), retry_on_failure: retry } },
        resolver: { dns: { hostname: headlessHost, port: String(port), interval: "5s", timeout: "1s" } },
    };
}

/** Drops spans of health checks and readiness/metrics endpoints (TELEMETRY-CONTRACT: Traces). */
function healthCheckFilter(): CollectorConfigObject {
    return {
        error_mode: "ignore",
        traces: { span: PATH_ATTRIBUTES.map((attr) => `IsMatch(attributes[${ottlString(attr)}], ${ottlString(HEALTH_CHECK_PATH_PATTERN)})`) },
    };
}

/** Masks credentials and personal data in span, span-event and log attributes and log bodies. */
function redaction(): CollectorConfigObject {
    return {
        error_mode: "ignore",
        trace_statements: [
            { context: "span", statements: attributeStatements() },
            { context: "spanevent", statements: attributeStatements() },
        ],
        log_statements: [{ context: "log", statements: [...attributeStatements(), ...bodyStatements()] }],
    };
}

/** `level` and `service` on every log record: the two fields logs are indexed by. */
function logFields(): CollectorConfigObject {
    const level = ottlString(LOG_STREAM_LABELS.level);
    const service = ottlString(LOG_STREAM_LABELS.service);
    return {
        error_mode: "ignore",
        log_statements: [
            {
                context: "log",
                statements: [
                    `set(attributes[${level}], severity_text) where attributes[${level}] == nil and severity_text != ""`,
                    `set(attributes[${level}], ConvertCase(attributes[${level}], "lower")) where IsString(attributes[${level}])`,
                    `set(attributes[${service}], resource.attributes[${ottlString(SERVICE_NAME_ATTRIBUTE)}]) where attributes[${service}] == nil and resource.attributes[${ottlString(SERVICE_NAME_ATTRIBUTE)}] != nil`,
                ],
            },
        ],
    };
}

/**
 * Data point labels from resource attributes, the target labels a scraped pod's series carry
 * (TELEMETRY-CONTRACT: `service`, `namespace`, `pod`, `container`, `node`). Remote write keeps only
 * `service.name` (as `job`) and `service.instance.id` (as `instance`) of the resource, so without
 * them the rules' `sum by (cluster, namespace, service)` and the dashboards' `$namespace` would not
 * see which namespace an OTLP series comes from. `cluster` is not among them: like every other
 * series it gets the cluster from Prometheus' external label.
 */
export const METRIC_RESOURCE_LABELS: Readonly<Record<string, string>> = {
    [LOG_STREAM_LABELS.service]: SERVICE_NAME_ATTRIBUTE,
    namespace: "k8s.namespace.name",
    pod: "k8s.pod.name",
    container: "k8s.container.name",
    node: "k8s.node.name",
};

/** Sets {@link METRIC_RESOURCE_LABELS} on every data point; a label the application set itself is kept. */
function metricResourceLabels(): CollectorConfigObject {
    return {
        error_mode: "ignore",
        metric_statements: [
            {
                context: "datapoint",
                statements: Object.entries(METRIC_RESOURCE_LABELS).map(([label, attr]) => {
                    const l = ottlString(label);
                    const a = ottlString(attr);
                    return `set(attributes[${l}], resource.attributes[${a}]) where attributes[${l}] == nil and resource.attributes[${a}] != nil`;
                }),
            },
        ],
    };
}

function tailSampling(s: TailSamplingArgs): CollectorConfigObject {
    return {
        decision_wait: s.decisionWait ?? "10s",
        num_traces: 100000,
        expected_new_traces_per_sec: 1000,
        // Policies are OR-ed: a trace is kept when any of them samples it.
        policies: [
            { name: "keep-errors", type: "status_code", status_code: { status_codes: ["ERROR"] } },
            { name: "keep-slow", type: "latency", latency: { threshold_ms: s.slowThresholdMs ?? 1000 } },
            { name: "keep-share-of-the-rest", type: "probabilistic", probabilistic: { sampling_percentage: round(s.ratio * 100) } },
        ],
    };
}

const round = (n: number) => Math.round(n * 1e6) / 1e6;

/** Exporter id of the remote-write target at `url` (one per Prometheus replica). */
function remoteWriteId(url: string, i: number, all: readonly string[]): string {
    const host = /^https?:\/\/([^.:/]+)/.exec(url)?.[1];
    const ids = all.map((u) => /^https?:\/\/([^.:/]+)/.exec(u)?.[1]);
    return host && new Set(ids).size === all.length ? `prometheusremotewrite/${host}` : `prometheusremotewrite/${i}`;
}

/** Throws on arguments no collector could run with. */
function validateCommon(kind: string, a: CollectorCommonArgs): void {
    if (!a.clusterName) throw new Error(`${kind}.clusterName "": expected the cluster name`);
    if (!a.environment) throw new Error(`${kind}.environment "": expected the environment`);
}

/** The gateway Deployment's config. */
export function gatewayConfig(a: GatewayConfigArgs): CollectorConfigObject {
    validateCommon("gateway", a);
    if (!Number.isInteger(a.replicas) || a.replicas < 1) throw new Error(`gateway.replicas ${a.replicas}: expected a whole number of at least 1`);
    if (!(a.sampling.ratio >= 0 && a.sampling.ratio <= 1)) throw new Error(`gateway.sampling.ratio ${a.sampling.ratio}: expected a ratio from 0 to 1`);
    if (a.metrics.remoteWriteUrls.length === 0) throw new Error("gateway.metrics.remoteWriteUrls []: expected at least one Prometheus remote-write URL");
    const routed = a.replicas > 1;
    const sampled = a.sampling.ratio < 1;
    const lokiLogs = a.logs.backend === "loki";

    const exporters: CollectorConfigObject = { "otlp_grpc/jaeger": otlpExporter(a.jaegerOtlpEndpoint) };
    const rwIds = a.metrics.remoteWriteUrls.map((u, i, all) => remoteWriteId(u, i, all));
    a.metrics.remoteWriteUrls.forEach((url, i) => {
        exporters[rwIds[i]!] = {
            endpoint: url,
            // Only service.name/namespace/instance become job/instance; the rest stays in target_info.
            resource_to_telemetry_conversion: { enabled: false },
            remote_write_queue: { enabled: true, queue_size: 10000, num_consumers: 4 },
            retry_on_failure: retry,
            timeout: "10s",
        };
    });
    const logsExporter = lokiLogs ? "otlp_http/loki" : "elasticsearch/logs";
    if (a.logs.backend === "loki") {
        exporters[logsExporter] = { endpoint: a.logs.otlpUrl, sending_queue: queue(5000), retry_on_failure: retry };
    } else {
        exporters[logsExporter] = {
            endpoints: [...a.logs.endpoints],
            user: a.logs.user,
            password: `\${env:${ELASTICSEARCH_PASSWORD_ENV}}`,
            // OTel-native documents into the logs-generic.otel-default data stream; its index
            // lifecycle comes from the logs@custom component template (see components/logs).
            mapping: { mode: "otel" },
            retry: { enabled: true, max_retries: 5, initial_interval: "1s", max_interval: "30s" },
        };
    }
    if (routed) exporters["loadbalancing/traces"] = routedTraces(a.headlessHost, LOADBALANCED_OTLP_PORT);

    const processors: CollectorConfigObject = {
        memory_limiter: memoryLimiter(),
        k8s_attributes: k8sAttributes(false),
        "resource/environment": environmentResource(a),
        "transform/redact": redaction(),
        "filter/health-checks": healthCheckFilter(),
        "transform/log-fields": logFields(),
        "transform/metric-labels": metricResourceLabels(),
        batch: batch(),
    };
    if (sampled) processors.tail_sampling = tailSampling(a.sampling);
    // Loki indexes resource attributes only: regrouping records by `service` and `level` moves
    // the two fields to the resource, where Loki's otlp_config makes them the stream labels.
    if (lokiLogs) processors["groupbyattrs/log-labels"] = { keys: [LOG_STREAM_LABELS.service, LOG_STREAM_LABELS.level] };

    const enrich = ["memory_limiter", "k8s_attributes", "resource/environment"];
    const sampling = ["transform/redact", "filter/health-checks", ...(sampled ? ["tail_sampling"] : []), "batch"];
    const pipelines: CollectorConfigObject = routed
        ? {
              // Entry: enrich, then hand each trace to the replica that owns its trace id.
              "traces/route": { receivers: ["otlp"], processors: [...enrich, "batch"], exporters: ["loadbalancing/traces"] },
              traces: { receivers: ["otlp/loadbalanced"], processors: ["memory_limiter", ...sampling], exporters: ["otlp_grpc/jaeger"] },
          }
        : { traces: { receivers: ["otlp"], processors: [...enrich, ...sampling], exporters: ["otlp_grpc/jaeger"] } };
    pipelines.metrics = { receivers: ["otlp"], processors: [...enrich, "transform/metric-labels", "batch"], exporters: rwIds };
    pipelines.logs = {
        receivers: ["otlp"],
        processors: [...enrich, "transform/redact", "transform/log-fields", ...(lokiLogs ? ["groupbyattrs/log-labels"] : []), "batch"],
        exporters: [logsExporter],
    };

    return {
        extensions: { health_check: { endpoint: `0.0.0.0:${HEALTH_PORT}` } },
        receivers: {
            otlp: otlpReceiver(),
            ...(routed ? { "otlp/loadbalanced": { protocols: { grpc: { endpoint: `0.0.0.0:${LOADBALANCED_OTLP_PORT}` } } } } : {}),
        },
        processors,
        exporters,
        service: { extensions: ["health_check"], telemetry: telemetry(a), pipelines },
    };
}

/** The agent DaemonSet's config. */
export function agentConfig(a: AgentConfigArgs): CollectorConfigObject {
    validateCommon("agent", a);
    const traceExporter = a.traceRouting ? "loadbalancing/traces" : "otlp_grpc/gateway";
    const enrich = ["memory_limiter", "k8s_attributes", "resourcedetection", "resource/environment", "batch"];
    return {
        extensions: {
            health_check: { endpoint: `0.0.0.0:${HEALTH_PORT}` },
            "file_storage/checkpoints": { directory: CHECKPOINT_DIR, create_directory: true, timeout: "2s" },
        },
        receivers: {
            otlp: otlpReceiver(),
            filelog: {
                include: [`${POD_LOGS_DIR}/*/*/*.log`],
                // The agent's own logs would come back through itself in a loop.
                exclude: [`${POD_LOGS_DIR}/${a.agentNamespace}_${a.agentPodPrefix}-*/*/*.log`],
                start_at: "end",
                include_file_path: true,
                include_file_name: false,
                storage: "file_storage/checkpoints",
                retry_on_failure: { enabled: true },
                operators: [
                    // CRI-O, containerd and docker line formats; sets k8s.pod.name/uid,
                    // k8s.namespace.name and k8s.container.name from the file path.
                    { type: "container", id: "container-parser" },
                    // TELEMETRY-CONTRACT log fields: JSON lines with timestamp, level, message,
                    // service, trace_id, span_id, correlation_id, user_id, request_id.
                    {
                        type: "json_parser",
                        id: "contract-json",
                        if: 'body matches "^\\\\s*\\\\{"',
                        parse_from: "body",
                        parse_to: "attributes",
                        on_error: "send_quiet",
                        timestamp: { parse_from: "attributes.timestamp", layout_type: "gotime", layout: "2006-01-02T15:04:05.999999999Z07:00", on_error: "send_quiet" },
                        severity: { parse_from: "attributes.level", on_error: "send_quiet" },
                    },
                    { type: "move", id: "message-to-body", if: "attributes.message != nil", from: "attributes.message", to: "body" },
                    // The record's own trace context is what Loki stores as trace_id/span_id and
                    // what Grafana's logs → traces link reads.
                    {
                        type: "trace_parser",
                        id: "trace-context",
                        if: "attributes.trace_id != nil",
                        trace_id: { parse_from: "attributes.trace_id" },
                        span_id: { parse_from: "attributes.span_id" },
                        on_error: "send_quiet",
                    },
                    { type: "remove", id: "drop-trace-id", if: "attributes.trace_id != nil", field: "attributes.trace_id" },
                    { type: "remove", id: "drop-span-id", if: "attributes.span_id != nil", field: "attributes.span_id" },
                    { type: "remove", id: "drop-timestamp", if: "attributes.timestamp != nil", field: "attributes.timestamp" },
                ],
            },
        },
        processors: {
            memory_limiter: memoryLimiter(),
            k8s_attributes: k8sAttributes(true),
            resourcedetection: {
                detectors: ["env", "k8snode"],
                timeout: "2s",
                override: false,
                k8snode: { auth_type: "serviceAccount", node_from_env_var: NODE_NAME_ENV },
            },
            "resource/environment": environmentResource(a),
            batch: batch(),
        },
        exporters: {
            "otlp_grpc/gateway": otlpExporter(a.gatewayOtlpEndpoint),
            ...(a.traceRouting ? { "loadbalancing/traces": routedTraces(a.traceRouting.headlessHost, a.traceRouting.port) } : {}),
        },
        service: {
            extensions: ["health_check", "file_storage/checkpoints"],
            telemetry: telemetry(a),
            pipelines: {
                logs: { receivers: ["filelog", "otlp"], processors: enrich, exporters: ["otlp_grpc/gateway"] },
                metrics: { receivers: ["otlp"], processors: enrich, exporters: ["otlp_grpc/gateway"] },
                traces: { receivers: ["otlp"], processors: enrich, exporters: [traceExporter] },
            },
        },
    };
}

/** The YAML a collector pod loads. */
export function renderCollectorConfig(config: CollectorConfigObject): string {
    return yaml.dump(config, { lineWidth: -1, noRefs: true, sortKeys: false, quotingType: '"' });
}
