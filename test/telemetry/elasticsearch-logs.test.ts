/**
 * Logs on the Elasticsearch backend, for real on 127.0.0.1: the rendered agent and gateway of the
 * prod stack with `logs.backend: elasticsearch` (test/security/support's "es" render), the
 * instrumented client service, and a `_bulk` recorder in Elasticsearch's place (it answers as
 * the pinned Elasticsearch version). Rewired: addresses only (see localizeCollector); the
 * exporter's password comes from ELASTICSEARCH_PASSWORD as in the pod. Traces go to a real
 * Jaeger with the prod (Badger) config, since Jaeger-on-Elasticsearch needs a real cluster;
 * remote write goes to counting sinks. Asserts what lands in the documents: the request's trace
 * context, the exporter's credentials, and masked secrets.
 */
import * as fs from "fs";
import * as path from "path";
import { IMAGES, versionOf } from "../../components/kube/images";
import { freePorts, makeTempDir, ProcessRegistry } from "../support/processes";
import { render } from "../security/support";
import { POD_ENV } from "../support/telemetry";
import { BulkRecorder, ClientHandle, pollFor, request, startBulkRecorder, startClient, startCollectorPair, startCountingSink, startJaeger } from "../support/telemetry-live";

jest.setTimeout(300_000);

const SERVICE = "payments-api";
const SECRETS = ["abcdefghijklmnopqrstuvwxyz012345", "hunter2-correct-horse", "alice.smith@example.com", "4111 1111 1111 1111"];

const reg = new ProcessRegistry(makeTempDir("telemetry-es"));
let es: BulkRecorder;
let client: ClientHandle;

beforeAll(async () => {
    const files = path.join(render("es").dir, "files");
    const dir = reg.logDir;
    const jaeger = await startJaeger(reg, path.join(render("prod").dir, "files", "jaeger", "config.yaml"), dir);
    const [esPort, rwPort] = await freePorts(2);
    es = await startBulkRecorder(esPort!, versionOf(IMAGES.elasticsearch));
    reg.onStop(es.close);
    const rw = await startCountingSink(rwPort!);
    reg.onStop(rw.close);
    const { agent } = await startCollectorPair(
        reg,
        dir,
        { gateway: path.join(files, "otel-collector", "gateway.yaml"), agent: path.join(files, "otel-collector", "agent.yaml") },
        { jaeger: `127.0.0.1:${jaeger.otlpGrpc}`, remoteWrite: [rw.url, rw.url], logs: es.url },
    );
    client = await startClient(reg, `http://127.0.0.1:${agent.otlpHttp}`, { SERVICE_NAME: SERVICE });
});
afterAll(async () => {
    await reg.stopAll();
    if (process.env.KEEP_E2E_TMP !== "1") fs.rmSync(reg.logDir, { recursive: true, force: true });
});

const get = async (p: string) => JSON.parse((await request("GET", `${client.url}${p}`)).body) as { traceId: string; spanId: string };
const flush = () => request("POST", `${client.url}/flush`);

describe("logs to Elasticsearch through the rendered exporter", () => {
    it("arrive as documents carrying the trace and span id of the request that wrote them", async () => {
        const sent = await get("/orders/err-es");
        await flush();
        const d = await pollFor("the document at the _bulk recorder", async () => es.docs.find((x) => JSON.stringify(x.doc).includes(sent.traceId)), 120, 500);
        const text = JSON.stringify(d.doc);
        expect(text).toContain(sent.spanId);
        expect(text).toContain("order /orders/err-es read");
        expect(text).toContain(SERVICE);
        // OTel mapping mode: data streams named by signal, dataset and namespace.
        const op = Object.keys(d.action)[0]!;
        expect(op).toBe("create");
        expect(String(d.action[op]._index)).toMatch(/^logs-/);
    });

    it("have a bearer token, a password, an email address and a card number masked", async () => {
        const sent = await get("/login");
        await flush();
        const d = await pollFor("the login document", async () => es.docs.find((x) => JSON.stringify(x.doc).includes(sent.traceId)), 120, 500);
        const text = JSON.stringify(d.doc);
        for (const s of SECRETS) expect(text).not.toContain(s);
        for (const mark of ["[REDACTED_EMAIL]", "[REDACTED_CARD]", "Bearer [REDACTED]", "[REDACTED_CREDENTIAL]"]) expect(text).toContain(mark);
    });

    it("are sent with the collector's own Elasticsearch user and the password from its environment", () => {
        const expected = `Basic ${Buffer.from(`otel-collector:${POD_ENV.ELASTICSEARCH_PASSWORD}`).toString("base64")}`;
        expect(es.authorizations.length).toBeGreaterThan(0);
        expect([...new Set(es.authorizations)]).toEqual([expected]);
    });
});
