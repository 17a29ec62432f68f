/**
 * A burst beyond the gateway's memory limit, live on 127.0.0.1: the rendered prod gateway config
 * (trace-id routing to itself, redaction, tail sampling holding every trace for its decision_wait,
 * real Jaeger behind it) receives OTLP/HTTP trace requests, 16 at a time and without backing
 * off, until it has refused a thousand of them. memory_limiter refuses data (the sender gets
 * HTTP 503 "data refused due to high memory usage", which OTLP senders retry; the collector's
 * otelcol_receiver_refused_spans_total rises, the counter the OtelCollectorRefusingData alert reads)
 * instead of the process growing until the kernel kills it: the resident memory stays under the
 * rendered container memory limit, and once the burst is over the gateway accepts data again.
 *
 * What differs from the pod, and why:
 * - Addresses, as in every live telemetry test (localizeCollector).
 * - How the limit is given. The rendered processor sets `limit_percentage: 80` and
 *   `spike_limit_percentage: 25` of the container's memory limit, which the collector reads from
 *   its cgroup. A test process has no cgroup limit of its own (the percentages would apply to the
 *   machine's memory), so the test's copy gives the processor the same fractions of the rendered
 *   container limit as `limit_mib`/`spike_limit_mib`: the thresholds the processor computes from
 *   the percentages in the pod; `check_interval` and every other setting are kept. The process
 *   gets the pod's own `GOMEMLIMIT` (80 % of the limit).
 * - Memory is read from /proc/<pid>/status (VmRSS sampled every 100 ms, and VmHWM, the kernel's
 *   own peak): the resident memory the container's accounting would count.
 *
 * The limit is the rendered one (1 GiB), not a smaller stand-in: the headroom above the
 * processor's thresholds is a fraction of the limit, while what arrives within one check_interval
 * depends on the sender. Scaled down to 256 MiB (204/64 MiB thresholds) the same burst took the
 * process to 261 MiB within a check interval; at 512 MiB it peaked at 463 MiB.
 */
import * as fs from "fs";
import * as path from "path";
import { goMemLimit } from "../../components/otel-collector";
import { parseQuantity } from "../../config/resolve";
import { render } from "../security/support";
import { freePorts, makeTempDir, ProcessRegistry } from "../support/processes";
import { procStatusBytes, sendBurst, watchRss } from "../support/otlp-burst";
import { readYamlFile, writeYamlFile } from "../support/telemetry";
import { pollFor, request, startCollector, startCountingSink, startJaeger, startLogSink } from "../support/telemetry-live";

jest.setTimeout(600_000);

const MiB = 1024 ** 2;
/** Traces of 5 spans with a 1 KiB attribute each: about 560 KiB of protobuf per request. */
const SHAPE = { traces: 100, spansPerTrace: 5, attributeBytes: 1024, service: "burst-client" };
const CONCURRENCY = 16;
/** The burst goes on until this many requests were refused, or at most {@link MAX_REQUESTS}. */
const REFUSALS = 1000;
const MAX_REQUESTS = 8000;

const reg = new ProcessRegistry(makeTempDir("telemetry-memory"));
afterAll(async () => {
    await reg.stopAll();
    if (process.env.KEEP_E2E_TMP !== "1") fs.rmSync(reg.logDir, { recursive: true, force: true });
});

/**
 * Counters of the collector's own Prometheus metrics for one receiver (the applications' `otlp`,
 * not the `otlp/loadbalanced` the gateway routes traces to itself through), summed over the
 * other labels.
 */
async function receiverCounters(port: number, receiver: string, names: readonly string[]): Promise<Record<string, number>> {
    const r = await request("GET", `http://127.0.0.1:${port}/metrics`);
    const out: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]));
    for (const line of r.body.split("\n")) {
        const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\} (\S+)$/.exec(line);
        if (m && m[1]! in out && m[2]!.split(",").includes(`receiver="${receiver}"`)) out[m[1]!] += Number(m[3]);
    }
    return out;
}

describe("a burst beyond the gateway's memory limit", () => {
    const prod = render("prod");
    const files = path.join(prod.dir, "files");

    it("is refused by memory_limiter while the gateway's resident memory stays under its container limit, and the gateway recovers", async () => {
        // The rendered pod: its memory limit and the GOMEMLIMIT derived from it.
        const deployment = prod.objects.find((o) => o.kind === "Deployment" && o.metadata?.name === "otel-collector-gateway") as any;
        const container = deployment.spec.template.spec.containers[0];
        const limitBytes = parseQuantity(container.resources.limits.memory);
        const gomemlimit = container.env.find((e: { name: string }) => e.name === "GOMEMLIMIT")?.value;
        expect(gomemlimit).toBe(`${Math.floor((limitBytes * 0.8) / MiB)}MiB`);
        expect(gomemlimit).toBe(goMemLimit(container.resources));

        // The rendered processor, first in every pipeline; its percentages of that limit in MiB.
        const config = readYamlFile(path.join(files, "otel-collector", "gateway.yaml"));
        expect(config.processors.memory_limiter).toEqual({ check_interval: "1s", limit_percentage: 80, spike_limit_percentage: 25 });
        for (const p of Object.values<any>(config.service.pipelines)) expect(p.processors[0]).toBe("memory_limiter");
        const { limit_percentage: pct, spike_limit_percentage: spikePct, ...rest } = config.processors.memory_limiter;
        const limitMib = Math.floor((limitBytes * pct) / 100 / MiB);
        const spikeMib = Math.floor((limitBytes * spikePct) / 100 / MiB);
        config.processors.memory_limiter = { ...rest, limit_mib: limitMib, spike_limit_mib: spikeMib };
        const file = path.join(reg.logDir, "gateway-limits-in-mib.yaml");
        writeYamlFile(file, config);

        const jaeger = await startJaeger(reg, path.join(files, "jaeger", "config.yaml"), reg.logDir);
        const [logPort, rw1, rw2] = await freePorts(3);
        const logs = await startLogSink(logPort!);
        reg.onStop(logs.close);
        const remoteWrite = [await startCountingSink(rw1!), await startCountingSink(rw2!)];
        for (const s of remoteWrite) reg.onStop(s.close);
        const [otlpGrpc, otlpHttp, loadbalanced, health, metrics] = await freePorts(5);
        const gateway = await startCollector(
            reg,
            "gateway",
            file,
            reg.logDir,
            { jaeger: `127.0.0.1:${jaeger.otlpGrpc}`, remoteWrite: remoteWrite.map((s) => s.url), logs: logs.url, loadbalancedTargets: [`127.0.0.1:${loadbalanced}`] },
            { otlpGrpc: otlpGrpc!, otlpHttp: otlpHttp!, loadbalanced: loadbalanced!, health: health!, metrics: metrics! },
            { GOMEMLIMIT: gomemlimit },
        );
        const pid = gateway.proc.pid!;
        const otlp = `http://127.0.0.1:${gateway.otlpHttp}`;
        const idle = procStatusBytes(pid, "VmRSS");

        const names = ["otelcol_receiver_accepted_spans_total", "otelcol_receiver_refused_spans_total"];
        const before = await receiverCounters(gateway.metrics, "otlp", names);
        const watch = watchRss(pid, 100);
        const burst = await sendBurst(otlp, SHAPE, MAX_REQUESTS, CONCURRENCY, { stopAfterRefusals: REFUSALS });
        const { peak, samples } = watch.stop();
        expect(gateway.proc.running).toBe(true);
        const hwm = procStatusBytes(pid, "VmHWM");
        const after = await receiverCounters(gateway.metrics, "otlp", names);
        const refusedByCollector = after.otelcol_receiver_refused_spans_total! - before.otelcol_receiver_refused_spans_total!;
        const acceptedByCollector = after.otelcol_receiver_accepted_spans_total! - before.otelcol_receiver_accepted_spans_total!;
        process.stdout.write(
            `memory_limiter burst: ${burst.sent} requests (${(burst.bytes / MiB).toFixed(0)} MiB of protobuf, ${burst.sent * SHAPE.traces * SHAPE.spansPerTrace} spans), ` +
                `answers ${JSON.stringify(burst.statuses)}, ${burst.errors} without answer; gateway accepted ${acceptedByCollector} spans and refused ${refusedByCollector}; ` +
                `RSS idle ${(idle / MiB).toFixed(0)} MiB, peak ${(peak / MiB).toFixed(0)} MiB (${samples} samples), VmHWM ${(hwm / MiB).toFixed(0)} MiB; ` +
                `container limit ${(limitBytes / MiB).toFixed(0)} MiB, memory_limiter ${limitMib}/${spikeMib} MiB, GOMEMLIMIT ${gomemlimit}\n`,
        );

        // Refused, not lost silently: the sender was told, and the collector counted it.
        expect(burst.statuses[503]).toBeGreaterThanOrEqual(REFUSALS - CONCURRENCY);
        expect(burst.firstRefusal?.body).toContain("data refused due to high memory usage");
        expect(burst.errors).toBe(0);
        expect(refusedByCollector).toBe(burst.refusedSpans);
        expect(acceptedByCollector).toBe(burst.acceptedSpans);
        expect(burst.acceptedSpans).toBeGreaterThan(0);
        // Under the limit at which the kernel would kill the container.
        expect(hwm).toBeLessThan(limitBytes);
        expect(peak).toBeLessThan(limitBytes);

        // Over: the gateway takes data again once its memory is back under the limit.
        const small = { traces: 1, spansPerTrace: 2, attributeBytes: 16, service: "after-burst" };
        await pollFor("the gateway accepting spans again", async () => ((await sendBurst(otlp, small, 1, 1)).statuses[200] === 1 ? true : undefined), 120, 500);
        expect(gateway.proc.running).toBe(true);
    });
});
