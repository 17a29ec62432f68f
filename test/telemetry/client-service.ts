/**
 * A small instrumented HTTP service, as an application of ours would be: the OpenTelemetry JS SDK
 * with the HTTP server instrumentation (stable HTTP semantic conventions) and OTLP/HTTP exporters
 * for traces, metrics and logs, sending to OTEL_EXPORTER_OTLP_ENDPOINT (the agent). Run as its
 * own process by the live tests (`node -r ts-node/register/transpile-only client-service.ts`),
 * because the instrumentation patches node's `http` module as it loads.
 *
 * Listens on 127.0.0.1 (PORT, 0 for any) and prints `listening <port>`. Routes:
 *   GET /orders/<id>  200 (500 when the id starts with "err"); a child span `db.query`; a log
 *                     record with the request's trace context
 *   GET /fail         500 (an error trace)
 *   GET /slow         200 after SLOW_MS (a slow trace)
 *   GET /healthz      503 (a failing health check: would be kept as an error if not dropped)
 *   GET /login        500; secrets in a log record's body and attributes and in span attributes
 *   GET /ws           a WebSocket session as the service's metrics see it (opened, messages,
 *                     closed; every fourth one closed abnormally, every fifth message an error)
 *   POST /completions an LLM provider call (?provider=openai|anthropic): requests by status,
 *                     latency, tokens, cost; every tenth one fails
 *   POST /flush       exports everything buffered, then 200
 * Each response body is JSON with the trace and span id of the server span.
 *
 * Metrics, as an OTel application of the `otel` metric preset records them: the HTTP
 * instrumentation's `http.server.request.duration` with `http.route` (set the way a web
 * framework's instrumentation sets it: on the request's RPC metadata), the semantic conventions'
 * `http.server.active_requests` and `http.server.request.body.size`, and the telemetry contract's
 * application metrics under their contract names without the suffixes Prometheus' OTLP
 * translation adds from the instrument's kind and unit (`websocket_connections` counter →
 * `websocket_connections_total`, `llm_request_duration` in `s` → `llm_request_duration_seconds`).
 * The resource states the pod's namespace, name and node, which in a cluster the collectors'
 * k8s_attributes processor and k8snode detector add.
 */
import { context, createContextKey, trace, SpanStatusCode } from "@opentelemetry/api";
import { logs, SeverityNumber } from "@opentelemetry/api-logs";
import { OTLPLogExporter } from "@opentelemetry/exporter-logs-otlp-http";
import { OTLPMetricExporter } from "@opentelemetry/exporter-metrics-otlp-http";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { registerInstrumentations } from "@opentelemetry/instrumentation";
import { HttpInstrumentation } from "@opentelemetry/instrumentation-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchLogRecordProcessor, LoggerProvider } from "@opentelemetry/sdk-logs";
import { MeterProvider, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics";
import { BatchSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";

const base = (process.env.OTEL_EXPORTER_OTLP_ENDPOINT ?? "http://127.0.0.1:4318").replace(/\/$/, "");
const slowMs = Number(process.env.SLOW_MS ?? 1200);
const serviceName = process.env.SERVICE_NAME ?? "checkout-api";
const resource = resourceFromAttributes({
    "service.name": serviceName,
    "service.version": "1.2.3",
    // In a cluster the agent's k8s_attributes processor adds the pod's namespace and name and
    // its k8snode detector the node; here the service states them, as an application outside
    // Kubernetes would.
    "k8s.namespace.name": process.env.APP_NAMESPACE ?? "shop",
    "k8s.pod.name": process.env.APP_POD ?? `${serviceName}-7c9d5b8f6-k2x4p`,
    "k8s.node.name": process.env.APP_NODE ?? "node-a",
});

const tracerProvider = new NodeTracerProvider({
    resource,
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${base}/v1/traces` }), { scheduledDelayMillis: 200, maxQueueSize: 100_000, maxExportBatchSize: 512 })],
});
tracerProvider.register();
const meterProvider = new MeterProvider({
    resource,
    readers: [new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter({ url: `${base}/v1/metrics` }), exportIntervalMillis: 1000 })],
});
const loggerProvider = new LoggerProvider({
    resource,
    processors: [new BatchLogRecordProcessor({ exporter: new OTLPLogExporter({ url: `${base}/v1/logs` }), scheduledDelayMillis: 200 })],
});
logs.setGlobalLoggerProvider(loggerProvider);
registerInstrumentations({ tracerProvider, meterProvider, instrumentations: [new HttpInstrumentation()] });

// After the instrumentation: it patches `http` as it is required.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const http = require("http") as typeof import("http");

const tracer = trace.getTracer("client-service");
const logger = logs.getLogger("client-service");
const meter = meterProvider.getMeter("client-service");
const orders = meter.createCounter("orders_created", { description: "orders created" });

/**
 * Where the HTTP instrumentation keeps the request's RPC metadata (@opentelemetry/core's
 * RPC_METADATA_KEY; context keys are global symbols): a web framework's instrumentation sets its
 * `route`, which the instrumentation then puts on the span and on its duration metric.
 */
const RPC_METADATA_KEY = createContextKey("OpenTelemetry SDK Context Key RPC_METADATA");

// HTTP server metrics of the semantic conventions the instrumentation does not record.
const activeRequests = meter.createUpDownCounter("http.server.active_requests", { unit: "{request}", description: "requests being served" });
const requestBodySize = meter.createHistogram("http.server.request.body.size", { unit: "By", description: "request body size" });

// The telemetry contract's application metrics.
const ws = {
    active: meter.createUpDownCounter("websocket_connections_active", { description: "open WebSocket connections" }),
    opened: meter.createCounter("websocket_connections", { description: "WebSocket connections opened" }),
    disconnections: meter.createCounter("websocket_disconnections", { description: "WebSocket disconnections by reason" }),
    messages: meter.createCounter("websocket_messages", { description: "WebSocket messages" }),
    messageSize: meter.createHistogram("websocket_message_size", { unit: "By", description: "WebSocket message size" }),
    duration: meter.createHistogram("websocket_connection_duration", { unit: "s", description: "WebSocket connection lifetime" }),
};
const llm = {
    requests: meter.createCounter("llm_requests", { description: "provider requests" }),
    duration: meter.createHistogram("llm_request_duration", { unit: "s", description: "provider latency" }),
    tokens: meter.createCounter("llm_tokens", { description: "tokens used" }),
    cost: meter.createCounter("llm_cost_usd", { description: "provider spend in USD" }),
};
const cache = {
    requests: meter.createCounter("cache_requests", { description: "cache lookups by result" }),
    evictions: meter.createCounter("cache_evictions", { description: "cache evictions" }),
};
const dbQueryDuration = meter.createHistogram("db_query_duration", { unit: "s", description: "database query latency" });
const seenUsers = new Set<string>();
const rateLimitRemaining: Record<string, number> = { openai: 900, anthropic: 450 };
let dbActive = 0;
const DB_POOL = 20;
meter.createObservableGauge("active_users", { description: "active users" }).addCallback((o) => o.observe(seenUsers.size));
meter.createObservableGauge("llm_rate_limit_remaining", { description: "provider rate limit remaining" }).addCallback((o) => {
    for (const [provider, left] of Object.entries(rateLimitRemaining)) o.observe(left, { provider });
});
meter.createObservableGauge("db_connections", { description: "pool connections by state" }).addCallback((o) => {
    o.observe(dbActive, { db: "orders", state: "active" });
    o.observe(DB_POOL - dbActive, { db: "orders", state: "idle" });
});
meter.createObservableGauge("db_connections_max", { description: "pool size" }).addCallback((o) => o.observe(DB_POOL, { db: "orders" }));
/** Per-kind counters behind the deterministic variation below. */
const seq = { ws: 0, llm: 0, cache: 0 };

/** Records a WebSocket session: opened, a few messages each way, closed. */
function websocketSession(): void {
    const n = ++seq.ws;
    ws.opened.add(1);
    ws.active.add(1);
    for (let i = 0; i < 5; i++) {
        const direction = i % 2 === 0 ? "received" : "sent";
        const type = (n + i) % 5 === 0 ? "error" : "text";
        ws.messages.add(1, { direction, type });
        ws.messageSize.record(64 + ((n * 37 + i * 101) % 2000), { direction });
    }
    ws.active.add(-1);
    ws.disconnections.add(1, { reason: n % 4 === 0 ? "error" : "normal" });
    ws.duration.record(0.5 + (n % 30));
}

/** Records a provider call; returns whether it succeeded. */
function providerCall(provider: string): boolean {
    const n = ++seq.llm;
    const model = provider === "anthropic" ? "claude-sonnet-4" : "gpt-4o-mini";
    const status = n % 10 === 0 ? "error" : "success";
    llm.requests.add(1, { provider, model, status });
    llm.duration.record(0.4 + (n % 7) * 0.3, { provider, model });
    if (status === "success") {
        const input = 200 + (n % 50);
        const output = 80 + (n % 30);
        llm.tokens.add(input, { provider, model, type: "input" });
        llm.tokens.add(output, { provider, model, type: "output" });
        llm.cost.add((input + 3 * output) * 2e-6, { provider, model });
    }
    rateLimitRemaining[provider] = Math.max(0, (rateLimitRemaining[provider] ?? 500) - 1);
    return status === "success";
}

/** A cache lookup (every third misses, every seventh miss evicts) and a database query. */
function readThrough(id: string): void {
    const n = ++seq.cache;
    const hit = n % 3 !== 0;
    cache.requests.add(1, { cache: "orders", result: hit ? "hit" : "miss" });
    if (!hit && n % 7 === 0) cache.evictions.add(1, { cache: "orders" });
    dbActive = 1 + (n % 5);
    dbQueryDuration.record(0.002 + (n % 10) * 0.003, { db: "orders", operation: "select" });
    seenUsers.add(`user-${id.length + (n % 40)}`);
}

/** The secrets /login leaks, which the gateway must mask before anything is stored. */
export const SECRETS = {
    bearer: "Bearer abcdefghijklmnopqrstuvwxyz012345",
    password: "hunter2-correct-horse",
    email: "alice.smith@example.com",
    card: "4111 1111 1111 1111",
};

function route(url: string): string {
    if (/^\/orders\/[^/]+$/.test(url)) return "/orders/:id";
    return url.split("?")[0]!;
}

const server = http.createServer((req, res) => {
    const span = trace.getActiveSpan();
    const r = route(req.url ?? "/");
    span?.setAttribute("http.route", r);
    span?.updateName(`${req.method} ${r}`);
    const rpc = context.active().getValue(RPC_METADATA_KEY) as { route?: string } | undefined;
    if (rpc) rpc.route = r;
    const activeAttrs = { "http.request.method": req.method ?? "GET", "url.scheme": "http" };
    activeRequests.add(1, activeAttrs);
    let bodyBytes = 0;
    req.on("data", (c: Buffer) => (bodyBytes += c.length));
    const ids = { traceId: span?.spanContext().traceId ?? "", spanId: span?.spanContext().spanId ?? "" };
    const reply = (status: number) => {
        activeRequests.add(-1, activeAttrs);
        requestBodySize.record(bodyBytes, { "http.request.method": req.method ?? "GET", "http.route": r, "http.response.status_code": status });
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(ids));
    };
    if (req.method === "POST" && r === "/flush") {
        Promise.all([tracerProvider.forceFlush(), meterProvider.forceFlush(), loggerProvider.forceFlush()]).then(
            () => reply(200),
            () => reply(500),
        );
        return;
    }
    switch (r) {
        case "/orders/:id": {
            tracer.startActiveSpan("db.query", (child) => {
                child.setAttribute("db.system.name", "postgresql");
                child.end();
            });
            orders.add(1, { route: r });
            readThrough(req.url ?? "");
            logger.emit({
                severityNumber: SeverityNumber.INFO,
                severityText: "INFO",
                body: `order ${req.url} read`,
                attributes: { correlation_id: req.headers["x-correlation-id"] as string | undefined ?? "none", route: r },
                context: context.active(),
            });
            return reply(/^\/orders\/err/.test(req.url ?? "") ? 500 : 200);
        }
        case "/fail":
            return reply(500);
        case "/slow":
            setTimeout(() => reply(200), slowMs);
            return;
        case "/healthz":
            return reply(503);
        case "/ws":
            websocketSession();
            return reply(200);
        case "/completions": {
            const provider = new URL(req.url ?? "/", "http://x").searchParams.get("provider") ?? "openai";
            // After the body: its size is part of the request's metrics.
            req.on("end", () => reply(providerCall(provider) ? 200 : 502));
            req.resume();
            return;
        }
        case "/login": {
            span?.setAttributes({
                "enduser.email": SECRETS.email,
                "payment.card": SECRETS.card,
                "auth.header": `Authorization: ${SECRETS.bearer}`,
                password: SECRETS.password,
            });
            span?.setStatus({ code: SpanStatusCode.ERROR, message: "login failed" });
            logger.emit({
                severityNumber: SeverityNumber.WARN,
                severityText: "WARN",
                body: `login failed for ${SECRETS.email} with ${SECRETS.bearer} card ${SECRETS.card} password=${SECRETS.password}`,
                attributes: { "user.email": SECRETS.email, password: SECRETS.password, "payment.card": SECRETS.card, note: `Authorization: ${SECRETS.bearer}` },
                context: context.active(),
            });
            return reply(500);
        }
        default:
            return reply(404);
    }
});

server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
    const addr = server.address();
    process.stdout.write(`listening ${typeof addr === "object" && addr ? addr.port : 0}\n`);
});

const stop = () => {
    server.close();
    Promise.allSettled([tracerProvider.shutdown(), meterProvider.shutdown(), loggerProvider.shutdown()]).finally(() => process.exit(0));
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
