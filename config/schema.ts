/**
 * zod schemas of what a user may write in a stack file. Every field is optional (environment
 * defaults fill the gaps) except discriminators; objects are strict, so a misspelt key is an
 * error rather than a silently ignored setting. Each leaf carries an "expected ..." message that
 * `resolve.ts` turns into `observability:<path> = <value>: expected ...`.
 */
import { z } from "zod";

const expected = (what: string) => ({ error: `expected ${what}` });

/** Prometheus duration: one or more `<n><unit>` with units y, w, d, h, m, s, ms in that order. */
export const DURATION_RE = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const DURATION_TEXT = "a duration such as 15d or 12h";
export const duration = z
    .string(expected(DURATION_TEXT))
    .regex(DURATION_RE, { ...expected(DURATION_TEXT), abort: true })
    .refine((s) => /[1-9]/.test(s), expected(`${DURATION_TEXT} (greater than zero)`));

/** Prometheus byte size for `--storage.tsdb.retention.size`. */
const PROM_SIZE_TEXT = "a size such as 45GB or 512MB (units B, KB, MB, GB, TB, PB)";
export const promSize = z.string(expected(PROM_SIZE_TEXT)).regex(/^[1-9]\d*(B|KB|MB|GB|TB|PB)$/, expected(PROM_SIZE_TEXT));

const CPU_TEXT = "a CPU quantity such as 250m or 1";
export const cpuQuantity = z.string(expected(CPU_TEXT)).regex(/^(\d+m|\d+(\.\d+)?)$/, expected(CPU_TEXT));

const MEMORY_TEXT = "a memory quantity such as 512Mi or 2Gi";
export const memoryQuantity = z
    .string(expected(MEMORY_TEXT))
    .regex(/^\d+(\.\d+)?(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?$/, expected(MEMORY_TEXT));

const STORAGE_TEXT = "a storage size such as 10Gi or 500Gi";
export const storageQuantity = z.string(expected(STORAGE_TEXT)).regex(/^[1-9]\d*(Mi|Gi|Ti|M|G|T)$/, expected(STORAGE_TEXT));

const replicas = (max: number) =>
    z
        .number(expected(`a whole number of replicas from 1 to ${max}`))
        .int(expected(`a whole number of replicas from 1 to ${max}`))
        .min(1, expected(`a whole number of replicas from 1 to ${max}`))
        .max(max, expected(`a whole number of replicas from 1 to ${max}`));

const K8S_LABEL_KEY_TEXT = "a Kubernetes label key such as team or example.com/telemetry";
const K8S_LABEL_VALUE_TEXT = "a Kubernetes label value: at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit";
/** A Kubernetes label selector's `matchLabels`: keys `[prefix/]name`, values of at most 63 characters. */
export const kubernetesLabelMap = z.record(
    z
        .string(expected(K8S_LABEL_KEY_TEXT))
        .regex(/^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/, expected(K8S_LABEL_KEY_TEXT)),
    z.string(expected(K8S_LABEL_VALUE_TEXT)).regex(/^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/, expected(K8S_LABEL_VALUE_TEXT)),
    expected("a map of Kubernetes label keys to values"),
);

/** `repo:tag` or `repo@sha256:...`; never `latest`, never untagged (CONVENTIONS: pinned images). */
const IMAGE_TEXT = "an image pinned to a version, e.g. quay.io/prometheus/prometheus:v2.53.5 (not :latest)";
export const imageRef = z
    .string(expected(IMAGE_TEXT))
    .regex(/^[a-z0-9]([a-z0-9._\-/:]*[a-z0-9])?(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[a-f0-9]{64})$/, { ...expected(IMAGE_TEXT), abort: true })
    .refine((s) => !/:latest$/.test(s), expected(IMAGE_TEXT))
    .refine((s) => /@sha256:|:[^/]+$/.test(s), expected(IMAGE_TEXT));

const DNS_LABEL_TEXT = "a DNS label: lowercase letters, digits and '-', at most 63 characters";
export const dnsLabel = z
    .string(expected(DNS_LABEL_TEXT))
    .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, expected(DNS_LABEL_TEXT));

const HOST_TEXT = "a DNS host name such as grafana.example.com";
const hostName = z
    .string(expected(HOST_TEXT))
    .regex(/^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/, expected(HOST_TEXT));

const SECRET_KEY_TEXT = "the name of a secret config key, e.g. slackWebhookUrl";
export const secretKeyName = z
    .string(expected(SECRET_KEY_TEXT))
    .regex(/^[A-Za-z][A-Za-z0-9_-]*$/, expected(SECRET_KEY_TEXT));

const HTTP_URL_TEXT = "an http(s) URL";
const httpUrl = z.string(expected(HTTP_URL_TEXT)).regex(/^https?:\/\/[^\s/$.?#][^\s]*$/, expected(HTTP_URL_TEXT));

const EMAIL_TEXT = "an email address such as oncall@example.com";
const email = z.string(expected(EMAIL_TEXT)).regex(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, expected(EMAIL_TEXT));

const HOSTPORT_TEXT = "host:port, e.g. smtp.example.com:587";
const hostPort = z.string(expected(HOSTPORT_TEXT)).regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, expected(HOSTPORT_TEXT));

const NAME_TEXT = "a name of lowercase letters, digits and '-'";
const name = z.string(expected(NAME_TEXT)).regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, expected(NAME_TEXT));

const bool = z.boolean(expected("true or false"));
const labelMap = z.record(
    z.string(expected("a Prometheus label name")).regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, expected("a Prometheus label name")),
    z.string(expected("a string label value")),
    expected("a map of label names to values"),
);

const amounts = z.strictObject(
    { cpu: cpuQuantity.optional(), memory: memoryQuantity.optional() },
    expected("an object with cpu and memory"),
);
export const resources = z.strictObject(
    { requests: amounts.optional(), limits: amounts.optional() },
    expected("an object with requests and limits"),
);

export const storage = z.strictObject(
    { enabled: bool.optional(), size: storageQuantity.optional() },
    expected("an object with enabled and size"),
);

const workloadFields = { resources: resources.optional(), image: imageRef.optional() };
const obj = <T extends z.core.$ZodLooseShape>(shape: T, what = "an object") => z.strictObject(shape, expected(what));

export const prometheusInput = obj({
    ...workloadFields,
    replicas: replicas(5).optional(),
    retention: duration.optional(),
    retentionSize: promSize.optional(),
    storage: storage.optional(),
    scrapeInterval: duration.optional(),
    evaluationInterval: duration.optional(),
    remoteWrite: z
        .array(
            obj({ name, url: httpUrl, bearerTokenSecret: secretKeyName.optional() }),
            expected("a list of remote-write targets"),
        )
        .optional(),
    staticTargets: z
        .array(
            obj({
                job: z.string(expected("a scrape job name")).regex(/^[a-zA-Z_][a-zA-Z0-9_-]*$/, expected("a scrape job name")),
                targets: z.array(hostPort, expected("a list of host:port targets")).min(1, expected("at least one host:port target")),
                labels: labelMap.optional(),
            }),
            expected("a list of static scrape targets"),
        )
        .optional(),
});

export const alertmanagerInput = obj({ ...workloadFields, replicas: replicas(7).optional(), storage: storage.optional() });

export const grafanaInput = obj({
    ...workloadFields,
    replicas: replicas(10).optional(),
    storage: storage.optional(),
    database: obj({
        kind: z.enum(["postgres", "mysql"], expected("postgres or mysql")),
        host: hostPort,
        name: z.string(expected("a database name")).min(1, expected("a database name")),
        user: z.string(expected("a database user")).min(1, expected("a database user")),
        passwordSecret: secretKeyName,
    }).optional(),
});

const POSITIVE_NUMBER_TEXT = "a number greater than 0";
const positiveNumber = z.number(expected(POSITIVE_NUMBER_TEXT)).gt(0, expected(POSITIVE_NUMBER_TEXT));
const WHOLE_NUMBER_TEXT = "a whole number greater than 0";
const wholeNumber = z.number(expected(WHOLE_NUMBER_TEXT)).int(expected(WHOLE_NUMBER_TEXT)).gt(0, expected(WHOLE_NUMBER_TEXT));

export const objectStorageInput = z.discriminatedUnion(
    "kind",
    [
        obj({ kind: z.literal("s3"), bucket: z.string(expected("a bucket name")).min(3, expected("a bucket name")), region: z.string(expected("a region name")).optional(), endpoint: httpUrl.optional() }),
        obj({ kind: z.literal("gcs"), bucket: z.string(expected("a bucket name")).min(3, expected("a bucket name")) }),
    ],
    expected('an object storage kind: "s3" or "gcs"'),
);

export const logsInput = z.discriminatedUnion(
    "backend",
    [
        obj({
            backend: z.literal("loki"),
            ...workloadFields,
            replicas: replicas(1).optional(),
            retention: duration.optional(),
            storage: storage.optional(),
            objectStorage: objectStorageInput.optional(),
            limits: obj({
                ingestionRateMb: positiveNumber.optional(),
                ingestionBurstSizeMb: positiveNumber.optional(),
                perStreamRateLimitMb: positiveNumber.optional(),
                perStreamRateLimitBurstMb: positiveNumber.optional(),
                maxLineSizeKb: wholeNumber.optional(),
                maxStreams: wholeNumber.optional(),
            }).optional(),
        }),
        obj({
            backend: z.literal("elasticsearch"),
            ...workloadFields,
            replicas: replicas(9).optional(),
            retention: duration.optional(),
            storage: storage.optional(),
            kibana: obj(workloadFields).optional(),
            allowMmap: bool.optional(),
        }),
    ],
    expected('a log backend: "loki" or "elasticsearch"'),
);

export const tracingInput = obj({
    samplingRatio: z
        .number(expected("a sampling ratio from 0 to 1"))
        .min(0, expected("a sampling ratio from 0 to 1"))
        .max(1, expected("a sampling ratio from 0 to 1"))
        .optional(),
    jaeger: obj({
        ...workloadFields,
        storageBackend: z.enum(["memory", "badger", "elasticsearch"], expected('"memory", "badger" or "elasticsearch"')).optional(),
        storage: storage.optional(),
        retention: duration.optional(),
    }).optional(),
});

export const collectorInput = obj({
    agent: obj(workloadFields).optional(),
    gateway: obj({ ...workloadFields, replicas: replicas(20).optional() }).optional(),
});

/** Routes of the routing matrix a receiver serves (see alerts/routing.ts). */
export const ROUTE_ROLES = ["critical", "high", "warning", "low", "stakeholders", "heartbeat"] as const;
const receiverCommon = {
    name,
    sendResolved: bool.optional(),
    routes: z
        .array(z.enum(ROUTE_ROLES, expected(`a route: ${ROUTE_ROLES.join(", ")}`)), expected(`a list of routes (${ROUTE_ROLES.join(", ")})`))
        .min(1, expected("at least one route"))
        .optional(),
    team: z.string(expected("a team name")).regex(/^[a-z0-9][a-z0-9_-]*$/, expected("a team name of lowercase letters, digits, '-' and '_'")).optional(),
};
export const receiverInput = z.discriminatedUnion(
    "kind",
    [
        obj({ ...receiverCommon, kind: z.literal("pagerduty"), routingKeySecret: secretKeyName.optional() }),
        obj({
            ...receiverCommon,
            kind: z.literal("slack"),
            channel: z.string(expected("a Slack channel such as #alerts")).regex(/^[#@][^\s]+$/, expected("a Slack channel such as #alerts")),
            webhookUrlSecret: secretKeyName.optional(),
        }),
        obj({
            ...receiverCommon,
            kind: z.literal("email"),
            to: email,
            from: email,
            smarthost: hostPort,
            authUsername: z.string(expected("an SMTP user name")).min(1, expected("an SMTP user name")).optional(),
            authPasswordSecret: secretKeyName.optional(),
            requireTls: bool.optional(),
        }),
        obj({ ...receiverCommon, kind: z.literal("msteams"), webhookUrlSecret: secretKeyName.optional() }),
        obj({ ...receiverCommon, kind: z.literal("webhook"), urlSecret: secretKeyName.optional() }),
    ],
    expected('a receiver kind: "pagerduty", "slack", "email", "msteams" (a Teams Workflows webhook) or "webhook"'),
);

export const sloInput = obj({
    name,
    kind: z.enum(["availability", "latency"], expected('"availability" or "latency"')),
    objective: z
        .number(expected("a percentage strictly between 0 and 100, e.g. 99.9"))
        .gt(0, expected("a percentage strictly between 0 and 100, e.g. 99.9"))
        .lt(100, expected("a percentage strictly between 0 and 100, e.g. 99.9")),
    window: duration,
    latencyThreshold: z.number(expected("a threshold in seconds")).positive(expected("a threshold in seconds")).optional(),
    service: z.string(expected("a service name")).regex(/^[a-zA-Z0-9_.-]+$/, expected("a service name")).optional(),
});

const RATIO_TEXT = "a ratio greater than 0 and at most 1, e.g. 0.05";
const ratio = z.number(expected(RATIO_TEXT)).gt(0, expected(RATIO_TEXT)).max(1, expected(RATIO_TEXT));
const POSITIVE_TEXT = "a number greater than 0";
const positive = z.number(expected(POSITIVE_TEXT)).gt(0, expected(POSITIVE_TEXT));
/** A threshold held for a while; either half may be given alone (the other keeps its default). */
const thresholdOf = (value: z.ZodNumber) =>
    obj({ threshold: value.optional(), for: duration.optional() }, "an object with threshold and for");
const ratioThreshold = thresholdOf(ratio).optional();
const positiveThreshold = thresholdOf(positive).optional();
const forOnly = obj({ for: duration.optional() }, "an object with for").optional();
const TEAM_TEXT = "a team name of lowercase letters, digits, '-' and '_'";
const team = z.string(expected(TEAM_TEXT)).regex(/^[a-z0-9][a-z0-9_-]*$/, expected(TEAM_TEXT));
const burnWindows = z
    .array(obj({ factor: positive, long: duration, short: duration }, "an object with factor, long and short"), expected("a list of burn-rate windows"))
    .min(1, expected("at least one burn-rate window"));

/** `alerting`: thresholds and windows of the rules in alerts/ (defaults in config/defaults.ts). */
export const alertingInput = obj({
    teams: obj({ application: team.optional(), platform: team.optional() }).optional(),
    minRequestRate: z.number(expected("a request rate in requests per second, 0 or more")).min(0, expected("a request rate in requests per second, 0 or more")).optional(),
    api: obj({
        errorRatioWindow: duration.optional(),
        errorRatioWarning: ratioThreshold,
        errorRatioCritical: ratioThreshold,
        latencyP95: positiveThreshold,
        latencyP99: positiveThreshold,
        trafficDropped: positiveThreshold,
        inFlight: positiveThreshold,
    }).optional(),
    websocket: obj({
        connectionSpike: positiveThreshold,
        abnormalDisconnects: ratioThreshold,
        normalDisconnectReasons: z.array(z.string(expected("a reason label value")).min(1, expected("a reason label value")), expected("a list of reason label values")).optional(),
        messageErrors: ratioThreshold,
        errorMessageType: z.string(expected("a type label value")).min(1, expected("a type label value")).optional(),
    }).optional(),
    providers: obj({
        errorRatio: ratioThreshold,
        latencyP95: positiveThreshold,
        rateLimitRemaining: positiveThreshold,
        tokenBudgetPerHour: positiveThreshold,
    }).optional(),
    cacheDb: obj({
        cacheHitRatio: ratioThreshold,
        evictionSpike: positiveThreshold,
        dbQueryP95: positiveThreshold,
        dbPoolUtilisation: ratioThreshold,
    }).optional(),
    infrastructure: obj({
        targetDown: forOnly,
        clusterDown: ratioThreshold,
        containerMemory: ratioThreshold,
        cpuThrottling: ratioThreshold,
        diskFull: positiveThreshold,
        crashLooping: forOnly,
        memoryLeak: positiveThreshold,
        nodeNotReady: forOnly,
    }).optional(),
    selfMonitoring: obj({
        notificationFailures: ratioThreshold,
        collectorRefused: ratioThreshold,
        collectorDropped: ratioThreshold,
        logIngestionErrors: ratioThreshold,
        componentDown: forOnly,
    }).optional(),
    slo: obj({ page: burnWindows.optional(), ticket: burnWindows.optional() }).optional(),
    probes: obj({
        failing: forOnly,
        dnsFailing: forOnly,
        latencyP95: positiveThreshold,
        latencyWindow: duration.optional(),
        certExpiryWarning: positiveThreshold,
        certExpiryCritical: positiveThreshold,
    }).optional(),
});

/** Blackbox-exporter modules a probe target may name (components/blackbox/config.ts defines them). */
export const PROBE_MODULES = ["http_2xx", "http_body", "tcp_connect", "dns"] as const;
const PROBE_SEVERITIES = ["critical", "warning", "info"] as const;

/**
 * `probes`: the blackbox exporter's workload and what it probes. URLs, module/URL agreement,
 * intervals and body patterns are checked in resolve.ts, where the scrape interval is known.
 */
export const probesInput = obj({
    ...workloadFields,
    replicas: replicas(5).optional(),
    serviceDiscovery: bool.optional(),
    targets: z
        .array(
            obj({
                name,
                url: z.string(expected("a URL such as https://shop.example.com/health")).min(1, expected("a URL such as https://shop.example.com/health")),
                module: z.enum(PROBE_MODULES, expected(`a probe module: ${PROBE_MODULES.join(", ")}`)).optional(),
                interval: duration.optional(),
                team: team.optional(),
                severity: z.enum(PROBE_SEVERITIES, expected('"critical", "warning" or "info"')).optional(),
                expectBody: z.string(expected("a regular expression the body must match")).min(1, expected("a regular expression the body must match")).optional(),
                service: z.string(expected("a service name")).regex(/^[a-zA-Z0-9_.-]+$/, expected("a service name")).optional(),
                namespace: dnsLabel.optional(),
            }),
            expected("a list of probe targets"),
        )
        .optional(),
});

export const ingressInput = obj({
    className: z.string(expected("an IngressClass name")).min(1, expected("an IngressClass name")),
    grafanaHost: hostName,
    jaegerHost: hostName.optional(),
    tlsSecretName: dnsLabel.optional(),
    annotations: z.record(z.string(), z.string(expected("a string annotation value")), expected("a map of annotation names to values")).optional(),
});

/** The whole stack file, keyed without the `observability:` prefix. */
export const stackInput = z.strictObject({
    environment: z.enum(["dev", "staging", "prod"], expected('"dev", "staging" or "prod"')).optional(),
    clusterName: dnsLabel.optional(),
    storageClass: z.string(expected("a StorageClass name")).regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, expected("a StorageClass name")).optional(),
    metricPreset: z.enum(["prometheus", "otel"], expected('"prometheus" or "otel"')).optional(),
    runbookBaseUrl: httpUrl.optional(),
    namespaces: obj({
        monitoring: dnsLabel.optional(),
        agents: dnsLabel.optional(),
        ingressController: dnsLabel.optional(),
        applicationSelector: kubernetesLabelMap.optional(),
    }).optional(),
    prometheus: prometheusInput.optional(),
    alertmanager: alertmanagerInput.optional(),
    grafana: grafanaInput.optional(),
    logs: logsInput.optional(),
    tracing: tracingInput.optional(),
    collector: collectorInput.optional(),
    nodeExporter: obj(workloadFields).optional(),
    kubeStateMetrics: obj(workloadFields).optional(),
    receivers: z.array(receiverInput, expected("a list of receivers")).optional(),
    slos: z.array(sloInput, expected("a list of SLOs")).optional(),
    ingress: ingressInput.optional(),
    alerting: alertingInput.optional(),
    probes: probesInput.optional(),
});

export type StackInput = z.infer<typeof stackInput>;
