/**
 * PromQL for the dashboards, built from the metric catalog (telemetry/) and the dashboard
 * variables. Application series are scoped by the target labels every scraped series carries
 * (`cluster`, `namespace`: TELEMETRY-CONTRACT "How applications are found"); logical labels go
 * through the catalog, so a preset switch or a renamed label changes every panel at once.
 *
 * Expensive queries go through {@link Queries}: each reads the recording rule of alerts/recording.ts
 * that keeps the labels it needs, and the raw series when no rule fits or recording rules are off
 * (the dashboard benchmark compares both). A new rule serves every panel it fits once it is listed
 * in one of the tables of {@link Queries}.
 */
import type { MetricDef, Matchers, MatchValue } from "../telemetry";
import { aggBy, bucketMatcher, by, catalog, matchers, re, series, sumBy, Catalog, INFRA, VIRTUAL_NETWORK_DEVICES } from "../telemetry";
import type { AlertingConfig, MetricPreset, SloConfig } from "../config";
import { errorBudget, RECORDING, RecordingKey, RecordingRef, ruleContext, SERVER_ERROR, sliWindows, SLO_RECORDING } from "../alerts";
import { durationSeconds } from "../config/resolve";

/** Dashboard variables as they appear in queries. */
export const VAR = {
    datasource: "${datasource}",
    cluster: "$cluster",
    namespace: "$namespace",
    service: "$service",
    route: "$route",
    provider: "$provider",
    node: "$node",
} as const;

/** Grafana's rate window: at least four scrape intervals, whatever the panel's step. */
export const RATE_WINDOW = "$__rate_interval";

/** The dashboard's time range, as a range and in seconds. */
export const RANGE = "$__range";
export const RANGE_SECONDS = "$__range_s";

/** Target labels every application series carries besides its catalog labels. */
export type TargetLabel = "cluster" | "namespace" | "pod" | "container" | "node" | "job" | "instance";

/** `cluster` and `namespace` matchers of the dashboard variables. */
export function scope(parts: readonly ("cluster" | "namespace")[] = ["cluster", "namespace"]): string[] {
    return parts.map((p) => `${p}=~"${VAR[p]}"`);
}

/** `<series>{<catalog matchers>, <scope>}`. */
export function sel<L extends string>(m: MetricDef<L>, ms: NoInfer<Matchers<L>> = {}, suffix: "" | "_bucket" | "_sum" | "_count" = "", extra: readonly string[] = scope()): string {
    return `${series(m, suffix)}${matchers(m, ms, extra)}`;
}

/** Physical `by` labels: catalog labels of `m` plus target labels. */
export function groupOf<L extends string>(m: MetricDef<L>, labels: readonly (L | TargetLabel)[]): string[] {
    return labels.map((l) => (l in m.labels ? by(m, [l as L])[0]! : l));
}

/** `rate(counter{...}[w])`, or the `_count` of a histogram. */
export function rateOf<L extends string>(m: MetricDef<L>, ms: NoInfer<Matchers<L>> = {}, window: string = RATE_WINDOW, extra: readonly string[] = scope()): string {
    return `rate(${sel(m, ms, m.type === "histogram" ? "_count" : "", extra)}[${window}])`;
}

/** `sum by (g) (rate(...))` of the raw series. */
export function sumRate<L extends string>(m: MetricDef<L>, ms: NoInfer<Matchers<L>>, group: readonly NoInfer<L | TargetLabel>[], window: string = RATE_WINDOW, extra: readonly string[] = scope()): string {
    return sumBy(groupOf(m, group), rateOf(m, ms, window, extra));
}

/** `histogram_quantile(q, sum by (le, g) (rate(h_bucket{...}[w])))` of the raw series. */
export function quantileOf<L extends string>(q: number, m: MetricDef<L>, ms: NoInfer<Matchers<L>>, group: readonly NoInfer<L | TargetLabel>[] = [], window: string = RATE_WINDOW, extra: readonly string[] = scope()): string {
    if (m.type !== "histogram") throw new Error(`${m.name} is a ${m.type}: quantiles need a histogram`);
    return `histogram_quantile(${q}, ${sumBy(["le", ...groupOf(m, group)], `rate(${sel(m, ms, "_bucket", extra)}[${window}])`)})`;
}

/** Mean of a histogram's observations over the window, by `group`. */
export function meanOf<L extends string>(m: MetricDef<L>, ms: NoInfer<Matchers<L>>, group: readonly NoInfer<L | TargetLabel>[] = [], window: string = RATE_WINDOW, extra: readonly string[] = scope()): string {
    const g = groupOf(m, group);
    return `${sumBy(g, `rate(${sel(m, ms, "_sum", extra)}[${window}])`)}\n/\n${sumBy(g, `rate(${sel(m, ms, "_count", extra)}[${window}])`)}`;
}

/** A selector of an upstream (infrastructure) metric, whose labels the catalog does not type. */
export function infra(name: string, ms: Readonly<Record<string, MatchValue>> = {}, extra: readonly string[] = []): string {
    const parts = [...extra];
    for (const [l, v] of Object.entries(ms)) {
        const { op, value } = typeof v === "string" ? { op: "=", value: v } : v;
        parts.push(`${l}${op}${JSON.stringify(value)}`);
    }
    return parts.length ? `${name}{${parts.join(",")}}` : name;
}

/** Matchers of the application services a panel shows. */
export const SERVICE: { readonly service: MatchValue } = { service: re(VAR.service) };

/**
 * Containers of the selected services' pods. cAdvisor and kube-state-metrics series carry no
 * `service` label: pods are matched by name prefix, as Deployments and StatefulSets name them.
 * `container!~"|POD"` leaves out the pod sandbox and the cgroup totals (as the recording rules do).
 */
export const SERVICE_PODS: Readonly<Record<string, MatchValue>> = { pod: re(`(${VAR.service})-.*`) };
export const SERVICE_CONTAINERS: Readonly<Record<string, MatchValue>> = { ...SERVICE_PODS, container: { op: "!~", value: "|POD" } };

/**
 * The coarsest resolution of the recording rules `expr` reads, where one is evaluated less often
 * than the stack's rules (a {@link RecordingRef} `interval`): the query's minimum step in
 * Grafana, so a panel never asks for points finer than its data.
 */
export function ruleResolution(expr: string): string | undefined {
    let coarsest: string | undefined;
    for (const r of Object.values(RECORDING) as RecordingRef[]) {
        // Record names are [a-z0-9_:] only: no character to escape.
        if (!r.interval || !new RegExp(`(^|[^\\w:])${r.record}($|[^\\w:])`).test(expr)) continue;
        if (coarsest === undefined || durationSeconds(r.interval) > durationSeconds(coarsest)) coarsest = r.interval;
    }
    return coarsest;
}

/** Window of the rate recording rules (`rate5m`). */
const RULE_RATE_WINDOW = "5m";

/**
 * The mean of a recorded 5m rate over the dashboard's range, read at whole 5 minutes: those
 * windows tile the range, so the mean is the rate over the range, from a twentieth of the
 * samples `avg_over_time(x[range])` reads at a 15 s rule interval (a fifth at 1m).
 */
function overRange(selector: string): string {
    return `avg_over_time(${selector}[${RANGE}:${RULE_RATE_WINDOW}])`;
}

/** Whether two rules keep the same labels (their series match one to one). */
function sameLabels(a: Rule, b: Rule): boolean {
    return a.labels.size === b.labels.size && [...a.labels].every((l) => b.labels.has(l));
}

/** Whether two matcher sets select the same series (`"5.."` as a string is `=`, not `=~`). */
function sameMatchers(a: Matchers<string>, b: Matchers<string>): boolean {
    const norm = (ms: Matchers<string>) =>
        JSON.stringify(
            Object.entries(ms)
                .filter(([, v]) => v !== undefined)
                .map(([l, v]) => [l, typeof v === "string" ? { op: "=", value: v } : v])
                .sort(([x], [y]) => String(x).localeCompare(String(y))),
        );
    return norm(a) === norm(b);
}

/** Quantiles of latency the dashboards draw. */
export type Quantile = 0.5 | 0.95 | 0.99;

/** Recorded SLI window whose hourly samples tile longer windows (must be one of SLI_WINDOWS). */
const SLO_TILE = "1h";

/** A recording rule as a query reads it: its series and the physical labels it keeps. */
interface Rule {
    readonly record: string;
    readonly labels: ReadonlySet<string>;
}

/** How a gauge rule aggregates a gauge's series over the labels it drops. */
type GaugeOp = "sum" | "min";

/** The error budget of an SLO as a fraction (99.9 → 0.001), as the SLO rules compute it. */
export const budgetOf = errorBudget;

/**
 * The dashboards' queries of one metric preset, reading the recording rules where one fits.
 *
 * A rule fits a query when it keeps every label the query filters or groups by (plus
 * `namespace`, which every application query filters by); ratio and quantile rules must keep
 * exactly those labels, since ratios and quantiles cannot be aggregated further.
 */
export class Queries {
    readonly m: Catalog;
    private readonly rateRules: Map<MetricDef, RecordingKey[]>;
    private readonly gaugeRules: Map<MetricDef, { op: GaugeOp; key: RecordingKey }[]>;
    private readonly bucketRules: Map<MetricDef, RecordingKey[]>;
    /** Rate rules of a histogram's `_sum` (the `_count` rate is the bucket rule's `le="+Inf"`). */
    private readonly sumRules: Map<MetricDef, RecordingKey[]>;
    /** Rate rules of a counter's series that match `part` only (5xx per second), for the share of `part`. */
    private readonly partRateRules: Map<MetricDef, { part: Matchers<string>; key: RecordingKey }[]>;
    private readonly quantileRules: Map<MetricDef, { q: Quantile; key: RecordingKey }[]>;
    /** Windows the SLO rules record SLIs for (the standard ones and the burn-rate alerts' windows). */
    private readonly sliWindows: ReadonlySet<string>;

    constructor(
        readonly preset: MetricPreset,
        /** Read recording rules (false: raw series only). */
        readonly useRules = true,
        /** The alerting config the SLO rules were generated from (their recorded windows). */
        alerting?: AlertingConfig,
    ) {
        const m = (this.m = catalog(preset));
        this.sliWindows = new Set(sliWindows(ruleContext(alerting ? { alerting } : {})));
        this.rateRules = new Map<MetricDef, RecordingKey[]>([
            [m.http.requests, ["serviceRequestRate", "serviceStatusRequestRate", "serviceRouteRequestRate"]],
            [m.websocket.opened, ["websocketOpenRate"]],
            [m.websocket.disconnections, ["websocketDisconnectRate"]],
            [m.websocket.messages, ["websocketMessageRate"]],
            [m.llm.requests, ["providerRequestRate"]],
            [m.llm.tokens, ["providerTokenRate"]],
            [m.llm.cost, ["providerCostRate"]],
            [m.cache.requests, ["cacheRequestRate"]],
            [m.cache.evictions, ["cacheEvictionRate"]],
        ]);
        this.gaugeRules = new Map<MetricDef, { op: GaugeOp; key: RecordingKey }[]>([
            [m.websocket.active, [{ op: "sum", key: "websocketActive" }]],
            [m.http.inFlight, [{ op: "sum", key: "serviceInFlight" }]],
            [m.http.activeUsers, [{ op: "sum", key: "serviceActiveUsers" }]],
            [m.db.connections, [{ op: "sum", key: "dbConnections" }]],
            [m.llm.rateLimitRemaining, [{ op: "min", key: "providerRateLimitRemaining" }]],
        ]);
        this.bucketRules = new Map<MetricDef, RecordingKey[]>([
            [m.http.duration, ["serviceLatencyBuckets", "serviceRouteLatencyBuckets"]],
            [m.http.requestSize, ["serviceRouteRequestSizeBuckets"]],
            [m.websocket.messageSize, ["websocketMessageSizeBuckets"]],
            [m.websocket.duration, ["websocketDurationBuckets"]],
            [m.llm.duration, ["providerLatencyBuckets"]],
        ]);
        this.sumRules = new Map<MetricDef, RecordingKey[]>([[m.http.requestSize, ["serviceRouteRequestSizeSum"]]]);
        this.partRateRules = new Map<MetricDef, { part: Matchers<string>; key: RecordingKey }[]>([
            [
                m.http.requests,
                [
                    { part: { status: SERVER_ERROR }, key: "serviceErrorRate" },
                    { part: { status: SERVER_ERROR }, key: "serviceRouteErrorRate" },
                ],
            ],
        ]);
        this.quantileRules = new Map<MetricDef, { q: Quantile; key: RecordingKey }[]>([
            [
                m.http.duration,
                [
                    { q: 0.5, key: "serviceLatencyP50" },
                    { q: 0.95, key: "serviceLatencyP95" },
                    { q: 0.99, key: "serviceLatencyP99" },
                    { q: 0.95, key: "serviceRouteLatencyP95" },
                ],
            ],
            [m.llm.duration, [{ q: 0.95, key: "providerLatencyP95" }]],
            [
                m.websocket.messageSize,
                [
                    { q: 0.5, key: "websocketMessageSizeP50" },
                    { q: 0.95, key: "websocketMessageSizeP95" },
                ],
            ],
            [m.db.queryDuration, [{ q: 0.95, key: "dbQueryLatencyP95" }]],
        ]);
    }

    /** Rule `key` with its labels in this preset's physical names (labels of `m`). */
    private rule(key: RecordingKey, m: MetricDef): Rule | undefined {
        if (!this.useRules) return undefined;
        const r = RECORDING[key];
        return { record: r.record, labels: new Set(r.labels.map((l) => (m.labels as Record<string, string>)[l] ?? l)) };
    }

    /** Physical labels a query of `m` filters (`ms`) or groups by. */
    private needed<L extends string>(m: MetricDef<L>, ms: Matchers<L>, group: readonly string[], base: readonly string[] = ["namespace"]): string[] {
        const phys = (l: string) => (m.labels as Record<string, string>)[l] ?? l;
        return [...new Set([...base, ...Object.keys(ms).map(phys), ...group.map(phys)])];
    }

    private covering(keys: readonly RecordingKey[] | undefined, m: MetricDef, labels: readonly string[]): Rule | undefined {
        for (const k of keys ?? []) {
            const r = this.rule(k, m);
            if (r && labels.every((l) => r.labels.has(l))) return r;
        }
        return undefined;
    }

    /** A ratio or quantile rule whose series are exactly the query's groups: it keeps `group` and nothing more, and every filtered label. */
    private exactly<L extends string>(keys: readonly RecordingKey[], m: MetricDef<L>, ms: Matchers<L>, group: readonly string[]): Rule | undefined {
        const out = new Set(groupOf(m as MetricDef<string>, group));
        const filtered = this.needed(m, ms, []);
        for (const k of keys) {
            const r = this.rule(k, m);
            if (!r) continue;
            const kept = [...r.labels].filter((l) => l !== "cluster");
            if (kept.length === out.size && kept.every((l) => out.has(l)) && filtered.every((l) => r.labels.has(l))) return r;
        }
        return undefined;
    }

    /** `sum by (group) (rate(m{ms}[w]))`, from a rate recording rule when one keeps the labels. */
    rate<L extends string>(m: MetricDef<L>, ms: NoInfer<Matchers<L>>, group: readonly NoInfer<L | TargetLabel>[] = []): string {
        const r = this.covering(this.rateRules.get(m), m, this.needed(m, ms, group));
        return r ? sumBy(groupOf(m, group), `${r.record}${matchers(m, ms, scope())}`) : sumRate(m, ms, group);
    }

    /** `sum by (group) (increase(m{ms}[range]))`; from a rate rule: its mean over the range times the range. */
    increaseOverRange<L extends string>(m: MetricDef<L>, ms: NoInfer<Matchers<L>>, group: readonly NoInfer<L | TargetLabel>[] = []): string {
        const r = this.covering(this.rateRules.get(m), m, this.needed(m, ms, group));
        if (r) return `${sumBy(groupOf(m, group), overRange(`${r.record}${matchers(m, ms, scope())}`))} * ${RANGE_SECONDS}`;
        return sumBy(groupOf(m, group), `increase(${sel(m, ms, m.type === "histogram" ? "_count" : "")}[${RANGE}])`);
    }

    /** `sum by (group) (gauge{ms})`, from a recording rule when one keeps the labels. */
    gaugeSum<L extends string>(m: MetricDef<L>, ms: NoInfer<Matchers<L>>, group: readonly NoInfer<L | TargetLabel>[] = []): string {
        return this.gauge("sum", m, ms, group);
    }

    /** `<op> by (group) (gauge{ms})`, from a recording rule of the same aggregation when one keeps the labels. */
    gauge<L extends string>(op: GaugeOp, m: MetricDef<L>, ms: NoInfer<Matchers<L>>, group: readonly NoInfer<L | TargetLabel>[] = []): string {
        const keys = (this.gaugeRules.get(m) ?? []).filter((x) => x.op === op).map((x) => x.key);
        const r = this.covering(keys, m, this.needed(m, ms, group));
        return aggBy(op, groupOf(m, group), r ? `${r.record}${matchers(m, ms, scope())}` : sel(m, ms));
    }

    /**
     * Share of `m`'s rate matching `part` within `base`, by `group`. A ratio rule (one of
     * `ratioRules`, recording exactly that share) is read as it is when its series are the
     * query's groups; otherwise the matching rate is a rate rule that keeps the filtered label,
     * a rule recording the matching part only with the total's labels (5xx per second per route),
     * a ratio rule times the rate rule with the same labels (error ratio per route × requests per
     * route), or the raw series. Numerator and denominator always come from the same source.
     */
    ratio<L extends string>(m: MetricDef<L>, part: NoInfer<Matchers<L>>, base: NoInfer<Matchers<L>>, group: readonly NoInfer<L | TargetLabel>[] = [], ratioRules: readonly RecordingKey[] = []): string {
        const exact = this.exactly(ratioRules, m, base, group);
        if (exact) return `${exact.record}${matchers(m, base, scope())}`;
        const g = groupOf(m, group);
        const baseSel = matchers(m, base, scope());
        const total = this.covering(this.rateRules.get(m), m, this.needed(m, base, group));
        const matching = this.covering(this.rateRules.get(m), m, this.needed(m, { ...base, ...part } as Matchers<L>, group));
        if (total && matching) return `${sumBy(g, `${matching.record}${matchers(m, { ...base, ...part } as Matchers<L>, scope())}`)}\n/\n${sumBy(g, `${total.record}${baseSel}`)}`;
        const partRate = (this.partRateRules.get(m) ?? [])
            .filter((x) => sameMatchers(x.part, part))
            .map((x) => this.rule(x.key, m))
            .find((r): r is Rule => r !== undefined && total !== undefined && sameLabels(r, total));
        if (total && partRate) return `${sumBy(g, `${partRate.record}${baseSel}`)}\n/\n${sumBy(g, `${total.record}${baseSel}`)}`;
        for (const k of ratioRules) {
            const r = this.rule(k, m);
            if (!r || !this.needed(m, base, group).every((l) => r.labels.has(l))) continue;
            const same = (this.rateRules.get(m) ?? []).map((key) => this.rule(key, m)!).find((t) => sameLabels(t, r));
            if (same) return `${sumBy(g, `${r.record}${baseSel} * ${same.record}${baseSel}`)}\n/\n${sumBy(g, `${same.record}${baseSel}`)}`;
        }
        return `${sumRate(m, { ...base, ...part } as Matchers<L>, group)}\n/\n${sumRate(m, base, group)}`;
    }

    /** Latency-style quantile of histogram `m`: a quantile rule that fits exactly, a bucket rule, or the raw buckets. */
    quantile<L extends string>(q: Quantile, m: MetricDef<L>, ms: NoInfer<Matchers<L>>, group: readonly NoInfer<L | TargetLabel>[] = []): string {
        const exact = this.exactly((this.quantileRules.get(m) ?? []).filter((x) => x.q === q).map((x) => x.key), m, ms, group);
        if (exact) return `${exact.record}${matchers(m, ms, scope())}`;
        return `histogram_quantile(${q}, ${this.buckets(m, ms, group)})`;
    }

    /** Quantile of histogram `m` over the whole dashboard range (tables); bucket rules averaged over the range. */
    quantileOverRange<L extends string>(q: Quantile, m: MetricDef<L>, ms: NoInfer<Matchers<L>>, group: readonly NoInfer<L | TargetLabel>[] = []): string {
        const r = this.covering(this.bucketRules.get(m), m, this.needed(m, ms, ["le", ...group]));
        if (!r) return quantileOf(q, m, ms, group, RANGE);
        return `histogram_quantile(${q}, ${sumBy(["le", ...groupOf(m, group)], overRange(`${r.record}${matchers(m, ms, scope())}`))})`;
    }

    /**
     * Mean of histogram `m`'s observations by `group`: the `_sum` rate over the `_count` rate, from a
     * `_sum` rule and the `le="+Inf"` series of a bucket rule (the `_count` rate) when both keep the labels.
     */
    mean<L extends string>(m: MetricDef<L>, ms: NoInfer<Matchers<L>>, group: readonly NoInfer<L | TargetLabel>[] = []): string {
        const sum = this.covering(this.sumRules.get(m), m, this.needed(m, ms, group));
        const count = this.covering(this.bucketRules.get(m), m, this.needed(m, ms, ["le", ...group]));
        if (!sum || !count) return meanOf(m, ms, group);
        const g = groupOf(m, group);
        return `${sumBy(g, `${sum.record}${matchers(m, ms, scope())}`)}\n/\n${sumBy(g, `${count.record}${matchers(m, ms, [...scope(), 'le="+Inf"'])}`)}`;
    }

    /** `sum by (le, group) (rate(h_bucket{ms}[w]))`: a heatmap's cells or a quantile's input. */
    buckets<L extends string>(m: MetricDef<L>, ms: NoInfer<Matchers<L>>, group: readonly NoInfer<L | TargetLabel>[] = []): string {
        if (m.type !== "histogram") throw new Error(`${m.name} is a ${m.type}: buckets need a histogram`);
        const r = this.covering(this.bucketRules.get(m), m, this.needed(m, ms, ["le", ...group]));
        const source = r ? `${r.record}${matchers(m, ms, scope())}` : `rate(${sel(m, ms, "_bucket")}[${RATE_WINDOW}])`;
        return sumBy(["le", ...groupOf(m, group)], source);
    }

    // --- HTTP shorthands

    /** Requests per second by `group`. */
    requestRate(group: readonly ("service" | "method" | "route" | "status" | TargetLabel)[] = [], ms: Matchers<"service" | "method" | "route" | "status"> = SERVICE): string {
        return this.rate(this.m.http.requests, ms, group);
    }

    /** 5xx share of requests by `group`. */
    errorRatio(group: readonly ("service" | "method" | "route" | TargetLabel)[] = [], ms: Matchers<"service" | "method" | "route"> = SERVICE): string {
        return this.ratio(this.m.http.requests, { status: SERVER_ERROR }, ms, group, ["serviceErrorRatio", "serviceRouteErrorRatio"]);
    }

    /** Request latency quantile by `group`. */
    latency(q: Quantile, group: readonly ("service" | "method" | "route" | TargetLabel)[] = [], ms: Matchers<"service" | "method" | "route"> = SERVICE): string {
        return this.quantile(q, this.m.http.duration, ms, group);
    }

    // --- WebSocket

    /** Share of each selected service's disconnections per reason matching `reason`, by namespace, service and reason. */
    disconnectShare(reason: MatchValue): string {
        const d = this.m.websocket.disconnections;
        const ms: Matchers<"service" | "reason"> = { ...SERVICE, reason };
        const r = this.exactly(["websocketDisconnectShare"], d, ms, ["namespace", "service", "reason"]);
        if (r) return `${r.record}${matchers(d, ms, scope())}`;
        return `${this.rate(d, ms, ["namespace", "service", "reason"])}\n/ on (${groupOf(d, ["namespace", "service"]).join(", ")}) group_left\n${this.rate(d, SERVICE, ["namespace", "service"])}`;
    }

    // --- Database pools

    /** Active connections as a share of each application's pool, by namespace, service and db. */
    dbPoolUtilisation(): string {
        const { connections, connectionsMax } = this.m.db;
        const r = this.exactly(["dbPoolUtilisation"], connections, SERVICE, ["namespace", "service", "db"]);
        if (r) return `${r.record}${matchers(connections, SERVICE, scope())}`;
        const g = groupOf(connections, ["namespace", "service", "db"]);
        return `${sumBy(g, sel(connections, { ...SERVICE, state: "active" }))}\n/\n(${sumBy(groupOf(connectionsMax, ["namespace", "service", "db"]), sel(connectionsMax, SERVICE))} > 0)`;
    }

    // --- Infrastructure

    /** Busy share of each node's CPUs. */
    nodeCpu(nodes: Readonly<Record<string, MatchValue>>): string {
        const r = this.recorded("nodeCpuUtilisation");
        if (r) return `avg by (node) (${infra(r, nodes, scope(["cluster"]))})`;
        return `1 - avg by (node) (rate(${infra(INFRA.node.cpuSeconds, { ...nodes, mode: "idle" }, scope(["cluster"]))}[${RATE_WINDOW}]))`;
    }

    /** Used share of each node's memory. */
    nodeMemory(nodes: Readonly<Record<string, MatchValue>>): string {
        const r = this.recorded("nodeMemoryUtilisation");
        if (r) return `avg by (node) (${infra(r, nodes, scope(["cluster"]))})`;
        return `1 - sum by (node) (${infra(INFRA.node.memAvailable, nodes, scope(["cluster"]))})\n/\nsum by (node) (${infra(INFRA.node.memTotal, nodes, scope(["cluster"]))})`;
    }

    /** CPU cores used by the selected services' containers, by `group` (of namespace, pod, container). */
    containerCpu(group: readonly ("namespace" | "pod" | "container")[]): string {
        const r = this.recorded("containerCpuUsage");
        if (r) return sumBy(group, infra(r, SERVICE_PODS, scope()));
        return sumBy(group, `rate(${infra(INFRA.container.cpu, SERVICE_CONTAINERS, scope())}[${RATE_WINDOW}])`);
    }

    /** Working-set bytes of the selected services' containers, by `group` (of namespace, pod, container). */
    containerMemory(group: readonly ("namespace" | "pod" | "container")[]): string {
        const r = this.recorded("containerMemoryWorkingSet");
        return sumBy(group, r ? infra(r, SERVICE_PODS, scope()) : infra(INFRA.container.memoryWorkingSet, SERVICE_CONTAINERS, scope()));
    }

    /** Share of CFS periods in which each container of the selected services was throttled. */
    containerThrottling(): string {
        const r = this.recorded("containerCpuThrottledRatio");
        if (r) return infra(r, SERVICE_PODS, scope());
        const g = ["namespace", "pod", "container"];
        const rate = (name: string) => sumBy(g, `rate(${infra(name, SERVICE_CONTAINERS, scope())}[${RATE_WINDOW}])`);
        return `${rate(INFRA.container.cpuThrottledPeriods)}\n/\n${rate(INFRA.container.cpuPeriods)}`;
    }

    /** Container restarts per pod of the selected services over the last hour. */
    podRestarts(): string {
        const r = this.recorded("podRestarts");
        return sumBy(["namespace", "pod"], r ? infra(r, SERVICE_PODS, scope()) : `increase(${infra(INFRA.kube.restarts, SERVICE_PODS, scope())}[1h])`);
    }

    /** Bytes per second each pod of the selected services receives or transmits. */
    podNetwork(direction: "receive" | "transmit"): string {
        const r = this.recorded(direction === "receive" ? "podNetworkReceive" : "podNetworkTransmit");
        const raw = direction === "receive" ? INFRA.container.netReceive : INFRA.container.netTransmit;
        return sumBy(["namespace", "pod"], r ? infra(r, SERVICE_PODS, scope()) : `rate(${infra(raw, SERVICE_PODS, scope())}[${RATE_WINDOW}])`);
    }

    /** Bytes per second each node reads from or writes to its disks. */
    nodeDisk(direction: "read" | "written", nodes: Readonly<Record<string, MatchValue>>): string {
        const r = this.recorded(direction === "read" ? "nodeDiskRead" : "nodeDiskWritten");
        const raw = direction === "read" ? INFRA.node.diskRead : INFRA.node.diskWritten;
        return sumBy(["node"], r ? infra(r, nodes, scope(["cluster"])) : `rate(${infra(raw, nodes, scope(["cluster"]))}[${RATE_WINDOW}])`);
    }

    /** Bytes per second each node receives or transmits on its physical interfaces. */
    nodeNetwork(direction: "receive" | "transmit", nodes: Readonly<Record<string, MatchValue>>): string {
        const r = this.recorded(direction === "receive" ? "nodeNetworkReceive" : "nodeNetworkTransmit");
        const raw = direction === "receive" ? INFRA.node.netReceive : INFRA.node.netTransmit;
        const physical = { device: { op: "!~", value: VIRTUAL_NETWORK_DEVICES } } as const;
        return sumBy(["node"], r ? infra(r, nodes, scope(["cluster"])) : `rate(${infra(raw, { ...nodes, ...physical }, scope(["cluster"]))}[${RATE_WINDOW}])`);
    }

    /** The series of recording rule `key`, when recording rules are on. */
    private recorded(key: RecordingKey): string | undefined {
        return this.useRules ? RECORDING[key].record : undefined;
    }

    /** Working set of each container of the selected services as a share of its memory limit. */
    containerMemoryOfLimit(): string {
        const r = this.recorded("containerMemoryLimitRatio");
        if (r) return infra(r, SERVICE_PODS, scope());
        const g = "namespace, pod, container";
        return `max by (${g}) (${infra(INFRA.container.memoryWorkingSet, SERVICE_CONTAINERS, scope())})\n/\n(max by (${g}) (${infra(INFRA.kube.limits, { ...SERVICE_CONTAINERS, resource: "memory" }, scope())}) > 0)`;
    }

    // --- SLOs

    /** Matchers of an SLO's requests: its own service, or the dashboard's `$service`. */
    private sloServices(slo: SloConfig): { service: MatchValue } {
        return { service: slo.service ? { op: "=", value: slo.service } : re(VAR.service) };
    }

    /** Recorded SLI selector `name{slo="...", scope, service}`. */
    private sloSel(name: string, slo: SloConfig): string {
        return infra(name, { slo: slo.name, ...this.sloServices(slo) }, scope());
    }

    /** Raw bad and total request rates of an SLO over `window`, by `group`. */
    private sloRaw(slo: SloConfig, window: string, group: readonly ("namespace" | "service")[]): { bad: string; total: string } {
        const svc = this.sloServices(slo);
        if (slo.kind === "availability") {
            const m = this.m.http.requests;
            return { bad: sumRate(m, { ...svc, status: re("5..") }, group, window), total: sumRate(m, svc, group, window) };
        }
        const h = this.m.http.duration;
        const g = groupOf(h, group);
        const total = sumBy(g, `rate(${sel(h, svc, "_count")}[${window}])`);
        const good = sumBy(g, `rate(${sel(h, svc, "_bucket", [...scope(), bucketMatcher(slo.latencyThreshold!)])}[${window}])`);
        return { bad: `clamp_min(\n${total}\n-\n${good},\n0\n)`, total };
    }

    /** Share of an SLO's bad requests over `window`, by `group`. */
    errorRatioOf(slo: SloConfig, window: string, group: readonly ("namespace" | "service")[] = []): string {
        if (this.useRules && this.sliWindows.has(window)) {
            const g = groupOf(this.m.http.requests, group);
            return `${sumBy(g, this.sloSel(SLO_RECORDING.errors(window), slo))}\n/\n${sumBy(g, this.sloSel(SLO_RECORDING.requests(window), slo))}`;
        }
        if (this.useRules) {
            // A window without its own rule (the SLO's compliance window): the mean of the
            // recorded 1h rates at whole hours tiles the window, so it equals the rate over it.
            const g = groupOf(this.m.http.requests, group);
            const mean = (name: string) => sumBy(g, `avg_over_time(${this.sloSel(name, slo)}[${window}:${SLO_TILE}])`);
            return `${mean(SLO_RECORDING.errors(SLO_TILE))}\n/\n${mean(SLO_RECORDING.requests(SLO_TILE))}`;
        }
        const { bad, total } = this.sloRaw(slo, window, group);
        return `${bad}\n/\n${total}`;
    }

    /** SLI of an SLO over `window`: the share of good requests, by `group`. */
    sli(slo: SloConfig, window: string, group: readonly ("namespace" | "service")[] = []): string {
        return `1 - (\n${this.errorRatioOf(slo, window, group)}\n)`;
    }

    /** Burn rate of an SLO over `window`: the bad share divided by the error budget. */
    burnRate(slo: SloConfig, window: string, group: readonly ("namespace" | "service")[] = []): string {
        return `(\n${this.errorRatioOf(slo, window, group)}\n) / ${budgetOf(slo)}`;
    }

    /**
     * Share of the SLO's error budget left over its window (1 untouched, 0 spent, < 0 overspent),
     * by `group`. Per namespace and service it is the SLO rules' own budget series.
     */
    budgetRemaining(slo: SloConfig, group: readonly ("namespace" | "service")[] = []): string {
        if (this.useRules && group.length === 2 && group.includes("namespace") && group.includes("service")) return this.sloSel(SLO_RECORDING.budgetRemaining, slo);
        return `1 - (\n${this.burnRate(slo, slo.window, group)}\n)`;
    }
}
