/**
 * The path applications use, for real on 127.0.0.1, with the rendered prod configs (only
 * addresses and paths rewired, see localizeCollector): the instrumented client service (OTel JS
 * SDK, OTLP/HTTP) → agent → gateway (trace-id routing to itself, redaction, health-check filter,
 * tail sampling) → real Jaeger (Badger, as rendered) + real Prometheus (remote write, as
 * rendered; the second replica's URL goes to a counting sink) + a Loki stand-in that decodes
 * the OTLP/HTTP the gateway's `otlp_http/loki` exporter sends.
 *
 * Without a Kubernetes API, k8s_attributes runs in passthrough and the agent's k8snode detector
 * is left out (localizeCollector, noKubeApi); the client states its namespace as a resource
 * attribute, which is what k8s_attributes would add in a cluster.
 */
import * as fs from "fs";
import * as path from "path";
import { makeTempDir, ProcessRegistry } from "../support/processes";
import { render } from "../security/support";
import { ClientHandle, getJson, JaegerHandle, LogSink, pollFor, PrometheusHandle, request, startPipeline } from "../support/telemetry-live";

jest.setTimeout(600_000);

const SERVICE = "checkout-api";
const NAMESPACE = "shop";
const SECRETS = {
    bearer: "Bearer abcdefghijklmnopqrstuvwxyz012345",
    password: "hunter2-correct-horse",
    email: "alice.smith@example.com",
    card: "4111 1111 1111 1111",
};

const prod = () => render("prod");

const reg = new ProcessRegistry(makeTempDir("telemetry-live"));
let jaeger: JaegerHandle;
let prom: PrometheusHandle;
let logs: LogSink;
let rw2: { url: string; count: () => number };
let client: ClientHandle;

beforeAll(async () => {
    ({ jaeger, prom, logs, rw2, client } = await startPipeline(reg, path.join(prod().dir, "files"), { SERVICE_NAME: SERVICE, APP_NAMESPACE: NAMESPACE }));
});

afterAll(async () => {
    await reg.stopAll();
    if (process.env.KEEP_E2E_TMP !== "1") fs.rmSync(reg.logDir, { recursive: true, force: true });
});

const get = async (p: string) => {
    const r = await request("GET", `${client.url}${p}`);
    return { status: r.status, ...(JSON.parse(r.body) as { traceId: string; spanId: string }) };
};
const flush = () => request("POST", `${client.url}/flush`);

async function jaegerTraces(operation: string): Promise<any[]> {
    const t = await getJson(`${jaeger.query}/api/traces?service=${SERVICE}&operation=${encodeURIComponent(operation)}&limit=2000&lookback=1h`);
    return t.data as any[];
}

/** Waits until Jaeger has the trace: tail sampling holds every trace for its decision_wait first. */
async function waitForTrace(traceId: string): Promise<any> {
    return pollFor(`trace ${traceId} in Jaeger`, async () => {
        const r = await request("GET", `${jaeger.query}/api/traces/${traceId}`);
        return r.status === 200 ? JSON.parse(r.body).data[0] : undefined;
    }, 120, 500);
}

const tag = (span: any, key: string) => (span.tags as any[]).find((t) => t.key === key)?.value;

describe("traces", () => {
    it("reach Jaeger by service and operation, the database span under the request span", async () => {
        const sent = await get("/orders/err-1");
        expect(sent.status).toBe(500);
        await flush();
        const t = await waitForTrace(sent.traceId);
        const root = (t.spans as any[]).find((s) => s.spanID === sent.spanId);
        const child = (t.spans as any[]).find((s) => s.operationName === "db.query");
        expect(root.operationName).toBe("GET /orders/:id");
        expect(t.processes[root.processID].serviceName).toBe(SERVICE);
        expect(child.references).toEqual([{ refType: "CHILD_OF", traceID: sent.traceId, spanID: sent.spanId }]);
        expect((await jaegerTraces("GET /orders/:id")).map((x) => x.traceID)).toContain(sent.traceId);
        // Stable HTTP semantic conventions, as the instrumentation emits them.
        expect(tag(root, "http.request.method")).toBe("GET");
        expect(tag(root, "http.response.status_code")).toBe(500);
        // The gateway's environment labels.
        const proc = t.processes[root.processID];
        expect((proc.tags as any[]).find((x) => x.key === "k8s.cluster.name")?.value).toBe("prod");
    });

    it("keep every error and every slow trace, about the configured 10% of the rest, and no health check", async () => {
        const ERRORS = 20;
        const SLOW = 8;
        const NORMAL = 300;
        const HEALTH = 20;
        const errors = await Promise.all(Array.from({ length: ERRORS }, () => get("/fail")));
        const slow = await Promise.all(Array.from({ length: SLOW }, () => get("/slow")));
        const normal: { traceId: string }[] = [];
        for (let i = 0; i < NORMAL; i += 20) normal.push(...(await Promise.all(Array.from({ length: 20 }, (_, j) => get(`/orders/ok-${i + j}`)))));
        const health = await Promise.all(Array.from({ length: HEALTH }, () => get("/healthz")));
        expect(health.every((h) => h.status === 503)).toBe(true);
        // Decisions are made in arrival order: once a trace sent after all others is stored,
        // every earlier one has been decided.
        const marker = await get("/orders/err-marker");
        await flush();
        await waitForTrace(marker.traceId);

        const stored = async (op: string) => new Set((await jaegerTraces(op)).map((x) => x.traceID as string));
        const failStored = await stored("GET /fail");
        expect(errors.filter((e) => !failStored.has(e.traceId))).toEqual([]);
        const slowStored = await stored("GET /slow");
        expect(slow.filter((e) => !slowStored.has(e.traceId))).toEqual([]);
        const orderStored = await stored("GET /orders/:id");
        const kept = normal.filter((n) => orderStored.has(n.traceId)).length;
        // Binomial(300, 0.1): mean 30, standard deviation 5.2; [10, 55] is beyond 3.8 of them.
        expect(kept).toBeGreaterThanOrEqual(10);
        expect(kept).toBeLessThanOrEqual(55);
        // Failing health checks would be kept as errors: the filter drops them before sampling.
        expect(await jaegerTraces("GET /healthz")).toEqual([]);
        const ops = await getJson(`${jaeger.query}/api/services/${SERVICE}/operations`);
        expect((ops.data as any[]).map((o) => o.name)).not.toContain("GET /healthz");
        process.stdout.write(`tail sampling kept ${kept} of ${NORMAL} normal traces (10% configured), ${failStored.size} error traces, ${slowStored.size} slow\n`);
    });

    it("are stored with secrets masked in span attributes", async () => {
        const sent = await get("/login");
        await flush();
        const t = await waitForTrace(sent.traceId);
        const root = (t.spans as any[]).find((s) => s.spanID === sent.spanId);
        const text = JSON.stringify(root.tags);
        for (const secret of Object.values(SECRETS)) expect(text).not.toContain(secret.replace(/^Bearer /, ""));
        expect(tag(root, "enduser.email")).toBe("[REDACTED_EMAIL]");
        expect(tag(root, "payment.card")).toBe("[REDACTED_CARD]");
        expect(tag(root, "password")).toBeUndefined();
    });
});

describe("logs", () => {
    it("carry the trace and span id of the request that wrote them, with service and level as Loki labels", async () => {
        const sent = await get("/orders/err-logs");
        await flush();
        const rec = await pollFor("the log record at the Loki stand-in", async () => logs.records.find((r) => r.traceId === sent.traceId), 120, 500);
        expect(rec.spanId).toBe(sent.spanId);
        expect(rec.body).toBe("order /orders/err-logs read");
        // groupbyattrs moved them to the resource, which Loki turns into its two index labels.
        expect({ service: rec.resource.service, level: rec.resource.level }).toEqual({ service: SERVICE, level: "info" });
        expect(rec.resource["k8s.cluster.name"]).toBe("prod");
    });

    it("have a bearer token, a password, an email address and a card number masked in body and attributes", async () => {
        const sent = await get("/login");
        await flush();
        const rec = await pollFor("the login log record", async () => logs.records.find((r) => r.traceId === sent.traceId), 120, 500);
        const text = JSON.stringify(rec);
        for (const secret of Object.values(SECRETS)) expect(text).not.toContain(secret.replace(/^Bearer /, ""));
        expect(rec.body).toEqual(expect.stringContaining("[REDACTED_EMAIL]"));
        expect(rec.body).toEqual(expect.stringContaining("Bearer [REDACTED]"));
        expect(rec.body).toEqual(expect.stringContaining("[REDACTED_CARD]"));
        expect(rec.body).toEqual(expect.stringContaining("[REDACTED_CREDENTIAL]"));
        expect(rec.attributes["user.email"]).toBe("[REDACTED_EMAIL]");
        expect(rec.attributes["payment.card"]).toBe("[REDACTED_CARD]");
        expect(rec.attributes.password).toBeUndefined();
        expect(rec.attributes.note).toBe("authorization=[REDACTED]");
    });
});

describe("metrics", () => {
    it("arrive in Prometheus by remote write with the service, namespace, pod and route labels, and at the second replica's URL too", async () => {
        for (let i = 0; i < 5; i++) await get(`/orders/m-${i}`);
        await flush();
        const match = `http_server_request_duration_seconds_count{service="${SERVICE}",http_request_method="GET",http_response_status_code="200",http_route="/orders/:id"}`;
        const series = await pollFor("the client's request counter in Prometheus", async () => {
            const r = await getJson(`${prom.url}/api/v1/series?match[]=${encodeURIComponent(match)}`);
            return r.data.length > 0 ? (r.data as Record<string, string>[]) : undefined;
        }, 120, 500);
        const s = series[0]!;
        process.stdout.write(`labels of a client series in Prometheus: ${JSON.stringify(s)}\n`);
        // `service`, `namespace`, `pod` and `node` from the gateway's transform/metric-labels
        // (the resource's service.name and k8s.* attributes); job from service.name, as
        // prometheusremotewrite maps it. The otel preset's rules and dashboards select on them.
        expect(s.service).toBe(SERVICE);
        expect(s.namespace).toBe(NAMESPACE);
        expect(s.pod).toBe(`${SERVICE}-7c9d5b8f6-k2x4p`);
        expect(s.node).toBe("node-a");
        expect(s.job).toBe(SERVICE);
        // No cluster label: Prometheus adds its external label `cluster`, as to scraped series.
        expect(s.cluster).toBeUndefined();
        const v = await getJson(`${prom.url}/api/v1/query?query=${encodeURIComponent(`sum(${match})`)}`);
        expect(Number(v.data.result[0].value[1])).toBeGreaterThanOrEqual(5);
        expect(rw2.count()).toBeGreaterThan(0);
    });
});
