/**
 * API (HTTP server) rules: recording rules for the request, error and latency series the
 * dashboards and alerts read, and the API alerts (error ratio, latency, traffic drop, saturation).
 */
import { aggBy, bucketRate, by, rate, re, selector, series, sumBy } from "../telemetry";
import { and, alert, groupBy, num, pct, RuleContext, SCOPE, SERVICE_REF } from "./common";
import type { RuleGroup } from "./index";
import { RECORDING, ROUTE_RULES_INTERVAL } from "./recording";

/** The 5xx matcher of the request counter's `status` label. */
export const SERVER_ERROR = re("5..");

/** `<recorded series>{}` and friends: recorded series are read by name. */
const r = (name: keyof typeof RECORDING): string => RECORDING[name].record;

// `and ... > 0`: a service without requests has no quantile series rather than NaN.
const quantile = (p: number, group: string[], source: string, traffic: string) => `histogram_quantile(${p}, ${sumBy(["le", ...group], source)})\nand\n${traffic} > 0`;

export function apiRecordingGroup(ctx: RuleContext): RuleGroup {
    const { requests, duration, inFlight, activeUsers } = ctx.m.http;
    const svc = groupBy(requests, ["service"]);
    const svcDuration = groupBy(duration, ["service"]);
    const errors = sumBy(svc, rate(requests, { status: SERVER_ERROR }, "5m"));
    const total = sumBy(svc, rate(requests, {}, "5m"));
    return {
        name: "api.recording",
        rules: [
            { record: r("serviceRequestRate"), expr: total },
            // `or 0 * total`: a service without any 5xx still gets a series (0), so sums and ratios work.
            { record: r("serviceErrorRate"), expr: `${errors}\nor\n0 * ${r("serviceRequestRate")}` },
            // `> 0` drops services without requests: the ratio is absent, never NaN.
            { record: r("serviceErrorRatio"), expr: `${r("serviceErrorRate")}\n/\n(${r("serviceRequestRate")} > 0)` },
            { record: r("serviceStatusRequestRate"), expr: sumBy(groupBy(requests, ["service", "status"]), rate(requests, {}, "5m")) },
            { record: r("serviceLatencyBuckets"), expr: sumBy(["le", ...svcDuration], bucketRate(duration, {}, "5m")) },
            { record: r("serviceLatencyP50"), expr: quantile(0.5, svcDuration, r("serviceLatencyBuckets"), r("serviceRequestRate")) },
            { record: r("serviceLatencyP95"), expr: quantile(0.95, svcDuration, r("serviceLatencyBuckets"), r("serviceRequestRate")) },
            { record: r("serviceLatencyP99"), expr: quantile(0.99, svcDuration, r("serviceLatencyBuckets"), r("serviceRequestRate")) },
            { record: r("serviceInFlight"), expr: aggBy("sum", groupBy(inFlight, ["service"]), selector(inFlight)) },
            { record: r("serviceActiveUsers"), expr: aggBy("sum", groupBy(activeUsers, ["service"]), selector(activeUsers)) },
        ],
    };
}

/** Per-route rules, for API Performance only (no alert reads them), once every {@link ROUTE_RULES_INTERVAL}. */
export function apiRouteRecordingGroup(ctx: RuleContext): RuleGroup {
    const { requests, duration, requestSize } = ctx.m.http;
    const routes = groupBy(requests, ["service", "route"]);
    const routeDuration = groupBy(duration, ["service", "route"]);
    const routeSize = groupBy(requestSize, ["service", "route"]);
    return {
        name: "api.routes.recording",
        interval: ROUTE_RULES_INTERVAL,
        rules: [
            { record: r("serviceRouteRequestRate"), expr: sumBy(routes, rate(requests, {}, "5m")) },
            { record: r("serviceRouteErrorRate"), expr: `${sumBy(routes, rate(requests, { status: SERVER_ERROR }, "5m"))}\nor\n0 * ${r("serviceRouteRequestRate")}` },
            { record: r("serviceRouteErrorRatio"), expr: `${r("serviceRouteErrorRate")}\n/\n(${r("serviceRouteRequestRate")} > 0)` },
            { record: r("serviceRouteLatencyBuckets"), expr: sumBy(["le", ...routeDuration], bucketRate(duration, {}, "5m")) },
            { record: r("serviceRouteLatencyP95"), expr: quantile(0.95, routeDuration, r("serviceRouteLatencyBuckets"), r("serviceRouteRequestRate")) },
            { record: r("serviceRouteRequestSizeBuckets"), expr: sumBy(["le", ...routeSize], bucketRate(requestSize, {}, "5m")) },
            { record: r("serviceRouteRequestSizeSum"), expr: sumBy(routeSize, `rate(${series(requestSize, "_sum")}[5m])`) },
        ],
    };
}

export function apiAlertGroup(ctx: RuleContext): RuleGroup {
    const a = ctx.alerting.api;
    const team = ctx.alerting.teams.application;
    const { requests, inFlight } = ctx.m.http;
    const svc = groupBy(requests, ["service"]);
    const w = a.errorRatioWindow;
    const minRate = num(ctx.alerting.minRequestRate);
    const errorRatio = `${sumBy(svc, rate(requests, { status: SERVER_ERROR }, w))}\n/\n${sumBy(svc, rate(requests, {}, w))}`;
    const enoughTraffic = `${sumBy(svc, rate(requests, {}, w))} > ${minRate}`;
    const guarded = (rule: string) => and(rule, `${r("serviceRequestRate")} > ${minRate}`);
    const trafficNote = `Only services with more than ${minRate} req/s are considered.`;
    return {
        name: "api.alerts",
        rules: [
            alert({
                name: "ApiErrorRateHigh",
                expr: and(`(\n${errorRatio}\n) > ${num(a.errorRatioWarning.threshold)}`, enoughTraffic),
                for: a.errorRatioWarning.for,
                severity: "warning",
                team,
                summary: `${SERVICE_REF}: {{ $value | humanizePercentage }} of requests fail.`,
                description:
                    `{{ $value | humanizePercentage }} of the requests of {{ $labels.service }} in {{ $labels.namespace }} were answered ` +
                    `with a 5xx status over the last ${w} (warning above ${pct(a.errorRatioWarning.threshold)} for ${a.errorRatioWarning.for}). ${trafficNote}`,
            }),
            alert({
                name: "ApiErrorRateCritical",
                expr: and(`(\n${errorRatio}\n) > ${num(a.errorRatioCritical.threshold)}`, enoughTraffic),
                for: a.errorRatioCritical.for,
                severity: "critical",
                team,
                summary: `${SERVICE_REF}: {{ $value | humanizePercentage }} of requests fail.`,
                description:
                    `{{ $value | humanizePercentage }} of the requests of {{ $labels.service }} in {{ $labels.namespace }} were answered ` +
                    `with a 5xx status over the last ${w} (page above ${pct(a.errorRatioCritical.threshold)} for ${a.errorRatioCritical.for}). ${trafficNote}`,
            }),
            alert({
                name: "ApiLatencyP95High",
                expr: guarded(`${r("serviceLatencyP95")} > ${num(a.latencyP95.threshold)}`),
                for: a.latencyP95.for,
                severity: "warning",
                team,
                summary: `${SERVICE_REF}: p95 latency is {{ $value | humanizeDuration }}.`,
                description:
                    `The 95th percentile request latency of {{ $labels.service }} in {{ $labels.namespace }} is {{ $value | humanizeDuration }} ` +
                    `over 5m, above ${num(a.latencyP95.threshold)}s for ${a.latencyP95.for}. ${trafficNote}`,
            }),
            alert({
                name: "ApiLatencyP99High",
                expr: guarded(`${r("serviceLatencyP99")} > ${num(a.latencyP99.threshold)}`),
                for: a.latencyP99.for,
                severity: "warning",
                team,
                summary: `${SERVICE_REF}: p99 latency is {{ $value | humanizeDuration }}.`,
                description:
                    `The 99th percentile request latency of {{ $labels.service }} in {{ $labels.namespace }} is {{ $value | humanizeDuration }} ` +
                    `over 5m, above ${num(a.latencyP99.threshold)}s for ${a.latencyP99.for}. ${trafficNote}`,
            }),
            alert({
                name: "ApiTrafficDropped",
                // The hour before (ending 15m ago) had traffic; the last 5m have none, or no series at all.
                expr:
                    `(\n${sumBy(svc, rate(requests, {}, "1h", "rate", "15m"))} > ${num(a.trafficDropped.threshold)}\n)\n` +
                    `unless\n(\n${sumBy(svc, rate(requests, {}, "5m"))} > 0\n)`,
                for: a.trafficDropped.for,
                severity: "warning",
                team,
                summary: `${SERVICE_REF}: traffic dropped to zero.`,
                description:
                    `{{ $labels.service }} in {{ $labels.namespace }} served {{ $value | humanize }} req/s in the hour before the last 15 minutes, ` +
                    `and no request in the last 5 minutes (for ${a.trafficDropped.for}). Clients cannot reach it, or its metrics are gone.`,
            }),
            alert({
                name: "ApiInFlightSaturation",
                expr: `${aggBy("max", [...SCOPE, ...by(inFlight, ["service"]), "pod"], selector(inFlight))} > ${num(a.inFlight.threshold)}`,
                for: a.inFlight.for,
                severity: "warning",
                team,
                summary: `${SERVICE_REF}: pod {{ $labels.pod }} holds {{ $value }} requests in flight.`,
                description:
                    `Pod {{ $labels.pod }} of {{ $labels.service }} in {{ $labels.namespace }} has {{ $value }} requests in flight, ` +
                    `above ${num(a.inFlight.threshold)} for ${a.inFlight.for}: it is saturated and queues requests.`,
            }),
        ],
    };
}
