/**
 * Throughput of the collector path on this machine: spans/s and metric points/s through the
 * rendered prod agent → gateway (trace-id routing, redaction, health-check filter, tail
 * sampling, remote write), and the same two collectors with pass-through pipelines (only
 * memory_limiter and batch kept), whose ratio is what our processors cost.
 *
 *     npm run bench -- pipeline
 *     npx ts-node --transpile-only scripts/bench-pipeline.ts [--seconds N]
 *
 * What runs, on 127.0.0.1: the real collectors (.tools/bin/otelcol) with the rendered configs,
 * localized as in test/telemetry; downstream, a third collector as an OTLP sink (otlp → nop)
 * in Jaeger's place, a remote-write endpoint that answers 204 in Prometheus' place (both
 * replicas) and the Loki stand-in. A closed-loop generator (4 concurrent senders) posts OTLP/HTTP
 * JSON to the agent for N seconds: batches of 100 spans (10 traces of 10 spans, one in ten with
 * an error status, so sampling keeps some) and of 100 sum data points, alternately.
 *
 * Rates count what the gateway's receivers accepted over the sending window, after the agent
 * drained; "zero drops" is checked from the collectors' own metrics (refused by a receiver,
 * failed to enqueue or to send by an exporter, all 0). Nothing here is asserted by a test.
 */
import * as fs from "fs";
import * as path from "path";
import { freePorts, makeTempDir, ProcessRegistry, sleep } from "../test/support/processes";
import { render } from "../test/security/support";
import { readYamlFile, telemetryBinary, writeYamlFile } from "../test/support/telemetry";
import { pollFor, request, startCollectorPair, startCountingSink, startLogSink } from "../test/support/telemetry-live";

const secondsArg = process.argv.indexOf("--seconds");
const seconds = secondsArg > 0 ? Number(process.argv[secondsArg + 1]) : 20;
if (!(seconds > 0)) throw new Error("--seconds N: expected a positive number");

const hex = (n: number) => [...Array(n)].map(() => Math.floor(Math.random() * 16).toString(16)).join("");

function spanBatch(): string {
    const now = BigInt(Date.now()) * 1_000_000n;
    const spans = [];
    for (let t = 0; t < 10; t++) {
        const traceId = hex(32);
        const root = hex(16);
        const error = Math.random() < 0.1;
        for (let s = 0; s < 10; s++) {
            spans.push({
                traceId,
                spanId: s === 0 ? root : hex(16),
                ...(s === 0 ? {} : { parentSpanId: root }),
                name: s === 0 ? "GET /orders/:id" : "db.query",
                kind: s === 0 ? 2 : 3,
                startTimeUnixNano: String(now),
                endTimeUnixNano: String(now + 2_000_000n),
                attributes: [
                    { key: "http.route", value: { stringValue: "/orders/:id" } },
                    { key: "enduser.email", value: { stringValue: "bench.user@example.com" } },
                ],
                ...(error && s === 0 ? { status: { code: 2 } } : {}),
            });
        }
    }
    return JSON.stringify({ resourceSpans: [{ resource: { attributes: [{ key: "service.name", value: { stringValue: "bench" } }] }, scopeSpans: [{ scope: { name: "bench" }, spans }] }] });
}

let series = 0;
function metricBatch(): string {
    const now = String(BigInt(Date.now()) * 1_000_000n);
    const dataPoints = Array.from({ length: 100 }, (_, i) => ({
        asInt: String(series + i),
        timeUnixNano: now,
        startTimeUnixNano: now,
        attributes: [{ key: "route", value: { stringValue: `/r${i}` } }],
    }));
    series++;
    return JSON.stringify({
        resourceMetrics: [
            {
                resource: { attributes: [{ key: "service.name", value: { stringValue: "bench" } }] },
                scopeMetrics: [{ scope: { name: "bench" }, metrics: [{ name: "bench_requests", sum: { aggregationTemporality: 2, isMonotonic: true, dataPoints } }] }],
            },
        ],
    });
}

/** Sum of every sample of a collector metric family whose name starts with `prefix`. */
async function metricSum(port: number, prefix: string, filter = ""): Promise<number> {
    const r = await request("GET", `http://127.0.0.1:${port}/metrics`);
    let sum = 0;
    for (const line of r.body.split("\n")) {
        if (line.startsWith(prefix) && line.includes(filter)) sum += Number(line.slice(line.lastIndexOf(" ") + 1));
    }
    return sum;
}

/** The sink collector in Jaeger's place: OTLP gRPC in, nop out. */
async function startSink(reg: ProcessRegistry, dir: string): Promise<number> {
    const [grpc, health] = await freePorts(2);
    const file = path.join(dir, "sink.yaml");
    writeYamlFile(file, {
        extensions: { health_check: { endpoint: `127.0.0.1:${health}` } },
        receivers: { otlp: { protocols: { grpc: { endpoint: `127.0.0.1:${grpc}` } } } },
        exporters: { nop: {} },
        service: { extensions: ["health_check"], telemetry: { metrics: { level: "none" } }, pipelines: { traces: { receivers: ["otlp"], exporters: ["nop"] } } },
    });
    await reg.start({ name: "sink", binary: telemetryBinary("otelcol"), args: [`--config=file:${file}`], readyUrl: `http://127.0.0.1:${health}/` });
    return grpc!;
}

/**
 * The pass-through variant of a rendered config: every pipeline keeps only memory_limiter and
 * batch (protection and batching, which any collector has), dropping enrichment, redaction, the
 * health-check filter and tail sampling.
 */
const KEPT = ["memory_limiter", "batch"];
function passThrough(src: string, dst: string): string {
    const c = readYamlFile(src);
    for (const p of Object.values<any>(c.service.pipelines)) p.processors = (p.processors as string[]).filter((x) => KEPT.includes(x));
    c.processors = Object.fromEntries(Object.entries(c.processors).filter(([k]) => KEPT.includes(k)));
    writeYamlFile(dst, c);
    return dst;
}

async function run(label: string, filesDir: string, pass: boolean): Promise<{ spans: number; points: number; drops: number }> {
    const reg = new ProcessRegistry(makeTempDir(`bench-pipeline-${pass ? "pass" : "ours"}`));
    try {
        const dir = reg.logDir;
        let gwFile = path.join(filesDir, "otel-collector", "gateway.yaml");
        let agFile = path.join(filesDir, "otel-collector", "agent.yaml");
        if (pass) {
            gwFile = passThrough(gwFile, path.join(dir, "gateway-pass.yaml"));
            agFile = passThrough(agFile, path.join(dir, "agent-pass.yaml"));
        }
        const sink = await startSink(reg, dir);
        const [logPort, rwPort] = await freePorts(2);
        const logs = await startLogSink(logPort!);
        reg.onStop(logs.close);
        const rw = await startCountingSink(rwPort!);
        reg.onStop(rw.close);
        const { gateway, agent } = await startCollectorPair(reg, dir, { gateway: gwFile, agent: agFile }, { jaeger: `127.0.0.1:${sink}`, remoteWrite: [rw.url, rw.url], logs: logs.url });

        const base = `http://127.0.0.1:${agent.otlpHttp}`;
        let sentSpans = 0;
        let sentPoints = 0;
        let failed = 0;
        const until = Date.now() + seconds * 1000;
        const started = Date.now();
        await Promise.all(
            Array.from({ length: 4 }, async (_, w) => {
                for (let i = 0; Date.now() < until; i++) {
                    const traces = (i + w) % 2 === 0;
                    const r = await request("POST", `${base}/v1/${traces ? "traces" : "metrics"}`, { "content-type": "application/json" }, traces ? spanBatch() : metricBatch());
                    if (r.status !== 200) failed++;
                    else if (traces) sentSpans += 100;
                    else sentPoints += 100;
                }
            }),
        );
        const window = (Date.now() - started) / 1000;
        // The gateway has everything the agent accepted once its receivers' counts stop moving.
        const gwSpans = () => metricSum(gateway.metrics, "otelcol_receiver_accepted_spans", 'receiver="otlp/loadbalanced"');
        const gwPoints = () => metricSum(gateway.metrics, "otelcol_receiver_accepted_metric_points");
        await pollFor("the gateway received everything the agent accepted", async () => ((await gwSpans()) >= sentSpans && (await gwPoints()) >= sentPoints ? true : undefined), 240, 500);
        await sleep(2000);
        let drops = failed;
        for (const port of [agent.metrics, gateway.metrics]) {
            for (const fam of ["otelcol_receiver_refused_", "otelcol_exporter_enqueue_failed_", "otelcol_exporter_send_failed_", "otelcol_processor_refused_"]) {
                drops += await metricSum(port, fam);
            }
        }
        const spans = sentSpans / window;
        const points = sentPoints / window;
        console.log(`${label.padEnd(34)} ${spans.toFixed(0).padStart(8)} spans/s ${points.toFixed(0).padStart(8)} points/s  drops ${drops}  (${sentSpans} spans, ${sentPoints} points in ${window.toFixed(1)} s)`);
        return { spans, points, drops };
    } finally {
        await reg.stopAll();
        fs.rmSync(reg.logDir, { recursive: true, force: true });
    }
}

async function main(): Promise<void> {
    const files = path.join(render("prod").dir, "files");
    console.log(`collector pipeline throughput, prod configs, ${seconds} s per variant, 4 concurrent OTLP/HTTP senders`);
    const ours = await run("rendered agent → gateway", files, false);
    const pass = await run("pass-through agent → gateway", files, true);
    console.log(`processors cost: ${(ours.spans / pass.spans).toFixed(2)}x the pass-through span rate, ${(ours.points / pass.points).toFixed(2)}x its point rate`);
    if (ours.drops + pass.drops > 0) {
        console.log("drops were counted: the rates above are not zero-drop rates");
        process.exitCode = 1;
    }
}

main().catch((e) => {
    console.error(e);
    process.exit(2);
});
