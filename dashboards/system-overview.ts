/**
 * System Overview: the golden signals of every service, their resources, SLO status, firing
 * alerts and the synthetic probes of their endpoints on one page. A click on a service's series
 * drills into API Performance for it.
 */
import type { DashboardBuilder } from "@grafana/grafana-foundation-sdk/dashboard";
import { INFRA } from "../telemetry";
import {
    above, ADVISORY_LEVELS, Ctx, Query, alertsSelector, barGaugePanel, below, context, DashboardConfig, DASHBOARD_UIDS, layout, newDashboard,
    pct, prom, Section, serviceLinks, statPanel, tablePanel, timeseriesPanel,
} from "./common";
import { infra, scope, sel, SERVICE } from "./queries";

export const UID = DASHBOARD_UIDS.overview;

/** Filesystems that hold data (not memory-backed, overlays or read-only images). */
export const DATA_FILESYSTEMS = { fstype: { op: "!~", value: "tmpfs|ramfs|squashfs|overlay|nsfs|fuse.lxcfs" }, mountpoint: { op: "!=", value: "" } } as const;

/** Fullest data filesystem, by `group` (e.g. `node`). */
export function diskUsage(group: string, nodes: Readonly<Record<string, { op: "=" | "!=" | "=~" | "!~"; value: string } | string>> = {}): string {
    const avail = infra(INFRA.node.fsAvail, { ...nodes, ...DATA_FILESYSTEMS }, scope(["cluster"]));
    const size = infra(INFRA.node.fsSize, { ...nodes, ...DATA_FILESYSTEMS }, scope(["cluster"]));
    return `max by (${group}) (1 - ${avail} / ${size})`;
}

export function systemOverview(cfg: DashboardConfig): DashboardBuilder {
    const ctx = context(cfg);
    const { q } = ctx;
    const api = ctx.alerting.api;
    const m = q.m;
    const errors = above(api.errorRatioWarning.threshold, api.errorRatioCritical.threshold);
    const p95 = above(api.latencyP95.threshold);
    const drill = serviceLinks(ctx);
    const perService = ["namespace", "service"] as const;

    const b = newDashboard({
        uid: UID,
        title: "System Overview",
        description: "Golden signals, resources, SLO status and firing alerts of every service. Click a service's series to drill into API Performance.",
        tags: ["overview"],
        anchor: sel(m.http.requests, {}, "", []),
    });

    return layout(b, [
        {
            title: "Golden signals",
            panels: [
                [statPanel({ title: "Request rate", description: "Requests per second served by the selected services.", unit: "reqps", queries: [prom(q.requestRate(), "requests/s")] }), 6],
                [statPanel({ title: "Error rate", description: `Share of requests answered with a 5xx status. The error-rate alerts warn above ${pct(api.errorRatioWarning.threshold)} and page above ${pct(api.errorRatioCritical.threshold)}.`, unit: "percentunit", thresholds: errors, decimals: 2, queries: [prom(q.errorRatio(), "5xx share")] }), 6],
                [statPanel({ title: "p95 latency", description: `95th percentile request latency over the selected services. The latency alert fires above ${api.latencyP95.threshold} s for ${api.latencyP95.for}.`, unit: "s", thresholds: p95, queries: [prom(q.latency(0.95), "p95")] }), 6],
                [statPanel({ title: "Active users", description: "Users active right now, summed over the selected services (the applications' active-users gauge).", unit: "short", queries: [prom(q.gaugeSum(m.http.activeUsers, SERVICE), "active users")] }), 6],
            ],
        },
        {
            title: "Traffic and errors by service",
            panels: [
                [timeseriesPanel({ title: "Request rate by service", description: "Requests per second of each service. Click a series to open API Performance, traces or logs of that service.", unit: "reqps", min: 0, links: drill, queries: [prom(q.requestRate([...perService]), "{{service}}")] }), 12],
                [timeseriesPanel({ title: "Error rate by service", description: `5xx share of each service's requests; dashed lines mark the alert levels (${pct(api.errorRatioWarning.threshold)} warning, ${pct(api.errorRatioCritical.threshold)} critical). Click a series for the service's error logs and traces.`, unit: "percentunit", min: 0, thresholds: errors, links: serviceLinks(ctx, { levels: ["error", "fatal"] }), queries: [prom(q.errorRatio([...perService]), "{{service}}")] }), 12],
            ],
        },
        {
            title: "Latency",
            panels: [
                [timeseriesPanel({ title: "Latency p50 / p95 / p99", description: `Request latency quantiles over all selected services. The dashed line is the p95 alert threshold (${api.latencyP95.threshold} s).`, unit: "s", min: 0, thresholds: p95, queries: [prom(q.latency(0.5), "p50"), prom(q.latency(0.95), "p95"), prom(q.latency(0.99), "p99")] }), 12],
                [timeseriesPanel({ title: "p95 latency by service", description: "95th percentile latency of each service. Click a series to drill into API Performance, to the service's traces, or to its latency exemplars (sampled requests with their traces).", unit: "s", min: 0, thresholds: p95, links: serviceLinks(ctx, { exemplars: true }), queries: [prom(q.latency(0.95, [...perService]), "{{service}}")] }), 12],
            ],
        },
        {
            title: "Users and resources",
            panels: [
                [timeseriesPanel({ title: "Active users by service", description: "Active users reported by each service.", unit: "short", min: 0, links: drill, queries: [prom(q.gaugeSum(m.http.activeUsers, SERVICE, ["service"]), "{{service}}")] }), 12],
                [timeseriesPanel({ title: "In-flight requests by service", description: "Requests being served right now by each service: a rising line with flat traffic means requests are piling up.", unit: "short", min: 0, links: drill, queries: [prom(q.gaugeSum(m.http.inFlight, SERVICE, ["service"]), "{{service}}")] }), 12],
                [timeseriesPanel({ title: "CPU by pod", description: "CPU cores used by the pods of the selected services (cAdvisor; pods are matched by name prefix).", unit: "short", min: 0, decimals: 2, queries: [prom(q.containerCpu(["namespace", "pod"]), "{{namespace}}/{{pod}}")] }), 8],
                [timeseriesPanel({ title: "Memory by pod", description: "Working-set memory of the pods of the selected services: what the kernel compares with the limit before it kills a container.", unit: "bytes", min: 0, queries: [prom(q.containerMemory(["namespace", "pod"]), "{{namespace}}/{{pod}}")] }), 8],
                [timeseriesPanel({ title: "Disk usage by node", description: `Fullest data filesystem of each node. The dashed line is an advisory level (${pct(ADVISORY_LEVELS.diskUsage)}); the disk alert predicts filling up from the trend.`, unit: "percentunit", min: 0, max: 1, thresholds: above(ADVISORY_LEVELS.diskUsage), queries: [prom(diskUsage("node"), "{{node}}")] }), 8],
            ],
        },
        {
            title: "SLOs and alerts",
            panels: [
                [barGaugePanel({ title: "SLO error budget remaining", description: "Share of each SLO's error budget left over its window: 100% untouched, 0% spent, below 0 overspent. Details on the SLO dashboard.", unit: "percentunit", min: 0, max: 1, thresholds: below(0, 0.25), links: [{ title: "SLO dashboard", url: `/d/${DASHBOARD_UIDS.slo}?\${datasource:queryparam}&\${cluster:queryparam}&\${namespace:queryparam}&\${service:queryparam}&\${__url_time_range}` }], queries: sloQueries(ctx) }), 12],
                [tablePanel({ title: "Firing alerts", description: "Alerts firing now in the selected scope, by name, severity and service. Each notification links the alert's runbook.", unit: "short", queries: [prom(`sum by (alertname, severity, namespace, service) (${alertsSelector()})`)] }, { columns: { Value: "Series" } }), 12],
            ],
        },
        endpointsSection(ctx),
    ]);
}

/**
 * Endpoints: what the blackbox exporter's probes see from inside the cluster (the `probe_*`
 * series of the probe jobs: config targets and annotated Services), per probed target.
 */
function endpointsSection(ctx: Ctx): Section {
    const p = INFRA.probe;
    const a = ctx.alerting.probes;
    const probed = (name: string) => infra(name, SERVICE, scope());
    const perTarget = "namespace, service, target";
    const legend = "{{service}} {{target}}";
    return {
        title: "Endpoints",
        panels: [
            [statPanel({ title: "Endpoints down", description: `Probed endpoints whose last probe failed (probe_success = 0). A failure that lasts ${a.failing.for} raises ProbeFailing, or ProbeDnsResolutionFailing when the name did not resolve.`, unit: "short", thresholds: [{ value: null, color: "green" }, { value: 1, color: "red" }], queries: [prom(`count(${probed(p.success)} == 0) or vector(0)`, "down")] }), 6],
            [statPanel({ title: "Endpoints probed", description: "Targets the blackbox exporter probes in the selected scope: the config's probes.targets and every Service annotated probe.observability/path.", unit: "short", queries: [prom(`count(${probed(p.success)}) or vector(0)`, "probed")] }), 6],
            [timeseriesPanel({ title: "Endpoint up / down", description: "Result of each target's probes: 1 succeeded, 0 failed (down, wrong status or body, certificate that does not verify, name that does not resolve).", unit: "short", min: 0, max: 1, decimals: 0, thresholds: below(1), queries: [prom(`min by (${perTarget}) (${probed(p.success)})`, legend)] }), 12],
            [timeseriesPanel({ title: "Probe latency p95", description: `95th percentile duration of each target's probes over ${a.latencyWindow} (resolve, connect, TLS and response). The dashed line is the latency alert level (${a.latencyP95.threshold} s for ${a.latencyP95.for}).`, unit: "s", min: 0, thresholds: above(a.latencyP95.threshold), queries: [prom(`max by (${perTarget}) (quantile_over_time(0.95, ${probed(p.duration)}[${a.latencyWindow}]))`, legend)] }), 12],
            [barGaugePanel({ title: "TLS certificate days left", description: `Days until the earliest certificate each HTTPS target presents expires. Orange under ${a.certExpiryWarning.threshold} days (warning alert), red under ${a.certExpiryCritical.threshold} (critical alert).`, unit: "d", min: 0, thresholds: below(a.certExpiryCritical.threshold, a.certExpiryWarning.threshold), queries: [prom(`min by (${perTarget}) ((${probed(p.sslEarliestCertExpiry)} - time()) / 86400)`, legend, { instant: true })] }), 12],
            [timeseriesPanel({ title: "HTTP status by endpoint", description: "Status code of each HTTP target's last answer; 0 when there was no answer at all (connection refused, timeout, TLS failure).", unit: "none", min: 0, decimals: 0, queries: [prom(`max by (${perTarget}) (${probed(p.httpStatusCode)})`, legend)] }), 12],
            [timeseriesPanel({ title: "DNS lookup time", description: "Time each probe spent resolving its target's host name (for DNS probes: the resolver's own address). A jump across every target points at the cluster DNS.", unit: "s", min: 0, queries: [prom(`max by (${perTarget}) (${probed(p.dnsLookupTime)})`, legend)] }), 12],
        ],
    };
}

/** One budget-remaining query per SLO; each service's availability when the stack declares no SLO. */
function sloQueries(ctx: Ctx): Query[] {
    if (ctx.cfg.slos.length === 0) return [prom(`1 - (\n${ctx.q.errorRatio(["namespace", "service"])}\n)`, "{{service}} availability (no SLO configured)", { instant: true })];
    return ctx.cfg.slos.map((slo) => prom(ctx.q.budgetRemaining(slo), `${slo.name} (${slo.objective}% / ${slo.window})`, { instant: true }));
}
