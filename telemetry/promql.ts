/**
 * Typed PromQL builders over the metric catalog. Matchers and `by` clauses take a metric's
 * logical label names (a typo fails to compile) and emit the preset's physical ones.
 *
 *   const m = catalog("prometheus");
 *   errorRatio(m.http.requests, { service: re("$service") }, "5m")
 */
import type { MetricDef } from "./catalog";

/** A label matcher value: a plain string is an equality match. */
export type MatchValue = string | { readonly op: "=" | "!=" | "=~" | "!~"; readonly value: string };
export type Matchers<L extends string> = Partial<Record<L, MatchValue>>;

export const eq = (value: string): MatchValue => ({ op: "=", value });
export const ne = (value: string): MatchValue => ({ op: "!=", value });
export const re = (value: string): MatchValue => ({ op: "=~", value });
export const nre = (value: string): MatchValue => ({ op: "!~", value });

type LabelOf<M> = M extends MetricDef<infer L> ? L : never;

function quote(v: string): string {
    return JSON.stringify(v);
}

/** `{a="x",b=~"y"}` with physical label names; empty string when there is no matcher. */
export function matchers<L extends string>(m: MetricDef<L>, ms: Matchers<L> = {}, extra: readonly string[] = []): string {
    const parts: string[] = [];
    for (const [label, v] of Object.entries(ms) as [L, MatchValue | undefined][]) {
        if (v === undefined) continue;
        const physical = m.labels[label];
        if (physical === undefined) throw new Error(`metric ${m.name} has no label "${label}"`);
        const { op, value } = typeof v === "string" ? { op: "=", value: v } : v;
        parts.push(`${physical}${op}${quote(value)}`);
    }
    parts.push(...extra);
    return parts.length ? `{${parts.join(",")}}` : "";
}

/** The series name of a metric for a suffix (`_bucket`, `_sum`, `_count` of histograms). */
export function series(m: MetricDef, suffix: "" | "_bucket" | "_sum" | "_count" = ""): string {
    if (m.type !== "histogram" && suffix !== "") throw new Error(`${m.name} is a ${m.type}: it has no ${suffix} series`);
    return `${m.name}${suffix}`;
}

/** Physical label names for a `by (...)` clause. */
export function by<L extends string>(m: MetricDef<L>, labels: readonly L[]): string[] {
    return labels.map((l) => {
        const p = m.labels[l];
        if (p === undefined) throw new Error(`metric ${m.name} has no label "${l}"`);
        return p;
    });
}

/** Physical name of one logical label, e.g. for legends: `{{${label(m, "route")}}}`. */
export function label<L extends string>(m: MetricDef<L>, l: L): string {
    return by(m, [l])[0]!;
}

/**
 * `rate(<metric>{...}[window])` for a counter (or a histogram's `_count`); with `offset`,
 * `rate(<metric>{...}[window] offset <offset>)`.
 */
export function rate<M extends MetricDef>(m: M, ms: Matchers<LabelOf<M>> = {}, window = "5m", fn: "rate" | "increase" = "rate", offset?: string): string {
    const name = m.type === "histogram" ? series(m, "_count") : m.name;
    return `${fn}(${name}${matchers(m as MetricDef<LabelOf<M>>, ms)}[${window}]${offset ? ` offset ${offset}` : ""})`;
}

/** `rate(<histogram>_bucket{...}[window])`. */
export function bucketRate<M extends MetricDef>(m: M, ms: Matchers<LabelOf<M>> = {}, window = "5m"): string {
    return `rate(${series(m, "_bucket")}${matchers(m as MetricDef<LabelOf<M>>, ms)}[${window}])`;
}

/** `<metric>{...}`: an instant selector (gauges). */
export function selector<M extends MetricDef>(m: M, ms: Matchers<LabelOf<M>> = {}): string {
    return `${m.type === "histogram" ? series(m, "_count") : m.name}${matchers(m as MetricDef<LabelOf<M>>, ms)}`;
}

/** `sum by (...) (expr)`; an empty `labels` gives `sum(expr)`. */
export function sumBy(labels: readonly string[], expr: string): string {
    return aggBy("sum", labels, expr);
}

/** `<op> by (...) (expr)`; an empty `labels` gives `<op>(expr)`. */
export function aggBy(op: "sum" | "max" | "min" | "avg" | "count", labels: readonly string[], expr: string): string {
    return labels.length ? `${op} by (${labels.join(", ")}) (${expr})` : `${op}(${expr})`;
}

/** Share of a counter's rate whose label matches, e.g. 5xx share of requests, by `group`. */
export function ratioOf<M extends MetricDef>(m: M, part: Matchers<LabelOf<M>>, base: Matchers<LabelOf<M>>, window: string, group: readonly LabelOf<M>[]): string {
    const g = by(m as MetricDef<LabelOf<M>>, group);
    return `${sumBy(g, rate(m, { ...base, ...part }, window))}\n/\n${sumBy(g, rate(m, base, window))}`;
}

/** `histogram_quantile(q, sum by (le, ...) (rate(<h>_bucket{...}[window])))`. */
export function quantile<M extends MetricDef>(q: number, m: M, ms: Matchers<LabelOf<M>>, window: string, group: readonly LabelOf<M>[] = []): string {
    if (m.type !== "histogram") throw new Error(`${m.name} is a ${m.type}: quantiles need a histogram`);
    const g = ["le", ...by(m as MetricDef<LabelOf<M>>, group)];
    return `histogram_quantile(${q}, ${sumBy(g, `rate(${series(m, "_bucket")}${matchers(m as MetricDef<LabelOf<M>>, ms)}[${window}])`)})`;
}

/** Share of a histogram's observations at or under `le` (an SLI: requests faster than a threshold). */
export function fractionBelow<M extends MetricDef>(m: M, le: number, ms: Matchers<LabelOf<M>>, window: string, group: readonly LabelOf<M>[]): string {
    if (m.type !== "histogram") throw new Error(`${m.name} is a ${m.type}: a threshold share needs a histogram`);
    const g = by(m as MetricDef<LabelOf<M>>, group);
    const sel = (suffix: "_bucket" | "_count", extra: string[]) => `rate(${series(m, suffix)}${matchers(m as MetricDef<LabelOf<M>>, ms, extra)}[${window}])`;
    return `${sumBy(g, sel("_bucket", [bucketMatcher(le)]))}\n/\n${sumBy(g, sel("_count", []))}`;
}

/** Shortest round-trip decimal digits of a finite positive number and its decimal exponent. */
function decimalDigits(x: number): { digits: string; exp: number } {
    const [mantissa, exp] = x.toExponential().split("e") as [string, string];
    return { digits: mantissa.replace(".", ""), exp: Number(exp) };
}

/** Go's `strconv.FormatFloat(x, 'f', -1, 64)`: the shortest digits in fixed notation. */
function fixedFloat(x: number): string {
    if (x === 0) return "0";
    const { digits, exp } = decimalDigits(Math.abs(x));
    const sign = x < 0 ? "-" : "";
    if (exp < 0) return `${sign}0.${"0".repeat(-exp - 1)}${digits}`;
    const int = digits.slice(0, exp + 1).padEnd(exp + 1, "0");
    const frac = digits.slice(exp + 1);
    return `${sign}${int}${frac ? `.${frac}` : ""}`;
}

/**
 * The `le` or `quantile` label value Prometheus 3 stores for a bound it scrapes: it normalizes
 * them to the OpenMetrics float form (`labels.FormatOpenMetricsFloat`): Go's shortest `%g`
 * (exponent form below 1e-4 and from 1e6 on), with `.0` added to whole numbers, so an exposed
 * `le="1"` is stored as `le="1.0"` and `le="1048576"` as `le="1.048576e+06"`.
 */
export function scrapedBound(x: number): string {
    if (Number.isNaN(x)) return "NaN";
    if (x === Infinity) return "+Inf";
    if (x === -Infinity) return "-Inf";
    if (x === 0) return "0.0";
    const { digits, exp } = decimalDigits(Math.abs(x));
    const sign = x < 0 ? "-" : "";
    if (exp < -4 || exp >= 6) {
        const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
        return `${sign}${mantissa}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
    }
    const fixed = fixedFloat(x);
    return fixed.includes(".") ? fixed : `${fixed}.0`;
}

/**
 * The `le` or `quantile` label value of a bound in series that arrive as OTLP (through the
 * collector's remote write, or Prometheus' own OTLP endpoint): Go's shortest fixed notation,
 * not normalized (`1`, `1048576`).
 */
export function otlpBound(x: number): string {
    if (x === Infinity) return "+Inf";
    if (x === -Infinity) return "-Inf";
    if (Number.isNaN(x)) return "NaN";
    return fixedFloat(x);
}

/**
 * The matcher of one histogram bucket, `le="0.5"`, whichever way its series reached Prometheus:
 * a bound whose scraped and OTLP forms differ (`1.0` and `1`, see {@link scrapedBound}) is
 * matched by both, `le=~"1\\.0|1"`. (Also across an upgrade from Prometheus 2, which stored the
 * text format's `1` as it was exposed.)
 */
export function bucketMatcher(bound: number): string {
    const scraped = scrapedBound(bound);
    const otlp = otlpBound(bound);
    if (scraped === otlp) return `le=${quote(scraped)}`;
    const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    return `le=~${quote(`${esc(scraped)}|${esc(otlp)}`)}`;
}
