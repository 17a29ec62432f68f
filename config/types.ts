/**
 * The resolved, immutable stack configuration that `loadConfig()` hands to the components.
 * Every field is filled in: environment defaults have been applied and everything validated.
 */
import type * as pulumi from "@pulumi/pulumi";

/** Environments with their own default profile. staging uses the prod profile. */
export type Environment = "dev" | "staging" | "prod";

/** Which metric names dashboards and rules query (see shared TELEMETRY-CONTRACT). */
export type MetricPreset = "prometheus" | "otel";

/** CPU and memory as Kubernetes quantities, e.g. `{ cpu: "250m", memory: "512Mi" }`. */
export interface ResourceAmounts {
    /** CPU quantity: millicores (`250m`) or cores (`1`, `0.5`). */
    readonly cpu: string;
    /** Memory quantity with a binary or decimal suffix (`512Mi`, `2Gi`). */
    readonly memory: string;
}

/** Container requests and limits; both are always set (CONVENTIONS: no unbounded container). */
export interface Resources {
    readonly requests: ResourceAmounts;
    readonly limits: ResourceAmounts;
}

/** Persistent storage of a stateful component. */
export interface StorageConfig {
    /** When false the component keeps its data in an emptyDir and loses it on reschedule. */
    readonly enabled: boolean;
    /** PersistentVolumeClaim size, e.g. `50Gi`. */
    readonly size: string;
}

/** Settings every workload shares. */
export interface WorkloadConfig {
    /** Container requests and limits. */
    readonly resources: Resources;
    /** Image override (`repo:tag` or `repo@sha256:...`); undefined uses the pinned default. */
    readonly image?: string;
}

/** A workload that runs more than one pod. */
export interface ReplicatedConfig extends WorkloadConfig {
    /** Pod count. */
    readonly replicas: number;
}

/** A `remote_write` destination, the scale path to Thanos, Mimir or a hosted service. */
export interface RemoteWriteConfig {
    /** Short name shown in Prometheus' remote-write metrics. */
    readonly name: string;
    /** Receiver endpoint, e.g. `https://mimir.example.com/api/v1/push`. */
    readonly url: string;
    /** Secret config key holding a bearer token, if the endpoint needs one. */
    readonly bearerTokenSecret?: string;
    /** The token itself, read from {@link bearerTokenSecret}. */
    readonly bearerToken?: pulumi.Output<string>;
}

/** Extra targets scraped as they are (e.g. redis or postgres exporters outside the cluster). */
export interface StaticTargetConfig {
    /** Scrape job name. */
    readonly job: string;
    /** `host:port` addresses. */
    readonly targets: readonly string[];
    /** Extra labels added to every series of the job. */
    readonly labels: Readonly<Record<string, string>>;
}

export interface PrometheusConfig extends ReplicatedConfig {
    /** How long samples are kept, e.g. `15d`. */
    readonly retention: string;
    /** Size cap of the TSDB (Prometheus units: `45GB`); keep it below the volume size. */
    readonly retentionSize: string;
    readonly storage: StorageConfig;
    /** Default scrape interval. */
    readonly scrapeInterval: string;
    /** Rule evaluation interval. */
    readonly evaluationInterval: string;
    readonly remoteWrite: readonly RemoteWriteConfig[];
    readonly staticTargets: readonly StaticTargetConfig[];
}

export interface AlertmanagerConfig extends ReplicatedConfig {
    /** Holds silences and the notification log, so a restart neither re-sends nor forgets. */
    readonly storage: StorageConfig;
}

/** External Grafana database, required for more than one Grafana replica. */
export interface GrafanaDatabaseConfig {
    readonly kind: "postgres" | "mysql";
    /** `host:port` of the database server. */
    readonly host: string;
    readonly name: string;
    readonly user: string;
    /** Secret config key holding the password. */
    readonly passwordSecret: string;
    /** The password, read from {@link passwordSecret}. */
    readonly password: pulumi.Output<string>;
}

export interface GrafanaConfig extends ReplicatedConfig {
    /** sqlite volume; unused when {@link database} is set. */
    readonly storage: StorageConfig;
    readonly database?: GrafanaDatabaseConfig;
}

/** Object storage for Loki chunks and index: the scale path beyond one node's disk. */
export interface ObjectStorageConfig {
    readonly kind: "s3" | "gcs";
    readonly bucket: string;
    /** s3 only: bucket region. */
    readonly region?: string;
    /** s3 only: endpoint of an S3-compatible store (MinIO, Ceph). */
    readonly endpoint?: string;
}

/** Loki ingestion limits (per tenant; the stack runs one tenant). */
export interface LokiLimitsConfig {
    /** Sustained ingestion rate in MB/s over all streams. */
    readonly ingestionRateMb: number;
    /** Burst above the sustained rate, in MB. */
    readonly ingestionBurstSizeMb: number;
    /** Sustained rate of one stream (one service and level) in MB/s. */
    readonly perStreamRateLimitMb: number;
    /** Burst of one stream in MB. */
    readonly perStreamRateLimitBurstMb: number;
    /** Longest log line in KB; longer lines are truncated, not rejected. */
    readonly maxLineSizeKb: number;
    /** Most active streams at once. */
    readonly maxStreams: number;
}

export interface LokiConfig extends ReplicatedConfig {
    readonly backend: "loki";
    /** Log retention, enforced by the compactor; whole days, at least `1d`. */
    readonly retention: string;
    readonly storage: StorageConfig;
    readonly objectStorage?: ObjectStorageConfig;
    /** Ingestion limits; a partial override keeps the environment's defaults for the rest. */
    readonly limits: LokiLimitsConfig;
}

export interface ElasticsearchConfig extends ReplicatedConfig {
    readonly backend: "elasticsearch";
    /** Index lifecycle: indices older than this are deleted. */
    readonly retention: string;
    readonly storage: StorageConfig;
    readonly kibana: WorkloadConfig;
    /**
     * Whether Elasticsearch memory-maps its index files (its default and fastest mode). That needs
     * the node setting `vm.max_map_count` >= 262144 (see the README); set false on nodes where it
     * cannot be raised, at some search-speed cost, instead of running a privileged init container.
     * @default true
     */
    readonly allowMmap: boolean;
}

/** The log backend, chosen per stack. */
export type LogsConfig = LokiConfig | ElasticsearchConfig;

export interface JaegerConfig extends WorkloadConfig {
    /** Trace storage: memory (dev only), badger on a volume, or the Elasticsearch log cluster. */
    readonly storageBackend: "memory" | "badger" | "elasticsearch";
    readonly storage: StorageConfig;
    /** How long traces are kept. */
    readonly retention: string;
}

export interface TracingConfig {
    /** Share of ordinary (not slow, not failed) traces kept, in [0, 1]. */
    readonly samplingRatio: number;
    readonly jaeger: JaegerConfig;
}

export interface CollectorConfig {
    /** Per-node agent DaemonSet. */
    readonly agent: WorkloadConfig;
    /** OTLP gateway Deployment. */
    readonly gateway: ReplicatedConfig;
}

/**
 * A route of the routing matrix: a severity (`critical`, `high`, `warning`, `low`),
 * `stakeholders` (alerts labelled `audience="stakeholders"`) or `heartbeat` (the Watchdog).
 */
export type RouteRole = "critical" | "high" | "warning" | "low" | "stakeholders" | "heartbeat";

interface ReceiverBase {
    /** Unique receiver name, used in Alertmanager routes. */
    readonly name: string;
    /** Whether resolved notifications are sent. */
    readonly sendResolved: boolean;
    /**
     * Routes this receiver serves. Defaults by kind: pagerduty → critical; slack → critical,
     * high; email → high, warning, low; msteams → stakeholders; webhook → heartbeat.
     */
    readonly routes: readonly RouteRole[];
    /** When set, the receiver serves only alerts labelled with this `team`. */
    readonly team?: string;
}

export interface PagerDutyReceiver extends ReceiverBase {
    readonly kind: "pagerduty";
    /** Secret config key holding the Events API v2 routing key. */
    readonly routingKeySecret: string;
    readonly credential: pulumi.Output<string>;
}

export interface SlackReceiver extends ReceiverBase {
    readonly kind: "slack";
    /** Channel, e.g. `#alerts`. */
    readonly channel: string;
    /** Secret config key holding the incoming-webhook URL. */
    readonly webhookUrlSecret: string;
    readonly credential: pulumi.Output<string>;
}

export interface EmailReceiver extends ReceiverBase {
    readonly kind: "email";
    readonly to: string;
    readonly from: string;
    /** SMTP server `host:port`. */
    readonly smarthost: string;
    readonly authUsername?: string;
    /** Secret config key holding the SMTP password, when the server needs one. */
    readonly authPasswordSecret?: string;
    readonly credential?: pulumi.Output<string>;
    readonly requireTls: boolean;
}

/**
 * Microsoft Teams through a Workflows webhook (Power Automate's "Post to a channel when a webhook
 * request is received"), which takes Adaptive Cards: rendered as Alertmanager's
 * `msteamsv2_configs`. Office 365 connector URLs (`https://<tenant>.webhook.office.com/...`),
 * which the older `msteams_configs` posted to, are retired and no longer accepted.
 */
export interface MsTeamsReceiver extends ReceiverBase {
    readonly kind: "msteams";
    /** Secret config key holding the Teams Workflows webhook URL (not an Office 365 connector URL). */
    readonly webhookUrlSecret: string;
    readonly credential: pulumi.Output<string>;
}

export interface WebhookReceiver extends ReceiverBase {
    readonly kind: "webhook";
    /** Secret config key holding the URL (it often embeds a token). */
    readonly urlSecret: string;
    readonly credential: pulumi.Output<string>;
}

/** An Alertmanager receiver; credentials always come from secret config keys. */
export type ReceiverConfig = PagerDutyReceiver | SlackReceiver | EmailReceiver | MsTeamsReceiver | WebhookReceiver;
export type ReceiverKind = ReceiverConfig["kind"];

/** A service level objective. */
export interface SloConfig {
    /** Unique name, used in recording rule and alert names. */
    readonly name: string;
    /** `availability`: share of non-5xx requests; `latency`: share of requests under a threshold. */
    readonly kind: "availability" | "latency";
    /** Target percentage, strictly between 0 and 100 (e.g. 99.9). */
    readonly objective: number;
    /** Compliance window, e.g. `30d`. */
    readonly window: string;
    /** latency only: threshold in seconds; must be a bucket of the request histogram. */
    readonly latencyThreshold?: number;
    /** Restrict to one service; undefined applies the SLO to every service. */
    readonly service?: string;
}

export interface IngressConfig {
    /** IngressClass name, e.g. `nginx`. */
    readonly className: string;
    readonly grafanaHost: string;
    readonly jaegerHost?: string;
    /** TLS Secret in the monitoring namespace; when set, Grafana cookies are secure and HSTS is on. */
    readonly tlsSecretName?: string;
    /** Extra Ingress annotations (auth, rate limits). */
    readonly annotations: Readonly<Record<string, string>>;
}

export interface NamespacesConfig {
    /** Namespace of the stack's workloads (Pod Security `restricted`). */
    readonly monitoring: string;
    /** Namespace of node-level agents that need host access (Pod Security `privileged`). */
    readonly agents: string;
    /** Namespace of the ingress controller allowed to reach the UIs. */
    readonly ingressController: string;
    /**
     * Labels of the namespaces whose pods may send OTLP to the collector gateway and to the
     * node agents (their NetworkPolicies' `namespaceSelector`). Empty (the default) selects every
     * namespace; e.g. `{"observability.example.com/telemetry": "enabled"}` admits only the
     * namespaces labelled so. The agents reach the gateway whatever it selects.
     */
    readonly applicationSelector: Readonly<Record<string, string>>;
}

/** An alert condition: a threshold that must hold for a while before the alert fires. */
export interface AlertThreshold {
    /** The value compared against; its unit is given where the condition is declared. */
    readonly threshold: number;
    /** How long the condition must hold (the rule's `for:`), e.g. `5m`. */
    readonly for: string;
}

/** An alert condition without a tunable threshold (e.g. `up == 0`): only its `for:`. */
export interface AlertDuration {
    /** How long the condition must hold (the rule's `for:`), e.g. `1m`. */
    readonly for: string;
}

/** One window pair of a multiwindow, multi-burn-rate SLO alert (Google SRE workbook, ch. 5). */
export interface BurnRateWindow {
    /** Burn rate: how many times faster than the objective allows the error budget is spent. */
    readonly factor: number;
    /** Long window: the burn has lasted this long (e.g. `1h`); gives significance. */
    readonly long: string;
    /** Short window: the burn is still happening (e.g. `5m`); makes the alert resolve quickly. */
    readonly short: string;
}

/** API (HTTP server) alert thresholds; ratios are in [0, 1], latencies in seconds. */
export interface ApiAlerting {
    /** Rate window of the error-ratio alerts: short, so that a large error ratio pages in minutes. @default "2m" */
    readonly errorRatioWindow: string;
    /** 5xx share of requests that warns. @default 0.05 for 2m */
    readonly errorRatioWarning: AlertThreshold;
    /** 5xx share of requests that pages; must exceed the warning threshold. @default 0.15 for 1m */
    readonly errorRatioCritical: AlertThreshold;
    /** p95 request latency in seconds. @default 1 for 10m */
    readonly latencyP95: AlertThreshold;
    /** p99 request latency in seconds. @default 1 for 5m */
    readonly latencyP99: AlertThreshold;
    /**
     * Traffic dropped to zero: `threshold` is the request rate (req/s) the service had an hour
     * before, below which a silent service is considered normal. @default 0.1 for 5m
     */
    readonly trafficDropped: AlertThreshold;
    /** In-flight requests of one pod (saturation). @default 100 for 5m */
    readonly inFlight: AlertThreshold;
}

/** WebSocket alert thresholds. */
export interface WebsocketAlerting {
    /** New connections per second as a multiple of the previous hour's rate. @default 3 for 5m */
    readonly connectionSpike: AlertThreshold;
    /** Share of disconnections with one abnormal reason. @default 0.1 for 10m */
    readonly abnormalDisconnects: AlertThreshold;
    /** `reason` values that are normal closes, never counted as abnormal. @default ["normal", "going_away"] */
    readonly normalDisconnectReasons: readonly string[];
    /** Share of messages whose `type` is {@link errorMessageType}. @default 0.05 for 10m */
    readonly messageErrors: AlertThreshold;
    /** The `type` label value of error messages. @default "error" */
    readonly errorMessageType: string;
}

/** LLM / external provider alert thresholds. */
export interface ProviderAlerting {
    /** Share of a provider's requests with `status="error"`. @default 0.1 for 5m */
    readonly errorRatio: AlertThreshold;
    /** p95 provider latency in seconds. @default 30 for 10m */
    readonly latencyP95: AlertThreshold;
    /** `llm_rate_limit_remaining` below this many requests. @default 10 for 5m */
    readonly rateLimitRemaining: AlertThreshold;
    /** Token spend per hour of one service (input and output tokens). @default 1000000 for 15m */
    readonly tokenBudgetPerHour: AlertThreshold;
}

/** Cache and database alert thresholds. */
export interface CacheDbAlerting {
    /** Cache hit ratio below this share. @default 0.7 for 10m */
    readonly cacheHitRatio: AlertThreshold;
    /** Evictions per second as a multiple of the previous hour's rate. @default 3 for 10m */
    readonly evictionSpike: AlertThreshold;
    /** p95 query latency in seconds. @default 0.5 for 10m */
    readonly dbQueryP95: AlertThreshold;
    /** Active connections as a share of the pool size. @default 0.9 for 5m */
    readonly dbPoolUtilisation: AlertThreshold;
}

/** Infrastructure alert thresholds. */
export interface InfrastructureAlerting {
    /** A scrape target answers no scrape (`up == 0`). @default for 1m */
    readonly targetDown: AlertDuration;
    /** Share of all scrape targets down, or no Ready node: the cluster is unreachable. @default 0.5 for 2m */
    readonly clusterDown: AlertThreshold;
    /** Container working set as a share of its memory limit. @default 0.8 for 15m */
    readonly containerMemory: AlertThreshold;
    /** Share of CFS periods in which a container was throttled. @default 0.25 for 15m */
    readonly cpuThrottling: AlertThreshold;
    /** Hours ahead in which a filesystem is predicted (predict_linear over 6h) to be full. @default 4 for 30m */
    readonly diskFull: AlertThreshold;
    /** A container waits in CrashLoopBackOff. @default for 10m */
    readonly crashLooping: AlertDuration;
    /** Hours ahead in which a container's growing working set (over 2h) reaches its limit. @default 12 for 1h */
    readonly memoryLeak: AlertThreshold;
    /** A node is not Ready. @default for 5m */
    readonly nodeNotReady: AlertDuration;
}

/** Thresholds of the stack's own health alerts; ratios are in [0, 1]. */
export interface SelfMonitoringAlerting {
    /** Share of Alertmanager notifications that failed. @default 0.01 for 5m */
    readonly notificationFailures: AlertThreshold;
    /** Share of telemetry the collector's receivers refused. @default 0.01 for 10m */
    readonly collectorRefused: AlertThreshold;
    /** Share of telemetry the collector's exporters failed to send or enqueue (dropped). @default 0.01 for 10m */
    readonly collectorDropped: AlertThreshold;
    /** Share of log lines the log backend rejected or failed to ingest. @default 0.01 for 10m */
    readonly logIngestionErrors: AlertThreshold;
    /** A stack component (Grafana) is down or has no target. @default for 5m */
    readonly componentDown: AlertDuration;
}

/** SLO burn-rate alert windows. */
export interface SloAlerting {
    /** Pairs that page (critical). @default 14.4x over 1h and 5m, 6x over 6h and 30m */
    readonly page: readonly BurnRateWindow[];
    /** Pairs that open a ticket (warning). @default 3x over 1d and 2h, 1x over 3d and 6h */
    readonly ticket: readonly BurnRateWindow[];
}

/**
 * Alert thresholds and windows. The rules in `alerts/` are built from these values, and the
 * dashboards draw the same values as their thresholds, so a panel turns red where an alert fires.
 */
export interface AlertingConfig {
    /** `team` label of the alerts: application alerts (API, WebSocket, providers, cache and database) and platform alerts (infrastructure, self-monitoring). */
    readonly teams: { readonly application: string; readonly platform: string };
    /**
     * Minimum request rate (req/s) over an alert's window for ratio alerts (error ratios, SLO
     * burn rates, hit ratios) to fire: below it a ratio is noise (1 failed request of 3 is 33%).
     * @default 0.1 (six requests a minute)
     */
    readonly minRequestRate: number;
    readonly api: ApiAlerting;
    readonly websocket: WebsocketAlerting;
    readonly providers: ProviderAlerting;
    readonly cacheDb: CacheDbAlerting;
    readonly infrastructure: InfrastructureAlerting;
    readonly selfMonitoring: SelfMonitoringAlerting;
    readonly slo: SloAlerting;
    /** Synthetic-probe (blackbox exporter) alerts. */
    readonly probes: ProbeAlerting;
}

/**
 * Thresholds of the synthetic-probe alerts (alerts/probes.ts). Certificate thresholds are in days,
 * latency in seconds.
 */
export interface ProbeAlerting {
    /** A probe fails (anything but name resolution). @default for 2m */
    readonly failing: AlertDuration;
    /** A DNS probe fails, or a probe cannot resolve its target's host name. @default for 2m */
    readonly dnsFailing: AlertDuration;
    /** p95 of a probe's duration over {@link latencyWindow}, in seconds. @default 1 for 5m */
    readonly latencyP95: AlertThreshold;
    /** Window of the probe-latency quantile. @default "10m" */
    readonly latencyWindow: string;
    /** Days before the earliest certificate of a TLS probe expires: warns below. @default 14 for 10m */
    readonly certExpiryWarning: AlertThreshold;
    /** Days before the earliest certificate expires: pages below; less than the warning. @default 3 for 10m */
    readonly certExpiryCritical: AlertThreshold;
}

/** Blackbox-exporter modules a probe target may use (components/blackbox/config.ts). */
export type ProbeModule = "http_2xx" | "http_body" | "tcp_connect" | "dns";

/** One synthetic probe of the stack config, resolved. */
export interface ProbeTargetConfig {
    /** Unique name of the probe (a DNS label). */
    readonly name: string;
    /**
     * What is probed: `http(s)://host[:port]/path` for the HTTP modules, `tcp://host:port` for
     * tcp_connect, `dns://resolver[:port]/name.to.resolve` for dns.
     */
    readonly url: string;
    /** @default http_body when expectBody is set, else the module the URL's scheme implies */
    readonly module: ProbeModule;
    /** How often the target is probed; at least `prometheus.scrapeInterval`. @default prometheus.scrapeInterval */
    readonly interval: string;
    /** `team` of the probe's alerts. @default alerting.teams.application */
    readonly team: string;
    /** `severity` of the probe-failure and DNS alerts. @default "critical" */
    readonly severity: "critical" | "warning" | "info";
    /** http_body only: RE2 regular expression the response body must match. */
    readonly expectBody?: string;
    /** `service` label of the probe's series. @default name */
    readonly service: string;
    /** `namespace` label: the namespace of a `<svc>.<ns>.svc` host, else `external`, unless set. */
    readonly namespace: string;
}

/** Synthetic monitoring: the blackbox exporter and what it probes. */
export interface ProbesConfig extends ReplicatedConfig {
    /** Probes declared in the stack config. */
    readonly targets: readonly ProbeTargetConfig[];
    /**
     * Probe every Service annotated `probe.observability/path` (with optional `/port`, `/module`,
     * `/scheme`, `/severity`, `/team`), found through kubernetes_sd role service. @default true
     */
    readonly serviceDiscovery: boolean;
}

/** Everything the program needs, resolved and validated. */
export interface StackConfig {
    readonly project: string;
    readonly stack: string;
    readonly environment: Environment;
    /** Cluster name: the `cluster` external label on every series. */
    readonly clusterName: string;
    readonly namespaces: NamespacesConfig;
    /** StorageClass of every PersistentVolumeClaim; undefined uses the cluster default. */
    readonly storageClass?: string;
    readonly metricPreset: MetricPreset;
    /** Base URL of the runbooks; each alert links `<base>/<AlertName>.md`. */
    readonly runbookBaseUrl: string;
    readonly prometheus: PrometheusConfig;
    readonly alertmanager: AlertmanagerConfig;
    readonly grafana: GrafanaConfig;
    readonly logs: LogsConfig;
    readonly tracing: TracingConfig;
    readonly collector: CollectorConfig;
    readonly nodeExporter: WorkloadConfig;
    readonly kubeStateMetrics: WorkloadConfig;
    /** Synthetic monitoring (blackbox exporter, probe targets, Service discovery). */
    readonly probes: ProbesConfig;
    readonly receivers: readonly ReceiverConfig[];
    readonly slos: readonly SloConfig[];
    /** Alert thresholds and windows (see {@link AlertingConfig}). */
    readonly alerting: AlertingConfig;
    readonly ingress?: IngressConfig;
}
