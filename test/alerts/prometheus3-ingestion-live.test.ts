/**
 * What Prometheus 3 stores, read from the real Prometheus (with the generated prometheus.yml's
 * global section) rather than assumed:
 * - `le` and `quantile` values: a histogram and a summary it scrapes in the text format (`le="1"`
 *   as exposed) are stored normalized (`1.0`), the same histogram pushed to its OTLP endpoint keeps
 *   Go's plain form (`1`). The label values the SLO rules and the promtool fixtures use
 *   (telemetry/promql.ts scrapedBound, otlpBound, bucketMatcher) must be exactly these.
 * - metric names: a target able to expose UTF-8 names (`http.server.active_requests`) is asked
 *   for underscores, so its series carry the names the metric catalog reads.
 * - a static target that sends no Content-Type (Prometheus 3 fails such scrapes by default) is
 *   still scraped, as the text format.
 */
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import * as yaml from "js-yaml";
import { prometheusConfig } from "../../components/prometheus/config";
import { bucketMatcher, otlpBound, scrapedBound } from "../../telemetry";
import { freePorts, makeTempDir, ProcessRegistry } from "../support/processes";
import { getJson, pollFor, request } from "../support/telemetry-live";
import { toolPath } from "../support/tools";

/** Bounds across the forms: fractions, whole numbers, and both exponent ranges of `%g`. */
const BOUNDS = [0.00001, 0.0005, 0.5, 1, 2.5, 10, 100000, 1048576] as const;
/** How a Prometheus client library exposes them in the text format (Go's `%g`, or plain). */
const EXPOSED = ["1e-05", "0.0005", "0.5", "1", "2.5", "10", "100000", "1048576"] as const;
const QUANTILES = [0.5, 1] as const;

let tmp: string;
let registry: ProcessRegistry;
let promUrl: string;
let exporter: http.Server;
/** The Accept header of every scrape. */
const accepts: string[] = [];

function exposition(): string {
    const lines = ["# HELP demo_seconds A histogram exposed with plain bounds.", "# TYPE demo_seconds histogram"];
    EXPOSED.forEach((le, i) => lines.push(`demo_seconds_bucket{le="${le}"} ${i + 1}`));
    lines.push(`demo_seconds_bucket{le="+Inf"} ${EXPOSED.length + 1}`, `demo_seconds_sum 3`, `demo_seconds_count ${EXPOSED.length + 1}`);
    lines.push("# HELP demo_summary_seconds A summary exposed with plain quantiles.", "# TYPE demo_summary_seconds summary");
    lines.push(`demo_summary_seconds{quantile="0.5"} 0.2`, `demo_summary_seconds{quantile="1"} 0.9`, "demo_summary_seconds_sum 3", "demo_summary_seconds_count 9");
    return lines.join("\n") + "\n";
}

/**
 * A gauge named as OTel's semantic conventions name it, exposed the way client_golang does: with
 * its UTF-8 name when the scrape accepts `escaping=allow-utf-8`, escaped to underscores otherwise.
 */
function utf8Gauge(accept: string): { contentType: string; text: string } {
    const utf8 = /escaping=allow-utf-8/.test(accept);
    const name = "http.server.active_requests";
    return utf8
        ? { contentType: "text/plain; version=1.0.0; charset=utf-8; escaping=allow-utf-8", text: `# TYPE "${name}" gauge\n{"${name}"} 3\n` }
        : { contentType: "text/plain; version=0.0.4; charset=utf-8", text: `# TYPE ${name.replace(/\./g, "_")} gauge\n${name.replace(/\./g, "_")} 3\n` };
}

/** One cumulative OTLP histogram point with {@link BOUNDS}, as OTLP/HTTP JSON. */
function otlpHistogram(): string {
    const now = BigInt(Date.now()) * 1_000_000n;
    const point = {
        startTimeUnixNano: String(now - 60_000_000_000n),
        timeUnixNano: String(now),
        count: String(BOUNDS.length + 1),
        sum: 3,
        explicitBounds: [...BOUNDS],
        bucketCounts: Array.from({ length: BOUNDS.length + 1 }, () => "1"),
    };
    return JSON.stringify({
        resourceMetrics: [
            {
                resource: { attributes: [{ key: "service.name", value: { stringValue: "bounds-test" } }] },
                scopeMetrics: [{ metrics: [{ name: "demo_otlp", unit: "s", histogram: { aggregationTemporality: 2, dataPoints: [point] } }] }],
            },
        ],
    });
}

/** The values of `label` across the series `match` selects, sorted. */
async function labelValues(match: string, label: string): Promise<string[]> {
    const r = await getJson(`${promUrl}/api/v1/series?match[]=${encodeURIComponent(match)}`);
    return [...new Set((r.data as Record<string, string>[]).map((s) => s[label]!))].sort();
}

async function instant(expr: string): Promise<number | undefined> {
    const r = await getJson(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const v = (r.data.result as { value: [number, string] }[])[0]?.value[1];
    return v === undefined ? undefined : Number(v);
}

beforeAll(async () => {
    tmp = makeTempDir("bucket-bounds");
    registry = new ProcessRegistry(tmp);
    const [exporterPort, promPort] = await freePorts(2);
    exporter = http.createServer((req, res) => {
        if (req.url === "/metrics") {
            // No Content-Type header at all, as a hand-written exporter might answer.
            res.writeHead(200);
            res.end("# TYPE plain_requests_total counter\nplain_requests_total 42\n");
            return;
        }
        if (req.url === "/utf8") {
            const accept = String(req.headers.accept ?? "");
            accepts.push(accept);
            const g = utf8Gauge(accept);
            res.writeHead(200, { "Content-Type": g.contentType });
            res.end(g.text);
            return;
        }
        res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" });
        res.end(exposition());
    });
    await new Promise<void>((resolve) => exporter.listen(exporterPort, "127.0.0.1", resolve));
    registry.onStop(() => new Promise<void>((resolve) => exporter.close(() => resolve())));
    const cfg = path.join(tmp, "prometheus.yml");
    // The generated config's global section (name escaping, external labels), scraping the exporter.
    const generated = prometheusConfig({
        clusterName: "test",
        environment: "dev",
        scrapeInterval: "1s",
        evaluationInterval: "1s",
        alertmanagers: [],
        components: [],
        scrapeKubelet: false,
        staticJobs: [{ job: "plain", targets: [`127.0.0.1:${exporterPort}`], labels: {} }],
    });
    const target = { targets: [`127.0.0.1:${exporterPort}`] };
    const plainJob = (generated.scrape_configs as { job_name: string }[]).find((j) => j.job_name === "plain");
    const config = {
        global: generated.global,
        scrape_configs: [
            { job_name: "exposed", metrics_path: "/exposed", static_configs: [target] },
            { job_name: "utf8", metrics_path: "/utf8", static_configs: [target] },
            plainJob,
        ],
    };
    fs.writeFileSync(cfg, yaml.dump(config));
    promUrl = `http://127.0.0.1:${promPort}`;
    await registry.start({
        name: "prometheus",
        binary: toolPath("prometheus"),
        args: [`--config.file=${cfg}`, `--storage.tsdb.path=${path.join(tmp, "data")}`, `--web.listen-address=127.0.0.1:${promPort}`, "--web.enable-otlp-receiver"],
        readyUrl: `${promUrl}/-/ready`,
        readyTries: 240,
    });
    const posted = await request("POST", `${promUrl}/api/v1/otlp/v1/metrics`, { "Content-Type": "application/json" }, otlpHistogram());
    if (posted.status !== 200) throw new Error(`OTLP push: HTTP ${posted.status} ${posted.body}`);
    await pollFor("scraped and pushed bucket series", async () => ((await instant('count({__name__=~"demo_seconds_bucket|demo_otlp_seconds_bucket"})')) === 2 * (BOUNDS.length + 1) ? true : undefined), 120, 250);
    await pollFor("a scrape of the UTF-8 target", async () => ((await instant('up{job="utf8"}')) === 1 ? true : undefined), 120, 250);
    await pollFor("a scrape of the static target", async () => ((await instant('count(up{job="plain"})')) === 1 ? true : undefined), 120, 250);
}, 120_000);

afterAll(async () => {
    await registry?.stopAll();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe("Prometheus 3 with the generated global config, scraping a target that can expose UTF-8 names", () => {
    it("asks for names escaped to underscores", () => {
        expect(accepts.length).toBeGreaterThan(0);
        for (const a of accepts) expect(a).toMatch(/escaping=underscores/);
        expect(accepts.filter((a) => /allow-utf-8/.test(a))).toEqual([]);
    });

    it("stores the catalog's underscore name, never the dotted one", async () => {
        expect(await labelValues('{job="utf8",__name__!~"up|scrape_.*"}', "__name__")).toEqual(["http_server_active_requests"]);
        expect(await instant('count({"http.server.active_requests"})')).toBeUndefined();
    });
});

describe("Prometheus 3 with a generated static job, scraping a target that sends no Content-Type", () => {
    it("scrapes it as the text format", async () => {
        expect(await instant('up{job="plain"}')).toBe(1);
        expect(await instant('plain_requests_total{job="plain",service="plain"}')).toBe(42);
    });
});

describe("Prometheus 3 storing bucket bounds", () => {
    it("normalizes the le values it scrapes to the OpenMetrics float form (scrapedBound)", async () => {
        const stored = await labelValues("demo_seconds_bucket", "le");
        expect(stored).toEqual([...BOUNDS.map(scrapedBound), "+Inf"].sort());
        expect(stored).toContain("1.0");
        expect(stored).not.toContain("1");
    });

    it("normalizes the quantile values it scrapes the same way", async () => {
        expect(await labelValues("demo_summary_seconds", "quantile")).toEqual(QUANTILES.map(scrapedBound).sort());
    });

    it("keeps the plain form in the le values it receives over OTLP (otlpBound)", async () => {
        const stored = await labelValues("demo_otlp_seconds_bucket", "le");
        expect(stored).toEqual([...BOUNDS.map(otlpBound), "+Inf"].sort());
        expect(stored).toContain("1");
    });

    it.each(BOUNDS)("selects bound %s in both forms with bucketMatcher, and only that bound", async (bound) => {
        const sel = `{__name__=~"demo_seconds_bucket|demo_otlp_seconds_bucket",${bucketMatcher(bound)}}`;
        expect(await labelValues(sel, "__name__")).toEqual(["demo_otlp_seconds_bucket", "demo_seconds_bucket"]);
        expect(await instant(`count(${sel})`)).toBe(2);
    });
});
