/**
 * A steady-state fixture for the recording rules: three days and an hour of constant traffic
 * (every SLI window, up to 3d, is full), and what each recording rule must then read, computed
 * here from the fixture's own numbers (rates, shares, latency distributions), never taken from
 * the rules.
 */
import { errorBudget, RECORDING, RuleContext, SLO_RECORDING, sliWindows } from "../../../alerts";
import { INFRA, label, otlpBound, scrapedBound } from "../../../telemetry";
import { ASSISTANT, CATALOG, CHECKOUT, GATEWAY, LLM_BUCKETS, LLM_NEAR_30S, LLM_SLOW, NEAR_500MS } from "./cases";
import { counter, Cumulative, FAST, gauge, histogram, HTTP_BUCKETS, httpSeries, InputSeries, interpolatedQuantile, mix, steady } from "./series";

/** WebSocket message size bounds (bytes) and lifetime bounds (seconds), and the distributions over them. */
const MESSAGE_SIZE_BUCKETS = [256, 4096] as const;
const MESSAGE_SIZES: Cumulative = [0.7, 0.97];
const LIFETIME_BUCKETS = [1, 60, 3600] as const;
const LIFETIMES: Cumulative = [0.1, 0.6, 0.9];

/** Sample interval (seconds) and length (minutes) of the fixture. */
export const FIXTURE_INTERVAL = 60;
export const FIXTURE_MINUTES = 73 * 60;

/** What a recording rule must read at the end of the fixture: a value, or no series at all. */
export interface Expectation {
    readonly record: string;
    readonly labels: Readonly<Record<string, string>>;
    /** `null`: the series must be absent (e.g. a ratio without requests: never NaN). */
    readonly value: number | null;
    /** Why (for the test name). */
    readonly note: string;
}

/** The search route's latency: p95 ≈ 0.857 s. */
const SEARCH: Cumulative = [0.5, 0.8, 0.9, 0.97, 1];

/** Request payload size bounds (bytes), and the orders route's distribution and mean over them. */
const SIZE_BUCKETS = [512, 4096, 65536] as const;
const ORDER_SIZES: Cumulative = [0.5, 0.9, 1];
const ORDER_MEAN_BYTES = 1800;

export function recordingFixture(ctx: RuleContext): { series: InputSeries[]; expectations: Expectation[] } {
    const { m } = ctx;
    const I = FIXTURE_INTERVAL;
    const T = FIXTURE_MINUTES;
    const series: InputSeries[] = [];
    const exp: Expectation[] = [];
    const expect = (key: keyof typeof RECORDING, labels: Record<string, string>, value: number | null, note: string) => exp.push({ record: RECORDING[key].record, labels, value, note });
    // The `le` values Prometheus 3 stores: HTTP histograms are scraped under the contract preset
    // (normalized, `1.0`) and pushed over OTLP under the otel preset (`1`); the rest are scraped.
    const httpLe = ctx.preset === "otel" ? otlpBound : scrapedBound;

    // --- HTTP: checkout (two routes, two pods), perfect (no 5xx series at all), idle (no requests).
    const routes = [
        { route: "/api/orders", share: 0.75, errorRatio: 0.02, latency: FAST },
        { route: "/api/search", share: 0.25, errorRatio: 0.04, latency: SEARCH },
    ];
    const rps = 10;
    series.push(...httpSeries(m, { ...CHECKOUT, pods: ["checkout-0", "checkout-1"] }, I, [{ minutes: T, rps }], routes));
    const perfect = { namespace: "shop", service: "perfect" };
    series.push(...httpSeries(m, perfect, I, [{ minutes: T, rps: 4 }]).filter((s) => !s.series.includes('"500"')));
    const idle = { namespace: "shop", service: "idle" };
    series.push(...httpSeries(m, idle, I, [{ minutes: T, rps: 0 }]));

    const route = label(m.http.requests, "route");
    const status = label(m.http.requests, "status");
    const errors = routes.reduce((s, r) => s + rps * r.share * r.errorRatio, 0);
    const dist = mix(routes.map((r) => ({ weight: r.share, cumulative: r.latency })));
    expect("serviceRequestRate", CHECKOUT, rps, "requests per second of a service");
    expect("serviceRequestRate", idle, 0, "0 for a service with request series but no request");
    expect("serviceErrorRate", CHECKOUT, errors, "5xx per second");
    expect("serviceErrorRate", perfect, 0, "0 for a service that never answered 5xx");
    expect("serviceErrorRatio", CHECKOUT, errors / rps, "5xx share");
    expect("serviceErrorRatio", perfect, 0, "0 for a service that never answered 5xx");
    expect("serviceErrorRatio", idle, null, "absent, not NaN, without requests");
    expect("serviceStatusRequestRate", { ...CHECKOUT, [status]: "200" }, rps - errors, "200s per second");
    expect("serviceStatusRequestRate", { ...CHECKOUT, [status]: "500" }, errors, "500s per second");
    for (const r of routes) {
        expect("serviceRouteRequestRate", { ...CHECKOUT, [route]: r.route }, rps * r.share, `requests per second of ${r.route}`);
        expect("serviceRouteErrorRatio", { ...CHECKOUT, [route]: r.route }, r.errorRatio, `5xx share of ${r.route}`);
        expect("serviceRouteErrorRate", { ...CHECKOUT, [route]: r.route }, rps * r.share * r.errorRatio, `5xx per second of ${r.route}`);
        expect("serviceRouteLatencyP95", { ...CHECKOUT, [route]: r.route }, interpolatedQuantile(0.95, HTTP_BUCKETS, r.latency), `p95 of ${r.route}`);
        HTTP_BUCKETS.forEach((le, i) =>
            expect("serviceRouteLatencyBuckets", { ...CHECKOUT, [route]: r.route, le: httpLe(le) }, rps * r.share * r.latency[i]!, `bucket rate le=${le} of ${r.route}`),
        );
    }
    expect("serviceRouteErrorRatio", { ...perfect, [route]: "/api/orders" }, 0, "0 for a route that never answered 5xx");
    expect("serviceRouteErrorRate", { ...perfect, [route]: "/api/orders" }, 0, "0 per second for a route that never answered 5xx");
    expect("serviceRouteErrorRatio", { ...idle, [route]: "/api/orders" }, null, "absent, not NaN, for a route without requests");
    expect("serviceRouteLatencyP95", { ...idle, [route]: "/api/orders" }, null, "absent, not NaN, for a route without requests");
    HTTP_BUCKETS.forEach((le, i) => expect("serviceLatencyBuckets", { ...CHECKOUT, le: httpLe(le) }, rps * dist[i]!, `bucket rate le=${le}`));
    expect("serviceLatencyBuckets", { ...CHECKOUT, le: "+Inf" }, rps, "bucket rate le=+Inf");
    expect("serviceLatencyP50", CHECKOUT, interpolatedQuantile(0.5, HTTP_BUCKETS, dist), "median of both routes");
    expect("serviceLatencyP95", CHECKOUT, interpolatedQuantile(0.95, HTTP_BUCKETS, dist), "p95 of both routes");
    expect("serviceLatencyP99", CHECKOUT, interpolatedQuantile(0.99, HTTP_BUCKETS, dist), "p99 of both routes");
    expect("serviceLatencyP95", idle, null, "absent, not NaN, without requests");

    // Payload sizes of the orders route (both pods), in-flight requests and active users per pod.
    const size = m.http.requestSize;
    const orders = routes[0]!;
    const sizeLabels = (pod: string) => ({ namespace: CHECKOUT.namespace, pod, [label(size, "service")]: CHECKOUT.service, [label(size, "route")]: orders.route });
    for (const pod of ["checkout-0", "checkout-1"]) {
        const perPod = (rps * orders.share) / 2;
        series.push(...histogram(size, sizeLabels(pod), I, SIZE_BUCKETS, steady(T, { rate: perPod, cumulative: ORDER_SIZES }), httpLe));
        series.push(counter(`${size.name}_sum`, sizeLabels(pod), I, steady(T, perPod * ORDER_MEAN_BYTES)));
    }
    const sizeRoute = { ...CHECKOUT, [label(size, "route")]: orders.route };
    SIZE_BUCKETS.forEach((le, i) => expect("serviceRouteRequestSizeBuckets", { ...sizeRoute, le: httpLe(le) }, rps * orders.share * ORDER_SIZES[i]!, `payload size bucket rate le=${le}`));
    expect("serviceRouteRequestSizeBuckets", { ...sizeRoute, le: "+Inf" }, rps * orders.share, "payload size bucket rate le=+Inf: requests with a size observed");
    expect("serviceRouteRequestSizeSum", sizeRoute, rps * orders.share * ORDER_MEAN_BYTES, "payload bytes per second of a route");
    const pods = (name: string, l: string, values: number[]) => values.forEach((v, i) => series.push(gauge(name, { namespace: CHECKOUT.namespace, pod: `checkout-${i}`, [l]: CHECKOUT.service }, I, steady(T, v))));
    pods(m.http.inFlight.name, label(m.http.inFlight, "service"), [3, 4]);
    pods(m.http.activeUsers.name, label(m.http.activeUsers, "service"), [20, 30]);
    expect("serviceInFlight", CHECKOUT, 7, "requests in flight on both pods");
    expect("serviceActiveUsers", CHECKOUT, 50, "active users on both pods");

    // --- WebSocket
    const ws = m.websocket;
    const wsl = (pod: string) => ({ namespace: GATEWAY.namespace, [label(ws.opened, "service")]: GATEWAY.service, pod });
    series.push(
        counter(ws.opened.name, wsl("gateway-0"), I, steady(T, 2)),
        gauge(ws.active.name, wsl("gateway-0"), I, steady(T, 100)),
        gauge(ws.active.name, wsl("gateway-1"), I, steady(T, 50)),
        counter(ws.disconnections.name, { ...wsl("gateway-0"), [label(ws.disconnections, "reason")]: "normal" }, I, steady(T, 1.5)),
        counter(ws.disconnections.name, { ...wsl("gateway-0"), [label(ws.disconnections, "reason")]: "server_error" }, I, steady(T, 0.5)),
        counter(ws.messages.name, { ...wsl("gateway-0"), direction: "received", type: "text" }, I, steady(T, 8)),
        counter(ws.messages.name, { ...wsl("gateway-0"), direction: "sent", type: "text" }, I, steady(T, 10)),
        counter(ws.messages.name, { ...wsl("gateway-0"), direction: "received", type: ctx.alerting.websocket.errorMessageType }, I, steady(T, 0.5)),
        counter(ws.messages.name, { ...wsl("gateway-1"), direction: "sent", type: "text" }, I, steady(T, 2)),
        ...histogram(ws.messageSize, { ...wsl("gateway-0"), direction: "sent" }, I, MESSAGE_SIZE_BUCKETS, steady(T, { rate: 10, cumulative: MESSAGE_SIZES })),
        ...histogram(ws.messageSize, { ...wsl("gateway-1"), direction: "sent" }, I, MESSAGE_SIZE_BUCKETS, steady(T, { rate: 2, cumulative: MESSAGE_SIZES })),
        ...histogram(ws.duration, wsl("gateway-0"), I, LIFETIME_BUCKETS, steady(T, { rate: 1.5, cumulative: LIFETIMES })),
        ...histogram(ws.duration, wsl("gateway-1"), I, LIFETIME_BUCKETS, steady(T, { rate: 0.5, cumulative: LIFETIMES })),
    );
    const reason = label(ws.disconnections, "reason");
    const direction = label(ws.messages, "direction");
    expect("websocketOpenRate", GATEWAY, 2, "connections opened per second");
    expect("websocketActive", GATEWAY, 150, "open connections of both pods");
    expect("websocketDisconnectRate", { ...GATEWAY, [reason]: "normal" }, 1.5, "normal disconnections per second");
    expect("websocketDisconnectRate", { ...GATEWAY, [reason]: "server_error" }, 0.5, "server_error disconnections per second");
    expect("websocketDisconnectShare", { ...GATEWAY, [reason]: "normal" }, 0.75, "share of the service's disconnections that were normal");
    expect("websocketDisconnectShare", { ...GATEWAY, [reason]: "server_error" }, 0.25, "share of the service's disconnections with reason server_error");
    const type = label(ws.messages, "type");
    expect("websocketMessageRate", { ...GATEWAY, [direction]: "received", [type]: "text" }, 8, "received text messages per second");
    expect("websocketMessageRate", { ...GATEWAY, [direction]: "received", [type]: ctx.alerting.websocket.errorMessageType }, 0.5, "received error messages per second");
    expect("websocketMessageRate", { ...GATEWAY, [direction]: "sent", [type]: "text" }, 12, "sent text messages per second of both pods");
    expect("websocketMessageErrorRatio", GATEWAY, 0.5 / 20.5, "error share of messages");
    MESSAGE_SIZE_BUCKETS.forEach((le, i) => expect("websocketMessageSizeBuckets", { ...GATEWAY, [direction]: "sent", le: scrapedBound(le) }, 12 * MESSAGE_SIZES[i]!, `sent message size bucket rate le=${le} of both pods`));
    expect("websocketMessageSizeBuckets", { ...GATEWAY, [direction]: "sent", le: "+Inf" }, 12, "sent messages with a size observed");
    expect("websocketMessageSizeP50", { ...GATEWAY, [direction]: "sent" }, interpolatedQuantile(0.5, MESSAGE_SIZE_BUCKETS, MESSAGE_SIZES), "median size of sent messages");
    expect("websocketMessageSizeP95", { ...GATEWAY, [direction]: "sent" }, interpolatedQuantile(0.95, MESSAGE_SIZE_BUCKETS, MESSAGE_SIZES), "p95 size of sent messages");
    LIFETIME_BUCKETS.forEach((le, i) => expect("websocketDurationBuckets", { ...GATEWAY, le: scrapedBound(le) }, 2 * LIFETIMES[i]!, `connections closed per second with a lifetime up to ${le} s`));
    expect("websocketDurationBuckets", { ...GATEWAY, le: "+Inf" }, 2, "connections closed per second");

    // --- Providers: openai fails sometimes and is slow, anthropic never fails.
    const llm = m.llm;
    const pl = (provider: string, model: string) => ({
        namespace: ASSISTANT.namespace,
        [label(llm.requests, "service")]: ASSISTANT.service,
        [label(llm.requests, "provider")]: provider,
        [label(llm.requests, "model")]: model,
        pod: "assistant-0",
    });
    const st = label(llm.requests, "status");
    series.push(
        counter(llm.requests.name, { ...pl("openai", "gpt-4o"), [st]: "success" }, I, steady(T, 2)),
        counter(llm.requests.name, { ...pl("openai", "gpt-4o"), [st]: "error" }, I, steady(T, 0.5)),
        counter(llm.requests.name, { ...pl("openai", "gpt-4o"), [st]: "rate_limited" }, I, steady(T, 0.1)),
        counter(llm.requests.name, { ...pl("anthropic", "claude"), [st]: "success" }, I, steady(T, 1)),
        ...histogram(llm.duration, pl("openai", "gpt-4o"), I, LLM_BUCKETS, steady(T, { rate: 2.6, cumulative: LLM_SLOW })),
        ...histogram(llm.duration, pl("anthropic", "claude"), I, LLM_BUCKETS, steady(T, { rate: 1, cumulative: LLM_NEAR_30S })),
        counter(llm.tokens.name, { ...pl("openai", "gpt-4o"), type: "input" }, I, steady(T, 100)),
        counter(llm.tokens.name, { ...pl("openai", "gpt-4o"), type: "output" }, I, steady(T, 50)),
        counter(llm.tokens.name, { ...pl("anthropic", "claude"), type: "input" }, I, steady(T, 20)),
        counter(llm.cost.name, pl("openai", "gpt-4o"), I, steady(T, 0.002)),
        counter(llm.cost.name, pl("anthropic", "claude"), I, steady(T, 0.001)),
        gauge(llm.rateLimitRemaining.name, { namespace: ASSISTANT.namespace, [label(llm.rateLimitRemaining, "service")]: ASSISTANT.service, [label(llm.rateLimitRemaining, "provider")]: "openai", pod: "assistant-0" }, I, steady(T, 120)),
        gauge(llm.rateLimitRemaining.name, { namespace: ASSISTANT.namespace, [label(llm.rateLimitRemaining, "service")]: ASSISTANT.service, [label(llm.rateLimitRemaining, "provider")]: "openai", pod: "assistant-1" }, I, steady(T, 40)),
    );
    const provider = (p: string) => ({ ...ASSISTANT, [label(llm.requests, "provider")]: p });
    const model = (p: string, mo: string) => ({ ...provider(p), [label(llm.tokens, "model")]: mo });
    expect("providerRequestRate", { ...provider("openai"), [st]: "success" }, 2, "successful provider requests per second");
    expect("providerRequestRate", { ...provider("openai"), [st]: "error" }, 0.5, "failed provider requests per second");
    expect("providerRequestRate", { ...provider("openai"), [st]: "rate_limited" }, 0.1, "rate-limited provider requests per second");
    expect("providerRequestRate", { ...provider("anthropic"), [st]: "success" }, 1, "requests of a second provider");
    expect("providerErrorRatio", provider("openai"), 0.5 / 2.6, "error share of a provider");
    expect("providerErrorRatio", provider("anthropic"), 0, "0 for a provider that never failed");
    expect("providerLatencyP95", provider("openai"), interpolatedQuantile(0.95, LLM_BUCKETS, LLM_SLOW), "p95 of a slow provider");
    expect("providerLatencyP95", provider("anthropic"), interpolatedQuantile(0.95, LLM_BUCKETS, LLM_NEAR_30S), "p95 of a faster provider");
    LLM_BUCKETS.forEach((le, i) => expect("providerLatencyBuckets", { ...provider("openai"), le: scrapedBound(le) }, 2.6 * LLM_SLOW[i]!, `provider latency bucket rate le=${le}`));
    expect("providerLatencyBuckets", { ...provider("openai"), le: "+Inf" }, 2.6, "provider calls per second with a latency observed");
    expect("providerRateLimitRemaining", provider("openai"), 40, "the lowest remaining rate limit over the service's pods");
    expect("providerTokenRate", model("openai", "gpt-4o"), 150, "input and output tokens per second");
    expect("providerTokenRate", model("anthropic", "claude"), 20, "tokens per second of a second model");
    expect("providerCostRate", model("openai", "gpt-4o"), 0.002, "USD per second");
    expect("providerCostRate", model("anthropic", "claude"), 0.001, "USD per second of a second model");

    // --- Cache and database
    const { cache, db } = m;
    const cl = (c: string) => ({ namespace: CATALOG.namespace, [label(cache.requests, "service")]: CATALOG.service, [label(cache.requests, "cache")]: c, pod: "catalog-0" });
    const dl = { namespace: CATALOG.namespace, [label(db.queryDuration, "service")]: CATALOG.service, [label(db.queryDuration, "db")]: "orders", pod: "catalog-0" };
    series.push(
        counter(cache.requests.name, { ...cl("products"), result: "hit" }, I, steady(T, 8)),
        counter(cache.requests.name, { ...cl("products"), result: "miss" }, I, steady(T, 2)),
        counter(cache.requests.name, { ...cl("sessions"), result: "hit" }, I, steady(T, 0)),
        counter(cache.evictions.name, cl("products"), I, steady(T, 0.5)),
        ...histogram(db.queryDuration, { ...dl, operation: "select" }, I, HTTP_BUCKETS, steady(T, { rate: 20, cumulative: NEAR_500MS })),
        gauge(db.connections.name, { ...dl, state: "active" }, I, steady(T, 30)),
        gauge(db.connections.name, { ...dl, state: "idle" }, I, steady(T, 10)),
        gauge(db.connectionsMax.name, dl, I, steady(T, 50)),
        gauge(db.connections.name, { ...dl, pod: "catalog-1", state: "active" }, I, steady(T, 5)),
        gauge(db.connectionsMax.name, { ...dl, pod: "catalog-1" }, I, steady(T, 50)),
    );
    const cacheKey = (c: string) => ({ ...CATALOG, [label(cache.requests, "cache")]: c });
    expect("cacheRequestRate", cacheKey("products"), 10, "cache lookups per second");
    expect("cacheHitRatio", cacheKey("products"), 0.8, "hit share");
    expect("cacheHitRatio", cacheKey("sessions"), null, "absent, not NaN, for a cache without lookups");
    expect("cacheEvictionRate", cacheKey("products"), 0.5, "evictions per second");
    expect("dbQueryLatencyP95", { ...CATALOG, db: "orders" }, interpolatedQuantile(0.95, HTTP_BUCKETS, NEAR_500MS), "query p95");
    expect("dbPoolUtilisation", { ...CATALOG, db: "orders" }, 35 / 100, "active share of the pools of both pods");
    expect("dbConnections", { ...CATALOG, db: "orders", [label(db.connections, "state")]: "active" }, 35, "active connections of both pods");
    expect("dbConnections", { ...CATALOG, db: "orders", [label(db.connections, "state")]: "idle" }, 10, "idle connections");

    // --- Infrastructure
    const node = { job: "node-exporter", instance: "10.0.1.1:9100", node: "node-a" };
    const ctr = { namespace: "shop", pod: "checkout-0" };
    series.push(
        counter(INFRA.node.cpuSeconds, { ...node, cpu: "0", mode: "idle" }, I, steady(T, 0.75)),
        counter(INFRA.node.cpuSeconds, { ...node, cpu: "0", mode: "user" }, I, steady(T, 0.25)),
        counter(INFRA.node.cpuSeconds, { ...node, cpu: "1", mode: "idle" }, I, steady(T, 0.25)),
        counter(INFRA.node.cpuSeconds, { ...node, cpu: "1", mode: "user" }, I, steady(T, 0.75)),
        gauge(INFRA.node.memAvailable, node, I, steady(T, 4 * 1024 ** 3)),
        gauge(INFRA.node.memTotal, node, I, steady(T, 16 * 1024 ** 3)),
        counter(INFRA.container.cpu, { ...ctr, container: "app", image: "shop/checkout:1" }, I, steady(T, 0.5)),
        counter(INFRA.container.cpu, { ...ctr, container: "POD", image: "pause:3.9" }, I, steady(T, 0.1)),
        counter(INFRA.container.cpu, { ...ctr, container: "" }, I, steady(T, 0.6)),
        gauge(INFRA.container.memoryWorkingSet, { ...ctr, container: "app", image: "shop/checkout:1" }, I, steady(T, 512 * 1024 ** 2)),
        gauge(INFRA.container.memoryWorkingSet, { ...ctr, container: "" }, I, steady(T, 600 * 1024 ** 2)),
        gauge(INFRA.kube.limits, { ...ctr, container: "app", resource: "memory", unit: "byte" }, I, steady(T, 1024 ** 3)),
        gauge(INFRA.kube.limits, { ...ctr, container: "app", resource: "cpu", unit: "core" }, I, steady(T, 2)),
        counter(INFRA.container.cpuPeriods, { ...ctr, container: "app", image: "shop/checkout:1" }, I, steady(T, 10)),
        counter(INFRA.container.cpuThrottledPeriods, { ...ctr, container: "app", image: "shop/checkout:1" }, I, steady(T, 2.5)),
        counter(INFRA.container.cpuPeriods, { ...ctr, container: "sidecar", image: "proxy:1" }, I, steady(T, 0)),
        counter(INFRA.container.cpuThrottledPeriods, { ...ctr, container: "sidecar", image: "proxy:1" }, I, steady(T, 0)),
        counter(INFRA.kube.restarts, { ...ctr, container: "app", uid: "u-1" }, I, steady(T, 3 / 3600)),
        counter(INFRA.kube.restarts, { ...ctr, container: "sidecar", uid: "u-1" }, I, steady(T, 1 / 3600)),
        counter(INFRA.container.netReceive, { ...ctr, interface: "eth0" }, I, steady(T, 1000)),
        counter(INFRA.container.netReceive, { ...ctr, interface: "eth1" }, I, steady(T, 200)),
        counter(INFRA.container.netTransmit, { ...ctr, interface: "eth0" }, I, steady(T, 500)),
        counter(INFRA.node.diskRead, { ...node, device: "sda" }, I, steady(T, 100)),
        counter(INFRA.node.diskRead, { ...node, device: "nvme0n1" }, I, steady(T, 50)),
        counter(INFRA.node.diskWritten, { ...node, device: "sda" }, I, steady(T, 200)),
        counter(INFRA.node.netReceive, { ...node, device: "eth0" }, I, steady(T, 1000)),
        counter(INFRA.node.netReceive, { ...node, device: "lo" }, I, steady(T, 5000)),
        counter(INFRA.node.netReceive, { ...node, device: "veth1a2b3c" }, I, steady(T, 300)),
        counter(INFRA.node.netReceive, { ...node, device: "cali12345" }, I, steady(T, 300)),
        counter(INFRA.node.netTransmit, { ...node, device: "eth0" }, I, steady(T, 800)),
        counter(INFRA.node.netTransmit, { ...node, device: "flannel.1" }, I, steady(T, 100)),
    );
    expect("nodeCpuUtilisation", { instance: node.instance, node: node.node }, 0.5, "busy share of a node's CPUs");
    expect("nodeMemoryUtilisation", { instance: node.instance, node: node.node }, 0.75, "used share of a node's memory");
    expect("containerCpuUsage", { ...ctr, container: "app" }, 0.5, "cores a container uses (the pause container and cgroup totals excluded)");
    expect("containerMemoryLimitRatio", { ...ctr, container: "app" }, 0.5, "working set share of the memory limit");
    expect("containerMemoryWorkingSet", { ...ctr, container: "app" }, 512 * 1024 ** 2, "working set of a container (not the cgroup total)");
    expect("containerCpuThrottledRatio", { ...ctr, container: "app" }, 0.25, "throttled share of CFS periods");
    expect("containerCpuThrottledRatio", { ...ctr, container: "sidecar" }, null, "absent, not NaN, for a container without CFS periods");
    expect("podRestarts", ctr, 4, "restarts of every container of a pod over the last hour");
    expect("podNetworkReceive", ctr, 1200, "bytes received per second on every interface of a pod");
    expect("podNetworkTransmit", ctr, 500, "bytes transmitted per second");
    expect("nodeDiskRead", { instance: node.instance, node: node.node }, 150, "bytes read per second from every disk of a node");
    expect("nodeDiskWritten", { instance: node.instance, node: node.node }, 200, "bytes written per second");
    expect("nodeNetworkReceive", { instance: node.instance, node: node.node }, 1000, "bytes received per second on the physical interface only (not lo, veth, cali)");
    expect("nodeNetworkTransmit", { instance: node.instance, node: node.node }, 800, "bytes transmitted per second on the physical interface only (not flannel)");

    // --- SLOs, for every configured SLO and every recorded window.
    for (const slo of ctx.slos) {
        const services = [
            { target: CHECKOUT, requests: rps, bad: slo.kind === "availability" ? errors : badOver(slo.latencyThreshold!, routes.map((r) => ({ rate: rps * r.share, cumulative: r.latency }))) },
            { target: perfect, requests: 4, bad: slo.kind === "availability" ? 0 : badOver(slo.latencyThreshold!, [{ rate: 4, cumulative: FAST }]) },
            { target: idle, requests: 0, bad: 0 },
        ].filter((s) => !slo.service || s.target.service === slo.service);
        for (const s of services) {
            const labels = { ...s.target, slo: slo.name };
            for (const w of sliWindows(ctx)) {
                exp.push({ record: SLO_RECORDING.requests(w), labels, value: s.requests, note: `SLO ${slo.name}: requests per second over ${w}` });
                exp.push({ record: SLO_RECORDING.errors(w), labels, value: s.bad, note: `SLO ${slo.name}: bad requests per second over ${w}` });
                exp.push({ record: SLO_RECORDING.errorRatio(w), labels, value: s.requests ? s.bad / s.requests : null, note: `SLO ${slo.name}: bad share over ${w}${s.requests ? "" : " (absent, not NaN, without requests)"}` });
            }
            if (!sliWindows(ctx).includes(slo.window)) {
                exp.push({ record: SLO_RECORDING.errorRatio(slo.window), labels, value: s.requests ? s.bad / s.requests : null, note: `SLO ${slo.name}: bad share over its window ${slo.window}` });
            }
            exp.push({
                record: SLO_RECORDING.budgetRemaining,
                labels,
                value: s.requests ? 1 - s.bad / s.requests / errorBudget(slo) : null,
                note: `SLO ${slo.name}: error budget left${s.requests ? "" : " (absent without requests)"}`,
            });
        }
        exp.push({ record: SLO_RECORDING.objective, labels: { slo: slo.name }, value: slo.objective / 100, note: `SLO ${slo.name}: objective` });
    }
    return { series, expectations: exp };
}

/** Requests per second slower than `threshold` (a bucket bound) across histograms. */
function badOver(threshold: number, parts: readonly { rate: number; cumulative: Cumulative }[]): number {
    const i = HTTP_BUCKETS.indexOf(threshold as (typeof HTTP_BUCKETS)[number]);
    return parts.reduce((s, p) => s + p.rate * (1 - p.cumulative[i]!), 0);
}
