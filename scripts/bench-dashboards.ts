/**
 * Dashboard load cost: what every panel of every dashboard costs the Prometheus server when a
 * dashboard is opened over 6 hours of realistic history, with the generated recording rules and
 * with the same panels written against the raw series.
 *
 *     npm run bench -- dashboards
 *     npx ts-node --transpile-only scripts/bench-dashboards.ts [--hours 6] [--reps 3] [--width 1200] [--fresh]
 *
 * 1. History: a synthetic cluster (test/support/synthetic-exporter.ts) of 20 services × 25 routes ×
 *    4 methods × 6 status codes, 2–3 pods each, with their latency and payload histograms,
 *    WebSocket, provider, cache and database families, cAdvisor and kube-state-metrics series,
 *    and node_exporter, redis_exporter, postgres_exporter and blackbox probe stand-ins: well over
 *    100,000 active series, sampled every 15 s (the prod scrape interval) with the labels the
 *    generated scrape jobs give them, written as OpenMetrics one hour at a time and turned into
 *    blocks by `promtool tsdb create-blocks-from openmetrics`.
 * 2. The prod stack's generated recording rules, backfilled over the same range at the prod
 *    evaluation interval with `promtool tsdb create-blocks-from rules` (a Prometheus over the raw
 *    blocks answers promtool; rules reading other rules go in later passes).
 * 3. A Prometheus with its default query limits (2 m timeout, 50,000,000 samples) over all the
 *    blocks, once its background compactions (which merge raw and recorded blocks, as a running
 *    server's are) have settled.
 * 4. Every panel query as Grafana sends it with the dashboards' default variables (All): a range
 *    query over the 6 h ending at the history's end, step for a 1,200 px wide panel (Grafana's
 *    interval: 6 h / 1,200 = 18 s rounded to 20 s, at least the 15 s scrape interval;
 *    `$__rate_interval` = max(step + scrape, 4 × scrape) = 60 s), instant queries at the end;
 *    each with `stats=all`, 3 repetitions, with recording rules and without, interleaved.
 *
 * Reported per dashboard: the sum of the queries' median server time (`execTotalTime`, and
 * `evalTotalTime`), the peak samples of its heaviest query and the samples it loads in total,
 * both ways, the speed-up, and the targets (under 1 s with rules; at least 5× faster). Then the
 * costliest queries with rules, and the panels that read raw series only, to show where the time
 * goes. A missed target is reported, not an error; a failed setup exits non-zero.
 *
 * The backfilled blocks are cached under the system temp dir by what they are made of (the
 * world, the window length, the rule files), so a second run only starts Prometheus and queries;
 * `--fresh` rebuilds them. Every process is stopped at the end, also on error or Ctrl-C.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stackRuleFiles } from "../alerts";
import { allPanelQueries, dashboardConfigOf, dashboardVariables, DASHBOARDS } from "../dashboards";
import type { PanelQuery } from "../dashboards";
import { ProcessRegistry } from "../test/support/processes";
import { prodStackConfig } from "../test/support/local-alerting";
import {
    HistoryTarget, httpProbeSeries, nodeExporterSeries, postgresExporterSeries, redisExporterSeries, SyntheticWorld, WorldServiceSpec, writeOpenMetricsHistory,
} from "../test/support/synthetic-exporter";
import {
    alignedRange, backfillRecordingRules, blocksFromOpenMetrics, grafanaStep, linkBlocks, panelExpr, promQuery, startStoragePrometheus, testTool, waitForCompactionsToSettle,
} from "../test/support/dashboard-data";

const TARGET_SECONDS = 1;
const TARGET_SPEEDUP = 5;
/** Extra raw history before the measured range, so 5m rule windows are full at its start. */
const LEAD_SECONDS = 900;

interface Args {
    readonly hours: number;
    readonly reps: number;
    readonly width: number;
    readonly fresh: boolean;
}

function parseArgs(argv: readonly string[]): Args {
    const get = (name: string, def: number) => {
        const i = argv.indexOf(`--${name}`);
        if (i < 0) return def;
        const v = Number(argv[i + 1]);
        if (!(v > 0)) throw new Error(`--${name} needs a positive number, got ${argv[i + 1]}`);
        return v;
    };
    return { hours: get("hours", 6), reps: get("reps", 3), width: get("width", 1200), fresh: argv.includes("--fresh") };
}

const seconds = (d: string) => {
    const m = /^(\d+)(s|m|h)$/.exec(d);
    if (!m) throw new Error(`unsupported duration ${d}`);
    return Number(m[1]) * { s: 1, m: 60, h: 3600 }[m[2] as "s" | "m" | "h"];
};

// ---------------------------------------------------------------------------------------------
// The benchmark's world

const SERVICE_NAMES = [
    "checkout", "cart", "catalog", "search", "recommendations", "payments", "orders", "inventory", "shipping", "pricing",
    "accounts", "auth", "notifications", "reviews", "wishlist", "assistant", "chat", "media", "analytics", "gateway",
];
const NAMESPACES = ["shop", "catalog", "customer", "edge"];
const METHODS = ["GET", "POST", "PUT", "DELETE"];
const STATUSES = ["200", "201", "400", "404", "500", "503"];
const NODES = Array.from({ length: 6 }, (_, i) => `node-${i + 1}`);
const PROVIDERS = [
    { provider: "openai", models: ["gpt-4o", "gpt-4o-mini"] },
    { provider: "anthropic", models: ["claude-sonnet-4", "claude-haiku-4"] },
    { provider: "cohere", models: ["embed-english-v3"] },
];

function benchServices(): WorldServiceSpec[] {
    return SERVICE_NAMES.map((name, i) => ({
        name,
        namespace: NAMESPACES[i % NAMESPACES.length]!,
        replicas: i % 3 === 0 ? 3 : 2,
        routes: Array.from({ length: 25 }, (_, r) => METHODS.map((method) => ({ method, route: r % 2 ? `/api/v1/${name}/res${r >> 1}/{id}` : `/api/v1/${name}/res${r >> 1}` }))).flat(),
        statuses: STATUSES,
        requestRate: 100 + 15 * i,
        errorRatio: name === "payments" ? 0.02 : 0.004,
        latencySeconds: 0.02 + 0.01 * (i % 5),
        websocket: i % 4 === 0,
        providers: i % 3 === 1 ? PROVIDERS.slice(0, 1 + (i % 3)) : [],
        caches: i % 2 ? ["main"] : ["main", "sessions"],
        databases: [i % 5 === 0 ? "orders" : "shop"],
    }));
}

/** The scrape targets of the world with the labels the generated jobs give their series. */
function benchTargets(world: SyntheticWorld, monitoringNs: string, agentsNs: string): HistoryTarget[] {
    const nodeIndex = (n: string) => NODES.indexOf(n) + 1;
    const targets: HistoryTarget[] = world.pods.map((p, i) => ({
        series: world.applicationSeries(p),
        labels: { job: "kubernetes-pods", instance: `10.42.${nodeIndex(p.node)}.${10 + i}:8080`, namespace: p.namespace, pod: p.pod, container: p.container, node: p.node, service: p.service },
    }));
    for (const node of NODES) {
        const n = nodeIndex(node);
        targets.push({ series: world.cadvisorSeries(node), labels: { job: "cadvisor", instance: `10.0.0.${n}:10250`, node, service: "kubelet" } });
        targets.push({
            series: nodeExporterSeries(node),
            labels: { job: "node-exporter", instance: `10.0.0.${n}:9100`, namespace: agentsNs, pod: `node-exporter-${crypto.createHash("sha1").update(node).digest("hex").slice(0, 5)}`, container: "node-exporter", node, service: "node-exporter" },
        });
    }
    targets.push({
        series: world.kubeStateSeries(),
        labels: { job: "kube-state-metrics", instance: "10.42.1.2:8080", namespace: monitoringNs, pod: "kube-state-metrics-6d4b7c9f8-q7x2m", container: "kube-state-metrics", node: NODES[0]!, service: "kube-state-metrics" },
        honorLabels: true,
    });
    for (const i of [0, 1]) targets.push({ series: redisExporterSeries(), labels: { job: "redis", instance: `redis-exporter-${i}.data:9121`, service: "redis", namespace: "data" } });
    targets.push({ series: postgresExporterSeries(["shop", "orders"]), labels: { job: "postgres", instance: "postgres-exporter.data:9187", service: "postgres", namespace: "data" } });
    for (const [i, s] of benchServices().entries()) {
        const tls = i % 4 === 0;
        const target = `${tls ? "https" : "http"}://${s.name}.${s.namespace}.svc:${tls ? 8443 : 8080}/health`;
        targets.push({ series: httpProbeSeries(tls), labels: { job: "service-probes", instance: target, target, module: "http_2xx", service: s.name, namespace: s.namespace, probe_severity: "critical", probe_team: "backend" } });
    }
    return targets;
}

// ---------------------------------------------------------------------------------------------
// Cached blocks

interface Manifest {
    readonly key: string;
    readonly start: number;
    readonly end: number;
    readonly series: number;
    readonly samples: number;
    readonly seconds: number;
}

const CACHE_ROOT = path.join(os.tmpdir(), "obs-bench-dashboards");
const hash = (x: unknown) => crypto.createHash("sha256").update(JSON.stringify(x)).digest("hex").slice(0, 16);

function readManifest(dir: string): Manifest | undefined {
    try {
        return JSON.parse(fs.readFileSync(path.join(dir, "manifest.json"), "utf8")) as Manifest;
    } catch {
        return undefined;
    }
}

/** Removes cache entries of `kind` other than `keep`. */
function pruneCache(kind: string, keep: string): void {
    if (!fs.existsSync(CACHE_ROOT)) return;
    for (const d of fs.readdirSync(CACHE_ROOT)) if (d.startsWith(`${kind}-`) && d !== keep) fs.rmSync(path.join(CACHE_ROOT, d), { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------
// Measurements

interface Measure {
    readonly execSeconds: number;
    readonly evalSeconds: number;
    readonly peakSamples: number;
    readonly totalSamples: number;
    readonly series: number;
    readonly error?: string;
}

function median(xs: readonly number[]): number {
    const s = [...xs].sort((a, b) => a - b);
    const m = Math.floor(s.length / 2);
    return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function medianMeasure(ms: readonly Measure[]): Measure {
    const failed = ms.find((m) => m.error);
    return {
        execSeconds: median(ms.map((m) => m.execSeconds)),
        evalSeconds: median(ms.map((m) => m.evalSeconds)),
        peakSamples: median(ms.map((m) => m.peakSamples)),
        totalSamples: median(ms.map((m) => m.totalSamples)),
        series: median(ms.map((m) => m.series)),
        ...(failed ? { error: failed.error } : {}),
    };
}

const fmtS = (s: number) => (s >= 10 ? s.toFixed(1) : s.toFixed(3));
const fmtN = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(0)}k` : String(Math.round(n)));
const pad = (s: string, n: number) => (s.length >= n ? s : s + " ".repeat(n - s.length));
const lpad = (s: string, n: number) => (s.length >= n ? s : " ".repeat(n - s.length) + s);

// ---------------------------------------------------------------------------------------------

export async function main(argv: readonly string[]): Promise<number> {
    const args = parseArgs(argv);
    const started = Date.now();
    const phase = (what: string, since: number) => console.log(`${what} in ${((Date.now() - since) / 1000).toFixed(1)} s`);
    const cfg = prodStackConfig();
    const bin = { prometheus: testTool("prometheus"), promtool: testTool("promtool") };
    const scrape = seconds(cfg.prometheus.scrapeInterval);
    const evalInterval = cfg.prometheus.evaluationInterval;
    const dashCfg = dashboardConfigOf(cfg);
    const ruleFiles = stackRuleFiles(cfg);
    const services = benchServices();

    const runDir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-dashboards-"));
    const registry = new ProcessRegistry(runDir);
    let interrupted = false;
    const onSignal = () => {
        interrupted = true;
        registry.stopAll().finally(() => process.exit(130));
    };
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    try {
        fs.mkdirSync(CACHE_ROOT, { recursive: true });
        // --- 1. Raw history (cached by world, window and scrape interval).
        const rawKey = `raw-${hash({ v: 1, services, nodes: NODES, hours: args.hours, scrape, lead: LEAD_SECONDS })}`;
        const rawDir = path.join(CACHE_ROOT, rawKey);
        let raw = args.fresh ? undefined : readManifest(rawDir);
        if (!raw) {
            fs.rmSync(rawDir, { recursive: true, force: true });
            fs.mkdirSync(path.join(rawDir, "blocks"), { recursive: true });
            const end = Math.floor(Date.now() / 1000 / 7200) * 7200;
            const start = end - args.hours * 3600;
            const world = new SyntheticWorld({ services, nodes: NODES, originSeconds: start - 86400 });
            const targets = benchTargets(world, cfg.namespaces.monitoring, cfg.namespaces.agents);
            const seriesCount = targets.reduce((n, t) => n + t.series.length, 0);
            console.log(`history: ${seriesCount} series every ${scrape} s over ${args.hours} h (+${LEAD_SECONDS / 60} min lead), ${world.pods.length} pods of ${services.length} services`);
            const t0 = Date.now();
            let samples = 0;
            let pending: Promise<void> | undefined;
            // One hour per OpenMetrics file: promtool turns one into blocks while the next is written.
            for (let from = start - LEAD_SECONDS; from < end; ) {
                const to = Math.min(end, (Math.floor(from / 3600) + 1) * 3600);
                const file = path.join(runDir, `history-${from}.om`);
                const w = writeOpenMetricsHistory(file, targets, { fromSeconds: from, toSeconds: to - scrape, stepSeconds: scrape, originSeconds: world.originSeconds });
                samples += w.samples;
                if (pending) await pending;
                process.stdout.write(`  ${new Date(from * 1000).toISOString()} .. ${new Date(to * 1000).toISOString()}: ${fmtN(w.samples)} samples written, ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
                pending = blocksFromOpenMetrics(bin.promtool, file, path.join(rawDir, "blocks")).then(() => fs.rmSync(file));
                from = to;
            }
            await pending;
            raw = { key: rawKey, start, end, series: seriesCount, samples, seconds: (Date.now() - t0) / 1000 };
            fs.writeFileSync(path.join(rawDir, "manifest.json"), JSON.stringify(raw));
            phase(`raw history: ${fmtN(samples)} samples into blocks`, t0);
            pruneCache("raw", rawKey);
        } else {
            console.log(`raw history: cached (${raw.series} series, ${fmtN(raw.samples)} samples, built in ${raw.seconds.toFixed(0)} s): ${rawDir}`);
        }

        // --- 2. Recording rules (cached by the raw blocks and the rule files).
        const rulesKey = `rules-${hash({ v: 1, raw: rawKey, ruleFiles, evalInterval })}`;
        const rulesDir = path.join(CACHE_ROOT, rulesKey);
        let rules = args.fresh ? undefined : readManifest(rulesDir);
        if (!rules) {
            fs.rmSync(rulesDir, { recursive: true, force: true });
            fs.mkdirSync(path.join(rulesDir, "blocks"), { recursive: true });
            const t0 = Date.now();
            const work = path.join(runDir, "rules-backfill");
            const data = path.join(work, "data");
            fs.mkdirSync(data, { recursive: true });
            linkBlocks(path.join(rawDir, "blocks"), data);
            console.log(`recording rules: backfilling over ${args.hours} h at ${evalInterval} (groups with their own interval keep it)`);
            await backfillRecordingRules({
                prometheus: bin.prometheus, promtool: bin.promtool, dataDir: data, workDir: work, registry, ruleFiles,
                start: raw.start - LEAD_SECONDS + 300, end: raw.end, evalInterval, log: (l) => console.log(l), collectDir: path.join(rulesDir, "blocks"),
            });
            rules = { key: rulesKey, start: raw.start, end: raw.end, series: 0, samples: 0, seconds: (Date.now() - t0) / 1000 };
            fs.writeFileSync(path.join(rulesDir, "manifest.json"), JSON.stringify(rules));
            fs.rmSync(work, { recursive: true, force: true });
            phase("recording rules backfilled", t0);
            pruneCache("rules", rulesKey);
        } else {
            console.log(`recording rules: cached (built in ${rules.seconds.toFixed(0)} s): ${rulesDir}`);
        }

        // --- 3. The server under test: every block, prod query limits, compactions settled.
        const data = path.join(runDir, "data");
        fs.mkdirSync(data);
        const blocks = linkBlocks(path.join(rawDir, "blocks"), data) + linkBlocks(path.join(rulesDir, "blocks"), data);
        let t0 = Date.now();
        const { url } = await startStoragePrometheus(registry, { name: "prometheus-bench", prometheus: bin.prometheus, dataDir: data, workDir: runDir, queryTimeout: "2m", maxSamples: 50_000_000 });
        console.log(`prometheus over ${blocks} blocks: waiting for its compactions to settle (a cycle a minute)`);
        const settled = await waitForCompactionsToSettle(url, data);
        phase(`compactions settled (${settled.compactions} compactions, ${settled.blocks} blocks loaded)`, t0);
        const head = await promQuery(url, `count({__name__=~".+"})`, { time: raw.end - 60 });
        const active = Number(head.data?.result?.[0]?.value?.[1] ?? 0);
        console.log(`series with a sample in the 5 minutes before the end: ${active}`);

        // --- 4. Every panel query, as Grafana sends it.
        const queries = allPanelQueries(dashCfg);
        const values = Object.fromEntries(dashboardVariables(dashCfg).filter((v) => v.type === "query").map((v) => [v.name, v.allValue ?? ".*"]));
        const timing = grafanaStep(args.hours * 3600, args.width, scrape);
        const range = alignedRange(raw.end, timing);
        const stepped = queries.filter((q) => q.minInterval || q.minIntervalWithoutRecordingRules);
        console.log(
            `queries: ${queries.length} panel queries × 2 variants × ${args.reps} repetitions; range ${args.hours} h, step ${timing.stepSeconds} s ` +
                `($__rate_interval ${Math.max(timing.stepSeconds + scrape, 4 * scrape)} s), variables All` +
                (stepped.length ? `; ${stepped.length} queries with a minimum interval (rules at a coarser resolution) step by it` : ""),
        );
        t0 = Date.now();
        const runs = new Map<string, { rules: Measure[]; raw: Measure[] }>();
        const keyOf = (q: PanelQuery) => `${q.dashboardUid}/${q.panelId}/${q.refId}`;
        for (let rep = 0; rep < args.reps && !interrupted; rep++) {
            for (const q of queries) {
                const entry = runs.get(keyOf(q)) ?? { rules: [], raw: [] };
                runs.set(keyOf(q), entry);
                for (const variant of ["rules", "raw"] as const) {
                    // A query that failed (timeout, sample limit) fails again: its result is the failure.
                    if (entry[variant].some((m) => m.error)) continue;
                    const t = grafanaStep(args.hours * 3600, args.width, scrape, variant === "rules" ? q.minInterval : q.minIntervalWithoutRecordingRules);
                    const expr = panelExpr({ ...q, expr: variant === "rules" ? q.expr : q.exprWithoutRecordingRules }, values, t);
                    const wall = Date.now();
                    const r = await promQuery(url, expr, q.instant ? { time: range.end } : alignedRange(raw.end, t), { stats: true, timeoutMs: 5 * 60_000 }).catch((e: Error) => ({ status: "error", error: e.message, data: undefined }));
                    const stats = r.data?.stats;
                    entry[variant].push(
                        r.status === "success" && stats
                            ? { execSeconds: stats.timings.execTotalTime, evalSeconds: stats.timings.evalTotalTime, peakSamples: stats.samples.peakSamples, totalSamples: stats.samples.totalQueryableSamples, series: r.data!.result.length }
                            : { execSeconds: (Date.now() - wall) / 1000, evalSeconds: 0, peakSamples: 0, totalSamples: 0, series: 0, error: r.error ?? r.status },
                    );
                }
            }
            phase(`  repetition ${rep + 1}/${args.reps}`, t0);
        }

        // --- Report.
        const med = new Map([...runs].map(([k, v]) => [k, { rules: medianMeasure(v.rules), raw: medianMeasure(v.raw) }]));
        console.log(
            `\nDashboard load cost over ${args.hours} h (${raw.series} series at ${scrape} s; median of ${args.reps} per query, a failed query is not repeated; ` +
                `server time = Σ execTotalTime, eval = Σ evalTotalTime, peak = the heaviest query's peakSamples, samples = Σ totalQueryableSamples; ` +
                `raw-only = queries no recording rule serves)\n`,
        );
        const header = `${pad("dashboard", 22)}${lpad("queries", 8)}${lpad("raw-only", 9)} │${lpad("server s", 10)}${lpad("eval s", 9)}${lpad("peak", 8)}${lpad("samples", 9)} │${lpad("server s", 10)}${lpad("eval s", 9)}${lpad("peak", 8)}${lpad("samples", 9)} │${lpad("speed-up", 9)}  targets`;
        console.log(`${" ".repeat(39)} │${pad("  with recording rules", 36)} │${pad("  without (raw series)", 36)} │`);
        console.log(header);
        console.log("─".repeat(header.length + 8));
        const missed: string[] = [];
        for (const d of DASHBOARDS) {
            const qs = queries.filter((q) => q.dashboardUid === d.uid);
            const m = qs.map((q) => med.get(keyOf(q))!);
            const sum = (f: (x: Measure) => number, v: "rules" | "raw") => m.reduce((a, x) => a + f(x[v]), 0);
            const max = (f: (x: Measure) => number, v: "rules" | "raw") => Math.max(0, ...m.map((x) => f(x[v])));
            const withRules = sum((x) => x.execSeconds, "rules");
            const without = sum((x) => x.execSeconds, "raw");
            const speedup = without / withRules;
            const errors = m.filter((x) => x.rules.error || x.raw.error).length;
            // A failed raw query counts with the time it ran before failing: the raw total is a lower bound.
            const atLeast = m.some((x) => x.raw.error) ? "≥" : "";
            const okTime = withRules < TARGET_SECONDS;
            const okSpeed = speedup >= TARGET_SPEEDUP;
            if (!okTime) missed.push(`${d.uid}: ${fmtS(withRules)} s with recording rules (target < ${TARGET_SECONDS} s)`);
            if (!okSpeed) missed.push(`${d.uid}: ${speedup.toFixed(1)}× faster than without recording rules (target ≥ ${TARGET_SPEEDUP}×)`);
            const rawOnly = qs.filter((q) => q.expr === q.exprWithoutRecordingRules).length;
            console.log(
                `${pad(d.uid, 22)}${lpad(String(qs.length), 8)}${lpad(String(rawOnly), 9)} │${lpad(fmtS(withRules), 10)}${lpad(fmtS(sum((x) => x.evalSeconds, "rules")), 9)}${lpad(fmtN(max((x) => x.peakSamples, "rules")), 8)}${lpad(fmtN(sum((x) => x.totalSamples, "rules")), 9)} │` +
                    `${lpad(atLeast + fmtS(without), 10)}${lpad(fmtS(sum((x) => x.evalSeconds, "raw")), 9)}${lpad(fmtN(max((x) => x.peakSamples, "raw")), 8)}${lpad(fmtN(sum((x) => x.totalSamples, "raw")), 9)} │` +
                    `${lpad(`${atLeast}${speedup.toFixed(1)}×`, 9)}  ${okTime ? "<1s ok" : "<1s MISSED"}, ${okSpeed ? "≥5× ok" : "≥5× MISSED"}${errors ? `, ${errors} queries failed` : ""}`,
            );
        }

        const rows = queries.map((q) => ({ q, ...med.get(keyOf(q))! }));
        console.log(`\nWhere the time with recording rules goes (raw-only = panels no recording rule serves):`);
        for (const d of DASHBOARDS) {
            const mine = rows.filter((x) => x.q.dashboardUid === d.uid);
            const total = mine.reduce((a, x) => a + x.rules.execSeconds, 0);
            const rawOnly = mine.filter((x) => x.q.expr === x.q.exprWithoutRecordingRules);
            const rawTime = rawOnly.reduce((a, x) => a + x.rules.execSeconds, 0);
            const top = [...rawOnly].sort((a, b) => b.rules.execSeconds - a.rules.execSeconds).slice(0, 4).map((x) => `${x.q.panelTitle} ${x.q.refId} ${fmtS(x.rules.execSeconds)} s`);
            console.log(`  ${pad(d.uid, 20)} raw-only ${rawOnly.length}/${mine.length} queries: ${fmtS(rawTime)} of ${fmtS(total)} s (${total ? Math.round((100 * rawTime) / total) : 0}%)${top.length ? `; costliest: ${top.join(", ")}` : ""}`);
        }
        const resultsFile = path.join(CACHE_ROOT, "last-results.json");
        fs.writeFileSync(resultsFile, JSON.stringify({ args, range, step: timing.stepSeconds, series: raw.series, rows: rows.map((x) => ({ dashboard: x.q.dashboardUid, panel: x.q.panelTitle, refId: x.q.refId, instant: x.q.instant, expr: x.q.expr, raw: x.q.exprWithoutRecordingRules, withRules: x.rules, withoutRules: x.raw })) }, null, 1));
        console.log(`per-query medians: ${resultsFile}`);
        console.log(`\nCostliest queries with recording rules (median server time; "raw" = the panel reads raw series either way):`);
        for (const x of [...rows].sort((a, b) => b.rules.execSeconds - a.rules.execSeconds).slice(0, 12)) {
            const same = x.q.expr === x.q.exprWithoutRecordingRules;
            console.log(`  ${lpad(fmtS(x.rules.execSeconds), 7)} s ${lpad(fmtN(x.rules.totalSamples), 7)} samples  ${x.q.dashboardUid} / ${x.q.panelTitle} ${x.q.refId}${same ? " [raw]" : ""}${x.rules.error ? ` FAILED: ${x.rules.error}` : ""}`);
            console.log(`           ${x.q.expr.replace(/\s+/g, " ").slice(0, 220)}`);
        }
        const failed = rows.filter((x) => x.rules.error || x.raw.error);
        if (failed.length) {
            console.log(`\nFailed queries:`);
            for (const x of failed) console.log(`  ${x.q.dashboardUid} / ${x.q.panelTitle} ${x.q.refId}: ${x.rules.error ? `with rules: ${x.rules.error} ` : ""}${x.raw.error ? `raw: ${x.raw.error}` : ""}`);
        }
        const empty = rows.filter((x) => !x.rules.error && x.rules.series === 0);
        if (empty.length) console.log(`\nPanels without data in the benchmark (cost measured on no series): ${empty.map((x) => `${x.q.dashboardUid} / ${x.q.panelTitle} ${x.q.refId}`).join("; ")}`);
        console.log(`\nTargets: every dashboard under ${TARGET_SECONDS} s of server time with recording rules, and at least ${TARGET_SPEEDUP}× faster than without: ${missed.length ? "NOT met" : "met"}`);
        for (const m of missed) console.log(`  - ${m}`);
        phase(`\ndashboards benchmark done`, started);
        return 0;
    } finally {
        process.removeListener("SIGINT", onSignal);
        process.removeListener("SIGTERM", onSignal);
        await registry.stopAll();
        if (process.env.KEEP_BENCH_TMP !== "1") fs.rmSync(runDir, { recursive: true, force: true });
    }
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => process.exit(code),
        (e) => {
            console.error(e);
            process.exit(2);
        },
    );
}
