/**
 * The live telemetry path on 127.0.0.1, from rendered configs with only addresses and paths
 * rewired (test/support/telemetry.ts): real Jaeger, real collectors (agent and gateway), real
 * Prometheus with its remote-write receiver, in-process sinks for what has no real program here
 * (Loki: an OTLP/HTTP logs receiver that decodes what the gateway's `otlp_http/loki` exporter
 * sends; a second Prometheus replica: a remote-write endpoint that only counts), and the
 * instrumented client service (test/telemetry/client-service.ts).
 */
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import * as zlib from "zlib";
import { freePorts, httpGet, ManagedProcess, ProcessRegistry, sleep } from "./processes";
import { ROOT } from "./program";
import { toolPath } from "./tools";
import { localizeCollector, localizeJaeger, POD_ENV, readYamlFile, telemetryBinary, writeYamlFile } from "./telemetry";

// ---------------------------------------------------------------------------------------------
// Bounded polling

/** Calls `probe` every `intervalMs` until it returns a value other than undefined; at most `tries` times. */
export async function pollFor<T>(what: string, probe: () => Promise<T | undefined>, tries = 120, intervalMs = 500): Promise<T> {
    let last: unknown;
    for (let i = 0; i < tries; i++) {
        try {
            const v = await probe();
            if (v !== undefined) return v;
        } catch (e) {
            last = e;
        }
        await sleep(intervalMs);
    }
    throw new Error(`${what}: not reached after ${tries} tries ${intervalMs} ms apart${last ? ` (last error: ${(last as Error).message})` : ""}`);
}

export async function getJson(url: string): Promise<any> {
    const r = await httpGet(url, 10_000);
    if (r.status !== 200) throw new Error(`GET ${url}: HTTP ${r.status} ${r.body.slice(0, 300)}`);
    return JSON.parse(r.body);
}

export function request(method: string, url: string, headers: Record<string, string> = {}, body?: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
        const req = http.request(url, { method, headers, timeout: 15_000, agent: false }, (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
            res.on("error", reject);
        });
        req.on("timeout", () => req.destroy(new Error(`${method} ${url} timed out`)));
        req.on("error", reject);
        if (body !== undefined) req.write(body);
        req.end();
    });
}

// ---------------------------------------------------------------------------------------------
// A minimal protobuf reader, enough for OTLP ExportLogsServiceRequest (opentelemetry-proto).

type Field = { no: number; wire: number; v: bigint | Buffer };

function fields(buf: Buffer): Field[] {
    const out: Field[] = [];
    let i = 0;
    const varint = (): bigint => {
        let r = 0n;
        let shift = 0n;
        for (;;) {
            const b = buf[i++]!;
            r |= BigInt(b & 0x7f) << shift;
            if (!(b & 0x80)) return r;
            shift += 7n;
        }
    };
    while (i < buf.length) {
        const key = Number(varint());
        const no = key >>> 3;
        const wire = key & 7;
        if (wire === 0) out.push({ no, wire, v: varint() });
        else if (wire === 1) {
            out.push({ no, wire, v: buf.subarray(i, i + 8) });
            i += 8;
        } else if (wire === 2) {
            const len = Number(varint());
            out.push({ no, wire, v: buf.subarray(i, i + len) });
            i += len;
        } else if (wire === 5) {
            out.push({ no, wire, v: buf.subarray(i, i + 4) });
            i += 4;
        } else throw new Error(`protobuf wire type ${wire} not supported`);
    }
    return out;
}

type AnyValue = string | number | boolean | AnyValue[] | { [k: string]: AnyValue } | null;

function anyValue(buf: Buffer): AnyValue {
    for (const f of fields(buf)) {
        if (f.no === 1) return (f.v as Buffer).toString("utf8");
        if (f.no === 2) return (f.v as bigint) !== 0n;
        if (f.no === 3) return Number(f.v as bigint);
        if (f.no === 4) return (f.v as Buffer).readDoubleLE(0);
        if (f.no === 5) return fields(f.v as Buffer).filter((x) => x.no === 1).map((x) => anyValue(x.v as Buffer));
        if (f.no === 6) return keyValues(fields(f.v as Buffer).filter((x) => x.no === 1).map((x) => x.v as Buffer));
        if (f.no === 7) return (f.v as Buffer).toString("hex");
    }
    return null;
}

function keyValues(kvs: Buffer[]): Record<string, AnyValue> {
    const out: Record<string, AnyValue> = {};
    for (const kv of kvs) {
        let key = "";
        let value: AnyValue = null;
        for (const f of fields(kv)) {
            if (f.no === 1) key = (f.v as Buffer).toString("utf8");
            if (f.no === 2) value = anyValue(f.v as Buffer);
        }
        out[key] = value;
    }
    return out;
}

export interface LogRecord {
    readonly resource: Record<string, AnyValue>;
    readonly attributes: Record<string, AnyValue>;
    readonly body: AnyValue;
    readonly severityText: string;
    readonly traceId: string;
    readonly spanId: string;
}

/** Decodes an OTLP ExportLogsServiceRequest. */
export function decodeLogs(buf: Buffer): LogRecord[] {
    const out: LogRecord[] = [];
    for (const rl of fields(buf).filter((f) => f.no === 1)) {
        let resource: Record<string, AnyValue> = {};
        const scopeLogs: Buffer[] = [];
        for (const f of fields(rl.v as Buffer)) {
            if (f.no === 1) resource = keyValues(fields(f.v as Buffer).filter((x) => x.no === 1).map((x) => x.v as Buffer));
            if (f.no === 2) scopeLogs.push(f.v as Buffer);
        }
        for (const sl of scopeLogs) {
            for (const lr of fields(sl).filter((f) => f.no === 2)) {
                const attrs: Buffer[] = [];
                let body: AnyValue = null;
                let severityText = "";
                let traceId = "";
                let spanId = "";
                for (const f of fields(lr.v as Buffer)) {
                    if (f.no === 3) severityText = (f.v as Buffer).toString("utf8");
                    if (f.no === 5) body = anyValue(f.v as Buffer);
                    if (f.no === 6) attrs.push(f.v as Buffer);
                    if (f.no === 9) traceId = (f.v as Buffer).toString("hex");
                    if (f.no === 10) spanId = (f.v as Buffer).toString("hex");
                }
                out.push({ resource, attributes: keyValues(attrs), body, severityText, traceId, spanId });
            }
        }
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// In-process sinks

export interface LogSink {
    readonly url: string;
    readonly records: LogRecord[];
    /** Requests answered, by path. */
    readonly requests: Map<string, number>;
    close(): Promise<void>;
}

function bodyOf(req: http.IncomingMessage): Promise<Buffer> {
    return new Promise((resolve, reject) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
            const raw = Buffer.concat(chunks);
            const enc = String(req.headers["content-encoding"] ?? "");
            try {
                resolve(enc === "gzip" ? zlib.gunzipSync(raw) : raw);
            } catch (e) {
                reject(e);
            }
        });
        req.on("error", reject);
    });
}

function listen(server: http.Server, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, "127.0.0.1", () => resolve());
    });
}

const closer = (server: http.Server) => () => new Promise<void>((r) => server.close(() => r()));

/** Loki's OTLP endpoint as the gateway's otlp_http exporter sees it: POST <base>/v1/logs (protobuf). */
export async function startLogSink(port: number): Promise<LogSink> {
    const records: LogRecord[] = [];
    const requests = new Map<string, number>();
    const server = http.createServer(async (req, res) => {
        const body = await bodyOf(req).catch(() => undefined);
        const p = req.url ?? "";
        requests.set(p, (requests.get(p) ?? 0) + 1);
        if (req.method === "POST" && p === "/otlp/v1/logs" && body && String(req.headers["content-type"]).startsWith("application/x-protobuf")) {
            records.push(...decodeLogs(body));
            res.writeHead(200, { "content-type": "application/x-protobuf" });
            res.end();
            return;
        }
        res.writeHead(404);
        res.end();
    });
    server.keepAliveTimeout = 1000;
    await listen(server, port);
    return { url: `http://127.0.0.1:${port}/otlp`, records, requests, close: closer(server) };
}

/** A remote-write endpoint that accepts and counts (the second Prometheus replica). */
export async function startCountingSink(port: number): Promise<{ url: string; count: () => number; close: () => Promise<void> }> {
    let n = 0;
    const server = http.createServer(async (req, res) => {
        await bodyOf(req).catch(() => undefined);
        n++;
        res.writeHead(204);
        res.end();
    });
    await listen(server, port);
    return { url: `http://127.0.0.1:${port}/api/v1/write`, count: () => n, close: closer(server) };
}

// ---------------------------------------------------------------------------------------------
// Real programs

export interface JaegerHandle {
    readonly proc: ManagedProcess;
    readonly otlpGrpc: number;
    readonly otlpHttp: number;
    /** `http://127.0.0.1:<query port>` */
    readonly query: string;
}

/** Jaeger with a rendered config (files/jaeger/config.yaml), localized; its config and storage under `dir`. */
export async function startJaeger(reg: ProcessRegistry, renderedConfig: string, dir: string, name = "jaeger"): Promise<JaegerHandle> {
    const [otlpGrpc, otlpHttp, query, queryGrpc, health, metrics] = await freePorts(6);
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, "jaeger.yaml");
    writeYamlFile(file, localizeJaeger(readYamlFile(renderedConfig), { otlpGrpc: otlpGrpc!, otlpHttp: otlpHttp!, query: query!, queryGrpc: queryGrpc!, health: health!, metrics: metrics!, dataDir: path.join(dir, "badger") }));
    const proc = await reg.start({ name, binary: telemetryBinary("jaeger"), args: [`--config=file:${file}`], readyUrl: `http://127.0.0.1:${health}/status`, readyTries: 240 });
    return { proc, otlpGrpc: otlpGrpc!, otlpHttp: otlpHttp!, query: `http://127.0.0.1:${query}` };
}

export interface PrometheusHandle {
    readonly proc: ManagedProcess;
    readonly url: string;
    readonly port: number;
    /** Its TSDB directory. */
    readonly dataDir: string;
}

export interface PrometheusOptions {
    /** Rule files, name → YAML. */
    readonly rules?: Readonly<Record<string, string>>;
    readonly evaluationInterval?: string;
    /** Listen on this port (a restart over the same data keeps its address); a free one otherwise. */
    readonly port?: number;
}

/**
 * A Prometheus with its remote-write receiver on (as the rendered StatefulSet runs it) and no
 * scrape jobs; optionally with rule files evaluated every `evaluationInterval`. Its TSDB is
 * `<dir>/tsdb`, so a second start with the same `dir` (and `port`) carries on with the same data.
 */
export async function startPrometheus(reg: ProcessRegistry, dir: string, opts: PrometheusOptions = {}): Promise<PrometheusHandle> {
    const port = opts.port ?? (await freePorts(1))[0]!;
    const cfg = path.join(dir, "prometheus.yml");
    const dataDir = path.join(dir, "tsdb");
    let text = `global:\n  scrape_interval: 15s\n${opts.evaluationInterval ? `  evaluation_interval: ${opts.evaluationInterval}\n` : ""}`;
    const rulesDir = path.join(dir, "rules");
    fs.rmSync(rulesDir, { recursive: true, force: true });
    if (opts.rules) {
        fs.mkdirSync(rulesDir, { recursive: true });
        for (const [name, yamlText] of Object.entries(opts.rules)) fs.writeFileSync(path.join(rulesDir, name), yamlText);
        text += `rule_files:\n  - ${JSON.stringify(path.join(rulesDir, "*.yml"))}\n`;
    }
    fs.writeFileSync(cfg, text);
    const proc = await reg.start({
        name: "prometheus",
        binary: toolPath("prometheus"),
        args: [`--config.file=${cfg}`, `--storage.tsdb.path=${dataDir}`, `--web.listen-address=127.0.0.1:${port}`, "--web.enable-remote-write-receiver"],
        readyUrl: `http://127.0.0.1:${port}/-/ready`,
        readyTries: 480,
    });
    return { proc, url: `http://127.0.0.1:${port}`, port, dataDir };
}

export interface CollectorHandle {
    readonly name: string;
    readonly proc: ManagedProcess;
    readonly health: number;
    readonly otlpGrpc: number;
    readonly otlpHttp: number;
    readonly loadbalanced?: number;
    readonly metrics: number;
    readonly configFile: string;
}

/** A collector with a rendered config, localized (see localizeCollector), started and ready. */
export async function startCollector(
    reg: ProcessRegistry,
    name: string,
    renderedConfig: string,
    dir: string,
    wiring: { gateway?: string; loadbalancedTargets?: string[]; jaeger?: string; remoteWrite?: string[]; logs?: string },
    ports?: { otlpGrpc: number; otlpHttp: number; loadbalanced: number; health: number; metrics: number },
    /** Environment of the process on top of {@link POD_ENV} (e.g. the pod's GOMEMLIMIT). */
    env: Record<string, string> = {},
): Promise<CollectorHandle> {
    let p: { otlpGrpc: number; otlpHttp: number; loadbalanced: number; health: number; metrics: number };
    if (ports) p = ports;
    else {
        const [a, b, c, d, e] = await freePorts(5);
        p = { otlpGrpc: a!, otlpHttp: b!, loadbalanced: c!, health: d!, metrics: e! };
    }
    const config = readYamlFile(renderedConfig);
    const local = localizeCollector(config, { ...p, dataDir: path.join(dir, `${name}-data`), ...wiring }, { noKubeApi: true });
    const file = path.join(dir, `${name}.yaml`);
    writeYamlFile(file, local);
    const proc = await reg.start({
        name,
        binary: telemetryBinary("otelcol"),
        args: [`--config=file:${file}`],
        env: { ...process.env, ...POD_ENV, ...env },
        readyUrl: `http://127.0.0.1:${p.health}/`,
        readyTries: 240,
    });
    return { name, proc, health: p.health, otlpGrpc: p.otlpGrpc, otlpHttp: p.otlpHttp, ...(local.receivers["otlp/loadbalanced"] ? { loadbalanced: p.loadbalanced } : {}), metrics: p.metrics, configFile: file };
}

/**
 * The rendered gateway (its trace-id router pointed at itself) and the agent sending to it,
 * wired to the given trace, metric and log endpoints.
 */
export async function startCollectorPair(
    reg: ProcessRegistry,
    dir: string,
    configs: { gateway: string; agent: string },
    wiring: { jaeger: string; remoteWrite: string[]; logs: string },
): Promise<{ gateway: CollectorHandle; agent: CollectorHandle }> {
    const [otlpGrpc, otlpHttp, loadbalanced, health, metrics] = await freePorts(5);
    const lb = `127.0.0.1:${loadbalanced}`;
    const gateway = await startCollector(reg, "gateway", configs.gateway, dir, { ...wiring, loadbalancedTargets: [lb] }, {
        otlpGrpc: otlpGrpc!,
        otlpHttp: otlpHttp!,
        loadbalanced: loadbalanced!,
        health: health!,
        metrics: metrics!,
    });
    const agent = await startCollector(reg, "agent", configs.agent, dir, { gateway: `127.0.0.1:${gateway.otlpGrpc}`, loadbalancedTargets: [lb] });
    return { gateway, agent };
}

/** Starts a stopped collector again with the same config file and ports. */
export async function restartCollector(reg: ProcessRegistry, c: CollectorHandle): Promise<CollectorHandle> {
    const proc = await reg.start({
        name: `${c.name}-again`,
        binary: telemetryBinary("otelcol"),
        args: [`--config=file:${c.configFile}`],
        env: { ...process.env, ...POD_ENV },
        readyUrl: `http://127.0.0.1:${c.health}/`,
        readyTries: 240,
    });
    return { ...c, proc };
}

export interface ClientHandle {
    readonly proc: ManagedProcess;
    readonly url: string;
}

/** The instrumented client service (test/telemetry/client-service.ts), sending OTLP/HTTP to `otlpHttpBase`. */
export async function startClient(reg: ProcessRegistry, otlpHttpBase: string, env: Record<string, string> = {}): Promise<ClientHandle> {
    const [port] = await freePorts(1);
    const proc = await reg.start({
        name: "client-service",
        binary: process.execPath,
        args: ["-r", "ts-node/register/transpile-only", path.join(ROOT, "test", "telemetry", "client-service.ts")],
        cwd: ROOT,
        env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: otlpHttpBase, PORT: String(port), TS_NODE_PROJECT: path.join(ROOT, "tsconfig.json"), ...env },
    });
    const url = `http://127.0.0.1:${port}`;
    await pollFor("client service listening", async () => ((await request("GET", `${url}/nothing`)).status === 404 ? true : undefined), 120, 250).catch((e) => {
        throw new Error(`${e.message}\n${proc.logTail()}`);
    });
    return { proc, url };
}

/** Sends a span to Jaeger's OTLP/HTTP receiver as JSON: a parent and a child of one trace. */
export async function postTwoSpanTrace(otlpHttp: number, service: string): Promise<{ traceId: string; parent: string; child: string }> {
    const hex = (n: number) => [...Array(n)].map(() => Math.floor(Math.random() * 16).toString(16)).join("");
    const traceId = hex(32);
    const parent = hex(16);
    const child = hex(16);
    const now = BigInt(Date.now()) * 1_000_000n;
    const span = (spanId: string, name: string, parentSpanId?: string) => ({
        traceId,
        spanId,
        ...(parentSpanId ? { parentSpanId } : {}),
        name,
        kind: parentSpanId ? 3 : 2,
        startTimeUnixNano: String(now),
        endTimeUnixNano: String(now + 5_000_000n),
        attributes: [{ key: "http.route", value: { stringValue: "/orders/:id" } }],
    });
    const body = JSON.stringify({
        resourceSpans: [
            {
                resource: { attributes: [{ key: "service.name", value: { stringValue: service } }] },
                scopeSpans: [{ scope: { name: "test" }, spans: [span(parent, "GET /orders/:id"), span(child, "db.query", parent)] }],
            },
        ],
    });
    const r = await request("POST", `http://127.0.0.1:${otlpHttp}/v1/traces`, { "content-type": "application/json" }, body);
    if (r.status !== 200) throw new Error(`OTLP POST to Jaeger: HTTP ${r.status} ${r.body}`);
    return { traceId, parent, child };
}

export interface Pipeline {
    readonly jaeger: JaegerHandle;
    prom: PrometheusHandle;
    readonly logs: LogSink;
    readonly rw2: { url: string; count: () => number };
    gateway: CollectorHandle;
    readonly agent: CollectorHandle;
    readonly client: ClientHandle;
}

/**
 * The whole path from a render's files/ folder: Jaeger, Prometheus (with `prometheus`'s rules),
 * the log and second-replica sinks, gateway (its trace-id router pointed at itself), agent, and
 * the client service.
 */
export async function startPipeline(
    reg: ProcessRegistry,
    filesDir: string,
    client: Record<string, string>,
    prometheus: PrometheusOptions = {},
): Promise<Pipeline> {
    const dir = reg.logDir;
    const jaeger = await startJaeger(reg, path.join(filesDir, "jaeger", "config.yaml"), dir);
    const prom = await startPrometheus(reg, dir, prometheus);
    const [logPort, rwPort] = await freePorts(2);
    const logs = await startLogSink(logPort!);
    reg.onStop(logs.close);
    const rw2 = await startCountingSink(rwPort!);
    reg.onStop(rw2.close);
    const { gateway, agent } = await startCollectorPair(
        reg,
        dir,
        { gateway: path.join(filesDir, "otel-collector", "gateway.yaml"), agent: path.join(filesDir, "otel-collector", "agent.yaml") },
        { jaeger: `127.0.0.1:${jaeger.otlpGrpc}`, remoteWrite: [`${prom.url}/api/v1/write`, rw2.url], logs: logs.url },
    );
    const c = await startClient(reg, `http://127.0.0.1:${agent.otlpHttp}`, client);
    return { jaeger, prom, logs, rw2, gateway, agent, client: c };
}

export interface BulkRecorder {
    readonly url: string;
    /** Every document of every `_bulk` request, with the action line that preceded it. */
    readonly docs: { action: any; doc: any }[];
    /** The Authorization header of every `_bulk` request. */
    readonly authorizations: string[];
    close(): Promise<void>;
}

/**
 * Elasticsearch as the gateway's elasticsearch exporter sees it: `GET /` answers with the product
 * header and the pinned version, `POST /_bulk` records every document (NDJSON, gzip or not) and
 * answers each with 201.
 */
export async function startBulkRecorder(port: number, version: string): Promise<BulkRecorder> {
    const docs: { action: any; doc: any }[] = [];
    const authorizations: string[] = [];
    const server = http.createServer(async (req, res) => {
        const body = await bodyOf(req).catch(() => Buffer.alloc(0));
        const json = (status: number, o: unknown) => {
            res.writeHead(status, { "content-type": "application/json", "x-elastic-product": "Elasticsearch" });
            res.end(JSON.stringify(o));
        };
        const url = (req.url ?? "").split("?")[0]!;
        if (req.method === "GET" && url === "/") return json(200, { name: "recorder", cluster_name: "test", version: { number: version, build_flavor: "default" }, tagline: "You Know, for Search" });
        if (req.method === "POST" && url.endsWith("/_bulk")) {
            authorizations.push(String(req.headers.authorization ?? ""));
            const lines = body.toString("utf8").split("\n").filter((l) => l.trim() !== "");
            const items = [];
            for (let i = 0; i + 1 < lines.length; i += 2) {
                const action = JSON.parse(lines[i]!);
                docs.push({ action, doc: JSON.parse(lines[i + 1]!) });
                const op = Object.keys(action)[0]!;
                items.push({ [op]: { _index: action[op]._index ?? "logs", status: 201, result: "created" } });
            }
            return json(200, { took: 1, errors: false, items });
        }
        return json(404, { error: `not recorded: ${req.method} ${url}` });
    });
    await listen(server, port);
    return { url: `http://127.0.0.1:${port}`, docs, authorizations, close: closer(server) };
}
