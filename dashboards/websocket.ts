/**
 * WebSocket: open connections, connection churn and lifetimes, disconnection reasons, and the
 * messages sent and received with their sizes and error share.
 */
import type { DashboardBuilder } from "@grafana/grafana-foundation-sdk/dashboard";
import { eq, nre } from "../telemetry";
import {
    above, context, DashboardConfig, DASHBOARD_UIDS, heatmapPanel, layout, legendOf, newDashboard, pct, prom, serviceLinks, statPanel,
    timeseriesPanel,
} from "./common";
import { SERVICE } from "./queries";

export const UID = DASHBOARD_UIDS.websocket;

/** A regex alternation matching exactly the given values. */
export function alternation(values: readonly string[]): string {
    return values.map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|");
}

export function websocket(cfg: DashboardConfig): DashboardBuilder {
    const ctx = context(cfg);
    const { q } = ctx;
    const a = ctx.alerting.websocket;
    const ws = q.m.websocket;
    const perService = ["namespace", "service"] as const;
    const abnormal = nre(alternation(a.normalDisconnectReasons));

    const b = newDashboard({
        uid: UID,
        title: "WebSocket",
        description: "Open WebSocket connections, their churn, lifetimes and disconnection reasons, and the messages sent and received.",
        tags: ["websocket"],
        anchor: ws.active.name,
    });

    return layout(b, [
        {
            title: "Summary",
            panels: [
                [statPanel({ title: "Active connections", description: "WebSocket connections open right now on the selected services.", unit: "short", queries: [prom(q.gaugeSum(ws.active, SERVICE), "open")] }), 6],
                [statPanel({ title: "New connections", description: "Connections opened per second.", unit: "cps", queries: [prom(q.rate(ws.opened, SERVICE), "opened/s")] }), 6],
                [statPanel({ title: "Message rate", description: "Messages sent and received per second.", unit: "mps", queries: [prom(q.rate(ws.messages, SERVICE), "messages/s")] }), 6],
                [statPanel({ title: "Disconnections", description: "Connections closed per second, for any reason.", unit: "cps", queries: [prom(q.rate(ws.disconnections, SERVICE), "closed/s")] }), 6],
            ],
        },
        {
            title: "Connections",
            panels: [
                [timeseriesPanel({ title: "Active connections by service", description: "Open connections per service. Click a series for the service's logs and traces.", unit: "short", min: 0, links: serviceLinks(ctx, { drillDown: false }), queries: [prom(q.gaugeSum(ws.active, SERVICE, ["service"]), "{{service}}")] }), 12],
                [timeseriesPanel({ title: "Connections opened and closed", description: `Connections opened and closed per second per service. The spike alert fires when openings reach ${a.connectionSpike.threshold}x the previous hour's rate; closings above openings for long means clients are dropping.`, unit: "cps", min: 0, queries: [
                    prom(q.rate(ws.opened, SERVICE, ["service"]), "opened {{service}}"),
                    prom(q.rate(ws.disconnections, SERVICE, ["service"]), "closed {{service}}"),
                ] }), 12],
                [heatmapPanel({ title: "Connection duration distribution", description: "How long connections live: connections closed per second per lifetime bucket. Mass at the short end means clients reconnect in a loop.", unit: "s", queries: [prom(q.buckets(ws.duration, SERVICE), "{{le}}")] }), 12],
                [timeseriesPanel({ title: "Disconnection reasons", description: "Disconnections per second by reason, stacked.", unit: "cps", min: 0, queries: [prom(q.rate(ws.disconnections, SERVICE, ["reason"]), legendOf(ws.disconnections, "reason"))] }, { stack: true }), 12],
                [timeseriesPanel({ title: "Abnormal disconnections", description: `Share of each service's disconnections per abnormal reason (every reason but ${a.normalDisconnectReasons.join(", ")}); the dashed line is the alert level (${pct(a.abnormalDisconnects.threshold)} for ${a.abnormalDisconnects.for}). Click a series for the service's warnings and errors.`, unit: "percentunit", min: 0, thresholds: above(a.abnormalDisconnects.threshold), links: serviceLinks(ctx, { drillDown: false, levels: ["warn", "error"] }), queries: [prom(q.disconnectShare(abnormal), `${legendOf(ws.disconnections, "reason")} ({{service}})`)] }), 24],
            ],
        },
        {
            title: "Messages",
            panels: [
                [timeseriesPanel({ title: "Message throughput", description: "Messages per second sent to and received from clients.", unit: "mps", min: 0, queries: [prom(q.rate(ws.messages, SERVICE, ["direction"]), legendOf(ws.messages, "direction"))] }), 12],
                [timeseriesPanel({ title: "Messages by type", description: "Messages per second by message type, stacked.", unit: "mps", min: 0, queries: [prom(q.rate(ws.messages, SERVICE, ["type"]), legendOf(ws.messages, "type"))] }, { stack: true }), 12],
                [timeseriesPanel({ title: "Message error ratio", description: `Share of each service's messages of type "${a.errorMessageType}"; the dashed line is the alert level (${pct(a.messageErrors.threshold)} for ${a.messageErrors.for}).`, unit: "percentunit", min: 0, thresholds: above(a.messageErrors.threshold), links: serviceLinks(ctx, { drillDown: false, levels: ["error", "fatal"] }), queries: [prom(q.ratio(ws.messages, { type: eq(a.errorMessageType) }, SERVICE, [...perService], ["websocketMessageErrorRatio"]), "{{service}}")] }), 12],
                [timeseriesPanel({ title: "Message size distribution", description: "Median and 95th percentile message size per service and direction.", unit: "bytes", min: 0, queries: [
                    prom(q.quantile(0.5, ws.messageSize, SERVICE, [...perService, "direction"]), `p50 {{service}} ${legendOf(ws.messageSize, "direction")}`),
                    prom(q.quantile(0.95, ws.messageSize, SERVICE, [...perService, "direction"]), `p95 {{service}} ${legendOf(ws.messageSize, "direction")}`),
                ] }), 12],
                [heatmapPanel({ title: "Message size heatmap", description: "Messages per second per size bucket, both directions: a fat tail of large messages is what slows clients down.", unit: "bytes", queries: [prom(q.buckets(ws.messageSize, SERVICE), "{{le}}")] }), 24],
            ],
        },
    ]);
}
