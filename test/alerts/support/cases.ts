/**
 * For every alert: input series that make it fire, and input series near its threshold (just on
 * the safe side, or held just shorter than its `for:`) that keep it silent. Values derive from
 * the thresholds in the rule context, so the cases stay "near the threshold" when thresholds
 * change; the expected severity and team come from this file (the spec), not from the rules.
 */
import { durationSeconds } from "../../../config/resolve";
import type { RuleContext } from "../../../alerts";
import { errorBudget } from "../../../alerts";
import { INFRA, label, SELF } from "../../../telemetry";
import { PROBE_EXPECTED, probeAlertCases } from "../../probes/support/cases";
import {
    Cumulative,
    counter,
    gauge,
    histogram,
    HTTP_BUCKETS,
    httpSeries,
    InputSeries,
    Phase,
    ramp,
    steady,
} from "./series";

/** One unit-test scenario. */
export interface Case {
    /** What happens, as a phrase for the test name ("8% of requests fail for 10m"). */
    readonly what: string;
    readonly series: readonly InputSeries[];
    /** Evaluation time in minutes. */
    readonly at: number;
    /** Input sample interval in seconds. @default {@link INTERVAL} */
    readonly interval?: number;
    /** Rule evaluation interval in seconds (long cases evaluate less often). @default {@link INTERVAL} */
    readonly evaluation?: number;
    /** Fire cases: the labels identifying the firing alert (besides alertname, severity, team). */
    readonly labels?: Readonly<Record<string, string>>;
}

export interface AlertCases {
    readonly fire: readonly Case[];
    /** Empty only for the Watchdog, which fires by design. */
    readonly silent: readonly Case[];
}

/** Sample interval of the unit tests (the dev scrape interval). */
export const INTERVAL = 30;

/** The severity and owning team every alert must have (issue 4 and CONVENTIONS). */
export const EXPECTED: Readonly<Record<string, { severity: "critical" | "warning" | "info"; team: "application" | "platform" }>> = {
    ApiErrorRateHigh: { severity: "warning", team: "application" },
    ApiErrorRateCritical: { severity: "critical", team: "application" },
    ApiLatencyP95High: { severity: "warning", team: "application" },
    ApiLatencyP99High: { severity: "warning", team: "application" },
    ApiTrafficDropped: { severity: "warning", team: "application" },
    ApiInFlightSaturation: { severity: "warning", team: "application" },
    WebsocketConnectionSpike: { severity: "warning", team: "application" },
    WebsocketAbnormalDisconnects: { severity: "warning", team: "application" },
    WebsocketMessageErrors: { severity: "warning", team: "application" },
    LlmProviderErrorRateHigh: { severity: "warning", team: "application" },
    LlmProviderLatencyHigh: { severity: "warning", team: "application" },
    LlmRateLimitLow: { severity: "warning", team: "application" },
    LlmTokenSpendOverBudget: { severity: "warning", team: "application" },
    CacheHitRateLow: { severity: "warning", team: "application" },
    CacheEvictionSpike: { severity: "warning", team: "application" },
    DbQueryLatencyHigh: { severity: "warning", team: "application" },
    DbConnectionPoolSaturated: { severity: "warning", team: "application" },
    TargetDown: { severity: "warning", team: "platform" },
    ClusterDown: { severity: "critical", team: "platform" },
    ContainerMemoryNearLimit: { severity: "warning", team: "platform" },
    ContainerCpuThrottling: { severity: "info", team: "platform" },
    NodeFilesystemFillingUp: { severity: "critical", team: "platform" },
    PodCrashLooping: { severity: "warning", team: "platform" },
    ContainerMemoryLeak: { severity: "warning", team: "platform" },
    NodeNotReady: { severity: "warning", team: "platform" },
    Watchdog: { severity: "info", team: "platform" },
    PrometheusConfigReloadFailed: { severity: "warning", team: "platform" },
    PrometheusRuleEvaluationFailures: { severity: "critical", team: "platform" },
    PrometheusNotConnectedToAlertmanagers: { severity: "warning", team: "platform" },
    PrometheusTSDBCompactionsFailing: { severity: "warning", team: "platform" },
    AlertmanagerFailedToSendAlerts: { severity: "warning", team: "platform" },
    AlertmanagerClusterMembersMismatch: { severity: "warning", team: "platform" },
    OtelCollectorRefusingData: { severity: "warning", team: "platform" },
    OtelCollectorDroppingData: { severity: "warning", team: "platform" },
    LogBackendIngestionErrors: { severity: "warning", team: "platform" },
    GrafanaDown: { severity: "warning", team: "platform" },
    SloErrorBudgetBurnFast: { severity: "critical", team: "application" },
    SloErrorBudgetBurnSlow: { severity: "warning", team: "application" },
    ...PROBE_EXPECTED,
};

const min = (d: string) => durationSeconds(d) / 60;
const pctText = (r: number) => `${Number((r * 100).toPrecision(3))}%`;

/** p95 = 1.5 s, p99 = 2.3 s. */
export const SLOW: Cumulative = [0.1, 0.25, 0.6, 0.925, 1];
/** p95 ≈ 0.85 s, p99 ≈ 0.98 s: just under a 1 s threshold for both. */
export const NEAR_1S: Cumulative = [0.5, 0.7, 0.85, 0.995, 1];
/** p95 ≈ 0.92 s but p99 = 2 s. */
export const TAIL: Cumulative = [0.5, 0.7, 0.85, 0.97, 1];
/** p95 ≈ 0.48 s: just under a 0.5 s threshold. */
export const NEAR_500MS: Cumulative = [0.5, 0.8, 0.96, 1, 1];
/** Provider latency buckets (seconds) and distributions: p95 = 52.5 s, and p95 ≈ 27.6 s. */
export const LLM_BUCKETS = [1, 5, 10, 30, 60] as const;
export const LLM_SLOW: Cumulative = [0.1, 0.3, 0.5, 0.8, 1];
export const LLM_NEAR_30S: Cumulative = [0.2, 0.5, 0.8, 0.97, 1];

/** Targets of the cases. */
export const CHECKOUT = { namespace: "shop", service: "checkout" } as const;
export const GATEWAY = { namespace: "chat", service: "gateway" } as const;
export const ASSISTANT = { namespace: "shop", service: "assistant" } as const;
export const CATALOG = { namespace: "shop", service: "catalog" } as const;
export const MONITORING = "monitoring";

/** The series a stack component's target carries (job = service, components/prometheus/config.ts). */
export function componentLabels(job: string, pod: string): Record<string, string> {
    return { job, service: job, namespace: MONITORING, pod, instance: `${pod}:9090` };
}

/** A counter rising by `perSecond` for `minutes`. */
const steadyCounter = (name: string, labels: Record<string, string>, perSecond: number, minutes: number, interval = INTERVAL) =>
    counter(name, labels, interval, steady(minutes, perSecond));

export function alertCases(ctx: RuleContext): Record<string, AlertCases> {
    const { m, alerting: a } = ctx;
    const I = INTERVAL;
    const http = (phases: Parameters<typeof httpSeries>[3], target: { namespace: string; service: string } = CHECKOUT) => httpSeries(m, target, I, phases);
    const svc = (t: { namespace: string; service: string }) => ({ namespace: t.namespace, service: t.service });

    // --- API
    const warn = a.api.errorRatioWarning;
    const crit = a.api.errorRatioCritical;
    const errorAt = (f: string) => min(f) + min(a.api.errorRatioWindow) + 5;
    const lowTraffic: Case = {
        what: "a low-traffic service answers 1 of 3 requests with a 500 over 10m",
        // 3 requests in 10 minutes, one of them failing: 33%, but far below minRequestRate.
        series: http([{ minutes: 20, rps: 3 / 600, errorRatio: 1 / 3 }]),
        at: 20,
    };
    const latencyCase = (what: string, latency: Cumulative, at: number, labels?: Record<string, string>): Case => ({
        what,
        series: http([{ minutes: at, rps: 10, latency }]),
        at,
        ...(labels ? { labels } : {}),
    });
    const inFlight = (value: number, minutes: number): InputSeries =>
        gauge(m.http.inFlight.name, { namespace: CHECKOUT.namespace, [label(m.http.inFlight, "service")]: CHECKOUT.service, pod: "checkout-0", job: "kubernetes-pods" }, I, steady(minutes, value));
    const dropAt = 80;

    // --- WebSocket
    const ws = m.websocket;
    const wsLabels = { namespace: GATEWAY.namespace, [label(ws.opened, "service")]: GATEWAY.service, pod: "gateway-0" };
    /** A rate that jumps from 1/s (60 minutes) to `spike`/s. */
    const spikeRate = (spike: number): Phase<number>[] => [
        { minutes: 60, value: 1 },
        { minutes: 20, value: spike },
    ];
    /** The smallest spike over `factor` times the previous hour's rate 10 minutes in, doubled. */
    const spikeOver = (factor: number) => 2 * ((55 * factor) / (60 - 5 * factor));
    const disconnects = (abnormalShare: number): InputSeries[] => [
        steadyCounter(ws.disconnections.name, { ...wsLabels, [label(ws.disconnections, "reason")]: a.websocket.normalDisconnectReasons[0]! }, 2, 25),
        steadyCounter(ws.disconnections.name, { ...wsLabels, [label(ws.disconnections, "reason")]: "server_error" }, (2 * abnormalShare) / (1 - abnormalShare), 25),
    ];
    const messages = (errorShare: number): InputSeries[] => [
        steadyCounter(ws.messages.name, { ...wsLabels, [label(ws.messages, "direction")]: "received", [label(ws.messages, "type")]: "text" }, 10, 25),
        steadyCounter(ws.messages.name, { ...wsLabels, [label(ws.messages, "direction")]: "received", [label(ws.messages, "type")]: a.websocket.errorMessageType }, (10 * errorShare) / (1 - errorShare), 25),
    ];

    // --- Providers
    const llm = m.llm;
    const llmLabels = { namespace: ASSISTANT.namespace, [label(llm.requests, "service")]: ASSISTANT.service, [label(llm.requests, "provider")]: "openai", pod: "assistant-0" };
    const providerRequests = (errorShare: number, minutes: number): InputSeries[] => [
        steadyCounter(llm.requests.name, { ...llmLabels, [label(llm.requests, "model")]: "gpt-4o", [label(llm.requests, "status")]: "success" }, 2, minutes),
        steadyCounter(llm.requests.name, { ...llmLabels, [label(llm.requests, "model")]: "gpt-4o", [label(llm.requests, "status")]: "error" }, (2 * errorShare) / (1 - errorShare), minutes),
    ];
    const providerLatency = (cumulative: Cumulative, minutes: number): InputSeries[] => [
        ...providerRequests(0, minutes),
        ...histogram(llm.duration, { ...llmLabels, [label(llm.duration, "model")]: "gpt-4o" }, I, LLM_BUCKETS, steady(minutes, { rate: 2, cumulative })),
    ];
    const tokens = (perHour: number): InputSeries[] => [
        steadyCounter(llm.tokens.name, { ...llmLabels, [label(llm.tokens, "model")]: "gpt-4o", [label(llm.tokens, "type")]: "input" }, (perHour * 0.75) / 3600, 85),
        steadyCounter(llm.tokens.name, { ...llmLabels, [label(llm.tokens, "model")]: "gpt-4o", [label(llm.tokens, "type")]: "output" }, (perHour * 0.25) / 3600, 85),
    ];

    // --- Cache and database
    const { cache, db } = m;
    const cacheLabels = { namespace: CATALOG.namespace, [label(cache.requests, "service")]: CATALOG.service, [label(cache.requests, "cache")]: "products", pod: "catalog-0" };
    const lookups = (hitRatio: number): InputSeries[] => [
        steadyCounter(cache.requests.name, { ...cacheLabels, [label(cache.requests, "result")]: "hit" }, 10 * hitRatio, 25),
        steadyCounter(cache.requests.name, { ...cacheLabels, [label(cache.requests, "result")]: "miss" }, 10 * (1 - hitRatio), 25),
    ];
    const dbLabels = { namespace: CATALOG.namespace, [label(db.queryDuration, "service")]: CATALOG.service, [label(db.queryDuration, "db")]: "orders", pod: "catalog-0" };
    const queries = (cumulative: Cumulative): InputSeries[] =>
        histogram(db.queryDuration, { ...dbLabels, [label(db.queryDuration, "operation")]: "select" }, I, HTTP_BUCKETS, steady(25, { rate: 20, cumulative }));
    const pool = (active: number, minutes: number): InputSeries[] => [
        gauge(db.connections.name, { ...dbLabels, [label(db.connections, "state")]: "active" }, I, steady(minutes, active)),
        gauge(db.connections.name, { ...dbLabels, [label(db.connections, "state")]: "idle" }, I, steady(minutes, 100 - active)),
        gauge(db.connectionsMax.name, dbLabels, I, steady(minutes, 100)),
    ];

    // --- Infrastructure
    const inf = a.infrastructure;
    const target = (i: number) => ({ job: "kubernetes-pods", namespace: "shop", service: "checkout", pod: `checkout-${i}`, instance: `10.0.0.${i + 1}:8080` });
    const targets = (down: number, minutes: number): InputSeries[] =>
        Array.from({ length: 10 }, (_, i) => gauge(INFRA.up, target(i), I, steady(minutes, i < down ? 0 : 1)));
    const ready = (node: string, phases: Phase<number>[]) => gauge(INFRA.kube.nodeReady, { node, condition: "Ready", status: "true" }, I, phases);
    const ctr = { namespace: "shop", pod: "checkout-0", container: "app" };
    const GiB = 1024 ** 3;
    const MiB = 1024 ** 2;
    const memory = (ratio: number, minutes: number): InputSeries[] => [
        gauge(INFRA.container.memoryWorkingSet, { ...ctr, image: "shop/checkout:1.2.3", id: "/kubepods/pod1/app" }, I, steady(minutes, ratio * GiB)),
        // cgroup totals (container="") exceed the limit and must not count.
        gauge(INFRA.container.memoryWorkingSet, { namespace: "shop", pod: "checkout-0", container: "", id: "/kubepods/pod1" }, I, steady(minutes, 1.5 * GiB)),
        gauge(INFRA.kube.limits, { ...ctr, resource: "memory", unit: "byte" }, I, steady(minutes, GiB)),
    ];
    const throttling = (ratio: number): InputSeries[] => [
        steadyCounter(INFRA.container.cpuThrottledPeriods, { ...ctr, image: "shop/checkout:1.2.3" }, 10 * ratio, 25),
        steadyCounter(INFRA.container.cpuPeriods, { ...ctr, image: "shop/checkout:1.2.3" }, 10, 25),
    ];
    const fs = { job: "node-exporter", instance: "10.0.1.1:9100", node: "node-a", device: "/dev/sda1", mountpoint: "/", fstype: "ext4" };
    const fsSize = 100e9;
    const fsStart = 30e9;
    const fillHours = inf.diskFull.threshold;
    const disk = (bytesPerMinute: number, minutes: number): InputSeries[] => [
        ramp(INFRA.node.fsAvail, fs, I, fsStart, -bytesPerMinute, minutes),
        gauge(INFRA.node.fsSize, fs, I, steady(minutes, fsSize)),
    ];
    const diskAt = min(inf.diskFull.for) + 15;
    const crash = (minutes: number, total: number): InputSeries[] => [
        counter(INFRA.kube.restarts, { ...ctr, uid: "u-1" }, I, [
            { minutes, value: 1 / 300 },
            { minutes: total - minutes, value: 0 },
        ]),
        gauge(INFRA.kube.waitingReason, { ...ctr, uid: "u-1", reason: "CrashLoopBackOff" }, I, [
            { minutes, value: 1 },
            { minutes: total - minutes, value: 0 },
        ]),
    ];
    const leakLimit = 4 * GiB;
    const leakStart = 1000 * MiB;
    const leakHours = inf.memoryLeak.threshold;
    const leakAt = min(inf.memoryLeak.for) + 15;
    const leak = (perMinute: number): InputSeries[] => [
        ramp(INFRA.container.memoryWorkingSet, { ...ctr, image: "shop/checkout:1.2.3", id: "/kubepods/pod1/app" }, I, leakStart, perMinute, leakAt),
        gauge(INFRA.kube.limits, { ...ctr, resource: "memory", unit: "byte" }, I, steady(leakAt, leakLimit)),
    ];

    // --- Self-monitoring
    const sm = a.selfMonitoring;
    const prom = componentLabels("prometheus", "prometheus-0");
    const amPod = (i: number) => componentLabels("alertmanager", `alertmanager-${i}`);
    const collector = componentLabels("otel-collector-gateway", "otel-collector-gateway-0");
    const lokiLabels = componentLabels("loki", "loki-0");
    const grafana = componentLabels("grafana", "grafana-0");
    const notifications = (failedShare: number): InputSeries[] => [
        steadyCounter(SELF.alertmanager.notifications, { ...amPod(0), integration: "slack" }, 1, 15),
        steadyCounter(SELF.alertmanager.notificationsFailed, { ...amPod(0), integration: "slack", reason: "other" }, failedShare, 15),
    ];
    const members = (seenBy2: Phase<number>[], minutes: number): InputSeries[] => [
        gauge(SELF.alertmanager.clusterMembers, amPod(0), I, steady(minutes, 3)),
        gauge(SELF.alertmanager.clusterMembers, amPod(1), I, steady(minutes, 3)),
        gauge(SELF.alertmanager.clusterMembers, amPod(2), I, seenBy2),
    ];
    const refused = (share: number): InputSeries[] => [
        steadyCounter(SELF.collector.accepted[0], { ...collector, receiver: "otlp", transport: "grpc" }, 100, 20),
        steadyCounter(SELF.collector.accepted[1], { ...collector, receiver: "otlp", transport: "grpc" }, 200, 20),
        steadyCounter(SELF.collector.refused[0], { ...collector, receiver: "otlp", transport: "grpc" }, (300 * share) / (1 - share), 20),
    ];
    const dropped = (share: number): InputSeries[] => [
        steadyCounter(SELF.collector.sent[0], { ...collector, exporter: "otlp/jaeger" }, 100, 20),
        steadyCounter(SELF.collector.sendFailed[0], { ...collector, exporter: "otlp/jaeger" }, (100 * share) / (1 - share), 20),
    ];
    const discarded = (share: number): InputSeries[] => [
        steadyCounter(SELF.loki.linesReceived, { ...lokiLabels, tenant: "fake" }, 100, 20),
        steadyCounter(SELF.loki.discardedSamples, { ...lokiLabels, tenant: "fake", reason: "rate_limited" }, 100 * share, 20),
    ];

    // --- SLOs (the default SLOs: availability 99.9%, latency 95% under 0.5 s)
    const [availability, latency] = [ctx.slos.find((s) => s.kind === "availability"), ctx.slos.find((s) => s.kind === "latency")];
    const sloCases = (kind: "page" | "ticket"): AlertCases => {
        const pairs = kind === "page" ? a.slo.page : a.slo.ticket;
        const factor = Math.max(...pairs.map((p) => p.factor));
        const lowest = Math.min(...pairs.map((p) => p.factor));
        // Every window of the pairs must be full of data before a pair is judged.
        const longest = Math.max(...pairs.map((p) => min(p.long)));
        const shortestLong = Math.min(...pairs.map((p) => min(p.long)));
        // Long cases sample and evaluate every 2.5 minutes (a 3-day window at 30 s would take
        // minutes). Not 5: Prometheus 3's ranges and lookback are left-open, so on a 5-minute grid
        // a 5m rate sees one sample (no rate) and a rule reading another group's recorded series
        // misses the previous evaluation's sample (exactly 5m, the lookback, ago).
        const coarse = longest > 360 ? { interval: 150, evaluation: 150 } : { interval: 60 };
        const fire: Case[] = [];
        const silent: Case[] = [];
        if (availability) {
            const budget = errorBudget(availability);
            const at = shortestLong + 30;
            const ratio = budget * factor * 1.4;
            fire.push({
                what: `${pctText(ratio)} of requests fail for ${at}m (${Number((factor * 1.4).toPrecision(3))}x the budget of SLO ${availability.name})`,
                series: httpSeries(m, CHECKOUT, coarse.interval, [{ minutes: at, rps: 10, errorRatio: ratio }]),
                at,
                ...coarse,
                labels: { ...svc(CHECKOUT), slo: availability.name },
            });
            const near = budget * lowest * 0.9;
            silent.push({
                what: `${pctText(near)} of requests fail for ${(longest + 60) / 60}h (0.9 times the lowest ${kind} burn rate ${lowest}x)`,
                series: httpSeries(m, CHECKOUT, coarse.interval, [{ minutes: longest + 60, rps: 10, errorRatio: near }]),
                at: longest + 60,
                ...coarse,
            });
            const young = shortestLong - 20;
            silent.push({
                what: `a service first seen ${young}m ago fails ${pctText(ratio)} of requests (its shortest long window, ${shortestLong}m, is not full yet)`,
                series: httpSeries(m, CHECKOUT, coarse.interval, [{ minutes: young, rps: 10, errorRatio: ratio }]),
                at: young,
                ...coarse,
            });
        }
        if (latency && kind === "page") {
            const bad = errorBudget(latency) * factor * 1.3;
            const k = HTTP_BUCKETS.indexOf(latency.latencyThreshold as (typeof HTTP_BUCKETS)[number]);
            const last = HTTP_BUCKETS.length - 1;
            // A share `bad` above the threshold's bucket, spread evenly over the buckets below and above.
            const cumulative = HTTP_BUCKETS.map((_, i) => (i < k ? ((1 - bad) * (i + 1)) / (k + 1) : i === k ? 1 - bad : 1 - (bad * (last - i)) / (last - k)));
            fire.push({
                what: `${pctText(bad)} of requests are slower than ${latency.latencyThreshold}s for 90m (SLO ${latency.name})`,
                series: http([{ minutes: 90, rps: 10, latency: cumulative }]),
                at: 90,
                labels: { ...svc(CHECKOUT), slo: latency.name },
            });
        }
        silent.push(
            { what: "a service has request series but no request for 2h", series: http([{ minutes: 120, rps: 0, errorRatio: 0 }]), at: 120 },
            { ...lowTraffic, what: `${lowTraffic.what} (minimum traffic guard)` },
        );
        return { fire, silent };
    };

    return {
        ApiErrorRateHigh: {
            fire: [{ what: `${pctText(Math.min(warn.threshold * 1.6, (warn.threshold + crit.threshold) / 2))} of requests fail for 10m`, series: http([{ minutes: 10, rps: 10, errorRatio: Math.min(warn.threshold * 1.6, (warn.threshold + crit.threshold) / 2) }]), at: errorAt(warn.for), labels: svc(CHECKOUT) }],
            silent: [{ what: `${pctText(warn.threshold * 0.9)} of requests fail for 10m`, series: http([{ minutes: 10, rps: 10, errorRatio: warn.threshold * 0.9 }]), at: errorAt(warn.for) }, lowTraffic],
        },
        ApiErrorRateCritical: {
            fire: [{ what: `${pctText(crit.threshold * 1.33)} of requests fail for 10m`, series: http([{ minutes: 10, rps: 10, errorRatio: crit.threshold * 1.33 }]), at: errorAt(crit.for), labels: svc(CHECKOUT) }],
            silent: [{ what: `${pctText(crit.threshold * 0.9)} of requests fail for 10m`, series: http([{ minutes: 10, rps: 10, errorRatio: crit.threshold * 0.9 }]), at: errorAt(crit.for) }, lowTraffic],
        },
        ApiLatencyP95High: {
            fire: [latencyCase("p95 latency is 1.5s for 20m", SLOW, min(a.api.latencyP95.for) + 10, svc(CHECKOUT))],
            silent: [latencyCase("p95 latency is 0.85s for 20m", NEAR_1S, min(a.api.latencyP95.for) + 10)],
        },
        ApiLatencyP99High: {
            fire: [latencyCase("p99 latency is 2s (p95 0.92s) for 15m", TAIL, min(a.api.latencyP99.for) + 10, svc(CHECKOUT))],
            silent: [latencyCase("p99 latency is 0.98s for 15m", NEAR_1S, min(a.api.latencyP99.for) + 10)],
        },
        ApiTrafficDropped: {
            fire: [
                {
                    what: `traffic falls from ${a.api.trafficDropped.threshold * 10} req/s to zero for 20m`,
                    series: http([
                        { minutes: 60, rps: a.api.trafficDropped.threshold * 10 },
                        { minutes: 20, rps: 0 },
                    ]),
                    at: dropAt,
                    labels: svc(CHECKOUT),
                },
            ],
            silent: [
                {
                    what: `traffic of ${Number((a.api.trafficDropped.threshold * 0.8).toPrecision(3))} req/s, below the threshold, falls to zero`,
                    series: http([
                        { minutes: 60, rps: a.api.trafficDropped.threshold * 0.8 },
                        { minutes: 20, rps: 0 },
                    ]),
                    at: dropAt,
                },
                {
                    what: "traffic falls to a trickle of 0.05 req/s but not to zero",
                    series: http([
                        { minutes: 60, rps: a.api.trafficDropped.threshold * 10 },
                        { minutes: 20, rps: 0.05 },
                    ]),
                    at: dropAt,
                },
            ],
        },
        ApiInFlightSaturation: {
            fire: [{ what: `a pod holds ${a.api.inFlight.threshold * 1.2} requests in flight for 10m`, series: [inFlight(a.api.inFlight.threshold * 1.2, 15)], at: min(a.api.inFlight.for) + 5, labels: { ...svc(CHECKOUT), pod: "checkout-0" } }],
            silent: [{ what: `a pod holds ${a.api.inFlight.threshold * 0.95} requests in flight for 10m`, series: [inFlight(a.api.inFlight.threshold * 0.95, 15)], at: min(a.api.inFlight.for) + 5 }],
        },
        WebsocketConnectionSpike: {
            fire: [{ what: `connections per second jump from 1 to ${spikeOver(a.websocket.connectionSpike.threshold).toFixed(1)}`, series: [counter(ws.opened.name, wsLabels, I, spikeRate(spikeOver(a.websocket.connectionSpike.threshold)))], at: 60 + min(a.websocket.connectionSpike.for) + 5, labels: svc(GATEWAY) }],
            silent: [
                { what: `connections per second rise from 1 to ${a.websocket.connectionSpike.threshold * 0.9}`, series: [counter(ws.opened.name, wsLabels, I, spikeRate(a.websocket.connectionSpike.threshold * 0.9))], at: 60 + min(a.websocket.connectionSpike.for) + 5 },
                { what: "a new service opens 2 connections per second from its first minute (no previous hour to compare with)", series: [counter(ws.opened.name, wsLabels, I, steady(40, 2))], at: 40 },
            ],
        },
        WebsocketAbnormalDisconnects: {
            fire: [{ what: `${pctText(a.websocket.abnormalDisconnects.threshold * 2)} of disconnections have reason server_error`, series: disconnects(a.websocket.abnormalDisconnects.threshold * 2), at: min(a.websocket.abnormalDisconnects.for) + 10, labels: { ...svc(GATEWAY), reason: "server_error" } }],
            silent: [{ what: `${pctText(a.websocket.abnormalDisconnects.threshold * 0.9)} of disconnections have reason server_error`, series: disconnects(a.websocket.abnormalDisconnects.threshold * 0.9), at: min(a.websocket.abnormalDisconnects.for) + 10 }],
        },
        WebsocketMessageErrors: {
            fire: [{ what: `${pctText(a.websocket.messageErrors.threshold * 2)} of messages are errors`, series: messages(a.websocket.messageErrors.threshold * 2), at: min(a.websocket.messageErrors.for) + 10, labels: svc(GATEWAY) }],
            silent: [{ what: `${pctText(a.websocket.messageErrors.threshold * 0.9)} of messages are errors`, series: messages(a.websocket.messageErrors.threshold * 0.9), at: min(a.websocket.messageErrors.for) + 10 }],
        },
        LlmProviderErrorRateHigh: {
            fire: [{ what: `${pctText(a.providers.errorRatio.threshold * 2)} of provider requests fail`, series: providerRequests(a.providers.errorRatio.threshold * 2, 20), at: min(a.providers.errorRatio.for) + 10, labels: { ...svc(ASSISTANT), provider: "openai" } }],
            silent: [{ what: `${pctText(a.providers.errorRatio.threshold * 0.9)} of provider requests fail`, series: providerRequests(a.providers.errorRatio.threshold * 0.9, 20), at: min(a.providers.errorRatio.for) + 10 }],
        },
        LlmProviderLatencyHigh: {
            fire: [{ what: "provider p95 latency is 52.5s", series: providerLatency(LLM_SLOW, 25), at: min(a.providers.latencyP95.for) + 10, labels: { ...svc(ASSISTANT), provider: "openai" } }],
            silent: [{ what: "provider p95 latency is 27.6s", series: providerLatency(LLM_NEAR_30S, 25), at: min(a.providers.latencyP95.for) + 10 }],
        },
        LlmRateLimitLow: {
            fire: [{ what: `${a.providers.rateLimitRemaining.threshold / 2} requests are left in the rate limit`, series: [gauge(llm.rateLimitRemaining.name, llmLabels, I, steady(15, a.providers.rateLimitRemaining.threshold / 2))], at: min(a.providers.rateLimitRemaining.for) + 5, labels: { ...svc(ASSISTANT), provider: "openai" } }],
            silent: [{ what: `${a.providers.rateLimitRemaining.threshold * 1.1} requests are left in the rate limit`, series: [gauge(llm.rateLimitRemaining.name, llmLabels, I, steady(15, a.providers.rateLimitRemaining.threshold * 1.1))], at: min(a.providers.rateLimitRemaining.for) + 5 }],
        },
        LlmTokenSpendOverBudget: {
            fire: [{ what: `${a.providers.tokenBudgetPerHour.threshold * 1.4} tokens per hour are spent`, series: tokens(a.providers.tokenBudgetPerHour.threshold * 1.4), at: 60 + min(a.providers.tokenBudgetPerHour.for) + 5, labels: svc(ASSISTANT) }],
            silent: [{ what: `${a.providers.tokenBudgetPerHour.threshold * 0.9} tokens per hour are spent`, series: tokens(a.providers.tokenBudgetPerHour.threshold * 0.9), at: 60 + min(a.providers.tokenBudgetPerHour.for) + 5 }],
        },
        CacheHitRateLow: {
            fire: [{ what: `the hit ratio is ${pctText(a.cacheDb.cacheHitRatio.threshold - 0.1)}`, series: lookups(a.cacheDb.cacheHitRatio.threshold - 0.1), at: min(a.cacheDb.cacheHitRatio.for) + 10, labels: { ...svc(CATALOG), cache: "products" } }],
            silent: [{ what: `the hit ratio is ${pctText(a.cacheDb.cacheHitRatio.threshold + 0.02)}`, series: lookups(a.cacheDb.cacheHitRatio.threshold + 0.02), at: min(a.cacheDb.cacheHitRatio.for) + 10 }],
        },
        CacheEvictionSpike: {
            fire: [{ what: `evictions per second jump from 1 to ${spikeOver(a.cacheDb.evictionSpike.threshold).toFixed(1)}`, series: [counter(cache.evictions.name, { ...cacheLabels }, I, spikeRate(spikeOver(a.cacheDb.evictionSpike.threshold)))], at: 60 + min(a.cacheDb.evictionSpike.for) + 5, labels: { ...svc(CATALOG), cache: "products" } }],
            silent: [
                { what: `evictions per second rise from 1 to ${a.cacheDb.evictionSpike.threshold * 0.9}`, series: [counter(cache.evictions.name, { ...cacheLabels }, I, spikeRate(a.cacheDb.evictionSpike.threshold * 0.9))], at: 60 + min(a.cacheDb.evictionSpike.for) + 5 },
                { what: "a new cache evicts 2 entries per second from its first minute (no previous hour to compare with)", series: [counter(cache.evictions.name, { ...cacheLabels }, I, steady(40, 2))], at: 40 },
            ],
        },
        DbQueryLatencyHigh: {
            fire: [{ what: "query p95 latency is 1.5s", series: queries(SLOW), at: min(a.cacheDb.dbQueryP95.for) + 10, labels: { ...svc(CATALOG), db: "orders" } }],
            silent: [{ what: "query p95 latency is 0.48s", series: queries(NEAR_500MS), at: min(a.cacheDb.dbQueryP95.for) + 10 }],
        },
        DbConnectionPoolSaturated: {
            fire: [{ what: `${Math.round(((a.cacheDb.dbPoolUtilisation.threshold + 1) / 2) * 100)} of 100 connections are active`, series: pool(Math.round(((a.cacheDb.dbPoolUtilisation.threshold + 1) / 2) * 100), 15), at: min(a.cacheDb.dbPoolUtilisation.for) + 5, labels: { ...svc(CATALOG), db: "orders" } }],
            silent: [{ what: `${Math.floor(a.cacheDb.dbPoolUtilisation.threshold * 100) - 2} of 100 connections are active`, series: pool(Math.floor(a.cacheDb.dbPoolUtilisation.threshold * 100) - 2, 15), at: min(a.cacheDb.dbPoolUtilisation.for) + 5 }],
        },
        TargetDown: {
            fire: [{ what: "a target answers no scrape for 5m", series: [gauge(INFRA.up, target(0), I, [{ minutes: 5, value: 1 }, { minutes: 5, value: 0 }])], at: 10, labels: target(0) }],
            silent: [{ what: "a target misses one scrape", series: [gauge(INFRA.up, target(0), I, [{ minutes: 5, value: 1 }, { minutes: 0.5, value: 0 }, { minutes: 4.5, value: 1 }])], at: 10 }],
        },
        ClusterDown: {
            fire: [
                { what: `${Math.floor(inf.clusterDown.threshold * 10) + 1} of 10 targets are down`, series: [...targets(Math.floor(inf.clusterDown.threshold * 10) + 1, 10), ready("node-a", steady(10, 1))], at: min(inf.clusterDown.for) + 5, labels: {} },
                { what: "no node is Ready", series: [...targets(0, 10), ready("node-a", steady(10, 0)), ready("node-b", steady(10, 0))], at: min(inf.clusterDown.for) + 5, labels: {} },
            ],
            silent: [{ what: `${Math.floor(inf.clusterDown.threshold * 10)} of 10 targets are down and one of two nodes is not Ready`, series: [...targets(Math.floor(inf.clusterDown.threshold * 10), 10), ready("node-a", steady(10, 0)), ready("node-b", steady(10, 1))], at: min(inf.clusterDown.for) + 5 }],
        },
        ContainerMemoryNearLimit: {
            fire: [{ what: `a container's working set is ${pctText((inf.containerMemory.threshold + 1) / 2)} of its limit`, series: memory((inf.containerMemory.threshold + 1) / 2, 25), at: min(inf.containerMemory.for) + 5, labels: ctr }],
            silent: [{ what: `a container's working set is ${pctText(inf.containerMemory.threshold - 0.03)} of its limit (its pod's cgroup total is above)`, series: memory(inf.containerMemory.threshold - 0.03, 25), at: min(inf.containerMemory.for) + 5 }],
        },
        ContainerCpuThrottling: {
            fire: [{ what: `a container is throttled in ${pctText(inf.cpuThrottling.threshold + 0.1)} of periods`, series: throttling(inf.cpuThrottling.threshold + 0.1), at: min(inf.cpuThrottling.for) + 5, labels: ctr }],
            silent: [{ what: `a container is throttled in ${pctText(inf.cpuThrottling.threshold - 0.02)} of periods`, series: throttling(inf.cpuThrottling.threshold - 0.02), at: min(inf.cpuThrottling.for) + 5 }],
        },
        NodeFilesystemFillingUp: {
            fire: [{ what: `a 30% free disk fills at a rate that empties it in ${Number((fillHours / 1.5).toPrecision(3))}h`, series: disk((1.5 * fsStart) / (fillHours * 60), diskAt), at: diskAt, labels: fs }],
            silent: [{ what: `a 30% free disk fills at a rate that empties it in ${Number((fillHours / 0.7).toPrecision(3))}h`, series: disk((0.7 * fsStart) / (fillHours * 60), diskAt), at: diskAt }],
        },
        PodCrashLooping: {
            fire: [{ what: "a container crash-loops for 20m", series: crash(20, 20), at: min(inf.crashLooping.for) + 10, labels: ctr }],
            silent: [{ what: `a container crash-loops for ${min(inf.crashLooping.for) - 6.5}m, then runs`, series: crash(min(inf.crashLooping.for) - 6.5, 20), at: 20 }],
        },
        ContainerMemoryLeak: {
            fire: [{ what: `a container's working set grows at a rate that reaches its limit in ${Number(((leakHours * 60) / 1.4 / 60).toPrecision(3))}h`, series: leak((1.4 * (leakLimit - leakStart)) / (leakHours * 60)), at: leakAt, labels: ctr }],
            silent: [{ what: `a container's working set grows just too slowly to reach its limit within ${leakHours}h`, series: leak((0.9 * (leakLimit - leakStart)) / (leakHours * 60 + leakAt)), at: leakAt }],
        },
        NodeNotReady: {
            fire: [{ what: "a node is not Ready for 10m", series: [ready("node-b", steady(15, 0))], at: min(inf.nodeNotReady.for) + 5, labels: { node: "node-b", condition: "Ready", status: "true" } }],
            silent: [{ what: `a node is not Ready for ${min(inf.nodeNotReady.for) - 1}m, then Ready`, series: [ready("node-b", [{ minutes: min(inf.nodeNotReady.for) - 1, value: 0 }, { minutes: 10, value: 1 }])], at: min(inf.nodeNotReady.for) + 5 }],
        },
        Watchdog: {
            fire: [{ what: "no series exist at all", series: [], at: 1, labels: {} }],
            silent: [],
        },
        PrometheusConfigReloadFailed: {
            fire: [{ what: "the last reload failed 20m ago", series: [gauge(SELF.prometheus.configReloadSuccessful, prom, I, steady(20, 0))], at: 20, labels: prom }],
            silent: [{ what: "a reload failed and the next one succeeded 3m later", series: [gauge(SELF.prometheus.configReloadSuccessful, prom, I, [{ minutes: 3, value: 0 }, { minutes: 17, value: 1 }])], at: 20 }],
        },
        PrometheusRuleEvaluationFailures: {
            fire: [{ what: "a rule group fails once a minute for 30m", series: [steadyCounter(SELF.prometheus.ruleEvaluationFailures, { ...prom, rule_group: "/etc/prometheus/rules/api-alerts.yml;api.alerts" }, 1 / 60, 30)], at: 25, labels: { namespace: MONITORING, pod: "prometheus-0", rule_group: "/etc/prometheus/rules/api-alerts.yml;api.alerts" } }],
            silent: [{ what: "a rule group fails once a minute for 8m, then recovers", series: [counter(SELF.prometheus.ruleEvaluationFailures, { ...prom, rule_group: "/etc/prometheus/rules/api-alerts.yml;api.alerts" }, I, [{ minutes: 8, value: 1 / 60 }, { minutes: 22, value: 0 }])], at: 30 }],
        },
        PrometheusNotConnectedToAlertmanagers: {
            fire: [{ what: "Prometheus discovers no Alertmanager for 20m", series: [gauge(SELF.prometheus.alertmanagersDiscovered, prom, I, steady(20, 0))], at: 20, labels: prom }],
            silent: [{ what: "Prometheus discovers no Alertmanager for 4m, then three", series: [gauge(SELF.prometheus.alertmanagersDiscovered, prom, I, [{ minutes: 4, value: 0 }, { minutes: 16, value: 3 }])], at: 20 }],
        },
        PrometheusTSDBCompactionsFailing: {
            fire: [{ what: "a compaction fails every 2h for 5h", series: [steadyCounter(SELF.prometheus.compactionsFailed, prom, 1 / 7200, 300, 300)], at: 300, interval: 300, labels: prom }],
            silent: [{ what: "one compaction fails, then none for 5h", series: [counter(SELF.prometheus.compactionsFailed, prom, 300, [{ minutes: 10, value: 0 }, { minutes: 5, value: 1 / 300 }, { minutes: 285, value: 0 }])], at: 300, interval: 300 }],
        },
        AlertmanagerFailedToSendAlerts: {
            fire: [{ what: `${pctText(sm.notificationFailures.threshold * 5)} of Slack notifications fail`, series: notifications(sm.notificationFailures.threshold * 5), at: min(sm.notificationFailures.for) + 5, labels: { namespace: MONITORING, service: "alertmanager", integration: "slack" } }],
            silent: [{ what: `${pctText(sm.notificationFailures.threshold * 0.9)} of Slack notifications fail`, series: notifications(sm.notificationFailures.threshold * 0.9), at: min(sm.notificationFailures.for) + 5 }],
        },
        AlertmanagerClusterMembersMismatch: {
            fire: [{ what: "one of three Alertmanagers sees two members for 20m", series: members(steady(20, 2), 20), at: 20, labels: { namespace: MONITORING, service: "alertmanager", pod: "alertmanager-2" } }],
            silent: [{ what: "one of three Alertmanagers sees two members for 10m, then three", series: members([{ minutes: 10, value: 2 }, { minutes: 10, value: 3 }], 20), at: 20 }],
        },
        OtelCollectorRefusingData: {
            fire: [{ what: `the collector refuses ${pctText(sm.collectorRefused.threshold * 3)} of incoming items`, series: refused(sm.collectorRefused.threshold * 3), at: min(sm.collectorRefused.for) + 5, labels: { namespace: MONITORING, service: "otel-collector-gateway" } }],
            silent: [{ what: `the collector refuses ${pctText(sm.collectorRefused.threshold * 0.9)} of incoming items`, series: refused(sm.collectorRefused.threshold * 0.9), at: min(sm.collectorRefused.for) + 5 }],
        },
        OtelCollectorDroppingData: {
            fire: [{ what: `an exporter fails to send ${pctText(sm.collectorDropped.threshold * 3)} of items`, series: dropped(sm.collectorDropped.threshold * 3), at: min(sm.collectorDropped.for) + 5, labels: { namespace: MONITORING, service: "otel-collector-gateway", exporter: "otlp/jaeger" } }],
            silent: [{ what: `an exporter fails to send ${pctText(sm.collectorDropped.threshold * 0.9)} of items`, series: dropped(sm.collectorDropped.threshold * 0.9), at: min(sm.collectorDropped.for) + 5 }],
        },
        LogBackendIngestionErrors: {
            fire: [{ what: `Loki discards ${pctText(sm.logIngestionErrors.threshold * 3)} of log lines`, series: discarded(sm.logIngestionErrors.threshold * 3), at: min(sm.logIngestionErrors.for) + 5, labels: { namespace: MONITORING, service: "loki" } }],
            silent: [{ what: `Loki discards ${pctText(sm.logIngestionErrors.threshold * 0.9)} of log lines`, series: discarded(sm.logIngestionErrors.threshold * 0.9), at: min(sm.logIngestionErrors.for) + 5 }],
        },
        GrafanaDown: {
            fire: [
                { what: "Grafana answers no scrape for 10m", series: [gauge(INFRA.up, grafana, I, steady(10, 0))], at: 10, labels: { namespace: MONITORING, service: "grafana" } },
                { what: "there is no Grafana target at all", series: [], at: 10, labels: { job: "grafana" } },
            ],
            silent: [{ what: `Grafana answers no scrape for ${min(sm.componentDown.for) - 1}m, then recovers`, series: [gauge(INFRA.up, grafana, I, [{ minutes: min(sm.componentDown.for) - 1, value: 0 }, { minutes: 10, value: 1 }])], at: 10 }],
        },
        SloErrorBudgetBurnFast: sloCases("page"),
        SloErrorBudgetBurnSlow: sloCases("ticket"),
        ...probeAlertCases(ctx, I),
    };
}
