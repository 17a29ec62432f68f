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

export interface LokiConfig extends ReplicatedConfig {
    readonly backend: "loki";
    /** Log retention, enforced by the compactor. */
    readonly retention: string;
    readonly storage: StorageConfig;
    readonly objectStorage?: ObjectStorageConfig;
}

export interface ElasticsearchConfig extends ReplicatedConfig {
    readonly backend: "elasticsearch";
    /** Index lifecycle: indices older than this are deleted. */
    readonly retention: string;
    readonly storage: StorageConfig;
    readonly kibana: WorkloadConfig;
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

export interface MsTeamsReceiver extends ReceiverBase {
    readonly kind: "msteams";
    /** Secret config key holding the Teams workflow/webhook URL. */
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
    readonly receivers: readonly ReceiverConfig[];
    readonly slos: readonly SloConfig[];
    readonly ingress?: IngressConfig;
}
