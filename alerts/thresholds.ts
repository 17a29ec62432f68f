/**
 * The thresholds dashboards draw, taken from the same `alerting` config the rules are built from,
 * so a panel turns amber and red exactly where the warning and the page fire. Ratios are in
 * [0, 1] (Grafana unit `percentunit`), latencies in seconds (`s`).
 */
import type { AlertingConfig } from "../config";

/** A warning level and, where an alert pages, a critical one. */
export interface PanelThreshold {
    readonly warning: number;
    readonly critical?: number;
}

export interface PanelThresholds {
    /** 5xx share of requests (ApiErrorRateHigh / ApiErrorRateCritical). */
    readonly apiErrorRatio: PanelThreshold;
    /** p95 and p99 request latency in seconds (ApiLatencyP95High, ApiLatencyP99High). */
    readonly apiLatencyP95: PanelThreshold;
    readonly apiLatencyP99: PanelThreshold;
    /** In-flight requests of one pod (ApiInFlightSaturation). */
    readonly apiInFlight: PanelThreshold;
    /** Share of WebSocket messages that are errors (WebsocketMessageErrors). */
    readonly websocketMessageErrorRatio: PanelThreshold;
    /** Share of a provider's requests that fail, and its p95 latency in seconds. */
    readonly providerErrorRatio: PanelThreshold;
    readonly providerLatencyP95: PanelThreshold;
    /** Tokens per hour of one service (LlmTokenSpendOverBudget). */
    readonly tokensPerHour: PanelThreshold;
    /** Cache hit ratio: the warning is a lower bound (CacheHitRateLow fires below it). */
    readonly cacheHitRatioMin: PanelThreshold;
    /** Query p95 in seconds and pool utilisation (DbQueryLatencyHigh, DbConnectionPoolSaturated). */
    readonly dbQueryP95: PanelThreshold;
    readonly dbPoolUtilisation: PanelThreshold;
    /** Container working set as a share of its limit (ContainerMemoryNearLimit). */
    readonly containerMemoryRatio: PanelThreshold;
    /** CFS throttling share (ContainerCpuThrottling, informational). */
    readonly cpuThrottlingRatio: PanelThreshold;
    /** Burn rates: the lowest ticket factor warns, the lowest page factor is critical. */
    readonly sloBurnRate: PanelThreshold;
}

export function panelThresholds(a: AlertingConfig): PanelThresholds {
    const lowest = (ws: readonly { factor: number }[]) => Math.min(...ws.map((w) => w.factor));
    return {
        apiErrorRatio: { warning: a.api.errorRatioWarning.threshold, critical: a.api.errorRatioCritical.threshold },
        apiLatencyP95: { warning: a.api.latencyP95.threshold },
        apiLatencyP99: { warning: a.api.latencyP99.threshold },
        apiInFlight: { warning: a.api.inFlight.threshold },
        websocketMessageErrorRatio: { warning: a.websocket.messageErrors.threshold },
        providerErrorRatio: { warning: a.providers.errorRatio.threshold },
        providerLatencyP95: { warning: a.providers.latencyP95.threshold },
        tokensPerHour: { warning: a.providers.tokenBudgetPerHour.threshold },
        cacheHitRatioMin: { warning: a.cacheDb.cacheHitRatio.threshold },
        dbQueryP95: { warning: a.cacheDb.dbQueryP95.threshold },
        dbPoolUtilisation: { warning: a.cacheDb.dbPoolUtilisation.threshold },
        containerMemoryRatio: { warning: a.infrastructure.containerMemory.threshold },
        cpuThrottlingRatio: { warning: a.infrastructure.cpuThrottling.threshold },
        sloBurnRate: { warning: lowest(a.slo.ticket), critical: lowest(a.slo.page) },
    };
}
