/**
 * Input series for promtool unit tests and the alert-quality bench, described as phases of
 * constant behaviour ("10 req/s with 2% errors for 30 minutes, then ...") and written in
 * promtool's expanding notation. Application series are named through the metric catalog, so
 * the same description yields contract or OTel series depending on the preset.
 */
import { Catalog, label, MetricDef, otlpBound, scrapedBound, series } from "../../../telemetry";

/** One promtool input series. */
export interface InputSeries {
    readonly series: string;
    readonly values: string;
}

/** A stretch of time in which a quantity is constant. */
export interface Phase<T> {
    readonly minutes: number;
    readonly value: T;
}

/** Histogram upper bounds of the contract's request histograms (seconds), without +Inf. */
export const HTTP_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5] as const;

/** Cumulative share of observations at or under each bound of a bucket list (ascending, last < 1 allowed). */
export type Cumulative = readonly number[];

/** Label set as PromQL text: `name{a="x",b="y"}`. */
export function seriesText(name: string, labels: Readonly<Record<string, string>>): string {
    const parts = Object.entries(labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
    return `${name}{${parts.join(",")}}`;
}

/** Number of samples a phase spans at an interval. */
export function stepsOf(minutes: number, intervalSeconds: number): number {
    const steps = (minutes * 60) / intervalSeconds;
    if (!Number.isInteger(steps)) throw new Error(`${minutes} minutes is not a whole number of ${intervalSeconds}s intervals`);
    return steps;
}

/** Fixed-point text of a sample value (expanding notation takes decimals). */
function n(v: number): string {
    return String(Number(v.toPrecision(12)));
}

/**
 * A counter that starts at 0 and grows by `value` per second during each phase: the first sample
 * (t = 0) is 0, then one sample per interval. A `null` phase has no samples (the target is gone);
 * a counter that reappears after one starts again from 0, as a restarted process does.
 */
export function counterValues(intervalSeconds: number, phases: readonly Phase<number | null>[]): string {
    const parts = [phases[0]?.value === null ? "_" : "0"];
    let last = 0;
    let fresh = false;
    for (const p of phases) {
        const steps = stepsOf(p.minutes, intervalSeconds);
        if (steps === 0) continue;
        if (p.value === null) {
            parts.push(`_x${steps}`);
            fresh = true;
            continue;
        }
        const inc = p.value * intervalSeconds;
        const first = fresh ? 0 : last + inc;
        parts.push(`${n(first)}+${n(inc)}x${steps - 1}`);
        last = first + inc * (steps - 1);
        fresh = false;
    }
    return parts.join(" ");
}

/**
 * A gauge: `value` during each phase (`null`: no sample, the target is gone). The first sample
 * (t = 0) takes the first phase's value.
 */
export function gaugeValues(intervalSeconds: number, phases: readonly Phase<number | null>[]): string {
    const first = phases[0];
    if (!first) throw new Error("a gauge needs at least one phase");
    const parts = [first.value === null ? "_" : n(first.value)];
    for (const p of phases) {
        const steps = stepsOf(p.minutes, intervalSeconds);
        if (steps === 0) continue;
        parts.push(p.value === null ? `_x${steps}` : `${n(p.value)}x${steps - 1}`);
    }
    return parts.join(" ");
}

/** A gauge moving linearly from `start` by `perMinute` for `minutes` (first sample at t = 0). */
export function ramp(name: string, labels: Readonly<Record<string, string>>, intervalSeconds: number, start: number, perMinute: number, minutes: number): InputSeries {
    const inc = (perMinute * intervalSeconds) / 60;
    return { series: seriesText(name, labels), values: `${n(start)}${inc < 0 ? "-" : "+"}${n(Math.abs(inc))}x${stepsOf(minutes, intervalSeconds)}` };
}

/** A counter series whose rate follows `rates` (per second, by phase). */
export function counter(name: string, labels: Readonly<Record<string, string>>, intervalSeconds: number, rates: readonly Phase<number | null>[]): InputSeries {
    return { series: seriesText(name, labels), values: counterValues(intervalSeconds, rates) };
}

/** A gauge series. */
export function gauge(name: string, labels: Readonly<Record<string, string>>, intervalSeconds: number, values: readonly Phase<number | null>[]): InputSeries {
    return { series: seriesText(name, labels), values: gaugeValues(intervalSeconds, values) };
}

/** Phases of a constant: `[{minutes, value}]`. */
export const steady = <T>(minutes: number, value: T): Phase<T>[] => [{ minutes, value }];

/**
 * A histogram's `_bucket` (one per bound and +Inf) and `_count` series: `rates` gives the
 * observations per second and their cumulative distribution over `bounds`, by phase. The `le`
 * values are written as Prometheus 3 stores them: normalized when scraped (`1` → `1.0`,
 * {@link scrapedBound}), as they are when they arrive through OTLP ({@link otlpBound}).
 */
export function histogram(
    m: MetricDef,
    labels: Readonly<Record<string, string>>,
    intervalSeconds: number,
    bounds: readonly number[],
    phases: readonly Phase<{ readonly rate: number; readonly cumulative: Cumulative } | null>[],
    leOf: (bound: number) => string = scrapedBound,
): InputSeries[] {
    const out: InputSeries[] = [];
    const les = [...bounds.map(leOf), "+Inf"];
    les.forEach((le, i) => {
        out.push(
            counter(
                series(m, "_bucket"),
                { ...labels, le },
                intervalSeconds,
                phases.map((p) => ({ minutes: p.minutes, value: p.value === null ? null : p.value.rate * (i < bounds.length ? p.value.cumulative[i]! : 1) })),
            ),
        );
    });
    out.push(counter(series(m, "_count"), labels, intervalSeconds, phases.map((p) => ({ minutes: p.minutes, value: p.value === null ? null : p.value.rate }))));
    return out;
}

/** Where an application's series come from: the target labels relabeling sets. */
export interface AppTarget {
    readonly namespace: string;
    readonly service: string;
    /** Pods serving the traffic, which is split evenly between them. @default one pod `<service>-0` */
    readonly pods?: readonly string[];
}

/** One phase of HTTP traffic. */
export interface HttpPhase {
    readonly minutes: number;
    /** Requests per second of the whole service. */
    readonly rps: number;
    /** Share answered 500. @default 0 */
    readonly errorRatio?: number;
    /** Cumulative latency distribution over {@link HTTP_BUCKETS}. @default {@link FAST} */
    readonly latency?: Cumulative;
    /** The pods are gone (no samples); counters start again from 0 after such a phase. */
    readonly absent?: boolean;
}

/** p95 ≈ 0.225 s: 85% under 100 ms, 0.5% over 0.5 s. */
export const FAST: Cumulative = [0.85, 0.97, 0.995, 0.999, 1];

/** A route of a service, its share of the traffic, and how it differs from the phase. */
export interface RouteShare {
    readonly route: string;
    readonly share: number;
    /** Overrides the phase's error ratio on this route. */
    readonly errorRatio?: number;
    /** Overrides the phase's latency on this route. */
    readonly latency?: Cumulative;
}

/**
 * HTTP server series of a service per the preset: the contract's request counter (by status) and
 * duration histogram (without status), scraped; or OTel's single duration histogram whose
 * `_count` is the request counter (with the status code), pushed over OTLP (so its `le` values
 * are not normalized: `1`, where the scraped contract histogram has `1.0`).
 */
export function httpSeries(
    m: Catalog,
    target: AppTarget,
    intervalSeconds: number,
    phases: readonly HttpPhase[],
    routes: readonly RouteShare[] = [{ route: "/api/orders", share: 1 }],
): InputSeries[] {
    const pods = target.pods ?? [`${target.service}-0`];
    const req = m.http.requests;
    const dur = m.http.duration;
    const otel = req.countOf === dur.name;
    const out: InputSeries[] = [];
    for (const pod of pods) {
        const base = { namespace: target.namespace, pod, job: "kubernetes-pods" };
        for (const r of routes) {
            const share = r.share / pods.length;
            const err = (p: HttpPhase) => r.errorRatio ?? p.errorRatio ?? 0;
            const lat = (p: HttpPhase) => r.latency ?? p.latency ?? FAST;
            const statusRate = (status: "200" | "500") => (p: HttpPhase) => (p.absent ? null : p.rps * share * (status === "500" ? err(p) : 1 - err(p)));
            for (const status of ["200", "500"] as const) {
                const labels = {
                    ...base,
                    [label(req, "service")]: target.service,
                    [label(req, "method")]: "GET",
                    [label(req, "route")]: r.route,
                    [label(req, "status")]: status,
                };
                const rate = statusRate(status);
                if (otel) {
                    out.push(...histogram(dur, labels, intervalSeconds, HTTP_BUCKETS, phases.map((p) => ({ minutes: p.minutes, value: p.absent ? null : { rate: rate(p)!, cumulative: lat(p) } })), otlpBound));
                } else {
                    out.push(counter(req.name, labels, intervalSeconds, phases.map((p) => ({ minutes: p.minutes, value: rate(p) }))));
                }
            }
            if (!otel) {
                const labels = { ...base, [label(dur, "service")]: target.service, [label(dur, "method")]: "GET", [label(dur, "route")]: r.route };
                out.push(...histogram(dur, labels, intervalSeconds, HTTP_BUCKETS, phases.map((p) => ({ minutes: p.minutes, value: p.absent ? null : { rate: p.rps * share, cumulative: lat(p) } }))));
            }
        }
    }
    return out;
}

/**
 * The q-quantile of a cumulative distribution as Prometheus' `histogram_quantile` computes it
 * (linear interpolation inside the bucket, the first bucket starting at 0), written here from
 * the documented algorithm so tests do not take the expected value from the code under test.
 */
export function interpolatedQuantile(q: number, bounds: readonly number[], cumulative: Cumulative): number {
    const target = q;
    let lowerBound = 0;
    let lowerCum = 0;
    for (let i = 0; i < bounds.length; i++) {
        const c = cumulative[i]!;
        if (c >= target) {
            if (i === 0) return bounds[0]! * (target / c);
            return lowerBound + ((bounds[i]! - lowerBound) * (target - lowerCum)) / (c - lowerCum);
        }
        lowerBound = bounds[i]!;
        lowerCum = c;
    }
    // In the +Inf bucket: Prometheus returns the highest finite bound.
    return bounds[bounds.length - 1]!;
}

/** Mixes distributions by weight (e.g. routes with their traffic shares). */
export function mix(parts: readonly { readonly weight: number; readonly cumulative: Cumulative }[]): Cumulative {
    const total = parts.reduce((s, p) => s + p.weight, 0);
    const len = parts[0]!.cumulative.length;
    return Array.from({ length: len }, (_, i) => parts.reduce((s, p) => s + p.weight * p.cumulative[i]!, 0) / total);
}
