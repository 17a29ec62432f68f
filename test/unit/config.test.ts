/**
 * `resolveConfig` is pure: raw stack values in, a frozen StackConfig or a ConfigError listing
 * every problem out. These tests pin the exact problem messages (key path, offending value as
 * JSON, what is expected), the environment defaults and the committed stack files.
 */
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, RawStackConfig, resolveConfig, defaultClusterName } from "../../config/resolve";
import type { StackConfig } from "../../config/types";

const ROOT = path.join(__dirname, "..", "..");

/** Secrets by key; `getSecret` hands back these exact Output objects so tests can check identity. */
class SecretStore {
    private readonly outputs = new Map<string, pulumi.Output<string>>();
    readonly asked: string[] = [];

    constructor(keys: Iterable<string>) {
        for (const key of keys) this.outputs.set(key, pulumi.secret(`value-of-${key}`));
    }

    readonly get = (key: string): pulumi.Output<string> | undefined => {
        this.asked.push(key);
        return this.outputs.get(key);
    };

    output(key: string): pulumi.Output<string> {
        const o = this.outputs.get(key);
        if (!o) throw new Error(`test set no secret ${key}`);
        return o;
    }
}

/** Every secret key any test config refers to. */
const ALL_SECRETS = [
    "pagerdutyRoutingKey",
    "slackWebhookUrl",
    "teamsWebhookUrl",
    "webhookUrl",
    "smtpPassword",
    "heartbeatUrl",
    "grafanaDbPassword",
    "mimirToken",
];

function raw(stack: string, values: Record<string, unknown>, presentKeys?: string[]): RawStackConfig {
    return { project: "observability", stack, values, ...(presentKeys ? { presentKeys: new Set(presentKeys) } : {}) };
}

/** The problems resolveConfig reports; fails the test when it resolves instead. */
function problemsOf(r: RawStackConfig, secrets: Iterable<string> = ALL_SECRETS): readonly string[] {
    try {
        resolveConfig(r, new SecretStore(secrets).get);
    } catch (e) {
        if (e instanceof ConfigError) return e.problems;
        throw e;
    }
    throw new Error(`stack ${r.stack} resolved although it should not: ${JSON.stringify(r.values)}`);
}

function resolve(stack: string, values: Record<string, unknown>, secrets: Iterable<string> = ALL_SECRETS): StackConfig {
    return resolveConfig(raw(stack, values), new SecretStore(secrets).get);
}

/** A prod stack needs a receiver; this one is valid so each case shows only its own problem. */
const PROD_RECEIVERS = [{ name: "pager", kind: "pagerduty" }];

const REPLICAS_1_TO = (max: number) => `expected a whole number of replicas from 1 to ${max}`;
const DURATION = "expected a duration such as 15d or 12h";
const IMAGE = "expected an image pinned to a version, e.g. quay.io/prometheus/prometheus:v2.53.5 (not :latest)";
const OBJECTIVE = "expected a percentage strictly between 0 and 100, e.g. 99.9";
const BUCKETS = "expected one of the request histogram buckets 0.1, 0.25, 0.5, 1, 2.5 (seconds)";
const ELASTICSEARCH_KEYS = "backend, resources, image, replicas, retention, storage, kibana, allowMmap";
const TOP_LEVEL_KEYS =
    "environment, clusterName, storageClass, metricPreset, runbookBaseUrl, namespaces, prometheus, alertmanager, grafana, logs, " +
    "tracing, collector, nodeExporter, kubeStateMetrics, receivers, slos, ingress, alerting, probes";

interface InvalidCase {
    title: string;
    stack?: string;
    values: Record<string, unknown>;
    presentKeys?: string[];
    secrets?: string[];
    problem: string;
}

const INVALID: InvalidCase[] = [
    // wrong types
    {
        title: "rejects a string where prometheus.replicas must be a number",
        values: { prometheus: { replicas: "2" } },
        problem: `observability:prometheus.replicas = "2": ${REPLICAS_1_TO(5)}`,
    },
    {
        title: "rejects a number where clusterName must be a string",
        values: { clusterName: 5 },
        problem: "observability:clusterName = 5: expected a DNS label: lowercase letters, digits and '-', at most 63 characters",
    },
    {
        title: "rejects an array where prometheus must be an object",
        values: { prometheus: [] },
        problem: "observability:prometheus = []: expected an object",
    },
    {
        title: "rejects an object where receivers must be a list",
        values: { receivers: { name: "a", kind: "webhook" } },
        problem: 'observability:receivers = {"name":"a","kind":"webhook"}: expected a list of receivers',
    },
    {
        title: "rejects a string where prometheus.storage.enabled must be a boolean",
        values: { prometheus: { storage: { enabled: "yes" } } },
        problem: 'observability:prometheus.storage.enabled = "yes": expected true or false',
    },
    {
        title: "rejects an environment that is not dev, staging or prod",
        values: { environment: "production" },
        problem: 'observability:environment = "production": expected "dev", "staging" or "prod"',
    },
    // replicas
    {
        title: "rejects negative prometheus replicas",
        values: { prometheus: { replicas: -1 } },
        problem: `observability:prometheus.replicas = -1: ${REPLICAS_1_TO(5)}`,
    },
    {
        title: "rejects zero alertmanager replicas",
        values: { alertmanager: { replicas: 0 } },
        problem: `observability:alertmanager.replicas = 0: ${REPLICAS_1_TO(7)}`,
    },
    {
        title: "rejects fractional grafana replicas",
        values: { grafana: { replicas: 1.5 } },
        problem: `observability:grafana.replicas = 1.5: ${REPLICAS_1_TO(10)}`,
    },
    {
        title: "rejects more than one Loki replica (single-binary Loki)",
        values: { logs: { backend: "loki", replicas: 2 } },
        problem: `observability:logs.replicas = 2: ${REPLICAS_1_TO(1)}`,
    },
    // log backend
    {
        title: "rejects an unknown log backend",
        values: { logs: { backend: "splunk" } },
        problem: 'observability:logs.backend = "splunk": expected a log backend: "loki" or "elasticsearch"',
    },
    {
        title: "requires a log backend when logs is set",
        values: { logs: { retention: "7d" } },
        problem: 'observability:logs.backend is required: expected a log backend: "loki" or "elasticsearch"',
    },
    // durations
    {
        title: 'rejects the duration "10x" with an unknown unit',
        values: { prometheus: { retention: "10x" } },
        problem: `observability:prometheus.retention = "10x": ${DURATION}`,
    },
    {
        title: "rejects an empty duration",
        values: { prometheus: { scrapeInterval: "" } },
        problem: `observability:prometheus.scrapeInterval = "": ${DURATION} (greater than zero)`,
    },
    {
        title: 'rejects the duration "5 minutes" written in words',
        values: { prometheus: { evaluationInterval: "5 minutes" } },
        problem: `observability:prometheus.evaluationInterval = "5 minutes": ${DURATION}`,
    },
    {
        title: 'rejects the zero duration "0d"',
        values: { logs: { backend: "loki", retention: "0d" } },
        problem: `observability:logs.retention = "0d": ${DURATION} (greater than zero)`,
    },
    {
        title: 'rejects the zero duration "0h0m" made of several units',
        values: { tracing: { jaeger: { retention: "0h0m" } } },
        problem: `observability:tracing.jaeger.retention = "0h0m": ${DURATION} (greater than zero)`,
    },
    {
        title: 'reports "0x" once, as a malformed duration rather than also as a zero one',
        values: { prometheus: { scrapeInterval: "0x" } },
        problem: `observability:prometheus.scrapeInterval = "0x": ${DURATION}`,
    },
    // quantities and sizes
    {
        title: "rejects a memory quantity in MB instead of Mi",
        values: { prometheus: { resources: { requests: { memory: "512MB" } } } },
        problem: 'observability:prometheus.resources.requests.memory = "512MB": expected a memory quantity such as 512Mi or 2Gi',
    },
    {
        title: "rejects a CPU quantity written in words",
        values: { grafana: { resources: { limits: { cpu: "2 cores" } } } },
        problem: 'observability:grafana.resources.limits.cpu = "2 cores": expected a CPU quantity such as 250m or 1',
    },
    {
        title: "rejects a storage size in GB instead of Gi",
        values: { prometheus: { storage: { size: "10GB" } } },
        problem: 'observability:prometheus.storage.size = "10GB": expected a storage size such as 10Gi or 500Gi',
    },
    {
        title: "rejects a prometheus retentionSize in Kubernetes units",
        values: { prometheus: { retentionSize: "45GiB" } },
        problem: 'observability:prometheus.retentionSize = "45GiB": expected a size such as 45GB or 512MB (units B, KB, MB, GB, TB, PB)',
    },
    // images
    {
        title: "rejects an image tagged latest",
        values: { grafana: { image: "grafana/grafana:latest" } },
        problem: `observability:grafana.image = "grafana/grafana:latest": ${IMAGE}`,
    },
    {
        title: "rejects an untagged image with a single message",
        values: { grafana: { image: "grafana/grafana" } },
        problem: `observability:grafana.image = "grafana/grafana": ${IMAGE}`,
    },
    {
        title: "rejects an untagged image whose registry has a port",
        values: { collector: { gateway: { image: "localhost:5000/otelcol" } } },
        problem: `observability:collector.gateway.image = "localhost:5000/otelcol": ${IMAGE}`,
    },
    // receivers
    {
        title: "rejects an unknown receiver kind",
        values: { receivers: [{ name: "a", kind: "sms" }] },
        problem: 'observability:receivers[0].kind = "sms": expected a receiver kind: "pagerduty", "slack", "email", "msteams" (a Teams Workflows webhook) or "webhook"',
    },
    {
        title: "rejects two receivers with the same name",
        values: { receivers: [{ name: "a", kind: "webhook" }, { name: "a", kind: "msteams" }] },
        problem: 'observability:receivers[1].name = "a": expected a unique receiver name (receivers[0] has it too)',
    },
    {
        title: "requires a channel on a slack receiver",
        values: { receivers: [{ name: "a", kind: "slack" }] },
        problem: "observability:receivers[0].channel is required: expected a Slack channel such as #alerts",
    },
    {
        title: "rejects an email receiver whose to is not an email address",
        values: { receivers: [{ name: "a", kind: "email", to: "oncall", from: "am@example.com", smarthost: "smtp.example.com:587" }] },
        problem: 'observability:receivers[0].to = "oncall": expected an email address such as oncall@example.com',
    },
    {
        title: "rejects a misspelt receiver field and lists the fields of that receiver kind",
        values: { receivers: [{ name: "a", kind: "webhook", url: "https://example.com" }] },
        problem: "observability:receivers[0].url: unknown key; expected one of: name, sendResolved, routes, team, kind, urlSecret",
    },
    // SLOs
    ...[0, 100, 150, -1].map(
        (objective): InvalidCase => ({
            title: `rejects the SLO objective ${objective}`,
            values: { slos: [{ name: "avail", kind: "availability", objective, window: "30d" }] },
            problem: `observability:slos[0].objective = ${objective}: ${OBJECTIVE}`,
        }),
    ),
    {
        title: "requires a latencyThreshold on a latency SLO",
        values: { slos: [{ name: "fast", kind: "latency", objective: 99, window: "7d" }] },
        problem: `observability:slos[0].latencyThreshold is required: ${BUCKETS}`,
    },
    {
        title: "rejects a latency threshold that is not a histogram bucket",
        values: { slos: [{ name: "fast", kind: "latency", objective: 99, window: "7d", latencyThreshold: 0.3 }] },
        problem: `observability:slos[0].latencyThreshold = 0.3: ${BUCKETS}`,
    },
    {
        title: "rejects a latency threshold on an availability SLO",
        values: { slos: [{ name: "avail", kind: "availability", objective: 99, window: "30d", latencyThreshold: 0.5 }] },
        problem: "observability:slos[0].latencyThreshold = 0.5: expected no latencyThreshold on an availability SLO",
    },
    {
        title: "rejects two SLOs with the same name",
        values: {
            slos: [
                { name: "avail", kind: "availability", objective: 99, window: "30d" },
                { name: "avail", kind: "availability", objective: 98, window: "7d" },
            ],
        },
        problem: 'observability:slos[1].name = "avail": expected a unique SLO name (slos[0] has it too)',
    },
    // alerting thresholds and windows
    {
        title: "rejects an alerting error-ratio threshold given as a percentage",
        values: { alerting: { api: { errorRatioWarning: { threshold: 5 } } } },
        problem: "observability:alerting.api.errorRatioWarning.threshold = 5: expected a ratio greater than 0 and at most 1, e.g. 0.05",
    },
    {
        title: "rejects an alerting for: duration written in words",
        values: { alerting: { cacheDb: { cacheHitRatio: { for: "ten minutes" } } } },
        problem: `observability:alerting.cacheDb.cacheHitRatio.for = "ten minutes": ${DURATION}`,
    },
    {
        title: "rejects a negative latency threshold",
        values: { alerting: { api: { latencyP95: { threshold: -1 } } } },
        problem: "observability:alerting.api.latencyP95.threshold = -1: expected a number greater than 0",
    },
    {
        title: "rejects a critical error-ratio threshold at or below the warning one",
        values: { alerting: { api: { errorRatioCritical: { threshold: 0.05 } } } },
        problem: "observability:alerting.api.errorRatioCritical.threshold = 0.05: expected more than alerting.api.errorRatioWarning.threshold (0.05)",
    },
    {
        title: "rejects a burn-rate short window that is not shorter than its long window",
        values: { alerting: { slo: { page: [{ factor: 14.4, long: "1h", short: "2h" }] } } },
        problem: 'observability:alerting.slo.page[0].short = "2h": expected a window shorter than alerting.slo.page[0].long (1h)',
    },
    {
        title: "rejects an empty list of paging burn-rate windows",
        values: { alerting: { slo: { page: [] } } },
        problem: "observability:alerting.slo.page = []: expected at least one burn-rate window",
    },
    {
        title: "rejects a misspelt alerting threshold key and lists the keys known there",
        values: { alerting: { api: { latencyP95: { treshold: 2 } } } },
        problem: "observability:alerting.api.latencyP95.treshold: unknown key; expected one of: threshold, for",
    },
    // sampling
    {
        title: "rejects a negative sampling ratio",
        values: { tracing: { samplingRatio: -0.1 } },
        problem: "observability:tracing.samplingRatio = -0.1: expected a sampling ratio from 0 to 1",
    },
    {
        title: "rejects a sampling ratio above 1",
        values: { tracing: { samplingRatio: 1.5 } },
        problem: "observability:tracing.samplingRatio = 1.5: expected a sampling ratio from 0 to 1",
    },
    // unknown keys
    {
        title: "rejects an unknown top-level key present in the stack and lists the known keys",
        values: {},
        presentKeys: ["clusterName", "retention", "slackWebhookUrl"],
        problem: `observability:retention: unknown key; expected one of: ${TOP_LEVEL_KEYS} (or a secret key a receiver names)`,
    },
    {
        title: "rejects a secret key that no receiver names",
        values: { receivers: [{ name: "a", kind: "webhook", urlSecret: "heartbeatUrl" }] },
        presentKeys: ["receivers", "heartbeatUrl", "smtpPasword"],
        problem: `observability:smtpPasword: unknown key; expected one of: ${TOP_LEVEL_KEYS} (or a secret key a receiver names)`,
    },
    {
        title: "rejects a misspelt nested key and lists the keys known at that path",
        values: { prometheus: { retenton: "30d" } },
        problem:
            "observability:prometheus.retenton: unknown key; expected one of: resources, image, replicas, retention, retentionSize, " +
            "storage, scrapeInterval, evaluationInterval, remoteWrite, staticTargets",
    },
    {
        title: "rejects the loki-only objectStorage key under the elasticsearch backend",
        values: { logs: { backend: "elasticsearch", objectStorage: { kind: "s3", bucket: "logs" } } },
        problem: `observability:logs.objectStorage: unknown key; expected one of: ${ELASTICSEARCH_KEYS}`,
    },
    {
        title: "rejects the loki-only ingestion limits under the elasticsearch backend",
        values: { logs: { backend: "elasticsearch", limits: { ingestionRateMb: 8 } } },
        problem: `observability:logs.limits: unknown key; expected one of: ${ELASTICSEARCH_KEYS}`,
    },
    {
        title: "rejects the elasticsearch-only allowMmap key under the loki backend",
        values: { logs: { backend: "loki", allowMmap: false } },
        problem: "observability:logs.allowMmap: unknown key; expected one of: backend, resources, image, replicas, retention, storage, objectStorage, limits",
    },
    {
        title: "rejects a sampling percentage written where the sampling ratio belongs",
        values: { tracing: { samplingRatio: 10 } },
        problem: "observability:tracing.samplingRatio = 10: expected a sampling ratio from 0 to 1",
    },
    {
        title: "rejects an unknown trace storage kind",
        values: { tracing: { jaeger: { storageBackend: "cassandra" } } },
        problem: 'observability:tracing.jaeger.storageBackend = "cassandra": expected "memory", "badger" or "elasticsearch"',
    },
    {
        title: "rejects an unknown object storage kind for Loki",
        values: { logs: { backend: "loki", objectStorage: { kind: "azure", bucket: "logs" } } },
        problem: 'observability:logs.objectStorage.kind = "azure": expected an object storage kind: "s3" or "gcs"',
    },
    {
        title: "rejects a log retention that is not whole days",
        values: { logs: { backend: "loki", retention: "36h" } },
        problem:
            'observability:logs.retention = "36h": expected whole days, at least 1d ' +
            "(Loki deletes by daily index period, Elasticsearch's lifecycle counts days)",
    },
    {
        title: "rejects a trace retention shorter than an hour",
        values: { tracing: { jaeger: { retention: "30m" } } },
        problem: 'observability:tracing.jaeger.retention = "30m": expected whole hours, at least 1h',
    },
    {
        title: "rejects a Loki ingestion burst below the ingestion rate",
        values: { logs: { backend: "loki", limits: { ingestionRateMb: 10, ingestionBurstSizeMb: 5 } } },
        problem: "observability:logs.limits.ingestionBurstSizeMb = 5: expected at least logs.limits.ingestionRateMb (10)",
    },
    {
        title: "rejects a fractional Loki stream limit",
        values: { logs: { backend: "loki", limits: { maxStreams: 1.5 } } },
        problem: "observability:logs.limits.maxStreams = 1.5: expected a whole number greater than 0",
    },
    // cross-field rules
    {
        title: "rejects a memory limit below the memory request merged from the defaults",
        values: { prometheus: { resources: { limits: { memory: "256Mi" } } } },
        problem: 'observability:prometheus.resources.limits.memory = "256Mi": expected at least prometheus.resources.requests.memory (512Mi)',
    },
    {
        title: "rejects a CPU limit below the CPU request when both are set",
        values: { collector: { agent: { resources: { requests: { cpu: "1" }, limits: { cpu: "500m" } } } } },
        problem: 'observability:collector.agent.resources.limits.cpu = "500m": expected at least collector.agent.resources.requests.cpu (1)',
    },
    {
        title: "rejects two grafana replicas without an external database",
        values: { grafana: { replicas: 2 } },
        problem: "observability:grafana.replicas = 2: expected 1 unless grafana.database is set (replicas cannot share a sqlite file)",
    },
    {
        title: "rejects Jaeger on Elasticsearch when the log backend is Loki",
        values: { tracing: { jaeger: { storageBackend: "elasticsearch" } } },
        problem:
            'observability:tracing.jaeger.storageBackend = "elasticsearch": expected logs.backend "elasticsearch" ' +
            '(Jaeger shares the log cluster); use "badger" with Loki',
    },
    {
        title: "rejects in-memory trace storage in prod",
        stack: "prod",
        values: { receivers: PROD_RECEIVERS, tracing: { jaeger: { storageBackend: "memory" } } },
        problem: 'observability:tracing.jaeger.storageBackend = "memory": expected "badger" or "elasticsearch" in prod (memory loses every trace on restart)',
    },
    {
        title: "rejects a prod retentionSize as large as the default volume",
        stack: "prod",
        values: { receivers: PROD_RECEIVERS, prometheus: { retentionSize: "100GB" } },
        problem:
            'observability:prometheus.retentionSize = "100GB": expected less than prometheus.storage.size (100Gi), ' +
            "or the volume fills before retention deletes anything",
    },
    {
        title: "rejects a prod volume smaller than the default retentionSize",
        stack: "prod",
        values: { receivers: PROD_RECEIVERS, prometheus: { storage: { size: "50Gi" } } },
        problem:
            'observability:prometheus.retentionSize = "90GB": expected less than prometheus.storage.size (50Gi), ' +
            "or the volume fills before retention deletes anything",
    },
    {
        title: "rejects a prod stack without receivers",
        stack: "prod",
        values: {},
        problem:
            'observability:receivers = []: expected at least one receiver in prod, so that alerts reach a human (see the README\'s "Receivers" section)',
    },
    {
        title: "rejects a staging stack without receivers, as staging runs the prod profile",
        stack: "staging",
        values: { receivers: [] },
        problem:
            'observability:receivers = []: expected at least one receiver in staging, so that alerts reach a human (see the README\'s "Receivers" section)',
    },
    {
        title: 'requires environment for a stack named "qa" and shows the command that sets it',
        stack: "qa",
        values: {},
        problem:
            'observability:environment is required: expected dev, staging or prod (stack "qa" is not named after one); set it with ' +
            "`pulumi config set environment <dev|staging|prod> --stack qa`",
    },
    {
        title: "reports a missing receiver secret with the exact command that sets it",
        values: { receivers: [{ name: "slack-dev", kind: "slack", channel: "#alerts-dev" }] },
        secrets: [],
        problem:
            "observability:slackWebhookUrl is not set but observability:receivers[0].webhookUrlSecret needs it: run " +
            "`pulumi config set --secret slackWebhookUrl <value> --stack dev`",
    },
    {
        title: "reports a missing grafana database password under the key the config names",
        values: {
            grafana: {
                replicas: 2,
                database: { kind: "postgres", host: "db.example.com:5432", name: "grafana", user: "grafana", passwordSecret: "grafanaDbPassword" },
            },
        },
        secrets: [],
        problem:
            "observability:grafanaDbPassword is not set but observability:grafana.database.passwordSecret needs it: run " +
            "`pulumi config set --secret grafanaDbPassword <value> --stack dev`",
    },
    {
        title: "rejects the same namespace for monitoring and agents",
        values: { namespaces: { monitoring: "obs", agents: "obs" } },
        problem:
            'observability:namespaces.agents = "obs": expected a namespace other than namespaces.monitoring ' +
            "(agents need the privileged Pod Security level, the monitoring namespace enforces restricted)",
    },
    {
        title: "rejects the default agents namespace chosen as the monitoring namespace",
        values: { namespaces: { monitoring: "monitoring-agents" } },
        problem:
            'observability:namespaces.agents = "monitoring-agents": expected a namespace other than namespaces.monitoring ' +
            "(agents need the privileged Pod Security level, the monitoring namespace enforces restricted)",
    },
    // synthetic probes
    {
        title: "rejects a probe URL that is not a URL",
        values: { probes: { targets: [{ name: "checkout", url: "checkout/health" }] } },
        problem: 'observability:probes.targets[0].url = "checkout/health": expected an http://, https://, tcp:// or dns:// URL, such as https://shop.example.com/health',
    },
    {
        title: "rejects an http_2xx probe of a URL without a host",
        values: { probes: { targets: [{ name: "checkout", url: "http:///health", module: "http_2xx" }] } },
        problem:
            'observability:probes.targets[0].url = "http:///health": expected an http(s) URL with a host and no credentials, such as https://shop.example.com/health (module http_2xx)',
    },
    {
        title: "rejects a probe URL that carries credentials",
        values: { probes: { targets: [{ name: "admin", url: "https://user:secret@admin.example.com/health" }] } },
        problem:
            'observability:probes.targets[0].url = "https://user:secret@admin.example.com/health": expected an http(s) URL with a host and no credentials, such as https://shop.example.com/health (module http_2xx)',
    },
    {
        title: "rejects a tcp_connect probe of an http URL",
        values: { probes: { targets: [{ name: "db", url: "http://db.shop.svc:5432", module: "tcp_connect" }] } },
        problem: 'observability:probes.targets[0].url = "http://db.shop.svc:5432": expected tcp://host:port, such as tcp://db.example.com:5432 (module tcp_connect)',
    },
    {
        title: "rejects a dns probe without the name to resolve",
        values: { probes: { targets: [{ name: "cluster-dns", url: "dns://kube-dns.kube-system.svc:53" }] } },
        problem:
            'observability:probes.targets[0].url = "dns://kube-dns.kube-system.svc:53": expected dns://resolver[:port]/name.to.resolve, such as dns://kube-dns.kube-system.svc:53/kubernetes.default.svc.cluster.local (module dns)',
    },
    {
        title: "rejects an unknown probe module",
        values: { probes: { targets: [{ name: "checkout", url: "https://shop.example.com/health", module: "icmp" }] } },
        problem: 'observability:probes.targets[0].module = "icmp": expected a probe module: http_2xx, http_body, tcp_connect, dns',
    },
    {
        title: "rejects a probe interval shorter than the scrape interval",
        values: { probes: { targets: [{ name: "checkout", url: "https://shop.example.com/health", interval: "10s" }] } },
        problem: 'observability:probes.targets[0].interval = "10s": expected at least prometheus.scrapeInterval (30s)',
    },
    {
        title: "rejects a probe interval shorter than a stack's own scrape interval",
        values: { prometheus: { scrapeInterval: "1m" }, probes: { targets: [{ name: "checkout", url: "https://shop.example.com/health", interval: "45s" }] } },
        problem: 'observability:probes.targets[0].interval = "45s": expected at least prometheus.scrapeInterval (1m)',
    },
    {
        title: "rejects an expected body on a module that does not read the body",
        values: { probes: { targets: [{ name: "checkout", url: "https://shop.example.com/health", module: "http_2xx", expectBody: "ok" }] } },
        problem: 'observability:probes.targets[0].expectBody = "ok": expected no expectBody with module http_2xx (only http_body reads the body)',
    },
    {
        title: "rejects an expected body pattern RE2 cannot run (lookahead)",
        values: { probes: { targets: [{ name: "checkout", url: "https://shop.example.com/health", expectBody: "(?=ok)" }] } },
        problem: 'observability:probes.targets[0].expectBody = "(?=ok)": expected a regular expression in RE2 syntax (no lookaround or backreferences)',
    },
    {
        title: "rejects two probes with the same name",
        values: { probes: { targets: [{ name: "checkout", url: "https://a.example.com/health" }, { name: "checkout", url: "https://b.example.com/health" }] } },
        problem: 'observability:probes.targets[1].name = "checkout": expected a unique probe name (probes.targets[0] has it too)',
    },
    {
        title: "rejects a probe severity outside critical, warning and info",
        values: { probes: { targets: [{ name: "checkout", url: "https://shop.example.com/health", severity: "page" }] } },
        problem: 'observability:probes.targets[0].severity = "page": expected "critical", "warning" or "info"',
    },
    {
        title: "rejects a critical certificate threshold that is not below the warning one",
        values: { alerting: { probes: { certExpiryCritical: { threshold: 20 } } } },
        problem: "observability:alerting.probes.certExpiryCritical.threshold = 20: expected fewer days than alerting.probes.certExpiryWarning.threshold (14)",
    },
];

describe("resolveConfig rejects an invalid stack with one precise message", () => {
    it("covers at least 30 distinct invalid configs", () => {
        expect(INVALID.length).toBeGreaterThanOrEqual(30);
        expect(new Set(INVALID.map((c) => c.title)).size).toBe(INVALID.length);
        expect(new Set(INVALID.map((c) => c.problem)).size).toBeGreaterThanOrEqual(30);
    });

    it.each(INVALID)("$title", ({ stack = "dev", values, presentKeys, secrets, problem }) => {
        expect(problemsOf(raw(stack, values, presentKeys), secrets)).toEqual([problem]);
    });

    it("throws a ConfigError whose message names the stack, counts the problem and lists it", () => {
        let error: unknown;
        try {
            resolve("dev", { prometheus: { replicas: 0 } });
        } catch (e) {
            error = e;
        }
        expect(error).toBeInstanceOf(ConfigError);
        expect((error as ConfigError).stackName).toBe("dev");
        expect((error as ConfigError).message).toBe(
            `invalid configuration for stack "dev" (1 problem):\n  - observability:prometheus.replicas = 0: ${REPLICAS_1_TO(5)}`,
        );
    });
});

describe("resolveConfig reports every problem of a stack at once", () => {
    it("lists every schema problem of a stack, one message each", () => {
        let error: ConfigError | undefined;
        try {
            resolve("dev", {
                prometheus: { replicas: 0, retention: "10x" },
                grafana: { image: "grafana/grafana" },
                tracing: { samplingRatio: 2 },
                slos: [{ name: "avail", kind: "availability", objective: 100, window: "30d" }],
            });
        } catch (e) {
            error = e as ConfigError;
        }
        const expected = [
            `observability:prometheus.replicas = 0: ${REPLICAS_1_TO(5)}`,
            `observability:prometheus.retention = "10x": ${DURATION}`,
            `observability:grafana.image = "grafana/grafana": ${IMAGE}`,
            "observability:tracing.samplingRatio = 2: expected a sampling ratio from 0 to 1",
            `observability:slos[0].objective = 100: ${OBJECTIVE}`,
        ];
        expect(error).toBeInstanceOf(ConfigError);
        expect(error!.problems).toEqual(expected);
        expect(error!.message.split("\n")).toEqual([
            'invalid configuration for stack "dev" (5 problems):',
            ...expected.map((p) => `  - ${p}`),
        ]);
    });

    it("lists every cross-field, secret and unknown-key problem of a schema-valid stack together", () => {
        const problems = problemsOf(
            raw(
                "staging",
                {
                    namespaces: { monitoring: "obs", agents: "obs" },
                    grafana: { replicas: 3 },
                    tracing: { jaeger: { storageBackend: "elasticsearch" } },
                    receivers: [
                        { name: "oncall", kind: "pagerduty" },
                        { name: "oncall", kind: "slack", channel: "#alerts" },
                    ],
                    slos: [{ name: "fast", kind: "latency", objective: 95, window: "7d", latencyThreshold: 0.75 }],
                },
                ["namespaces", "grafana", "tracing", "receivers", "slos", "pagerdutyRoutingKey", "scrapeInterval"],
            ),
            ["slackWebhookUrl"],
        );
        expect(problems).toEqual([
            `observability:scrapeInterval: unknown key; expected one of: ${TOP_LEVEL_KEYS} (or a secret key a receiver names)`,
            "observability:pagerdutyRoutingKey is not set but observability:receivers[0].routingKeySecret needs it: run " +
                "`pulumi config set --secret pagerdutyRoutingKey <value> --stack staging`",
            'observability:receivers[1].name = "oncall": expected a unique receiver name (receivers[0] has it too)',
            `observability:slos[0].latencyThreshold = 0.75: ${BUCKETS}`,
            "observability:grafana.replicas = 3: expected 1 unless grafana.database is set (replicas cannot share a sqlite file)",
            'observability:tracing.jaeger.storageBackend = "elasticsearch": expected logs.backend "elasticsearch" ' +
                '(Jaeger shares the log cluster); use "badger" with Loki',
            'observability:namespaces.agents = "obs": expected a namespace other than namespaces.monitoring ' +
                "(agents need the privileged Pod Security level, the monitoring namespace enforces restricted)",
        ]);
    });
});

/** A stack file's `config:` with the `observability:` prefix stripped, as loadConfig hands it over. */
function readStackFile(stack: string): Record<string, unknown> {
    const doc = yaml.load(fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> };
    const values: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(doc.config)) {
        expect(key.startsWith("observability:")).toBe(true);
        values[key.slice("observability:".length)] = value;
    }
    return values;
}

function expectDeeplyFrozen(value: unknown, at: string): void {
    if (value === null || typeof value !== "object" || pulumi.Output.isInstance(value)) return;
    if (!Object.isFrozen(value)) throw new Error(`${at} is not frozen`);
    for (const [k, v] of Object.entries(value)) expectDeeplyFrozen(v, `${at}.${k}`);
}

describe("the committed stack files resolve", () => {
    it("resolves Pulumi.dev.yaml to the dev profile with the slack receiver reading slackWebhookUrl", () => {
        const values = readStackFile("dev");
        const secrets = new SecretStore(ALL_SECRETS);
        const c = resolveConfig(raw("dev", values, [...Object.keys(values), "slackWebhookUrl"]), secrets.get);

        expect(c.environment).toBe("dev");
        expect(c.clusterName).toBe("dev");
        expect(c.prometheus.replicas).toBe(1);
        expect(c.prometheus.storage).toEqual({ enabled: false, size: "5Gi" });
        expect(c.prometheus.retention).toBe("3d");
        expect(c.prometheus.scrapeInterval).toBe("30s");
        expect(c.alertmanager.replicas).toBe(1);
        expect(c.alertmanager.storage.enabled).toBe(false);
        expect(c.logs.backend).toBe("loki");
        expect(c.logs.storage.enabled).toBe(false);
        expect(c.tracing.samplingRatio).toBe(1);
        expect(c.tracing.jaeger.storageBackend).toBe("memory");
        expect(c.collector.gateway.replicas).toBe(1);
        expect(c.ingress).toBeUndefined();
        expect(c.slos.map((s) => s.name)).toEqual(["availability", "latency"]);

        expect(c.receivers).toHaveLength(1);
        const [slack] = c.receivers;
        expect(slack).toMatchObject({ kind: "slack", name: "slack-dev", channel: "#alerts-dev", webhookUrlSecret: "slackWebhookUrl", sendResolved: true });
        expect(slack!.credential).toBe(secrets.output("slackWebhookUrl"));
        expect(secrets.asked).toEqual(["slackWebhookUrl"]);
    });

    it("resolves Pulumi.prod.yaml to the prod profile with each receiver reading its own secret key", () => {
        const values = readStackFile("prod");
        const secrets = new SecretStore(ALL_SECRETS);
        const secretKeys = ["pagerdutyRoutingKey", "slackWebhookUrl", "smtpPassword", "teamsWebhookUrl", "heartbeatUrl"];
        const c = resolveConfig(raw("prod", values, [...Object.keys(values), ...secretKeys]), secrets.get);

        expect(c.environment).toBe("prod");
        expect(c.clusterName).toBe("prod");
        expect(c.runbookBaseUrl).toBe("https://github.com/your-org/observability/blob/main/docs/runbooks");
        expect(c.prometheus.replicas).toBe(2);
        expect(c.prometheus.storage).toEqual({ enabled: true, size: "100Gi" });
        expect(c.prometheus.retention).toBe("30d");
        expect(c.prometheus.retentionSize).toBe("90GB");
        expect(c.prometheus.scrapeInterval).toBe("15s");
        expect(c.alertmanager.replicas).toBe(3);
        expect(c.alertmanager.storage.enabled).toBe(true);
        expect(c.grafana.storage.enabled).toBe(true);
        expect(c.logs.storage.enabled).toBe(true);
        expect(c.tracing.samplingRatio).toBe(0.1);
        expect(c.tracing.jaeger.storageBackend).toBe("badger");
        expect(c.collector.gateway.replicas).toBe(2);
        expect(c.ingress).toEqual({
            className: "nginx",
            grafanaHost: "grafana.example.com",
            jaegerHost: "jaeger.example.com",
            tlsSecretName: "observability-tls",
            annotations: {},
        });

        const byName = new Map(c.receivers.map((r) => [r.name, r]));
        expect([...byName.keys()]).toEqual(["pagerduty-oncall", "slack-alerts", "email-oncall", "teams-stakeholders", "heartbeat"]);
        expect(byName.get("pagerduty-oncall")).toMatchObject({ kind: "pagerduty", routingKeySecret: "pagerdutyRoutingKey" });
        expect(byName.get("slack-alerts")).toMatchObject({ kind: "slack", channel: "#alerts", webhookUrlSecret: "slackWebhookUrl" });
        expect(byName.get("email-oncall")).toMatchObject({
            kind: "email",
            to: "oncall@example.com",
            from: "alertmanager@example.com",
            smarthost: "smtp.example.com:587",
            authUsername: "alertmanager@example.com",
            authPasswordSecret: "smtpPassword",
            requireTls: true,
        });
        expect(byName.get("teams-stakeholders")).toMatchObject({ kind: "msteams", webhookUrlSecret: "teamsWebhookUrl" });
        expect(byName.get("heartbeat")).toMatchObject({ kind: "webhook", urlSecret: "heartbeatUrl" });
        const credentialKeys: [string, string][] = [
            ["pagerduty-oncall", "pagerdutyRoutingKey"],
            ["slack-alerts", "slackWebhookUrl"],
            ["email-oncall", "smtpPassword"],
            ["teams-stakeholders", "teamsWebhookUrl"],
            ["heartbeat", "heartbeatUrl"],
        ];
        for (const [name, key] of credentialKeys) expect(byName.get(name)!.credential).toBe(secrets.output(key));
        expect([...secrets.asked].sort()).toEqual([...secretKeys].sort());
    });

    it("returns a deeply frozen config that throws on mutation in strict mode", () => {
        const c = resolveConfig(raw("prod", readStackFile("prod")), new SecretStore(ALL_SECRETS).get);
        expectDeeplyFrozen(c, "config");
        expect(() => {
            (c as { environment: string }).environment = "dev";
        }).toThrow(TypeError);
        expect(() => {
            (c.prometheus as { replicas: number }).replicas = 9;
        }).toThrow(TypeError);
        expect(() => {
            (c.prometheus.storage as { enabled: boolean }).enabled = false;
        }).toThrow(TypeError);
        expect(() => {
            (c.receivers as unknown[]).push({});
        }).toThrow(TypeError);
        expect(() => {
            (c.slos[0] as { objective: number }).objective = 50;
        }).toThrow(TypeError);
        expect(() => {
            (c.ingress!.annotations as Record<string, string>)["x"] = "y";
        }).toThrow(TypeError);
    });

    it("does not freeze or change the defaults the next stack resolves from", () => {
        const first = resolve("dev", {});
        const second = resolve("dev", { prometheus: { replicas: 2, storage: { size: "20Gi" } }, slos: [{ name: "a", kind: "availability", objective: 99, window: "1d" }] });
        const third = resolve("dev", {});
        expect(second.prometheus.replicas).toBe(2);
        expect(second.prometheus.storage.size).toBe("20Gi");
        expect(third.prometheus).toEqual(first.prometheus);
        expect(third.slos).toEqual([
            { name: "availability", kind: "availability", objective: 99.9, window: "30d" },
            { name: "latency", kind: "latency", objective: 95, window: "7d", latencyThreshold: 0.5 },
        ]);
    });
});

describe("resolveConfig applies defaults only where a value is unset (??, not ||)", () => {
    const prod = (values: Record<string, unknown>) => resolve("prod", { receivers: PROD_RECEIVERS, ...values });

    it("keeps an explicit storage.enabled: false in prod instead of the prod default true", () => {
        const c = prod({ prometheus: { storage: { enabled: false } }, alertmanager: { storage: { enabled: false } } });
        expect(c.prometheus.storage).toEqual({ enabled: false, size: "100Gi" });
        expect(c.alertmanager.storage).toEqual({ enabled: false, size: "2Gi" });
        expect(c.grafana.storage.enabled).toBe(true);
    });

    it("skips the retentionSize-below-volume check when prometheus has no volume", () => {
        const c = prod({ prometheus: { retentionSize: "500GB", storage: { enabled: false } } });
        expect(c.prometheus.retentionSize).toBe("500GB");
    });

    it("keeps an explicit samplingRatio of 0 in prod instead of the prod default 0.1", () => {
        expect(prod({ tracing: { samplingRatio: 0 } }).tracing.samplingRatio).toBe(0);
    });

    it("keeps explicit sendResolved: false and requireTls: false on receivers", () => {
        const c = prod({
            receivers: [
                { name: "pager", kind: "pagerduty", sendResolved: false },
                { name: "mail", kind: "email", to: "a@example.com", from: "b@example.com", smarthost: "smtp.example.com:25", requireTls: false },
            ],
        });
        expect(c.receivers.map((r) => r.sendResolved)).toEqual([false, true]);
        expect(c.receivers[1]).toMatchObject({ kind: "email", requireTls: false });
        expect(c.receivers[1]).not.toHaveProperty("credential");
    });

    it("keeps an explicit empty SLO list instead of the default SLOs", () => {
        expect(prod({ slos: [] }).slos).toEqual([]);
    });

    it("turns persistence on in dev when the stack asks for it", () => {
        expect(resolve("dev", { prometheus: { storage: { enabled: true } } }).prometheus.storage).toEqual({ enabled: true, size: "5Gi" });
    });

    it("merges a partial resources override with the environment's defaults field by field", () => {
        const c = prod({ prometheus: { resources: { requests: { memory: "6Gi" } } } });
        expect(c.prometheus.resources).toEqual({ requests: { cpu: "1", memory: "6Gi" }, limits: { cpu: "2", memory: "8Gi" } });
    });

    it("merges a partial Loki limits override with the environment's limits and keeps mmap on for Elasticsearch unless turned off", () => {
        const c = prod({ logs: { backend: "loki", limits: { ingestionRateMb: 20, ingestionBurstSizeMb: 40 } } });
        expect(c.logs.backend === "loki" && c.logs.limits).toEqual({
            ingestionRateMb: 20, ingestionBurstSizeMb: 40, perStreamRateLimitMb: 5, perStreamRateLimitBurstMb: 20, maxLineSizeKb: 256, maxStreams: 20000,
        });
        const es = prod({ logs: { backend: "elasticsearch" } });
        expect(es.logs.backend === "elasticsearch" && es.logs.allowMmap).toBe(true);
        const noMmap = prod({ logs: { backend: "elasticsearch", allowMmap: false } });
        expect(noMmap.logs.backend === "elasticsearch" && noMmap.logs.allowMmap).toBe(false);
    });

    it("uses the explicit environment over the stack name, so a stack named qa can run the prod profile", () => {
        const c = resolve("qa", { environment: "prod", receivers: PROD_RECEIVERS });
        expect(c.environment).toBe("prod");
        expect(c.prometheus.replicas).toBe(2);
        expect(c.clusterName).toBe("observability-qa");
    });

    it("gives staging the prod profile", () => {
        const c = resolve("staging", { receivers: PROD_RECEIVERS });
        expect(c.environment).toBe("staging");
        expect(c.prometheus.replicas).toBe(2);
        expect(c.alertmanager.replicas).toBe(3);
        expect(c.prometheus.storage.enabled).toBe(true);
    });
});

describe("derived defaults stay valid", () => {
    it("derives a DNS-label cluster name from any project and stack name", () => {
        expect(defaultClusterName("observability", "dev")).toBe("observability-dev");
        expect(defaultClusterName("Obs", "My_Stack.")).toBe("obs-my-stack");
        expect(defaultClusterName("x".repeat(60), "prod")).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
        expect(defaultClusterName("x".repeat(60), "prod").length).toBeLessThanOrEqual(63);
    });

    it("reports a secret key two receivers share only once", () => {
        const problems = problemsOf(
            raw("dev", {
                receivers: [
                    { name: "a", kind: "slack", channel: "#a" },
                    { name: "b", kind: "slack", channel: "#b" },
                ],
            }),
            [],
        );
        expect(problems.filter((p) => p.includes("slackWebhookUrl"))).toHaveLength(1);
    });
});
