/**
 * A synthetic application for end-to-end tests: a Node http server on 127.0.0.1 serving
 * /metrics in the Prometheus text format with the TELEMETRY-CONTRACT API metrics. Counters
 * advance on each scrape by (configured request rate × seconds since the previous scrape); the
 * error ratio and latency of each service can be changed at run time, and /metrics can be made
 * to answer 503 or the server stopped, to drive `up == 0`.
 *
 * Built to grow: further metric families plug in as {@link MetricFamilySource}s via `addSource`.
 *
 * {@link SyntheticWorld} (below) models a whole cluster instead: every TELEMETRY-CONTRACT family
 * for many services, routes and providers, plus stand-ins for the cAdvisor and kube-state-metrics
 * series, as pure functions of time, served live by {@link SyntheticWorldServer} and written as
 * backfill history by {@link writeOpenMetricsHistory}.
 */
import * as fs from "fs";
import * as http from "http";
import type { AddressInfo } from "net";

/** Histogram buckets in seconds; the contract requires 0.1, 0.25, 0.5, 1 and 2.5. */
export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

export interface SyntheticRoute {
    readonly method: string;
    readonly route: string;
}

export interface SyntheticService {
    readonly name: string;
    /** @default [{GET /api/items}, {POST /api/orders}] */
    readonly routes?: readonly SyntheticRoute[];
    /** Requests per second across all routes. @default 20 */
    readonly requestRate?: number;
    /** Share of requests answered 5xx (0..1). @default 0 */
    readonly errorRatio?: number;
    /** Latency of every request in seconds. @default 0.05 */
    readonly latencySeconds?: number;
    /** @default 3 */
    readonly inFlight?: number;
    /** @default 42 */
    readonly activeUsers?: number;
}

export interface SyntheticExporterOptions {
    readonly services: readonly SyntheticService[];
    /**
     * Emit the `service` label on application series as the contract lists it. Prometheus keeps
     * the target's `service` (from relabeling); the generated jobs drop the scraped copy.
     * @default true
     */
    readonly serviceLabel?: boolean;
    /** @default 0 (a free port) */
    readonly port?: number;
}

/** Extra metric families; returns exposition text (HELP/TYPE lines included). */
export type MetricFamilySource = (elapsedSeconds: number) => string;

interface ServiceState {
    name: string;
    routes: SyntheticRoute[];
    requestRate: number;
    errorRatio: number;
    latency: number;
    inFlight: number;
    activeUsers: number;
    /** key `method|route|status` → count */
    requests: Map<string, number>;
    /** key `method|route` → {buckets, sum, count} */
    durations: Map<string, { buckets: number[]; sum: number; count: number }>;
}

function escapeLabel(v: string): string {
    return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function labels(l: Record<string, string>): string {
    const parts = Object.entries(l).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
    return parts.length ? `{${parts.join(",")}}` : "";
}

export class SyntheticExporter {
    private readonly server: http.Server;
    private readonly services = new Map<string, ServiceState>();
    private readonly sources: MetricFamilySource[] = [];
    private readonly serviceLabel: boolean;
    private lastScrape = Date.now();
    private mode: "ok" | "unavailable" = "ok";
    private listening = false;
    /** Number of /metrics requests served (any status). */
    scrapes = 0;

    constructor(private readonly opts: SyntheticExporterOptions) {
        this.serviceLabel = opts.serviceLabel ?? true;
        for (const s of opts.services) {
            this.services.set(s.name, {
                name: s.name,
                routes: [...(s.routes ?? [{ method: "GET", route: "/api/items" }, { method: "POST", route: "/api/orders" }])],
                requestRate: s.requestRate ?? 20,
                errorRatio: s.errorRatio ?? 0,
                latency: s.latencySeconds ?? 0.05,
                inFlight: s.inFlight ?? 3,
                activeUsers: s.activeUsers ?? 42,
                requests: new Map(),
                durations: new Map(),
            });
        }
        this.server = http.createServer((req, res) => this.handle(req, res));
    }

    /** Starts listening on 127.0.0.1; resolves with the port. */
    async start(): Promise<number> {
        await new Promise<void>((resolve, reject) => {
            this.server.once("error", reject);
            this.server.listen(this.opts.port ?? 0, "127.0.0.1", () => resolve());
        });
        this.listening = true;
        this.lastScrape = Date.now();
        return this.port;
    }

    get port(): number {
        return (this.server.address() as AddressInfo).port;
    }

    get address(): string {
        return `127.0.0.1:${this.port}`;
    }

    async stop(): Promise<void> {
        if (!this.listening) return;
        this.listening = false;
        this.server.closeAllConnections();
        await new Promise<void>((resolve) => this.server.close(() => resolve()));
    }

    /** `unavailable`: /metrics answers 503 (the target goes `up == 0`). */
    setMode(mode: "ok" | "unavailable"): void {
        this.mode = mode;
    }

    setErrorRatio(service: string, ratio: number): void {
        if (!(ratio >= 0 && ratio <= 1)) throw new Error(`error ratio must be within 0..1, got ${ratio}`);
        this.state(service).errorRatio = ratio;
    }

    setLatency(service: string, seconds: number): void {
        if (!(seconds >= 0)) throw new Error(`latency must be >= 0, got ${seconds}`);
        this.state(service).latency = seconds;
    }

    setRequestRate(service: string, perSecond: number): void {
        this.state(service).requestRate = perSecond;
    }

    addSource(source: MetricFamilySource): void {
        this.sources.push(source);
    }

    private state(service: string): ServiceState {
        const s = this.services.get(service);
        if (!s) throw new Error(`synthetic exporter has no service "${service}" (has: ${[...this.services.keys()].join(", ")})`);
        return s;
    }

    private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
        if (req.url === undefined || !req.url.startsWith("/metrics")) {
            res.writeHead(404).end("not found\n");
            return;
        }
        this.scrapes++;
        if (this.mode === "unavailable") {
            res.writeHead(503, { "Content-Type": "text/plain" }).end("unavailable\n");
            return;
        }
        const now = Date.now();
        const elapsed = Math.max(0, (now - this.lastScrape) / 1000);
        this.lastScrape = now;
        for (const s of this.services.values()) this.advance(s, elapsed);
        const body = this.render() + this.sources.map((src) => src(elapsed)).join("");
        res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" }).end(body);
    }

    private advance(s: ServiceState, elapsed: number): void {
        const total = s.requestRate * elapsed;
        const perRoute = total / s.routes.length;
        for (const r of s.routes) {
            const errors = perRoute * s.errorRatio;
            const ok = perRoute - errors;
            const add = (status: string, n: number) => {
                const key = `${r.method}|${r.route}|${status}`;
                s.requests.set(key, (s.requests.get(key) ?? 0) + n);
            };
            add("200", ok);
            add("500", errors);
            const dkey = `${r.method}|${r.route}`;
            const d = s.durations.get(dkey) ?? { buckets: DURATION_BUCKETS.map(() => 0), sum: 0, count: 0 };
            DURATION_BUCKETS.forEach((le, i) => {
                if (s.latency <= le) d.buckets[i]! += perRoute;
            });
            d.sum += perRoute * s.latency;
            d.count += perRoute;
            s.durations.set(dkey, d);
        }
    }

    private base(s: ServiceState): Record<string, string> {
        return this.serviceLabel ? { service: s.name } : {};
    }

    private render(): string {
        const out: string[] = [];
        out.push("# HELP http_requests_total HTTP requests served.", "# TYPE http_requests_total counter");
        for (const s of this.services.values()) {
            for (const [key, v] of s.requests) {
                const [method, route, status] = key.split("|") as [string, string, string];
                out.push(`http_requests_total${labels({ ...this.base(s), method, route, status })} ${v}`);
            }
        }
        out.push("# HELP http_request_duration_seconds HTTP request latency.", "# TYPE http_request_duration_seconds histogram");
        for (const s of this.services.values()) {
            for (const [key, d] of s.durations) {
                const [method, route] = key.split("|") as [string, string];
                const l = { ...this.base(s), method, route };
                DURATION_BUCKETS.forEach((le, i) => out.push(`http_request_duration_seconds_bucket${labels({ ...l, le: String(le) })} ${d.buckets[i]}`));
                out.push(`http_request_duration_seconds_bucket${labels({ ...l, le: "+Inf" })} ${d.count}`);
                out.push(`http_request_duration_seconds_sum${labels(l)} ${d.sum}`);
                out.push(`http_request_duration_seconds_count${labels(l)} ${d.count}`);
            }
        }
        out.push("# HELP http_requests_in_flight Requests being served.", "# TYPE http_requests_in_flight gauge");
        for (const s of this.services.values()) out.push(`http_requests_in_flight${labels(this.base(s))} ${s.inFlight}`);
        out.push("# HELP active_users Users active now.", "# TYPE active_users gauge");
        for (const s of this.services.values()) out.push(`active_users${labels(this.base(s))} ${s.activeUsers}`);
        return out.join("\n") + "\n";
    }
}

/** Creates and starts a synthetic exporter. */
export async function startSyntheticExporter(opts: SyntheticExporterOptions): Promise<SyntheticExporter> {
    const e = new SyntheticExporter(opts);
    await e.start();
    return e;
}

// =============================================================================================
// SyntheticWorld: the applications of a whole cluster, every TELEMETRY-CONTRACT metric, plus the
// infrastructure series a test machine cannot have (cAdvisor, kube-state-metrics) under their
// upstream names and labels. Every value is a pure function of time (a counter grows at a fixed
// rate from the world's origin, a gauge waves slowly around its mean), so one world serves live
// scrapes (SyntheticWorldServer) and writes backfill history (writeOpenMetricsHistory) that the
// live scrapes continue without a reset.

/** One series of the world. Histograms are their `_bucket`/`_sum`/`_count` counters. */
export interface WorldSeries {
    /** Series name (`http_request_duration_seconds_bucket`, ...). */
    readonly name: string;
    /** Metric family (a histogram's base name) and its type, for HELP/TYPE lines. */
    readonly family: string;
    readonly type: "counter" | "gauge" | "histogram";
    readonly help: string;
    /** Labels as the exporter exposes them (before the scrape job's target labels). */
    readonly labels: Readonly<Record<string, string>>;
    /** Counters: increase per second. */
    readonly slope: number;
    /** Gauges: the mean value. */
    readonly base: number;
    /** Gauges: relative amplitude of a 30-minute wave around `base` (0..1). */
    readonly wave: number;
    /** Phase of the wave in radians (from the series identity, so series differ). */
    readonly phase: number;
    /** Whole numbers only (restarts, connections): counters round down, gauges round. */
    readonly integer: boolean;
}

const WAVE_PERIOD_SECONDS = 1800;

/** Value of `s` at `tSeconds` (Unix seconds); counters are 0 at `originSeconds`. */
export function seriesValue(s: WorldSeries, tSeconds: number, originSeconds: number): number {
    const dt = Math.max(0, tSeconds - originSeconds);
    if (s.type !== "gauge") {
        const v = s.slope * dt;
        return s.integer ? Math.floor(v) : v;
    }
    const v = s.base * (1 + s.wave * Math.sin((2 * Math.PI * dt) / WAVE_PERIOD_SECONDS + s.phase));
    return s.integer ? Math.round(v) : v;
}

/** Sample value as text: 6 decimals at most (monotone, so counters never go down). */
export function formatSample(v: number): string {
    return String(Math.round(v * 1e6) / 1e6);
}

function fnv(text: string): number {
    let h = 0x811c9dc5;
    for (let i = 0; i < text.length; i++) {
        h ^= text.charCodeAt(i);
        h = Math.imul(h, 0x01000193) >>> 0;
    }
    return h >>> 0;
}

const ALNUM = "bcdfghjklmnpqrstvwxz2456789";
/** `n` characters of Kubernetes-style random suffix, deterministic in `seed`. */
function suffix(seed: string, n: number): string {
    let h = fnv(seed);
    let out = "";
    for (let i = 0; i < n; i++) {
        out += ALNUM[h % ALNUM.length];
        h = Math.imul(h ^ (h >>> 13), 0x5bd1e995) >>> 0;
        if (h === 0) h = fnv(`${seed}${i}`);
    }
    return out;
}

/** Standard normal CDF (Abramowitz-Stegun 7.1.26, |error| < 1.5e-7). */
function normalCdf(z: number): number {
    const x = Math.abs(z) / Math.SQRT2;
    const t = 1 / (1 + 0.3275911 * x);
    const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
    return z >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

/** Share of log-normally distributed observations (median `median`, shape `sigma`) at most `le`. */
function lognormalCdf(le: number, median: number, sigma: number): number {
    return normalCdf(Math.log(le / median) / sigma);
}

/** Request payload size buckets in bytes. */
export const SIZE_BUCKETS = [128, 512, 1024, 4096, 16384, 65536, 262144, 1048576] as const;
/** WebSocket message size buckets in bytes. */
export const MESSAGE_SIZE_BUCKETS = [64, 256, 1024, 4096, 16384, 65536] as const;
/** WebSocket connection lifetime buckets in seconds. */
export const CONNECTION_DURATION_BUCKETS = [1, 5, 30, 60, 300, 900, 1800, 3600] as const;
/** Provider call latency buckets in seconds. */
export const PROVIDER_DURATION_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] as const;
/** Database query latency buckets in seconds. */
export const QUERY_DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] as const;

export interface WorldProvider {
    readonly provider: string;
    readonly models: readonly string[];
}

/** A service (one Deployment) of the world and the contract metric families it emits. */
export interface WorldServiceSpec {
    readonly name: string;
    readonly namespace: string;
    /** Pods of the Deployment. @default 1 */
    readonly replicas?: number;
    readonly routes: readonly SyntheticRoute[];
    /** Status codes every route answers with. @default ["200", "500"] */
    readonly statuses?: readonly string[];
    /** Requests per second over all pods and routes. @default 20 */
    readonly requestRate?: number;
    /** Share of requests answered 5xx (spread over the 5xx `statuses`). @default 0.01 */
    readonly errorRatio?: number;
    /** Median request latency in seconds (routes vary around it). @default 0.05 */
    readonly latencySeconds?: number;
    /** @default 40 */
    readonly activeUsers?: number;
    /** Emits the WebSocket families. */
    readonly websocket?: boolean;
    /** External (LLM) providers called, with their models. */
    readonly providers?: readonly WorldProvider[];
    /** Application caches (`cache` label). */
    readonly caches?: readonly string[];
    /** Databases the service's pool connects to (`db` label). */
    readonly databases?: readonly string[];
}

export interface SyntheticWorldOptions {
    readonly services: readonly WorldServiceSpec[];
    /** Nodes the pods are spread over, round robin. @default ["node-a"] */
    readonly nodes?: readonly string[];
    /** Unix seconds at which every counter is 0 (the pods' start). */
    readonly originSeconds: number;
}

/** A pod of the world, named as its Deployment's ReplicaSet names it (`<service>-<hash>-<suffix>`). */
export interface WorldPod {
    readonly namespace: string;
    readonly service: string;
    readonly pod: string;
    readonly container: string;
    readonly node: string;
    readonly uid: string;
    readonly containerId: string;
    readonly spec: WorldServiceSpec;
    /** Index among the Deployment's pods. */
    readonly replica: number;
}

type Labels = Readonly<Record<string, string>>;

/** Collects the series of one exporter. */
class SeriesBuilder {
    readonly out: WorldSeries[] = [];

    counter(family: string, help: string, labels: Labels, slope: number, integer = false, name = family): void {
        this.out.push({ name, family, type: "counter", help, labels, slope, base: 0, wave: 0, phase: 0, integer });
    }

    gauge(family: string, help: string, labels: Labels, base: number, wave = 0.1, integer = false): void {
        const phase = (fnv(`${family}${JSON.stringify(labels)}`) % 6283) / 1000;
        this.out.push({ name: family, family, type: "gauge", help, labels, slope: 0, base, wave, phase, integer });
    }

    /** A classic histogram of log-normal observations arriving at `rate` per second. */
    histogram(family: string, help: string, labels: Labels, buckets: readonly number[], rate: number, median: number, sigma: number): void {
        const h = (name: string, l: Labels, slope: number) => this.out.push({ name, family, type: "histogram", help, labels: l, slope, base: 0, wave: 0, phase: 0, integer: false });
        for (const le of buckets) h(`${family}_bucket`, { ...labels, le: String(le) }, rate * lognormalCdf(le, median, sigma));
        h(`${family}_bucket`, { ...labels, le: "+Inf" }, rate);
        h(`${family}_sum`, labels, rate * median * Math.exp((sigma * sigma) / 2));
        h(`${family}_count`, labels, rate);
    }
}

/** Zipf-like shares of `n` items (the first is the busiest). */
function shares(n: number): number[] {
    const w = Array.from({ length: n }, (_, i) => 1 / (1 + 0.4 * i));
    const total = w.reduce((a, b) => a + b, 0);
    return w.map((x) => x / total);
}

export class SyntheticWorld {
    readonly pods: readonly WorldPod[];
    readonly nodes: readonly string[];
    readonly originSeconds: number;
    private readonly appCache = new Map<string, WorldSeries[]>();

    constructor(readonly opts: SyntheticWorldOptions) {
        this.nodes = opts.nodes?.length ? [...opts.nodes] : ["node-a"];
        this.originSeconds = opts.originSeconds;
        const pods: WorldPod[] = [];
        const names = new Set<string>();
        for (const s of opts.services) {
            if (names.has(`${s.namespace}/${s.name}`)) throw new Error(`synthetic world: service ${s.namespace}/${s.name} is listed twice`);
            names.add(`${s.namespace}/${s.name}`);
            const rs = suffix(`rs/${s.namespace}/${s.name}`, 9);
            for (let i = 0; i < (s.replicas ?? 1); i++) {
                const pod = `${s.name}-${rs}-${suffix(`pod/${s.namespace}/${s.name}/${i}`, 5)}`;
                const h = fnv(pod).toString(16).padStart(8, "0");
                pods.push({
                    namespace: s.namespace,
                    service: s.name,
                    pod,
                    container: s.name,
                    node: this.nodes[pods.length % this.nodes.length]!,
                    uid: `${h}-${h.slice(0, 4)}-4${h.slice(1, 4)}-8${h.slice(4, 7)}-${h}${h.slice(0, 4)}`,
                    containerId: `${h}${fnv(`${pod}/c`).toString(16).padStart(8, "0")}`.repeat(4),
                    spec: s,
                    replica: i,
                });
            }
        }
        this.pods = pods;
    }

    /** Every TELEMETRY-CONTRACT application series one pod exposes (with `service`, as the contract asks). */
    applicationSeries(pod: WorldPod): WorldSeries[] {
        const cached = this.appCache.get(pod.pod);
        if (cached) return cached;
        const s = pod.spec;
        const replicas = s.replicas ?? 1;
        const b = new SeriesBuilder();
        const svc = { service: s.name };
        const rate = (s.requestRate ?? 20) / replicas;
        const errorRatio = s.errorRatio ?? 0.01;
        const latency = s.latencySeconds ?? 0.05;
        const statuses = s.statuses ?? ["200", "500"];
        const errors = statuses.filter((c) => c.startsWith("5"));
        const others = statuses.filter((c) => !c.startsWith("5"));
        const statusShare = (c: string): number => {
            if (c.startsWith("5")) return errorRatio / errors.length;
            const ok = errors.length ? 1 - errorRatio : 1;
            if (others.length === 1) return ok;
            return c === others[0] ? ok * 0.85 : (ok * 0.15) / (others.length - 1);
        };

        // --- API
        const routeShares = shares(s.routes.length);
        const bytesByRoute = new Map<string, number>();
        s.routes.forEach((r, i) => {
            const routeRate = rate * routeShares[i]!;
            for (const status of statuses) {
                b.counter("http_requests_total", "HTTP requests served.", { ...svc, method: r.method, route: r.route, status }, routeRate * statusShare(status));
            }
            b.histogram("http_request_duration_seconds", "HTTP request latency.", { ...svc, method: r.method, route: r.route }, DURATION_BUCKETS, routeRate, latency * (1 + 0.5 * (i % 4)), 0.6);
            bytesByRoute.set(r.route, (bytesByRoute.get(r.route) ?? 0) + routeRate);
        });
        [...bytesByRoute].forEach(([route, routeRate], i) => {
            b.histogram("http_request_size_bytes", "HTTP request payload size.", { ...svc, route }, SIZE_BUCKETS, routeRate, 600 * (1 + (i % 3)), 1.1);
        });
        b.gauge("http_requests_in_flight", "HTTP requests being served.", svc, Math.max(1, rate * latency * 4), 0.3, true);
        b.gauge("active_users", "Users active now.", svc, Math.max(1, (s.activeUsers ?? 40) / replicas), 0.2, true);

        // --- WebSocket
        if (s.websocket) {
            const opened = 2 / replicas;
            b.gauge("websocket_connections_active", "Open WebSocket connections.", svc, 150 / replicas, 0.2, true);
            b.counter("websocket_connections_total", "WebSocket connections opened.", svc, opened);
            const reasons: [string, number][] = [["normal", 0.6], ["going_away", 0.3], ["timeout", 0.07], ["error", 0.03]];
            for (const [reason, share] of reasons) b.counter("websocket_disconnections_total", "WebSocket disconnections by reason.", { ...svc, reason }, opened * share);
            const types: [string, number][] = [["text", 0.9], ["binary", 0.08], ["error", 0.02]];
            for (const [direction, perSecond, median] of [["sent", 40, 300], ["received", 25, 180]] as const) {
                for (const [type, share] of types) b.counter("websocket_messages_total", "WebSocket messages.", { ...svc, direction, type }, (perSecond / replicas) * share);
                b.histogram("websocket_message_size_bytes", "WebSocket message size.", { ...svc, direction }, MESSAGE_SIZE_BUCKETS, perSecond / replicas, median, 1.0);
            }
            b.histogram("websocket_connection_duration_seconds", "WebSocket connection lifetime.", svc, CONNECTION_DURATION_BUCKETS, opened, 240, 1.2);
        }

        // --- LLM / external providers
        for (const [pi, p] of (s.providers ?? []).entries()) {
            for (const [mi, model] of p.models.entries()) {
                const calls = (0.8 / replicas) / (1 + mi);
                const l = { ...svc, provider: p.provider, model };
                for (const [status, share] of [["success", 0.95], ["error", 0.03], ["rate_limited", 0.02]] as const) b.counter("llm_requests_total", "Provider requests.", { ...l, status }, calls * share);
                b.histogram("llm_request_duration_seconds", "Provider latency.", l, PROVIDER_DURATION_BUCKETS, calls, 1.2 * (1 + pi * 0.5 + mi * 0.3), 0.7);
                b.counter("llm_tokens_total", "Tokens used.", { ...l, type: "input" }, calls * 900);
                b.counter("llm_tokens_total", "Tokens used.", { ...l, type: "output" }, calls * 250);
                b.counter("llm_cost_usd_total", "Provider spend in USD.", l, calls * (900 * 2.5 + 250 * 10) * 1e-6);
            }
            b.gauge("llm_rate_limit_remaining", "Provider rate limit remaining.", { ...svc, provider: p.provider }, 400, 0.4, true);
        }

        // --- Cache and database
        for (const cache of s.caches ?? []) {
            const lookups = 30 / replicas;
            b.counter("cache_requests_total", "Cache lookups by result.", { ...svc, cache, result: "hit" }, lookups * 0.86);
            b.counter("cache_requests_total", "Cache lookups by result.", { ...svc, cache, result: "miss" }, lookups * 0.14);
            b.counter("cache_evictions_total", "Cache evictions.", { ...svc, cache }, 0.4 / replicas);
        }
        for (const db of s.databases ?? []) {
            for (const [op, share, factor] of [["select", 0.7, 1], ["insert", 0.15, 2], ["update", 0.1, 2.5], ["delete", 0.05, 3]] as const) {
                b.histogram("db_query_duration_seconds", "Database query latency.", { ...svc, db, operation: op }, QUERY_DURATION_BUCKETS, (25 / replicas) * share, 0.004 * factor, 0.8);
            }
            b.gauge("db_connections", "Database pool connections by state.", { ...svc, db, state: "active" }, 6, 0.4, true);
            b.gauge("db_connections", "Database pool connections by state.", { ...svc, db, state: "idle" }, 12, 0.2, true);
            b.gauge("db_connections_max", "Database pool size.", { ...svc, db }, 20, 0, true);
        }
        this.appCache.set(pod.pod, b.out);
        return b.out;
    }

    /**
     * What the kubelet's cAdvisor endpoint of `node` exposes (stand-in: no kubelet here): per pod
     * the application container and the pod cgroup (`container=""`, which carries the network
     * counters, as with containerd), plus the node's root and `/kubepods` cgroups.
     */
    cadvisorSeries(node: string): WorldSeries[] {
        const b = new SeriesBuilder();
        const root = (id: string) => ({ container: "", id, image: "", name: "", namespace: "", pod: "" });
        for (const id of ["/", "/kubepods.slice"]) {
            b.counter("container_cpu_usage_seconds_total", "Cumulative cpu time consumed in seconds.", root(id), 1.2);
            b.gauge("container_memory_working_set_bytes", "Current working set in bytes.", root(id), 6 * 2 ** 30, 0.05);
        }
        for (const p of this.pods.filter((x) => x.node === node)) {
            const cgroup = `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${p.uid.replace(/-/g, "_")}.slice`;
            const podLabels = { container: "", id: cgroup, image: "", name: "", namespace: p.namespace, pod: p.pod };
            const app = { container: p.container, id: `${cgroup}/cri-containerd-${p.containerId}.scope`, image: `registry.example.com/${p.namespace}/${p.service}:1.4.2`, name: p.containerId, namespace: p.namespace, pod: p.pod };
            const cpu = 0.05 + (fnv(p.pod) % 30) / 100;
            const mem = (160 + (fnv(p.pod) % 200)) * 2 ** 20;
            for (const [l, extra] of [[app, 0], [podLabels, 0.002]] as const) {
                b.counter("container_cpu_usage_seconds_total", "Cumulative cpu time consumed in seconds.", l, cpu + extra);
                b.gauge("container_memory_working_set_bytes", "Current working set in bytes.", l, mem + extra * 2 ** 30, 0.08);
                b.counter("container_cpu_cfs_periods_total", "Number of elapsed enforcement period intervals.", l, 10);
                b.counter("container_cpu_cfs_throttled_periods_total", "Number of throttled period intervals.", l, 10 * (0.01 + (fnv(`${p.pod}/t`) % 8) / 100));
            }
            b.counter("container_network_receive_bytes_total", "Cumulative count of bytes received.", { ...podLabels, interface: "eth0" }, 40_000 + (fnv(p.pod) % 50_000));
            b.counter("container_network_transmit_bytes_total", "Cumulative count of bytes transmitted.", { ...podLabels, interface: "eth0" }, 60_000 + (fnv(p.pod) % 80_000));
        }
        return b.out;
    }

    /**
     * What kube-state-metrics (v2) exposes about the world's pods, Deployments and nodes
     * (stand-in: no API server here). Every pod is Running; one pod per namespace restarts its
     * container every 25 minutes.
     */
    kubeStateSeries(): WorldSeries[] {
        const b = new SeriesBuilder();
        const restarting = new Set<string>();
        for (const p of this.pods) if (![...restarting].some((r) => r.startsWith(`${p.namespace}/`))) restarting.add(`${p.namespace}/${p.pod}`);
        for (const p of this.pods) {
            const pod = { namespace: p.namespace, pod: p.pod, uid: p.uid };
            for (const phase of ["Pending", "Running", "Succeeded", "Failed", "Unknown"]) {
                b.gauge("kube_pod_status_phase", "The pods current phase.", { ...pod, phase }, phase === "Running" ? 1 : 0, 0, true);
            }
            b.counter("kube_pod_container_status_restarts_total", "The number of container restarts per container.", { ...pod, container: p.container }, restarting.has(`${p.namespace}/${p.pod}`) ? 1 / 1500 : 0, true);
            b.gauge("kube_pod_container_resource_limits", "The number of requested limit resource by a container.", { ...pod, container: p.container, node: p.node, resource: "cpu", unit: "core" }, 0.5, 0);
            b.gauge("kube_pod_container_resource_limits", "The number of requested limit resource by a container.", { ...pod, container: p.container, node: p.node, resource: "memory", unit: "byte" }, 512 * 2 ** 20, 0);
        }
        for (const s of this.opts.services) {
            b.gauge("kube_deployment_status_replicas_available", "The number of available replicas per deployment.", { namespace: s.namespace, deployment: s.name }, s.replicas ?? 1, 0, true);
        }
        for (const node of this.nodes) {
            for (const status of ["true", "false", "unknown"]) {
                b.gauge("kube_node_status_condition", "The condition of a cluster node.", { node, condition: "Ready", status }, status === "true" ? 1 : 0, 0, true);
            }
        }
        return b.out;
    }
}

// ---------------------------------------------------------------------------------------------
// Exporter stand-ins for benchmarks (the live test runs the real exporters): what node_exporter,
// redis_exporter, postgres_exporter and one blackbox_exporter probe expose, under their names and
// labels, so dashboards over backfilled history read the same series as in a cluster.

/** node_exporter of one node: 8 CPUs, memory, two filesystems (and a tmpfs), one disk, NICs. */
export function nodeExporterSeries(node: string, cpus = 8): WorldSeries[] {
    const b = new SeriesBuilder();
    const modes: [string, number][] = [["idle", 0.62], ["user", 0.24], ["system", 0.08], ["iowait", 0.02], ["irq", 0.005], ["softirq", 0.015], ["steal", 0.01], ["nice", 0.01]];
    for (let cpu = 0; cpu < cpus; cpu++) {
        for (const [mode, share] of modes) b.counter("node_cpu_seconds_total", "Seconds the CPUs spent in each mode.", { cpu: String(cpu), mode }, share * (1 + ((fnv(`${node}/${cpu}`) % 10) - 5) / 100));
    }
    b.gauge("node_memory_MemTotal_bytes", "Memory information field MemTotal_bytes.", {}, 32 * 2 ** 30, 0);
    b.gauge("node_memory_MemAvailable_bytes", "Memory information field MemAvailable_bytes.", {}, 13 * 2 ** 30, 0.15);
    for (const [device, fstype, mountpoint, size, free] of [["/dev/nvme0n1p1", "ext4", "/", 100, 0.45], ["/dev/nvme1n1", "xfs", "/var/lib/containerd", 200, 0.3], ["tmpfs", "tmpfs", "/run", 3, 0.9]] as const) {
        const l = { device, fstype, mountpoint };
        b.gauge("node_filesystem_size_bytes", "Filesystem size in bytes.", l, size * 2 ** 30, 0);
        b.gauge("node_filesystem_avail_bytes", "Filesystem space available to non-root users in bytes.", l, free * size * 2 ** 30, 0.02);
    }
    b.counter("node_disk_read_bytes_total", "The total number of bytes read successfully.", { device: "nvme0n1" }, 2_500_000);
    b.counter("node_disk_written_bytes_total", "The total number of bytes written successfully.", { device: "nvme0n1" }, 6_000_000);
    for (const [device, rx] of [["eth0", 12_000_000], ["lo", 3_000_000], [`cali${suffix(node, 11)}`, 400_000]] as const) {
        b.counter("node_network_receive_bytes_total", "Network device statistic receive_bytes.", { device }, rx);
        b.counter("node_network_transmit_bytes_total", "Network device statistic transmit_bytes.", { device }, rx * 0.8);
    }
    return b.out;
}

/** redis_exporter of one Redis. */
export function redisExporterSeries(): WorldSeries[] {
    const b = new SeriesBuilder();
    b.gauge("redis_up", "Information about the Redis instance.", {}, 1, 0, true);
    b.gauge("redis_memory_used_bytes", "Redis used memory.", {}, 750 * 2 ** 20, 0.1);
    b.counter("redis_keyspace_hits_total", "Keyspace hits.", {}, 2400);
    b.counter("redis_keyspace_misses_total", "Keyspace misses.", {}, 310);
    b.gauge("redis_connected_clients", "Connected clients.", {}, 64, 0.2, true);
    b.counter("redis_commands_processed_total", "Commands processed.", {}, 5200);
    return b.out;
}

/** postgres_exporter of one PostgreSQL with the given application databases (plus postgres and the templates). */
export function postgresExporterSeries(databases: readonly string[]): WorldSeries[] {
    const b = new SeriesBuilder();
    b.gauge("pg_up", "Whether the last scrape was able to connect to the server.", {}, 1, 0, true);
    [...databases, "postgres", "template0", "template1"].forEach((datname, i) => {
        const l = { datid: String(16384 + i), datname };
        const busy = datname.startsWith("template") ? 0 : datname === "postgres" ? 0.05 : 1;
        b.gauge("pg_stat_database_numbackends", "Number of backends currently connected to this database.", l, 12 * busy, 0.3, true);
        b.counter("pg_stat_database_xact_commit", "Number of transactions in this database that have been committed.", l, 180 * busy);
        b.counter("pg_stat_database_blks_hit", "Number of times disk blocks were found already in the buffer cache.", l, 9000 * busy);
        b.counter("pg_stat_database_blks_read", "Number of disk blocks read in this database.", l, 110 * busy);
        b.counter("pg_stat_database_deadlocks", "Number of deadlocks detected in this database.", l, 0.0002 * busy);
    });
    return b.out;
}

/** What blackbox_exporter answers for one HTTP probe (the probe job adds the target labels). */
export function httpProbeSeries(tls: boolean): WorldSeries[] {
    const b = new SeriesBuilder();
    b.gauge("probe_success", "Displays whether or not the probe was a success.", {}, 1, 0, true);
    b.gauge("probe_duration_seconds", "Returns how long the probe took to complete in seconds.", {}, 0.03, 0.3);
    b.gauge("probe_dns_lookup_time_seconds", "Returns the time taken for probe dns lookup in seconds.", {}, 0.002, 0.5);
    b.gauge("probe_http_status_code", "Response HTTP status code.", {}, 200, 0, true);
    b.gauge("probe_ip_protocol", "Specifies whether probe ip protocol is IP4 or IP6.", {}, 4, 0, true);
    for (const phase of ["resolve", "connect", "tls", "processing", "transfer"]) b.gauge("probe_http_duration_seconds", "Duration of http request by phase, summed over all redirects.", { phase }, phase === "tls" && !tls ? 0 : 0.005, 0.3);
    if (tls) b.gauge("probe_ssl_earliest_cert_expiry", "Returns last SSL chain expiry in unixtime.", {}, Date.UTC(2030, 0, 1) / 1000, 0);
    return b.out;
}

/** Prometheus text exposition (0.0.4) of `series` at `tSeconds`, one HELP/TYPE block per family. */
export function exposition(series: readonly WorldSeries[], tSeconds: number, originSeconds: number): string {
    const families = new Map<string, WorldSeries[]>();
    for (const s of series) {
        const f = families.get(s.family);
        if (f) f.push(s);
        else families.set(s.family, [s]);
    }
    const out: string[] = [];
    for (const [family, members] of families) {
        out.push(`# HELP ${family} ${members[0]!.help}`, `# TYPE ${family} ${members[0]!.type}`);
        for (const s of members) out.push(`${s.name}${labels(s.labels as Record<string, string>)} ${formatSample(seriesValue(s, tSeconds, originSeconds))}`);
    }
    return out.join("\n") + "\n";
}

/** Series of one scrape target and the target labels its scrape job attaches. */
export interface HistoryTarget {
    readonly series: readonly WorldSeries[];
    /** Target labels after relabeling (`job`, `instance`, `namespace`, `pod`, `service`, ...). */
    readonly labels: Readonly<Record<string, string>>;
    /** The job's honor_labels: the exposed labels win over target labels. @default false */
    readonly honorLabels?: boolean;
}

export interface HistoryWindow {
    /** First and last sample times (Unix seconds, inclusive). */
    readonly fromSeconds: number;
    readonly toSeconds: number;
    readonly stepSeconds: number;
    readonly originSeconds: number;
}

/**
 * Writes the history of `targets` as OpenMetrics text for `promtool tsdb create-blocks-from
 * openmetrics`: the series with the labels the scrape would have stored (the target labels win
 * over exposed ones unless honor_labels, as Prometheus does; the exposed copy of a conflicting
 * label is left out, as the generated jobs drop it), sampled every `stepSeconds`, time-major so
 * each series is in time order. Returns the number of series and samples written.
 */
export function writeOpenMetricsHistory(file: string, targets: readonly HistoryTarget[], w: HistoryWindow): { series: number; samples: number } {
    const prefixes: string[] = [];
    const all: WorldSeries[] = [];
    for (const t of targets) {
        for (const s of t.series) {
            const merged = t.honorLabels ? { ...t.labels, ...s.labels } : { ...s.labels, ...t.labels };
            prefixes.push(`${s.name}${labels(merged)} `);
            all.push(s);
        }
    }
    const fd = fs.openSync(file, "w");
    let samples = 0;
    try {
        let buf: string[] = [];
        let size = 0;
        const flush = () => {
            fs.writeSync(fd, buf.join(""));
            buf = [];
            size = 0;
        };
        for (let t = w.fromSeconds; t <= w.toSeconds; t += w.stepSeconds) {
            const ts = ` ${t}\n`;
            for (let i = 0; i < all.length; i++) {
                const line = prefixes[i]! + formatSample(seriesValue(all[i]!, t, w.originSeconds)) + ts;
                buf.push(line);
                size += line.length;
                if (size > 4_000_000) flush();
            }
            samples += all.length;
        }
        buf.push("# EOF\n");
        flush();
    } finally {
        fs.closeSync(fd);
    }
    return { series: all.length, samples };
}

/**
 * Serves a SyntheticWorld on 127.0.0.1, one path per scrape target:
 * `/pods/<namespace>/<pod>/metrics` (a pod's application metrics; its `prometheus.io/path`),
 * `/metrics/cadvisor` (the kubelet's cAdvisor endpoint, every node's pods) and `/metrics`
 * (kube-state-metrics), plus `/health`, a health endpoint for blackbox probes. Values are read at
 * the moment of the scrape.
 */
/** The health endpoint of the world's services, and its answer (what the `http_body` module expects). */
export const HEALTH_PATH = "/health";
export const HEALTHY_JSON = '{"status":"ok"}\n';

export class SyntheticWorldServer {
    private readonly server: http.Server;
    private listening = false;
    /** Requests served per path. */
    readonly scrapes = new Map<string, number>();

    constructor(readonly world: SyntheticWorld) {
        this.server = http.createServer((req, res) => this.handle(req, res));
    }

    static podPath(p: Pick<WorldPod, "namespace" | "pod">): string {
        return `/pods/${p.namespace}/${p.pod}/metrics`;
    }

    async start(port = 0): Promise<number> {
        await new Promise<void>((resolve, reject) => {
            this.server.once("error", reject);
            this.server.listen(port, "127.0.0.1", () => resolve());
        });
        this.listening = true;
        return this.port;
    }

    get port(): number {
        return (this.server.address() as AddressInfo).port;
    }

    get address(): string {
        return `127.0.0.1:${this.port}`;
    }

    async stop(): Promise<void> {
        if (!this.listening) return;
        this.listening = false;
        this.server.closeAllConnections();
        await new Promise<void>((resolve) => this.server.close(() => resolve()));
    }

    /** The series a path serves, or undefined for an unknown path. */
    seriesAt(path: string): WorldSeries[] | undefined {
        if (path === "/metrics/cadvisor") return this.world.nodes.flatMap((n) => this.world.cadvisorSeries(n));
        if (path === "/metrics") return this.world.kubeStateSeries();
        const pod = this.world.pods.find((p) => SyntheticWorldServer.podPath(p) === path);
        return pod ? this.world.applicationSeries(pod) : undefined;
    }

    private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
        const path = (req.url ?? "").split("?")[0]!;
        if (path === HEALTH_PATH) {
            res.writeHead(200, { "Content-Type": "application/json" }).end(HEALTHY_JSON);
            return;
        }
        const series = this.seriesAt(path);
        if (!series) {
            res.writeHead(404).end("not found\n");
            return;
        }
        this.scrapes.set(path, (this.scrapes.get(path) ?? 0) + 1);
        const body = exposition(series, Date.now() / 1000, this.world.originSeconds);
        res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" }).end(body);
    }
}
