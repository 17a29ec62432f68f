/**
 * prometheus.yml as a pure function of typed input. Every Kubernetes scrape job discovers its
 * targets with kubernetes_sd_configs and sets the target labels the telemetry contract names
 * (`service`, `namespace`, `pod`, `container`, `node`), so dashboards and alerts can rely on them.
 */
import * as yaml from "js-yaml";

/** Where the pod finds its service account credentials (in-cluster defaults). */
export const SA_TOKEN_FILE = "/var/run/secrets/kubernetes.io/serviceaccount/token";
export const SA_CA_FILE = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";
export const RULES_DIR = "/etc/prometheus/rules";

/** A stack component Prometheus scrapes, found by its pod labels and container port name. */
export interface ComponentTarget {
    /** Job name, also the `service` label. */
    readonly job: string;
    /** Namespace the pods run in. */
    readonly namespace: string;
    /** Value of the pods' `app.kubernetes.io/name` label. */
    readonly appName: string;
    /** Name of the container port serving metrics. */
    readonly portName: string;
    /** @default "/metrics" */
    readonly metricsPath?: string;
    /**
     * Keep the labels the target exposes over the target labels. Needed for exporters that
     * describe other objects (kube-state-metrics' `namespace`, `pod` and `container` name the
     * object measured, not the exporter pod). @default false
     */
    readonly honorLabels?: boolean;
}

export interface RemoteWriteTarget {
    readonly name: string;
    readonly url: string;
    /** File holding a bearer token (mounted from a Secret); never the token itself. */
    readonly bearerTokenFile?: string;
}

export interface StaticJob {
    readonly job: string;
    readonly targets: readonly string[];
    readonly labels: Readonly<Record<string, string>>;
}

export interface PrometheusConfigArgs {
    readonly clusterName: string;
    readonly environment: string;
    readonly scrapeInterval: string;
    readonly evaluationInterval: string;
    /** `host:port` of every Alertmanager replica by its stable per-pod DNS name. */
    readonly alertmanagers: readonly string[];
    /** Stack components to scrape (Prometheus itself, Alertmanager, Grafana, ...). */
    readonly components: readonly ComponentTarget[];
    /** Scrape kubelet and cAdvisor over HTTPS with the service account token. @default true */
    readonly scrapeKubelet?: boolean;
    readonly staticJobs?: readonly StaticJob[];
    /** Scrape jobs other components generate whole (the blackbox probe jobs). */
    readonly extraJobs?: readonly Record<string, unknown>[];
    /** Relabeling of alerts as they are sent (e.g. probe alerts taking their target's severity). */
    readonly alertRelabelConfigs?: readonly Record<string, unknown>[];
    readonly remoteWrite?: readonly RemoteWriteTarget[];
    /**
     * Adds a `prometheus_replica` external label from the POD_NAME env var (HA pairs; remote
     * storage deduplicates on it) and drops it from alerts so both replicas' alerts merge.
     * Prometheus 3 expands `${VAR}` in external labels without a feature flag.
     */
    readonly replicaExternalLabel?: boolean;
    /**
     * TSDB retention, written to `storage.tsdb.retention`: Prometheus 3 deprecates the
     * `--storage.tsdb.retention.*` flags for it, and a reload applies a changed value in place.
     * Unset: Prometheus' default (15d, no size cap).
     */
    readonly retention?: { readonly time: string; readonly size: string };
}

type Relabel = Record<string, unknown>;

/** Sets the contract's target labels from pod service discovery. */
function podTargetLabels(): Relabel[] {
    return [
        // service ← app.kubernetes.io/name, falling back to app (TELEMETRY-CONTRACT).
        {
            source_labels: ["__meta_kubernetes_pod_label_app_kubernetes_io_name", "__meta_kubernetes_pod_label_app"],
            separator: ";",
            regex: "([^;]+);.*|;(.+)",
            replacement: "$1$2",
            target_label: "service",
        },
        { source_labels: ["__meta_kubernetes_namespace"], target_label: "namespace" },
        { source_labels: ["__meta_kubernetes_pod_name"], target_label: "pod" },
        { source_labels: ["__meta_kubernetes_pod_container_name"], target_label: "container" },
        { source_labels: ["__meta_kubernetes_pod_node_name"], target_label: "node" },
    ];
}

/** Completed pods keep their IPs in discovery for a while; scraping them only produces `up == 0`. */
const DROP_FINISHED_PODS: Relabel = { source_labels: ["__meta_kubernetes_pod_phase"], regex: "Succeeded|Failed", action: "drop" };

function componentJob(t: ComponentTarget): Record<string, unknown> {
    return {
        job_name: t.job,
        metrics_path: t.metricsPath ?? "/metrics",
        ...(t.honorLabels ? { honor_labels: true } : {}),
        kubernetes_sd_configs: [{ role: "pod", namespaces: { names: [t.namespace] } }],
        relabel_configs: [
            { source_labels: ["__meta_kubernetes_pod_label_app_kubernetes_io_name"], regex: escapeRegex(t.appName), action: "keep" },
            { source_labels: ["__meta_kubernetes_pod_container_port_name"], regex: escapeRegex(t.portName), action: "keep" },
            DROP_FINISHED_PODS,
            ...podTargetLabels(),
        ],
    };
}

/**
 * cAdvisor series no dashboard or alert reads, with per-cgroup cardinality: dropping them
 * roughly halves a node's cAdvisor series.
 */
export const NOISY_CADVISOR_METRICS = [
    "container_tasks_state",
    "container_memory_failures_total",
    "container_network_tcp_usage_total",
    "container_network_tcp6_usage_total",
    "container_network_udp_usage_total",
    "container_network_udp6_usage_total",
    "container_cpu_load_average_10s",
    "container_blkio_device_usage_total",
    "container_fs_io_current",
    "container_fs_io_time_seconds_total",
    "container_fs_io_time_weighted_seconds_total",
    "container_fs_inodes_total",
    "container_fs_inodes_free",
];

/**
 * kubelet histograms with thousands of series per node (per-operation, per-volume-plugin) that
 * nothing in the stack queries.
 */
export const NOISY_KUBELET_METRICS = [
    "kubelet_runtime_operations_duration_seconds_bucket",
    "storage_operation_duration_seconds_bucket",
    "rest_client_request_duration_seconds_bucket",
    "rest_client_response_size_bytes_bucket",
    "rest_client_request_size_bytes_bucket",
    "apiserver_storage_list_duration_seconds_bucket",
    "kubelet_http_requests_duration_seconds_bucket",
];

function kubeletJob(job: string, metricsPath: string, noisy: readonly string[]): Record<string, unknown> {
    return {
        job_name: job,
        scheme: "https",
        metrics_path: metricsPath,
        authorization: { credentials_file: SA_TOKEN_FILE },
        // Kubelet serving certificates are self-signed on most distributions (unless
        // serverTLSBootstrap is on), so they cannot be verified against the cluster CA; the
        // connection is still encrypted and authenticated by the token.
        tls_config: { ca_file: SA_CA_FILE, insecure_skip_verify: true },
        kubernetes_sd_configs: [{ role: "node" }],
        relabel_configs: [
            { source_labels: ["__meta_kubernetes_node_name"], target_label: "node" },
            { target_label: "service", replacement: "kubelet" },
        ],
        metric_relabel_configs: [{ source_labels: ["__name__"], regex: noisy.join("|"), action: "drop" }],
    };
}

/**
 * Applications emit `service` themselves (TELEMETRY-CONTRACT); the target label set by
 * relabeling wins and Prometheus keeps the scraped copy as `exported_service`, a duplicate of
 * the same value on every series. Drop it.
 */
const DROP_EXPORTED_SERVICE = { regex: "exported_service", action: "labeldrop" };

/**
 * Prometheus 3 fails the scrape of a target that sends no (or an unknown) Content-Type, where 2.x
 * parsed it as the text format. The stack's components all send one; applications and static
 * targets may not: parse theirs as the text format, as before.
 */
const FALLBACK_SCRAPE_PROTOCOL = "PrometheusText0.0.4";

function annotatedPodsJob(): Record<string, unknown> {
    return {
        job_name: "kubernetes-pods",
        fallback_scrape_protocol: FALLBACK_SCRAPE_PROTOCOL,
        metric_relabel_configs: [DROP_EXPORTED_SERVICE],
        kubernetes_sd_configs: [{ role: "pod" }],
        relabel_configs: [
            { source_labels: ["__meta_kubernetes_pod_annotation_prometheus_io_scrape"], regex: "true", action: "keep" },
            DROP_FINISHED_PODS,
            { source_labels: ["__meta_kubernetes_pod_annotation_prometheus_io_scheme"], regex: "(https?)", target_label: "__scheme__" },
            { source_labels: ["__meta_kubernetes_pod_annotation_prometheus_io_path"], regex: "(.+)", target_label: "__metrics_path__" },
            {
                source_labels: ["__address__", "__meta_kubernetes_pod_annotation_prometheus_io_port"],
                regex: "(.+?)(?::\\d+)?;(\\d+)",
                replacement: "$1:$2",
                target_label: "__address__",
            },
            ...podTargetLabels(),
        ],
    };
}

function annotatedServicesJob(): Record<string, unknown> {
    return {
        job_name: "kubernetes-services",
        fallback_scrape_protocol: FALLBACK_SCRAPE_PROTOCOL,
        metric_relabel_configs: [DROP_EXPORTED_SERVICE],
        kubernetes_sd_configs: [{ role: "endpointslice" }],
        relabel_configs: [
            { source_labels: ["__meta_kubernetes_service_annotation_prometheus_io_scrape"], regex: "true", action: "keep" },
            // A pod annotated itself is scraped by kubernetes-pods; do not scrape it twice.
            { source_labels: ["__meta_kubernetes_pod_annotation_prometheus_io_scrape"], regex: "true", action: "drop" },
            { source_labels: ["__meta_kubernetes_service_annotation_prometheus_io_scheme"], regex: "(https?)", target_label: "__scheme__" },
            { source_labels: ["__meta_kubernetes_service_annotation_prometheus_io_path"], regex: "(.+)", target_label: "__metrics_path__" },
            {
                source_labels: ["__address__", "__meta_kubernetes_service_annotation_prometheus_io_port"],
                regex: "(.+?)(?::\\d+)?;(\\d+)",
                replacement: "$1:$2",
                target_label: "__address__",
            },
            ...podTargetLabels(),
            // Endpoints without a pod behind them (external IPs) carry no pod labels: name them
            // after the Service so `service` is never empty.
            {
                source_labels: ["service", "__meta_kubernetes_service_name"],
                separator: ";",
                regex: ";(.+)",
                replacement: "$1",
                target_label: "service",
            },
        ],
    };
}

/** Seconds of a Prometheus duration such as `1m30s` (units y, w, d, h, m, s, ms). */
function durationSeconds(d: string): number {
    const unit: Record<string, number> = { y: 31536000, w: 604800, d: 86400, h: 3600, m: 60, s: 1, ms: 0.001 };
    let total = 0;
    for (const m of d.matchAll(/(\d+)(ms|[ywdhms])/g)) total += Number(m[1]) * unit[m[2]!]!;
    return total;
}

function escapeRegex(s: string): string {
    return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The prometheus.yml document as a plain object. */
export function prometheusConfig(a: PrometheusConfigArgs): Record<string, unknown> {
    const externalLabels: Record<string, string> = { cluster: a.clusterName, environment: a.environment };
    if (a.replicaExternalLabel) externalLabels.prometheus_replica = "${POD_NAME}";
    const jobs: Record<string, unknown>[] = [
        ...a.components.map(componentJob),
        ...(a.scrapeKubelet ?? true
            ? [kubeletJob("kubelet", "/metrics", NOISY_KUBELET_METRICS), kubeletJob("cadvisor", "/metrics/cadvisor", NOISY_CADVISOR_METRICS)]
            : []),
        annotatedPodsJob(),
        annotatedServicesJob(),
        ...(a.staticJobs ?? []).map((s) => ({
            job_name: s.job,
            fallback_scrape_protocol: FALLBACK_SCRAPE_PROTOCOL,
            static_configs: [{ targets: [...s.targets], labels: { service: s.job, ...s.labels } }],
        })),
        ...(a.extraJobs ?? []),
    ];
    const names = new Set<string>();
    for (const j of jobs) {
        if (names.has(j.job_name as string)) throw new Error(`prometheus config: scrape job "${j.job_name}" is defined twice`);
        names.add(j.job_name as string);
    }
    return {
        global: {
            scrape_interval: a.scrapeInterval,
            evaluation_interval: a.evaluationInterval,
            // Prometheus rejects a scrape timeout longer than the scrape interval.
            scrape_timeout: durationSeconds(a.scrapeInterval) < 10 ? a.scrapeInterval : "10s",
            // Prometheus 3 accepts UTF-8 names and asks targets for them unescaped: an OTel SDK's
            // Prometheus exporter would then expose `http.server.request.duration`, which no
            // rule or dashboard (telemetry/catalog.ts: underscore names only) reads. Ask for the
            // names escaped to underscores instead, as Prometheus 2 and the collector write them.
            metric_name_escaping_scheme: "underscores",
            external_labels: externalLabels,
        },
        rule_files: [`${RULES_DIR}/*.yml`],
        alerting: {
            ...(a.replicaExternalLabel || a.alertRelabelConfigs?.length
                ? {
                      alert_relabel_configs: [
                          ...(a.replicaExternalLabel ? [{ regex: "prometheus_replica", action: "labeldrop" }] : []),
                          ...(a.alertRelabelConfigs ?? []),
                      ],
                  }
                : {}),
            alertmanagers: [
                {
                    api_version: "v2",
                    timeout: "10s",
                    // Every replica by its own DNS name: Alertmanager deduplicates across the
                    // cluster only when each Prometheus sends every alert to every replica.
                    static_configs: [{ targets: [...a.alertmanagers] }],
                },
            ],
        },
        scrape_configs: jobs,
        ...(a.retention ? { storage: { tsdb: { retention: { time: a.retention.time, size: a.retention.size } } } } : {}),
        ...(a.remoteWrite && a.remoteWrite.length > 0
            ? {
                  remote_write: a.remoteWrite.map((r) => ({
                      name: r.name,
                      url: r.url,
                      ...(r.bearerTokenFile ? { authorization: { credentials_file: r.bearerTokenFile } } : {}),
                      queue_config: { max_samples_per_send: 2000, capacity: 10000, max_shards: 50 },
                  })),
              }
            : {}),
    };
}

/** prometheus.yml as text. */
export function renderPrometheusConfig(a: PrometheusConfigArgs): string {
    return `# Generated by components/prometheus/config.ts; do not edit.\n${yaml.dump(prometheusConfig(a), { lineWidth: -1, noRefs: true })}`;
}
