/**
 * A synthetic application for end-to-end tests: a Node http server on 127.0.0.1 serving
 * /metrics in the Prometheus text format with the TELEMETRY-CONTRACT API metrics. Counters
 * advance on each scrape by (configured request rate × seconds since the previous scrape); the
 * error ratio and latency of each service can be changed at run time, and /metrics can be made
 * to answer 503 or the server stopped, to drive `up == 0`.
 *
 * Built to grow: further metric families (WebSocket, LLM, cache, db, cAdvisor, kube-state-metrics)
 * plug in as {@link MetricFamilySource}s via `addSource`.
 */
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
