/**
 * WebSocket rules: recording rules for connection and message rates, and alerts on connection
 * spikes, abnormal disconnections (by reason) and the message error ratio.
 */
import { aggBy, bucketRate, eq, nre, rate, selector, sumBy } from "../telemetry";
import { alert, and, existedAgo, groupBy, num, pct, RuleContext, SERVICE_REF } from "./common";
import type { RuleGroup } from "./index";
import { RECORDING } from "./recording";

const r = (name: keyof typeof RECORDING): string => RECORDING[name].record;

/** `reason!~"normal|going_away"`: the reasons that are not normal closes. */
function abnormal(ctx: RuleContext) {
    return nre(ctx.alerting.websocket.normalDisconnectReasons.map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|"));
}

export function websocketRecordingGroup(ctx: RuleContext): RuleGroup {
    const ws = ctx.m.websocket;
    const errorType = { type: eq(ctx.alerting.websocket.errorMessageType) };
    const svc = groupBy(ws.messages, ["service"]);
    const direction = groupBy(ws.messageSize, ["service", "direction"]);
    return {
        name: "websocket.recording",
        rules: [
            { record: r("websocketOpenRate"), expr: sumBy(groupBy(ws.opened, ["service"]), rate(ws.opened, {}, "5m")) },
            { record: r("websocketActive"), expr: aggBy("sum", groupBy(ws.active, ["service"]), selector(ws.active)) },
            { record: r("websocketDisconnectRate"), expr: sumBy(groupBy(ws.disconnections, ["service", "reason"]), rate(ws.disconnections, {}, "5m")) },
            {
                record: r("websocketDisconnectShare"),
                // `group_left()`: with no label list, the parenthesised divisor would be read as one.
                expr: `${r("websocketDisconnectRate")}\n/ on (${svc.join(", ")}) group_left()\n(${sumBy(svc, r("websocketDisconnectRate"))} > 0)`,
            },
            { record: r("websocketMessageRate"), expr: sumBy(groupBy(ws.messages, ["service", "direction", "type"]), rate(ws.messages, {}, "5m")) },
            { record: r("websocketMessageSizeBuckets"), expr: sumBy(["le", ...groupBy(ws.messageSize, ["service", "direction"])], bucketRate(ws.messageSize, {}, "5m")) },
            { record: r("websocketDurationBuckets"), expr: sumBy(["le", ...groupBy(ws.duration, ["service"])], bucketRate(ws.duration, {}, "5m")) },
            ...([0.5, 0.95] as const).map((p) => ({
                record: r(p === 0.5 ? "websocketMessageSizeP50" : "websocketMessageSizeP95"),
                // `and ... > 0`: a direction without messages has no quantile rather than NaN.
                expr: `histogram_quantile(${p}, ${r("websocketMessageSizeBuckets")})\nand on (${direction.join(", ")})\n${r("websocketMessageSizeBuckets")}{le="+Inf"} > 0`,
            })),
            {
                record: r("websocketMessageErrorRatio"),
                expr: `(\n${sumBy(svc, rate(ws.messages, errorType, "5m"))}\nor\n0 * ${sumBy(svc, rate(ws.messages, {}, "5m"))}\n)\n/\n(${sumBy(svc, rate(ws.messages, {}, "5m"))} > 0)`,
            },
        ],
    };
}

export function websocketAlertGroup(ctx: RuleContext): RuleGroup {
    const a = ctx.alerting.websocket;
    const team = ctx.alerting.teams.application;
    const ws = ctx.m.websocket;
    const minRate = num(ctx.alerting.minRequestRate);
    const svc = groupBy(ws.opened, ["service"]);
    const disconnects = groupBy(ws.disconnections, ["service"]);
    const now = sumBy(svc, rate(ws.opened, {}, "5m"));
    return {
        name: "websocket.alerts",
        rules: [
            alert({
                name: "WebsocketConnectionSpike",
                expr: and(
                    and(`${now}\n> ${num(a.connectionSpike.threshold)} *\n${sumBy(svc, rate(ws.opened, {}, "1h", "rate", "5m"))}`, `${now} > ${minRate}`),
                    existedAgo(selector(ws.opened), svc, "65m"),
                ),
                for: a.connectionSpike.for,
                severity: "warning",
                team,
                summary: `${SERVICE_REF}: WebSocket connections are opened at {{ $value | humanize }}/s, a spike.`,
                description:
                    `{{ $labels.service }} in {{ $labels.namespace }} opens {{ $value | humanize }} WebSocket connections per second over 5m, ` +
                    `more than ${num(a.connectionSpike.threshold)} times its rate of the hour before (services younger than an hour are not judged), for ${a.connectionSpike.for} ` +
                    `(a reconnect storm, a client bug or abuse).`,
            }),
            alert({
                name: "WebsocketAbnormalDisconnects",
                expr: and(
                    `${sumBy(groupBy(ws.disconnections, ["service", "reason"]), rate(ws.disconnections, { reason: abnormal(ctx) }, "5m"))}\n` +
                        `/ on (${disconnects.join(", ")}) group_left\n${sumBy(disconnects, rate(ws.disconnections, {}, "5m"))}\n> ${num(a.abnormalDisconnects.threshold)}`,
                    `${sumBy(disconnects, rate(ws.disconnections, {}, "5m"))} > ${minRate}`,
                    disconnects,
                ),
                for: a.abnormalDisconnects.for,
                severity: "warning",
                team,
                summary: `${SERVICE_REF}: {{ $value | humanizePercentage }} of WebSocket disconnections are "{{ $labels.reason }}".`,
                description:
                    `{{ $value | humanizePercentage }} of the WebSocket disconnections of {{ $labels.service }} in {{ $labels.namespace }} ` +
                    `over 5m have the abnormal reason "{{ $labels.reason }}" (above ${pct(a.abnormalDisconnects.threshold)} for ${a.abnormalDisconnects.for}; ` +
                    `normal reasons: ${a.normalDisconnectReasons.join(", ")}).`,
            }),
            alert({
                name: "WebsocketMessageErrors",
                expr: and(`${r("websocketMessageErrorRatio")} > ${num(a.messageErrors.threshold)}`, `${sumBy(groupBy(ws.messages, ["service"]), rate(ws.messages, {}, "5m"))} > ${minRate}`),
                for: a.messageErrors.for,
                severity: "warning",
                team,
                summary: `${SERVICE_REF}: {{ $value | humanizePercentage }} of WebSocket messages are errors.`,
                description:
                    `{{ $value | humanizePercentage }} of the WebSocket messages of {{ $labels.service }} in {{ $labels.namespace }} over 5m ` +
                    `are of type "${a.errorMessageType}" (above ${pct(a.messageErrors.threshold)} for ${a.messageErrors.for}).`,
            }),
        ],
    };
}
