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
 *   POST /flush       exports everything buffered, then 200
 * Each response body is JSON with the trace and span id of the server span.
 */
import { context, trace, SpanStatusCode } from "@opentelemetry/api";
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
const resource = resourceFromAttributes({
    "service.name": process.env.SERVICE_NAME ?? "checkout-api",
    "service.version": "1.2.3",
    // In a cluster the agent's k8s_attributes processor adds the pod's namespace; here the
    // service states it, as an application outside Kubernetes would.
    "k8s.namespace.name": process.env.APP_NAMESPACE ?? "shop",
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
const orders = meterProvider.getMeter("client-service").createCounter("orders_created", { description: "orders created" });

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
    const ids = { traceId: span?.spanContext().traceId ?? "", spanId: span?.spanContext().spanId ?? "" };
    const reply = (status: number) => {
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
