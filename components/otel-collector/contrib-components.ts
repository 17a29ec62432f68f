/**
 * The components compiled into the pinned OpenTelemetry Collector contrib distribution
 * (`otel/opentelemetry-collector-contrib`, see `IMAGES.otelCollector`), by the type name a config
 * uses. The structural validator (./validate.ts) refuses a config naming anything else, so a
 * typo or a component that is not in the release fails in tests instead of in a CrashLoopBackOff.
 *
 * Source: the `otelcol-contrib` distribution manifest
 * (open-telemetry/opentelemetry-collector-releases, distributions/otelcol-contrib/manifest.yaml),
 * each Go module mapped to the type name its factory registers. Components that entered the
 * distribution after {@link CONTRIB_RELEASE} are left out. When the image is bumped, bump
 * {@link CONTRIB_RELEASE} with it (a test keeps the two equal) and re-check this list against the
 * manifest of the new tag.
 */

/** The contrib release this list describes; must equal the tag of `IMAGES.otelCollector`. */
export const CONTRIB_RELEASE = "0.129.0";

export type ComponentKind = "receivers" | "processors" | "exporters" | "extensions" | "connectors";

export const CONTRIB_COMPONENTS: { readonly [K in ComponentKind]: readonly string[] } = {
    receivers: [
        "activedirectoryds", "aerospike", "apache", "apachespark", "awscloudwatch", "awscontainerinsightreceiver",
        "awsecscontainermetrics", "awsfirehose", "awss3", "awsxray", "azureblob", "azureeventhub", "azuremonitor",
        "bigip", "carbon", "chrony", "cloudflare", "cloudfoundry", "collectd", "couchdb", "datadog", "docker_stats",
        "elasticsearch", "envoyals", "expvar", "faro", "filelog", "filestats", "flinkmetrics", "fluentforward", "github",
        "googlecloudmonitoring", "googlecloudpubsub", "googlecloudspanner", "haproxy", "hostmetrics", "httpcheck",
        "influxdb", "iis", "jaeger", "jmx", "journald", "k8s_cluster", "k8s_events", "k8sobjects", "kafkametrics",
        "kafka", "kubeletstats", "libhoney", "loki", "memcached", "mongodbatlas", "mongodb", "mysql", "namedpipe",
        "netflow", "nginx", "nop", "nsxt", "ntp", "oracledb", "otlp", "otlpjsonfile", "otelarrow", "podman_stats",
        "postgresql", "prometheus", "prometheusremotewrite", "purefa", "purefb", "pulsar", "rabbitmq",
        "receiver_creator", "redis", "riak", "saphana", "signalfx", "prometheus_simple", "skywalking", "snowflake",
        "solace", "splunkenterprise", "splunk_hec", "stef", "sqlquery", "sqlserver", "sshcheck", "statsd", "syslog",
        "tcpcheck", "tcplog", "tlscheck", "udplog", "vcenter", "wavefront", "snmp", "webhookevent", "windowseventlog",
        "windowsperfcounters", "zipkin", "zookeeper",
    ],
    processors: [
        "batch", "memory_limiter", "attributes", "cumulativetodelta", "deltatocumulative", "deltatorate", "filter",
        "geoip", "groupbyattrs", "groupbytrace", "interval", "k8sattributes", "logdedup", "experimental_metricsgeneration",
        "metricstarttime", "metricstransform", "probabilistic_sampler", "redaction", "remotetap", "resourcedetection",
        "resource", "schema", "span", "sumologic", "tail_sampling", "transform",
    ],
    exporters: [
        "debug", "nop", "otlp", "otlphttp", "alibabacloud_logservice", "awscloudwatchlogs", "awsemf", "awskinesis",
        "awsxray", "awss3", "azureblob", "azuredataexplorer", "azuremonitor", "bmchelix", "carbon", "cassandra",
        "clickhouse", "coralogix", "datadog", "dataset", "doris", "elasticsearch", "faro", "file", "googlecloud",
        "googlecloudpubsub", "googlemanagedprometheus", "honeycombmarker", "influxdb", "kafka", "loadbalancing",
        "logicmonitor", "logzio", "mezmo", "opensearch", "otelarrow", "prometheus", "prometheusremotewrite", "pulsar",
        "rabbitmq", "sapm", "sentry", "signalfx", "splunk_hec", "stef", "sumologic", "syslog",
        "tencentcloud_logservice", "zipkin",
    ],
    extensions: [
        "zpages", "ack", "asapclient", "awsproxy", "basicauth", "bearertokenauth", "cgroupruntime",
        "awscloudwatchmetricstreams_encoding", "awslogs_encoding", "googlecloudlogentry_encoding", "jaeger_encoding",
        "json_log_encoding", "otlp_encoding", "skywalking_encoding", "text_encoding", "zipkin_encoding",
        "googleclientauth", "headers_setter", "health_check", "http_forwarder", "jaegerremotesampling",
        "oauth2client", "docker_observer", "ecs_observer", "ecs_task_observer", "host_observer", "k8s_observer",
        "kafkatopics_observer", "oidc", "opamp", "pprof", "sigv4auth", "file_storage", "db_storage", "redis_storage",
        "sumologic", "k8s_leader_elector",
    ],
    connectors: [
        "forward", "count", "datadog", "exceptions", "failover", "grafanacloud", "otlpjson", "roundrobin", "routing",
        "servicegraph", "spanmetrics", "sum", "signaltometrics",
    ],
};

/** The type of a component id: `otlp/gateway` → `otlp`. */
export function componentType(id: string): string {
    const slash = id.indexOf("/");
    return slash < 0 ? id : id.slice(0, slash);
}

/** Whether the pinned release has a component of this kind with the type of `id`. */
export function isContribComponent(kind: ComponentKind, id: string): boolean {
    return CONTRIB_COMPONENTS[kind].includes(componentType(id));
}
