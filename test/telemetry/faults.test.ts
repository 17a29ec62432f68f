/**
 * Faults on the live path (rendered prod configs on 127.0.0.1, see pipeline-live.test.ts): the
 * gateway is stopped for 30 s while the client keeps sending; once it is back, the agent's
 * sending queue (5,000 batches, retries for up to 5 minutes) delivers what it held, so every
 * span sent during the outage reaches Jaeger. Error traces are used so tail sampling keeps
 * every one of them and a missing span can only mean a loss.
 */
import * as fs from "fs";
import * as path from "path";
import { makeTempDir, ProcessRegistry, sleep } from "../support/processes";
import { render } from "../security/support";
import { getJson, pollFor, Pipeline, request, restartCollector, startPipeline } from "../support/telemetry-live";

jest.setTimeout(600_000);

const SERVICE = "orders-faults";
const OUTAGE_MS = 30_000;

const reg = new ProcessRegistry(makeTempDir("telemetry-faults"));
let p: Pipeline;

beforeAll(async () => {
    p = await startPipeline(reg, path.join(render("prod").dir, "files"), { SERVICE_NAME: SERVICE });
});
afterAll(async () => {
    await reg.stopAll();
    if (process.env.KEEP_E2E_TMP !== "1") fs.rmSync(reg.logDir, { recursive: true, force: true });
});

const get = async (route: string) => JSON.parse((await request("GET", `${p.client.url}${route}`)).body) as { traceId: string };
const flush = () => request("POST", `${p.client.url}/flush`);

describe("the gateway stopped for 30 s while the client keeps sending", () => {
    it("loses no span: the agent's queue delivers what it held once the gateway is back", async () => {
        const before = await get("/fail");
        await flush();
        await pollFor("a first trace through the whole path", async () => ((await request("GET", `${p.jaeger.query}/api/traces/${before.traceId}`)).status === 200 ? true : undefined), 120, 500);

        await p.gateway.proc.stop();
        expect(p.gateway.proc.running).toBe(false);
        const sent: string[] = [];
        const started = Date.now();
        while (Date.now() - started < OUTAGE_MS) {
            sent.push((await get("/fail")).traceId);
            await sleep(200);
        }
        await flush();
        p.gateway = await restartCollector(reg, p.gateway);
        const marker = await get("/fail");
        await flush();
        await pollFor("the marker trace sent after the outage", async () => ((await request("GET", `${p.jaeger.query}/api/traces/${marker.traceId}`)).status === 200 ? true : undefined), 240, 500);
        const stored = await pollFor("every trace sent during the outage", async () => {
            const t = await getJson(`${p.jaeger.query}/api/traces?service=${SERVICE}&operation=${encodeURIComponent("GET /fail")}&limit=5000&lookback=1h`);
            const ids = new Set((t.data as any[]).map((x) => x.traceID as string));
            return sent.every((id) => ids.has(id)) ? ids : undefined;
        }, 60, 1000).catch(async (e) => {
            const t = await getJson(`${p.jaeger.query}/api/traces?service=${SERVICE}&operation=${encodeURIComponent("GET /fail")}&limit=5000&lookback=1h`);
            const ids = new Set((t.data as any[]).map((x) => x.traceID as string));
            throw new Error(`${e.message}: ${sent.filter((id) => !ids.has(id)).length} of ${sent.length} missing\n${reg.logs(15)}`);
        });
        process.stdout.write(`gateway outage: ${sent.length} traces sent during ${OUTAGE_MS / 1000} s, all ${sent.filter((id) => stored.has(id)).length} delivered after restart\n`);
        expect(sent.length).toBeGreaterThan(50);
        expect(sent.filter((id) => !stored.has(id))).toEqual([]);
    });
});
