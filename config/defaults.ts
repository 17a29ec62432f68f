/**
 * Environment defaults. dev fits a laptop cluster (single replicas, small requests, short
 * retention, no volumes where losing data on a reschedule is harmless); prod is highly available
 * and durable. A stack file only states what differs from these.
 */
import type { Environment, Resources, SloConfig } from "./types";

const res = (reqCpu: string, reqMem: string, limCpu: string, limMem: string): Resources => ({
    requests: { cpu: reqCpu, memory: reqMem },
    limits: { cpu: limCpu, memory: limMem },
});

/** Availability 99.9% over 30 days and 95% of requests under 0.5 s over 7 days, for every service. */
export const DEFAULT_SLOS: readonly SloConfig[] = [
    { name: "availability", kind: "availability", objective: 99.9, window: "30d" },
    { name: "latency", kind: "latency", objective: 95, window: "7d", latencyThreshold: 0.5 },
];

/** Latency thresholds an SLO may use: the contract's required histogram buckets. */
export const LATENCY_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5] as const;

export interface EnvironmentDefaults {
    scrapeInterval: string;
    evaluationInterval: string;
    prometheus: { replicas: number; retention: string; retentionSize: string; storage: { enabled: boolean; size: string }; resources: Resources };
    alertmanager: { replicas: number; storage: { enabled: boolean; size: string }; resources: Resources };
    grafana: { replicas: number; storage: { enabled: boolean; size: string }; resources: Resources };
    loki: { replicas: number; retention: string; storage: { enabled: boolean; size: string }; resources: Resources };
    elasticsearch: { replicas: number; retention: string; storage: { enabled: boolean; size: string }; resources: Resources; kibana: Resources };
    tracing: { samplingRatio: number; storageBackend: "memory" | "badger"; storage: { enabled: boolean; size: string }; retention: string; resources: Resources };
    collector: { agent: Resources; gatewayReplicas: number; gateway: Resources };
    nodeExporter: Resources;
    kubeStateMetrics: Resources;
}

const DEV: EnvironmentDefaults = {
    scrapeInterval: "30s",
    evaluationInterval: "30s",
    prometheus: { replicas: 1, retention: "3d", retentionSize: "4GB", storage: { enabled: false, size: "5Gi" }, resources: res("200m", "512Mi", "1", "1Gi") },
    alertmanager: { replicas: 1, storage: { enabled: false, size: "1Gi" }, resources: res("20m", "32Mi", "100m", "128Mi") },
    grafana: { replicas: 1, storage: { enabled: false, size: "1Gi" }, resources: res("50m", "128Mi", "500m", "256Mi") },
    loki: { replicas: 1, retention: "7d", storage: { enabled: false, size: "5Gi" }, resources: res("100m", "256Mi", "500m", "512Mi") },
    elasticsearch: { replicas: 1, retention: "7d", storage: { enabled: true, size: "10Gi" }, resources: res("250m", "1Gi", "1", "1Gi"), kibana: res("100m", "512Mi", "500m", "1Gi") },
    tracing: { samplingRatio: 1, storageBackend: "memory", storage: { enabled: false, size: "5Gi" }, retention: "2d", resources: res("50m", "128Mi", "500m", "512Mi") },
    collector: { agent: res("50m", "64Mi", "200m", "256Mi"), gatewayReplicas: 1, gateway: res("50m", "128Mi", "500m", "512Mi") },
    nodeExporter: res("10m", "24Mi", "100m", "64Mi"),
    kubeStateMetrics: res("10m", "48Mi", "100m", "128Mi"),
};

const PROD: EnvironmentDefaults = {
    scrapeInterval: "15s",
    evaluationInterval: "15s",
    prometheus: { replicas: 2, retention: "30d", retentionSize: "90GB", storage: { enabled: true, size: "100Gi" }, resources: res("1", "4Gi", "2", "8Gi") },
    alertmanager: { replicas: 3, storage: { enabled: true, size: "2Gi" }, resources: res("50m", "64Mi", "200m", "256Mi") },
    grafana: { replicas: 1, storage: { enabled: true, size: "5Gi" }, resources: res("100m", "256Mi", "1", "512Mi") },
    loki: { replicas: 1, retention: "30d", storage: { enabled: true, size: "100Gi" }, resources: res("500m", "1Gi", "2", "4Gi") },
    elasticsearch: { replicas: 3, retention: "30d", storage: { enabled: true, size: "100Gi" }, resources: res("1", "4Gi", "2", "4Gi"), kibana: res("200m", "1Gi", "1", "2Gi") },
    tracing: { samplingRatio: 0.1, storageBackend: "badger", storage: { enabled: true, size: "50Gi" }, retention: "7d", resources: res("200m", "512Mi", "1", "2Gi") },
    collector: { agent: res("100m", "128Mi", "500m", "512Mi"), gatewayReplicas: 2, gateway: res("250m", "512Mi", "1", "1Gi") },
    nodeExporter: res("20m", "32Mi", "200m", "64Mi"),
    kubeStateMetrics: res("50m", "128Mi", "200m", "256Mi"),
};

/** The default profile of an environment: staging runs the prod profile. */
export function environmentDefaults(env: Environment): EnvironmentDefaults {
    return env === "dev" ? DEV : PROD;
}
