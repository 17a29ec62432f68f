/**
 * Environment defaults. dev fits a laptop cluster (single replicas, small requests, short
 * retention, no volumes where losing data on a reschedule is harmless); prod is highly available
 * and durable. A stack file only states what differs from these.
 */
import type { AlertingConfig, Environment, LokiLimitsConfig, Resources, SloConfig } from "./types";

const res = (reqCpu: string, reqMem: string, limCpu: string, limMem: string): Resources => ({
    requests: { cpu: reqCpu, memory: reqMem },
    limits: { cpu: limCpu, memory: limMem },
});

/** Availability 99.9% over 30 days and 95% of requests under 0.5 s over 7 days, for every service. */
export const DEFAULT_SLOS: readonly SloConfig[] = [
    { name: "availability", kind: "availability", objective: 99.9, window: "30d" },
    { name: "latency", kind: "latency", objective: 95, window: "7d", latencyThreshold: 0.5 },
];

/**
 * Alert thresholds and windows (issue 4's defaults). Every environment uses the same ones: dev
 * should alert like prod so that a rule is proven before it pages anyone.
 */
export const DEFAULT_ALERTING: AlertingConfig = {
    teams: { application: "backend", platform: "platform" },
    minRequestRate: 0.1,
    api: {
        errorRatioWindow: "2m",
        errorRatioWarning: { threshold: 0.05, for: "2m" },
        errorRatioCritical: { threshold: 0.15, for: "1m" },
        latencyP95: { threshold: 1, for: "10m" },
        latencyP99: { threshold: 1, for: "5m" },
        trafficDropped: { threshold: 0.1, for: "5m" },
        inFlight: { threshold: 100, for: "5m" },
    },
    websocket: {
        connectionSpike: { threshold: 3, for: "5m" },
        abnormalDisconnects: { threshold: 0.1, for: "10m" },
        normalDisconnectReasons: ["normal", "going_away"],
        messageErrors: { threshold: 0.05, for: "10m" },
        errorMessageType: "error",
    },
    providers: {
        errorRatio: { threshold: 0.1, for: "5m" },
        latencyP95: { threshold: 30, for: "10m" },
        rateLimitRemaining: { threshold: 10, for: "5m" },
        tokenBudgetPerHour: { threshold: 1_000_000, for: "15m" },
    },
    cacheDb: {
        cacheHitRatio: { threshold: 0.7, for: "10m" },
        evictionSpike: { threshold: 3, for: "10m" },
        dbQueryP95: { threshold: 0.5, for: "10m" },
        dbPoolUtilisation: { threshold: 0.9, for: "5m" },
    },
    infrastructure: {
        targetDown: { for: "1m" },
        clusterDown: { threshold: 0.5, for: "2m" },
        containerMemory: { threshold: 0.8, for: "15m" },
        cpuThrottling: { threshold: 0.25, for: "15m" },
        diskFull: { threshold: 4, for: "30m" },
        crashLooping: { for: "10m" },
        memoryLeak: { threshold: 12, for: "1h" },
        nodeNotReady: { for: "5m" },
    },
    selfMonitoring: {
        notificationFailures: { threshold: 0.01, for: "5m" },
        collectorRefused: { threshold: 0.01, for: "10m" },
        collectorDropped: { threshold: 0.01, for: "10m" },
        logIngestionErrors: { threshold: 0.01, for: "10m" },
        componentDown: { for: "5m" },
    },
    slo: {
        page: [
            { factor: 14.4, long: "1h", short: "5m" },
            { factor: 6, long: "6h", short: "30m" },
        ],
        ticket: [
            { factor: 3, long: "1d", short: "2h" },
            { factor: 1, long: "3d", short: "6h" },
        ],
    },
    probes: {
        failing: { for: "2m" },
        dnsFailing: { for: "2m" },
        latencyP95: { threshold: 1, for: "5m" },
        latencyWindow: "10m",
        certExpiryWarning: { threshold: 14, for: "10m" },
        certExpiryCritical: { threshold: 3, for: "10m" },
    },
};

/** Latency thresholds an SLO may use: the contract's required histogram buckets. */
export const LATENCY_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5] as const;

export interface EnvironmentDefaults {
    scrapeInterval: string;
    evaluationInterval: string;
    prometheus: { replicas: number; retention: string; retentionSize: string; storage: { enabled: boolean; size: string }; resources: Resources };
    alertmanager: { replicas: number; storage: { enabled: boolean; size: string }; resources: Resources };
    grafana: { replicas: number; storage: { enabled: boolean; size: string }; resources: Resources };
    loki: { replicas: number; retention: string; storage: { enabled: boolean; size: string }; resources: Resources; limits: LokiLimitsConfig };
    elasticsearch: { replicas: number; retention: string; storage: { enabled: boolean; size: string }; resources: Resources; kibana: Resources };
    tracing: { samplingRatio: number; storageBackend: "memory" | "badger"; storage: { enabled: boolean; size: string }; retention: string; resources: Resources };
    collector: { agent: Resources; gatewayReplicas: number; gateway: Resources };
    nodeExporter: Resources;
    kubeStateMetrics: Resources;
    blackboxExporter: { replicas: number; resources: Resources };
}

const DEV: EnvironmentDefaults = {
    scrapeInterval: "30s",
    evaluationInterval: "30s",
    prometheus: { replicas: 1, retention: "3d", retentionSize: "4GB", storage: { enabled: false, size: "5Gi" }, resources: res("200m", "512Mi", "1", "1Gi") },
    alertmanager: { replicas: 1, storage: { enabled: false, size: "1Gi" }, resources: res("20m", "32Mi", "100m", "128Mi") },
    grafana: { replicas: 1, storage: { enabled: false, size: "1Gi" }, resources: res("50m", "128Mi", "500m", "256Mi") },
    loki: {
        replicas: 1,
        retention: "7d",
        storage: { enabled: false, size: "5Gi" },
        resources: res("100m", "256Mi", "500m", "512Mi"),
        limits: { ingestionRateMb: 4, ingestionBurstSizeMb: 8, perStreamRateLimitMb: 3, perStreamRateLimitBurstMb: 10, maxLineSizeKb: 256, maxStreams: 5000 },
    },
    elasticsearch: { replicas: 1, retention: "7d", storage: { enabled: true, size: "10Gi" }, resources: res("250m", "1Gi", "1", "1Gi"), kibana: res("100m", "512Mi", "500m", "1Gi") },
    tracing: { samplingRatio: 1, storageBackend: "memory", storage: { enabled: false, size: "5Gi" }, retention: "2d", resources: res("50m", "128Mi", "500m", "512Mi") },
    collector: { agent: res("50m", "64Mi", "200m", "256Mi"), gatewayReplicas: 1, gateway: res("50m", "128Mi", "500m", "512Mi") },
    nodeExporter: res("10m", "24Mi", "100m", "64Mi"),
    kubeStateMetrics: res("10m", "48Mi", "100m", "128Mi"),
    blackboxExporter: { replicas: 1, resources: res("10m", "32Mi", "100m", "64Mi") },
};

const PROD: EnvironmentDefaults = {
    scrapeInterval: "15s",
    evaluationInterval: "15s",
    prometheus: { replicas: 2, retention: "30d", retentionSize: "90GB", storage: { enabled: true, size: "100Gi" }, resources: res("1", "4Gi", "2", "8Gi") },
    alertmanager: { replicas: 3, storage: { enabled: true, size: "2Gi" }, resources: res("50m", "64Mi", "200m", "256Mi") },
    grafana: { replicas: 1, storage: { enabled: true, size: "5Gi" }, resources: res("100m", "256Mi", "1", "512Mi") },
    loki: {
        replicas: 1,
        retention: "30d",
        storage: { enabled: true, size: "100Gi" },
        resources: res("500m", "1Gi", "2", "4Gi"),
        limits: { ingestionRateMb: 16, ingestionBurstSizeMb: 32, perStreamRateLimitMb: 5, perStreamRateLimitBurstMb: 20, maxLineSizeKb: 256, maxStreams: 20000 },
    },
    elasticsearch: { replicas: 3, retention: "30d", storage: { enabled: true, size: "100Gi" }, resources: res("1", "4Gi", "2", "4Gi"), kibana: res("200m", "1Gi", "1", "2Gi") },
    tracing: { samplingRatio: 0.1, storageBackend: "badger", storage: { enabled: true, size: "50Gi" }, retention: "7d", resources: res("200m", "512Mi", "1", "2Gi") },
    collector: { agent: res("100m", "128Mi", "500m", "512Mi"), gatewayReplicas: 2, gateway: res("250m", "512Mi", "1", "1Gi") },
    nodeExporter: res("20m", "32Mi", "200m", "64Mi"),
    kubeStateMetrics: res("50m", "128Mi", "200m", "256Mi"),
    // Two replicas: with one, a rescheduled prober silences every probe at once.
    blackboxExporter: { replicas: 2, resources: res("25m", "32Mi", "200m", "128Mi") },
};

/** The default profile of an environment: staging runs the prod profile. */
export function environmentDefaults(env: Environment): EnvironmentDefaults {
    return env === "dev" ? DEV : PROD;
}
