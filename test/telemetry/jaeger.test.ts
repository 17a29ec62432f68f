/**
 * The rendered Jaeger v2 configs against the real Jaeger we build (`.tools/bin/jaeger`, v2.12.0,
 * see scripts/build-go-tools.js): `jaeger validate` accepts the dev (memory), prod (Badger) and
 * Elasticsearch configs and rejects a broken one; the dev and prod configs run for real on
 * 127.0.0.1 (listening addresses and the Badger folders rewired, nothing else), store a trace
 * sent over OTLP and return it, parent/child link intact, through the query API Grafana reads.
 */
import * as fs from "fs";
import * as path from "path";
import { IMAGES, versionOf } from "../../components/kube/images";
import { makeTempDir, ProcessRegistry } from "../support/processes";
import { readYamlFile, runTool, writeYamlFile } from "../support/telemetry";
import { getJson, pollFor, postTwoSpanTrace, startJaeger } from "../support/telemetry-live";
import { render, StackKey, STACK_KEYS } from "../security/support";

jest.setTimeout(240_000);

const configOf = (stack: StackKey) => path.join(render(stack).dir, "files", "jaeger", "config.yaml");

let tmp: string;
beforeAll(() => {
    tmp = makeTempDir("jaeger-test");
});
afterAll(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe("the Jaeger build", () => {
    it("is the release of the pinned image", () => {
        const r = runTool("jaeger", ["version"]);
        expect(r.status).toBe(0);
        // stdout is the JSON build info; stderr has a log line too.
        expect(/"gitVersion":"([^"]*)"/.exec(r.output)?.[1]).toBe(`v${versionOf(IMAGES.jaeger)}`);
    });
});

describe.each(STACK_KEYS)("the rendered %s Jaeger config", (stack) => {
    it("passes jaeger validate", () => {
        const r = runTool("jaeger", ["validate", `--config=file:${configOf(stack)}`]);
        expect({ status: r.status, output: r.output }).toEqual({ status: 0, output: expect.not.stringMatching(/error/i) });
    });
});

describe("jaeger validate rejects a broken config", () => {
    it("names a storage setting that does not decode", () => {
        const c = readYamlFile(configOf("prod"));
        c.extensions.jaeger_storage.backends.traces.badger.ttl.spans = "a week";
        const file = path.join(tmp, "broken.yaml");
        writeYamlFile(file, c);
        const r = runTool("jaeger", ["validate", `--config=file:${file}`]);
        expect(r.status).not.toBe(0);
        expect(r.output).toMatch(/jaeger_storage/);
    });
});

describe.each(["dev", "prod"] as const)("Jaeger with the rendered %s config, for real", (stack) => {
    const reg = new ProcessRegistry(makeTempDir(`jaeger-live-${stack}`));
    afterAll(async () => {
        await reg.stopAll();
        if (process.env.KEEP_E2E_TMP !== "1") fs.rmSync(reg.logDir, { recursive: true, force: true });
    });

    it("stores a trace sent over OTLP and returns it by service and operation, the child under its parent", async () => {
        const storage = readYamlFile(configOf(stack)).extensions.jaeger_storage.backends.traces;
        expect(Object.keys(storage)).toEqual([stack === "dev" ? "memory" : "badger"]);
        const j = await startJaeger(reg, configOf(stack), reg.logDir);
        const service = `jaeger-test-${stack}`;
        const sent = await postTwoSpanTrace(j.otlpHttp, service);
        const services = await pollFor("the service in Jaeger", async () => {
            const s = await getJson(`${j.query}/api/services`);
            return (s.data as string[]).includes(service) ? (s.data as string[]) : undefined;
        });
        expect(services).toContain(service);
        const traces = await pollFor("the trace in Jaeger", async () => {
            const t = await getJson(`${j.query}/api/traces?service=${service}&operation=${encodeURIComponent("GET /orders/:id")}&limit=10`);
            return t.data.length > 0 ? t.data : undefined;
        });
        expect(traces).toHaveLength(1);
        expect(traces[0].traceID).toBe(sent.traceId);
        const spans = Object.fromEntries((traces[0].spans as any[]).map((s) => [s.spanID, s]));
        expect(Object.keys(spans).sort()).toEqual([sent.parent, sent.child].sort());
        expect(spans[sent.child].references).toEqual([{ refType: "CHILD_OF", traceID: sent.traceId, spanID: sent.parent }]);
        expect(spans[sent.parent].references ?? []).toEqual([]);
    });
});
