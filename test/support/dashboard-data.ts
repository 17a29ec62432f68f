/**
 * Running the dashboards' queries against a real Prometheus as Grafana would, over data made
 * locally: backfilled history (OpenMetrics → `promtool tsdb create-blocks-from openmetrics`, then
 * the generated recording rules → `promtool tsdb create-blocks-from rules`), Grafana's step and
 * `$__rate_interval` for a panel width, and its template variable resolution. Shared by
 * test/dashboards/live-panels.test.ts and scripts/bench-dashboards.ts.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import * as yaml from "js-yaml";
import { builtinVariables, substituteVariables } from "../../dashboards";
import type { DashboardVariable, PanelQuery } from "../../dashboards";
import { durationSeconds } from "../../config/resolve";
import { freePort, ProcessRegistry, REPO_ROOT, ManagedProcess, waitFor } from "./processes";

/** The one command that installs every binary these helpers run. */
export const FULL_INSTALL_COMMAND = "bash scripts/install-test-tools.sh --with-system-packages";

/** `path` if it is an executable file; throws naming the install command otherwise. */
export function requireBinary(p: string, what = path.basename(p)): string {
    try {
        fs.accessSync(p, fs.constants.X_OK);
    } catch {
        throw new Error(`${what} is missing: ${p} does not exist or is not executable.\nInstall the test tools from ${REPO_ROOT} with:\n    ${FULL_INSTALL_COMMAND}`);
    }
    return p;
}

/** `.tools/bin/<name>`, or a thrown error naming the install command. */
export function testTool(name: "prometheus" | "promtool" | "node_exporter" | "redis_exporter" | "postgres_exporter" | "blackbox_exporter"): string {
    return requireBinary(path.join(REPO_ROOT, ".tools", "bin", name), name);
}

/** Binaries of the newest PostgreSQL under /usr/lib/postgresql (Debian's layout). */
export function postgresBinaries(): { initdb: string; postgres: string } {
    const base = "/usr/lib/postgresql";
    const versions = fs.existsSync(base) ? fs.readdirSync(base).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
    const dir = path.join(base, versions[0] ?? "<version>", "bin");
    return { initdb: requireBinary(path.join(dir, "initdb"), "PostgreSQL initdb"), postgres: requireBinary(path.join(dir, "postgres"), "PostgreSQL postgres") };
}

// ---------------------------------------------------------------------------------------------
// Prometheus HTTP API

export interface ApiResult<T> {
    readonly status: string;
    readonly data: T;
    readonly error?: string;
    readonly warnings?: string[];
}

/** GET `url` (loopback), resolving with the parsed JSON body whatever the HTTP status. */
export function getJson<T>(url: string, timeoutMs = 30_000): Promise<ApiResult<T>> {
    return new Promise((resolve, reject) => {
        const req = http.get(url, { timeout: timeoutMs, agent: false }, (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () => {
                const body = Buffer.concat(chunks).toString("utf8");
                try {
                    resolve(JSON.parse(body) as ApiResult<T>);
                } catch {
                    reject(new Error(`GET ${url.slice(0, 200)}: HTTP ${res.statusCode}, not JSON: ${body.slice(0, 300)}`));
                }
            });
            res.on("error", reject);
        });
        req.on("timeout", () => req.destroy(new Error(`GET ${url.slice(0, 200)} timed out after ${timeoutMs} ms`)));
        req.on("error", reject);
    });
}

export interface SeriesResult {
    readonly metric: Record<string, string>;
    readonly value?: [number, string];
    readonly values?: [number, string][];
}

export interface QueryStats {
    readonly timings: { readonly evalTotalTime: number; readonly execTotalTime: number; readonly execQueueTime: number; readonly queryPreparationTime: number; readonly innerEvalTime: number; readonly resultSortTime: number };
    readonly samples: { readonly totalQueryableSamples: number; readonly peakSamples: number };
}

export interface QueryData {
    readonly resultType: "vector" | "matrix" | "scalar" | "string";
    readonly result: SeriesResult[];
    readonly stats?: QueryStats;
}

/** A range query (`step` set) or an instant query at `time`, optionally with `stats=all`. */
export async function promQuery(baseUrl: string, expr: string, at: { time: number } | { start: number; end: number; step: number }, opts: { stats?: boolean; timeoutMs?: number } = {}): Promise<ApiResult<QueryData>> {
    const params = new URLSearchParams({ query: expr });
    if ("time" in at) params.set("time", String(at.time));
    else {
        params.set("start", String(at.start));
        params.set("end", String(at.end));
        params.set("step", String(at.step));
    }
    if (opts.stats) params.set("stats", "all");
    return getJson<QueryData>(`${baseUrl}/api/v1/${"time" in at ? "query" : "query_range"}?${params}`, opts.timeoutMs ?? 60_000);
}

/** Throws unless the query succeeded. */
export function resultOf(r: ApiResult<QueryData>, expr: string): QueryData {
    if (r.status !== "success") throw new Error(`query failed (${r.error ?? r.status}): ${expr}`);
    return r.data;
}

/** Whether a result holds at least one series with at least one finite value. */
export function hasFiniteValue(d: QueryData): boolean {
    const finite = (v: string) => Number.isFinite(Number(v));
    return d.result.some((s) => (s.value ? finite(s.value[1]) : (s.values ?? []).some(([, v]) => finite(v))));
}

// ---------------------------------------------------------------------------------------------
// Grafana's query interval

/** Grafana's `roundInterval` (pkg/tsdb/intervalv2): a "nice" interval near `ms`. */
export function roundInterval(ms: number): number {
    const table: [number, number][] = [
        [10, 1], [15, 10], [35, 20], [75, 50], [150, 100], [350, 200], [750, 500], [1500, 1000], [3500, 2000], [7500, 5000],
        [12500, 10_000], [17500, 15_000], [25000, 20_000], [45000, 30_000], [90000, 60_000], [210000, 120_000], [450000, 300_000],
        [750000, 600_000], [1050000, 900_000], [1500000, 1_200_000], [2700000, 1_800_000], [5400000, 3_600_000], [9000000, 7_200_000],
        [16200000, 10_800_000], [24300000, 21_600_000], [64800000, 43_200_000], [129600000, 86_400_000],
    ];
    for (const [limit, value] of table) if (ms <= limit) return value;
    return 604_800_000;
}

export interface PanelTiming {
    /** Range of the dashboard in seconds. */
    readonly rangeSeconds: number;
    /** Query step (= `$__interval`) in seconds. */
    readonly stepSeconds: number;
    /** The datasource's scrape interval ("timeInterval"), Grafana's minimum step. */
    readonly scrapeIntervalSeconds: number;
}

/**
 * The step Grafana's Prometheus datasource uses for a panel `widthPx` wide (maxDataPoints = the
 * width): range / width rounded to a nice interval, at least the query's minimum interval
 * (`minInterval`, e.g. "1m") or else the scrape interval, and coarse enough for at most 11,000
 * points.
 */
export function grafanaStep(rangeSeconds: number, widthPx: number, scrapeIntervalSeconds: number, minInterval?: string): PanelTiming {
    const calculated = (rangeSeconds * 1000) / widthPx;
    const min = (minInterval === undefined ? scrapeIntervalSeconds : durationSeconds(minInterval)) * 1000;
    if (!(min > 0)) throw new Error(`minimum interval "${minInterval}": expected a duration like 1m`);
    const interval = calculated < min ? min : roundInterval(calculated);
    const safe = Math.ceil((rangeSeconds * 1000) / 11000);
    return { rangeSeconds, stepSeconds: Math.max(interval, safe) / 1000, scrapeIntervalSeconds };
}

/** Grafana aligns a range query's start and end to multiples of the step. */
export function alignedRange(endSeconds: number, t: PanelTiming): { start: number; end: number; step: number } {
    const end = Math.floor(endSeconds / t.stepSeconds) * t.stepSeconds;
    const start = Math.floor((endSeconds - t.rangeSeconds) / t.stepSeconds) * t.stepSeconds;
    return { start, end, step: t.stepSeconds };
}

/** A panel query with every variable substituted, ready to send. */
export function panelExpr(q: PanelQuery, values: Readonly<Record<string, string | readonly string[]>>, t: PanelTiming): string {
    const expr = substituteVariables(q.expr, { ...builtinVariables(t), ...values });
    return expr;
}

// ---------------------------------------------------------------------------------------------
// Template variables

/** `label_values(<selector>, <label>)` → its parts. */
export function parseLabelValues(query: string): { selector: string; label: string } {
    const m = /^label_values\(([\s\S]*),\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)$/.exec(query.trim());
    if (!m) throw new Error(`not a label_values() query: ${query}`);
    return { selector: m[1]!.trim(), label: m[2]! };
}

/** The options Grafana lists for a query variable: label values of the selector in the range. */
export async function variableOptions(baseUrl: string, v: DashboardVariable, values: Readonly<Record<string, string | readonly string[]>>, range: { start: number; end: number }): Promise<string[]> {
    const { selector, label } = parseLabelValues(v.query);
    const params = new URLSearchParams({ "match[]": substituteVariables(selector, values), start: String(range.start), end: String(range.end) });
    const r = await getJson<string[]>(`${baseUrl}/api/v1/label/${label}/values?${params}`);
    if (r.status !== "success") throw new Error(`variable ${v.dashboardUid}/$${v.name}: ${r.error}`);
    return [...r.data].sort();
}

/**
 * Resolves a dashboard's query variables in order (each listing its options with the earlier
 * ones substituted, as Grafana chains them) and picks a value for each: `choose` returns the
 * selected options, or "all" for Grafana's All (its allValue).
 */
export async function resolveVariables(
    baseUrl: string,
    vars: readonly DashboardVariable[],
    range: { start: number; end: number },
    choose: (v: DashboardVariable, options: readonly string[]) => readonly string[] | "all",
): Promise<{ values: Record<string, string | readonly string[]>; options: Record<string, string[]> }> {
    const values: Record<string, string | readonly string[]> = {};
    const options: Record<string, string[]> = {};
    for (const v of vars) {
        if (v.type !== "query") continue;
        const opts = await variableOptions(baseUrl, v, values, range);
        options[v.name] = opts;
        const picked = choose(v, opts);
        if (picked === "all") values[v.name] = v.allValue ?? ".*";
        else {
            const missing = picked.filter((p) => !opts.includes(p));
            if (missing.length) throw new Error(`variable ${v.dashboardUid}/$${v.name}: ${missing.join(", ")} not among its options [${opts.join(", ")}]`);
            values[v.name] = picked;
        }
    }
    return { values, options };
}

// ---------------------------------------------------------------------------------------------
// Backfill

/** A recording rule group as a rule file holds it. */
interface RuleGroupDoc {
    name: string;
    interval?: string;
    rules: { record?: string; alert?: string; expr: string; labels?: Record<string, string> }[];
}

/**
 * The recording rules of `files` (name → YAML) by dependency level: level 0 reads raw series
 * only, level n reads a series recorded at level n-1. `promtool tsdb create-blocks-from rules`
 * cannot see what it writes in the same run, so each level is backfilled after the one before
 * is visible. Alerting rules are left out. Each level is `file name → YAML` with the groups'
 * names and intervals kept.
 */
export function recordingRuleLevels(files: Readonly<Record<string, string>>): Record<string, string>[] {
    const groups: { file: string; group: RuleGroupDoc }[] = [];
    for (const [file, text] of Object.entries(files)) {
        const doc = yaml.load(text) as { groups?: RuleGroupDoc[] };
        for (const g of doc.groups ?? []) groups.push({ file, group: g });
    }
    const recorded = new Set(groups.flatMap(({ group }) => group.rules.filter((r) => r.record).map((r) => r.record!)));
    const deps = (expr: string) => [...recorded].filter((name) => new RegExp(`(^|[^A-Za-z0-9_:])${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}($|[^A-Za-z0-9_:])`).test(expr));
    const level = new Map<string, number>();
    const rules = groups.flatMap(({ group }) => group.rules.filter((r) => r.record));
    for (let pass = 0; pass <= rules.length; pass++) {
        let changed = false;
        for (const r of rules) {
            const l = Math.max(-1, ...deps(r.expr).map((d) => level.get(d) ?? 0)) + 1;
            if ((level.get(r.record!) ?? -1) < l) {
                level.set(r.record!, l);
                changed = true;
            }
        }
        if (!changed) break;
        if (pass === rules.length) throw new Error("recording rules depend on each other in a cycle");
    }
    const levelOf = (r: { record?: string; expr: string }) => Math.max(-1, ...deps(r.expr).map((d) => level.get(d) ?? 0)) + 1;
    const maxLevel = Math.max(0, ...rules.map(levelOf));
    const out: Record<string, string>[] = [];
    for (let l = 0; l <= maxLevel; l++) {
        const levelFiles: Record<string, string> = {};
        for (const { file, group } of groups) {
            const picked = group.rules.filter((r) => r.record && levelOf(r) === l);
            if (!picked.length) continue;
            const doc = { groups: [{ name: group.name, ...(group.interval ? { interval: group.interval } : {}), rules: picked }] };
            const existing = levelFiles[file];
            levelFiles[file] = existing ? `${existing}${yaml.dump(doc, { lineWidth: -1, noRefs: true }).replace(/^groups:\n/, "")}` : yaml.dump(doc, { lineWidth: -1, noRefs: true });
        }
        out.push(levelFiles);
    }
    return out;
}

/** Runs a command to completion (bounded), resolving with its output; rejects on a non-zero exit. */
export function runCommand(bin: string, args: readonly string[], opts: { timeoutMs: number; cwd?: string; logFile?: string }): Promise<{ stdout: string; stderr: string; ms: number }> {
    const started = Date.now();
    return new Promise((resolve, reject) => {
        const child = spawn(bin, [...args], { cwd: opts.cwd ?? REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (c: Buffer) => (stdout = (stdout + c.toString("utf8")).slice(-200_000)));
        child.stderr.on("data", (c: Buffer) => (stderr = (stderr + c.toString("utf8")).slice(-200_000)));
        const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs);
        child.on("error", (e) => {
            clearTimeout(timer);
            reject(e);
        });
        child.on("exit", (code, signal) => {
            clearTimeout(timer);
            if (opts.logFile) fs.appendFileSync(opts.logFile, `$ ${bin} ${args.join(" ")}\n${stdout}${stderr}\n`);
            if (code === 0) resolve({ stdout, stderr, ms: Date.now() - started });
            else reject(new Error(`${path.basename(bin)} ${args.join(" ").slice(0, 300)} exited ${code ?? signal} after ${Date.now() - started} ms:\n${(stderr || stdout).slice(-3000)}`));
        });
    });
}

/** `promtool tsdb create-blocks-from openmetrics <file> <dataDir>`. */
export async function blocksFromOpenMetrics(promtool: string, file: string, dataDir: string, timeoutMs = 30 * 60_000): Promise<number> {
    const r = await runCommand(promtool, ["tsdb", "create-blocks-from", "openmetrics", "--quiet", file, dataDir], { timeoutMs });
    return r.ms;
}

const BLOCK_DIR = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** Moves every block directory (ULID-named) from `from` into `to`. */
function moveBlocks(from: string, to: string): number {
    let n = 0;
    for (const e of fs.readdirSync(from, { withFileTypes: true })) {
        if (e.isDirectory() && BLOCK_DIR.test(e.name)) {
            fs.renameSync(path.join(from, e.name), path.join(to, e.name));
            n++;
        }
    }
    return n;
}

/**
 * Hard-links every block directory under `from` into `to`, file by file. Blocks are immutable
 * (compaction writes new ones and deletes old directories), so a Prometheus working on the links
 * never changes the originals.
 */
export function linkBlocks(from: string, to: string): number {
    let n = 0;
    const walk = (src: string, dst: string) => {
        fs.mkdirSync(dst, { recursive: true });
        for (const f of fs.readdirSync(src, { withFileTypes: true })) {
            if (f.isDirectory()) walk(path.join(src, f.name), path.join(dst, f.name));
            else fs.linkSync(path.join(src, f.name), path.join(dst, f.name));
        }
    };
    for (const e of fs.readdirSync(from, { withFileTypes: true })) {
        if (!e.isDirectory() || !BLOCK_DIR.test(e.name)) continue;
        walk(path.join(from, e.name), path.join(to, e.name));
        n++;
    }
    return n;
}

/**
 * Starts a Prometheus with no scrape jobs over `dataDir` (for backfilling and benchmarking).
 * Query limits default to generous ones for backfilling; a benchmark passes Prometheus' own
 * defaults (2m, 50,000,000 samples) to measure what a user would get.
 */
export async function startStoragePrometheus(
    registry: ProcessRegistry,
    o: { name: string; prometheus: string; dataDir: string; workDir: string; queryTimeout?: string; maxSamples?: number; extraArgs?: readonly string[] },
): Promise<{ proc: ManagedProcess; url: string }> {
    const port = await freePort();
    const cfg = path.join(o.workDir, `${o.name}.yml`);
    // Retention in the config file (Prometheus 3 deprecates the flag): keep every backfilled block.
    fs.writeFileSync(cfg, "global:\n  scrape_interval: 1m\nscrape_configs: []\nstorage:\n  tsdb:\n    retention:\n      time: 100y\n");
    const url = `http://127.0.0.1:${port}`;
    const proc = await registry.start({
        name: o.name,
        binary: o.prometheus,
        args: [
            `--config.file=${cfg}`,
            `--storage.tsdb.path=${o.dataDir}`,
            `--web.listen-address=127.0.0.1:${port}`,
            `--query.timeout=${o.queryTimeout ?? "30m"}`,
            `--query.max-samples=${o.maxSamples ?? 500_000_000}`,
            ...(o.extraArgs ?? []),
        ],
        readyUrl: `${url}/-/ready`,
        readyTries: 600,
        readyIntervalMs: 250,
    });
    return { proc, url };
}

export interface RuleBackfillOptions {
    readonly prometheus: string;
    readonly promtool: string;
    /** TSDB directory holding the raw blocks; the recorded blocks are moved into it. */
    readonly dataDir: string;
    /** Scratch directory (rule files per level, promtool output, configs). */
    readonly workDir: string;
    readonly registry: ProcessRegistry;
    /** Rule files as generated (`file name → YAML`); alerting rules are ignored. */
    readonly ruleFiles: Readonly<Record<string, string>>;
    /** Unix seconds. */
    readonly start: number;
    readonly end: number;
    /** Evaluation interval of groups without their own (`promtool --eval-interval`). */
    readonly evalInterval: string;
    /** @default 60 min per level */
    readonly timeoutMs?: number;
    /**
     * Also hard-link the recorded blocks here (the Prometheus answering promtool may compact
     * `dataDir` meanwhile, merging raw and recorded blocks).
     */
    readonly collectDir?: string;
    readonly log?: (line: string) => void;
}

/**
 * Backfills the recording rules over [start, end] level by level: a Prometheus over `dataDir`
 * answers promtool's queries, promtool writes the blocks, they move into `dataDir` and the next
 * level starts a fresh Prometheus that sees them. Returns milliseconds per level.
 */
export async function backfillRecordingRules(o: RuleBackfillOptions): Promise<{ level: number; rules: number; ms: number; blocks: number }[]> {
    const levels = recordingRuleLevels(o.ruleFiles);
    const report: { level: number; rules: number; ms: number; blocks: number }[] = [];
    for (const [i, files] of levels.entries()) {
        const started = Date.now();
        const dir = path.join(o.workDir, `rules-level-${i}`);
        const out = path.join(dir, "blocks");
        fs.mkdirSync(out, { recursive: true });
        const paths = Object.entries(files).map(([name, text]) => {
            const p = path.join(dir, name);
            fs.writeFileSync(p, text);
            return p;
        });
        const rules = Object.values(files).reduce((n, t) => n + (t.match(/^\s*- record:/gm)?.length ?? 0), 0);
        const { proc, url } = await startStoragePrometheus(o.registry, { name: `prometheus-backfill-${i}`, prometheus: o.prometheus, dataDir: o.dataDir, workDir: dir });
        try {
            await runCommand(
                o.promtool,
                ["tsdb", "create-blocks-from", "rules", "--quiet", `--url=${url}`, `--start=${o.start}`, `--end=${o.end}`, `--eval-interval=${o.evalInterval}`, `--output-dir=${out}`, ...paths],
                { timeoutMs: o.timeoutMs ?? 60 * 60_000, logFile: path.join(dir, "promtool.log") },
            );
        } finally {
            await proc.stop();
        }
        if (o.collectDir) linkBlocks(out, o.collectDir);
        const blocks = moveBlocks(out, o.dataDir);
        report.push({ level: i, rules, ms: Date.now() - started, blocks });
        o.log?.(`  rules level ${i}: ${rules} rules backfilled in ${((Date.now() - started) / 1000).toFixed(1)} s (${blocks} blocks)`);
    }
    return report;
}

/** Values of unlabelled metrics on a Prometheus' own /metrics endpoint (it does not scrape itself here). */
async function ownMetrics(url: string, names: readonly string[]): Promise<number[]> {
    const text = await new Promise<string>((resolve, reject) => {
        const req = http.get(`${url}/metrics`, { timeout: 10_000, agent: false }, (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
            res.on("error", reject);
        });
        req.on("timeout", () => req.destroy(new Error(`GET ${url}/metrics timed out`)));
        req.on("error", reject);
    });
    return names.map((n) => {
        const m = new RegExp(`^${n} (\\S+)$`, "m").exec(text);
        if (!m) throw new Error(`${url}/metrics has no ${n}`);
        return Number(m[1]);
    });
}

/**
 * Waits (bounded) until the TSDB's compactions are over: two compaction cycles (one a minute)
 * have passed without a new compaction or a change in the loaded blocks, and no block is being
 * written in `dataDir`. A Prometheus merges overlapping blocks (raw and recorded history) in the
 * background; timing queries while it does would measure the compaction.
 */
export async function waitForCompactionsToSettle(url: string, dataDir: string, opts: { tries?: number; intervalMs?: number } = {}): Promise<{ compactions: number; blocks: number }> {
    let state = "";
    let triggeredAtChange = -1;
    return waitFor(
        "TSDB compactions to settle",
        async () => {
            const [runs, blocks, triggered] = await ownMetrics(url, ["prometheus_tsdb_compactions_total", "prometheus_tsdb_blocks_loaded", "prometheus_tsdb_compactions_triggered_total"]);
            const writing = fs.readdirSync(dataDir).some((f) => f.includes(".tmp-"));
            if (`${runs}/${blocks}` !== state || writing || triggeredAtChange < 0) {
                state = `${runs}/${blocks}`;
                triggeredAtChange = triggered!;
                return undefined;
            }
            return triggered! >= triggeredAtChange + 2 ? { compactions: runs!, blocks: blocks! } : undefined;
        },
        opts.tries ?? 360,
        opts.intervalMs ?? 5000,
    );
}
