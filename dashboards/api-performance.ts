/**
 * API Performance: latency, traffic, errors and payloads of the selected services per endpoint
 * (route). System Overview drills into it with `$service` set.
 */
import type { DashboardBuilder } from "@grafana/grafana-foundation-sdk/dashboard";
import { label, re } from "../telemetry";
import type { Matchers } from "../telemetry";
import {
    above, barGaugePanel, context, DashboardConfig, DASHBOARD_UIDS, heatmapPanel, labelValues, layout, legendOf, logsLink,
    newDashboard, pct, prom, serviceLinks, statPanel, tablePanel, timeseriesPanel, tracesLink,
} from "./common";
import { sel, SERVICE, VAR } from "./queries";

/** OpenTelemetry span attribute of the matched route (HTTP semantic conventions). */
export const HTTP_ROUTE_ATTRIBUTE = "http.route";

export const UID = DASHBOARD_UIDS.api;

export function apiPerformance(cfg: DashboardConfig): DashboardBuilder {
    const ctx = context(cfg);
    const { q } = ctx;
    const api = ctx.alerting.api;
    const m = q.m;
    const routes: Matchers<"service" | "route"> = { ...SERVICE, route: re(VAR.route) };
    const errors = above(api.errorRatioWarning.threshold, api.errorRatioCritical.threshold);
    const p95 = above(api.latencyP95.threshold);
    const dataField = (l: "service" | "route") => `\${__data.fields.${label(m.http.requests, l)}}`;
    const perRoute = ["namespace", "service", "route"] as const;

    const b = newDashboard({
        uid: UID,
        title: "API Performance",
        description: "Latency, traffic, status codes and payload sizes of the selected services, per endpoint.",
        tags: ["api"],
        anchor: sel(m.http.requests, {}, "", []),
        extraVariables: [{ name: "route", label: "Route", query: labelValues(sel(m.http.requests, SERVICE), label(m.http.requests, "route")) }],
    });

    return layout(b, [
        {
            title: "Summary",
            panels: [
                [statPanel({ title: "Request rate", description: "Requests per second to the selected services and routes.", unit: "reqps", queries: [prom(q.requestRate([], routes), "requests/s")] }), 6],
                [statPanel({ title: "Error rate", description: `5xx share of the selected requests (the alerts warn above ${pct(api.errorRatioWarning.threshold)} and page above ${pct(api.errorRatioCritical.threshold)}).`, unit: "percentunit", decimals: 2, thresholds: errors, queries: [prom(q.errorRatio([], routes), "5xx share")] }), 6],
                [statPanel({ title: "p95 latency", description: `95th percentile latency of the selected requests (the alert fires above ${api.latencyP95.threshold} s).`, unit: "s", thresholds: p95, queries: [prom(q.latency(0.95, [], routes), "p95")] }), 6],
                [statPanel({ title: "In-flight requests", description: "Requests being served right now by the selected services.", unit: "short", queries: [prom(q.gaugeSum(m.http.inFlight, SERVICE), "in flight")] }), 6],
            ],
        },
        {
            title: "Latency",
            panels: [
                [heatmapPanel({ title: "Latency heatmap", description: "Distribution of request latency over time: each cell is the requests per second in one histogram bucket; darker is more.", unit: "s", queries: [prom(q.buckets(m.http.duration, routes), "{{le}}")] }), 24],
                [tablePanel({ title: "Top 10 slowest endpoints", description: "Endpoints with the highest p95 latency over the dashboard's time range. Click a row to open the endpoint's traces.", unit: "s", thresholds: p95, links: [tracesLink(dataField("service"), { title: "Traces of this endpoint", tags: `${HTTP_ROUTE_ATTRIBUTE}="${dataField("route")}"` })], queries: [prom(`topk(10, ${q.quantileOverRange(0.95, m.http.duration, routes, ["service", "route"])})`)] }, { columns: { Value: "p95 latency" }, sortBy: "p95 latency", gauge: true }), 12],
                [timeseriesPanel({ title: "p95 latency by route", description: `95th percentile latency per route; the dashed line is the alert threshold (${api.latencyP95.threshold} s). Click a series for the service's traces or its latency exemplars (sampled requests with their traces).`, unit: "s", min: 0, thresholds: p95, links: serviceLinks(ctx, { drillDown: false, exemplars: true }), queries: [prom(q.latency(0.95, [...perRoute], routes), legendOf(m.http.duration, "service", "route"))] }), 12],
            ],
        },
        {
            title: "Traffic and status codes",
            panels: [
                [barGaugePanel({ title: "Request distribution by endpoint", description: "Requests per second per route (last value).", unit: "reqps", queries: [prom(q.requestRate(["route"], routes), legendOf(m.http.requests, "route"))] }), 12],
                [timeseriesPanel({ title: "Status code distribution", description: "Requests per second by HTTP status code over all routes of the selected services, stacked.", unit: "reqps", min: 0, queries: [prom(q.requestRate(["status"], SERVICE), legendOf(m.http.requests, "status"))] }, { stack: true }), 12],
                [timeseriesPanel({ title: "Request rate by route", description: "Requests per second per service and route.", unit: "reqps", min: 0, queries: [prom(q.requestRate(["service", "route"], routes), legendOf(m.http.requests, "service", "route"))] }), 12],
                [timeseriesPanel({ title: "Error rate by route", description: "5xx share per service and route; dashed lines mark the alert levels. Click a series for the service's error logs.", unit: "percentunit", min: 0, thresholds: errors, links: [logsLink(ctx, "${__field.labels.service}", { title: "Error logs of ${__field.labels.service}", levels: ["error", "fatal"] })], queries: [prom(q.errorRatio([...perRoute], routes), legendOf(m.http.requests, "service", "route"))] }), 12],
            ],
        },
        {
            title: "Payloads and concurrency",
            panels: [
                [timeseriesPanel({ title: "Request payload sizes", description: "Median and 95th percentile size of request bodies, and the mean.", unit: "bytes", min: 0, queries: [
                    prom(q.quantile(0.5, m.http.requestSize, routes), "p50"),
                    prom(q.quantile(0.95, m.http.requestSize, routes), "p95"),
                    prom(q.mean(m.http.requestSize, routes), "mean"),
                ] }), 12],
                [timeseriesPanel({ title: "In-flight requests by pod", description: `Concurrent requests per pod: a rising line with flat traffic means requests are queueing. The saturation alert fires above ${api.inFlight.threshold} for ${api.inFlight.for}.`, unit: "short", min: 0, thresholds: above(api.inFlight.threshold), queries: [prom(q.gaugeSum(m.http.inFlight, SERVICE, ["namespace", "pod"]), "{{namespace}}/{{pod}}")] }), 12],
            ],
        },
    ]);
}
