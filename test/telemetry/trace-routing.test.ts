/**
 * Trace-id routing between two gateway replicas, live on 127.0.0.1: two gateways with the
 * rendered prod gateway config and the rendered prod agent, their `loadbalancing/traces`
 * exporters resolving the same two gateway addresses (a static resolver standing in for the
 * headless Service's DNS records, in the same order, as DNS would give every router the same
 * set). Each gateway exports to its own Jaeger, so where a span was decided is visible: gateway A's
 * spans are in Jaeger A, gateway B's in Jaeger B.
 *
 * Every trace is sent in pieces the way a cluster delivers them: its root span straight to one of
 * the gateways' OTLP receiver (an application sending to the gateway Service, which lands on any
 * replica; alternately A and B), its three child spans in one later request through the agent
 * (an application sending to the agent on its node). Only the root span has status ERROR, so tail
 * sampling keeps the trace only where the root span is: a child routed to the other replica
 * would be decided without it, and dropped or stored in the other Jaeger. The test asserts every
 * trace is whole in exactly one Jaeger, and that both gateways own traces.
 *
 * Rewired: addresses (localizeCollector), and the resolver (static instead of DNS).
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { render } from "../security/support";
import { freePorts, makeTempDir, ProcessRegistry } from "../support/processes";
import { CollectorHandle, JaegerHandle, pollFor, request, startCollector, startCountingSink, startJaeger, startLogSink } from "../support/telemetry-live";

jest.setTimeout(600_000);

const SERVICE = "routing-client";
const TRACES = 200;
const CHILDREN = 3;

const reg = new ProcessRegistry(makeTempDir("telemetry-routing"));
afterAll(async () => {
    await reg.stopAll();
    if (process.env.KEEP_E2E_TMP !== "1") fs.rmSync(reg.logDir, { recursive: true, force: true });
});

interface SentTrace {
    readonly traceId: string;
    readonly spanIds: readonly string[];
    /** The gateway its root span was sent to. */
    readonly rootTo: "a" | "b";
}

const hex = (bytes: number) => crypto.randomBytes(bytes).toString("hex");

/** An OTLP/JSON ExportTraceServiceRequest. */
function otlpJson(spans: object[]): string {
    return JSON.stringify({
        resourceSpans: [{ resource: { attributes: [{ key: "service.name", value: { stringValue: SERVICE } }] }, scopeSpans: [{ scope: { name: "routing-test" }, spans }] }],
    });
}

function span(traceId: string, spanId: string, name: string, parentSpanId?: string, error = false): object {
    const now = BigInt(Date.now()) * 1_000_000n;
    return {
        traceId,
        spanId,
        ...(parentSpanId ? { parentSpanId } : {}),
        name,
        kind: parentSpanId ? 3 : 2,
        startTimeUnixNano: String(now),
        endTimeUnixNano: String(now + 3_000_000n),
        attributes: [{ key: "http.route", value: { stringValue: "/orders/:id" } }],
        ...(error ? { status: { code: 2, message: "failed" } } : {}),
    };
}

async function post(otlpHttp: number, body: string): Promise<void> {
    const r = await request("POST", `http://127.0.0.1:${otlpHttp}/v1/traces`, { "content-type": "application/json" }, body);
    if (r.status !== 200) throw new Error(`OTLP POST to 127.0.0.1:${otlpHttp}: HTTP ${r.status} ${r.body}`);
}

/** The span ids Jaeger stores for a trace ([] when it has none). */
async function storedSpans(j: JaegerHandle, traceId: string): Promise<string[]> {
    const r = await request("GET", `${j.query}/api/traces/${traceId}`);
    if (r.status === 404) return [];
    if (r.status !== 200) throw new Error(`Jaeger ${j.query}: HTTP ${r.status} ${r.body.slice(0, 200)}`);
    return ((JSON.parse(r.body).data[0]?.spans ?? []) as { spanID: string }[]).map((s) => s.spanID).sort();
}

describe("trace-id routing across two gateway replicas", () => {
    it("puts every span of a trace on one gateway, whichever way its spans came in, and gives both gateways traces", async () => {
        const files = path.join(render("prod").dir, "files");
        const gatewayConfig = path.join(files, "otel-collector", "gateway.yaml");
        const jaegerA = await startJaeger(reg, path.join(files, "jaeger", "config.yaml"), path.join(reg.logDir, "jaeger-a"), "jaeger-a");
        const jaegerB = await startJaeger(reg, path.join(files, "jaeger", "config.yaml"), path.join(reg.logDir, "jaeger-b"), "jaeger-b");
        const [logPort, rw1, rw2] = await freePorts(3);
        const logs = await startLogSink(logPort!);
        reg.onStop(logs.close);
        const remoteWrite = [await startCountingSink(rw1!), await startCountingSink(rw2!)];
        for (const s of remoteWrite) reg.onStop(s.close);

        const ports = await freePorts(10);
        const portsOf = (i: number) => ({ otlpGrpc: ports[i]!, otlpHttp: ports[i + 1]!, loadbalanced: ports[i + 2]!, health: ports[i + 3]!, metrics: ports[i + 4]! });
        const pa = portsOf(0);
        const pb = portsOf(5);
        // The ring: both replicas' routed-span receivers, in the same order for every router.
        const ring = [`127.0.0.1:${pa.loadbalanced}`, `127.0.0.1:${pb.loadbalanced}`];
        const wiring = (j: JaegerHandle) => ({ jaeger: `127.0.0.1:${j.otlpGrpc}`, remoteWrite: remoteWrite.map((s) => s.url), logs: logs.url, loadbalancedTargets: ring });
        const gateways: Record<"a" | "b", CollectorHandle> = {
            a: await startCollector(reg, "gateway-a", gatewayConfig, reg.logDir, wiring(jaegerA), pa),
            b: await startCollector(reg, "gateway-b", gatewayConfig, reg.logDir, wiring(jaegerB), pb),
        };
        const agent = await startCollector(reg, "agent", path.join(files, "otel-collector", "agent.yaml"), reg.logDir, { gateway: `127.0.0.1:${pa.otlpGrpc}`, loadbalancedTargets: ring });

        const sent: SentTrace[] = [];
        for (let i = 0; i < TRACES; i += 20) {
            const batch = Array.from({ length: 20 }, (_, k): SentTrace => ({ traceId: hex(16), spanIds: Array.from({ length: CHILDREN + 1 }, () => hex(8)), rootTo: (i + k) % 2 ? "b" : "a" }));
            // Roots first, each straight to its gateway.
            for (const to of ["a", "b"] as const) {
                const roots = batch.filter((t) => t.rootTo === to).map((t) => span(t.traceId, t.spanIds[0]!, "GET /orders/:id", undefined, true));
                await post(gateways[to].otlpHttp, otlpJson(roots));
            }
            // Then every trace's children together, through the agent.
            await post(agent.otlpHttp, otlpJson(batch.flatMap((t) => t.spanIds.slice(1).map((id, c) => span(t.traceId, id, `db.query ${c}`, t.spanIds[0])))));
            sent.push(...batch);
        }

        // Decided 10 s after each trace's first span; wait (bounded) until every trace is whole somewhere.
        const where = new Map<string, { a: string[]; b: string[] }>();
        await pollFor(
            "every trace stored whole in one of the two Jaegers",
            async () => {
                for (const t of sent) {
                    const prev = where.get(t.traceId);
                    if (prev && (prev.a.length === t.spanIds.length || prev.b.length === t.spanIds.length)) continue;
                    where.set(t.traceId, { a: await storedSpans(jaegerA, t.traceId), b: await storedSpans(jaegerB, t.traceId) });
                }
                return sent.every((t) => {
                    const w = where.get(t.traceId)!;
                    return w.a.length === t.spanIds.length || w.b.length === t.spanIds.length;
                })
                    ? true
                    : undefined;
            },
            60,
            1000,
        ).catch((e) => {
            const incomplete = sent.filter((t) => {
                const w = where.get(t.traceId)!;
                return w.a.length !== t.spanIds.length && w.b.length !== t.spanIds.length;
            });
            throw new Error(`${(e as Error).message}: ${incomplete.length} of ${sent.length} traces not whole, e.g. ${JSON.stringify(incomplete.slice(0, 3).map((t) => ({ ...t, ...where.get(t.traceId) })))}\n${reg.logs(10)}`);
        });
        // A last look once every trace was seen whole: a stray span of it must not be in the other Jaeger.
        for (const t of sent) where.set(t.traceId, { a: await storedSpans(jaegerA, t.traceId), b: await storedSpans(jaegerB, t.traceId) });

        const expected = (t: SentTrace) => [...t.spanIds].sort();
        const owner = (t: SentTrace) => (where.get(t.traceId)!.a.length ? "a" : "b");
        const split = sent.filter((t) => {
            const w = where.get(t.traceId)!;
            return !((w.a.length === 0 && JSON.stringify(w.b) === JSON.stringify(expected(t))) || (w.b.length === 0 && JSON.stringify(w.a) === JSON.stringify(expected(t))));
        });
        const owned = { a: sent.filter((t) => owner(t) === "a").length, b: sent.filter((t) => owner(t) === "b").length };
        const rootElsewhere = sent.filter((t) => owner(t) !== t.rootTo).length;
        process.stdout.write(
            `trace-id routing: ${sent.length} traces of ${CHILDREN + 1} spans, roots sent to A and B alternately, children through the agent; ` +
                `owned by gateway A ${owned.a}, B ${owned.b}; ${rootElsewhere} rerouted from the replica their root reached; ${split.length} split\n`,
        );
        expect(split.map((t) => ({ traceId: t.traceId, ...where.get(t.traceId) }))).toEqual([]);
        expect(owned.a).toBeGreaterThan(0);
        expect(owned.b).toBeGreaterThan(0);
        // Roots that reached the replica not owning their trace were forwarded to the owner.
        expect(rootElsewhere).toBeGreaterThan(0);
    });
});
