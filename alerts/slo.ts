/**
 * Service level objectives as rules: SLI recording rules over the burn-rate windows, the error
 * budget left over each SLO's window, and multiwindow, multi-burn-rate alerts (Google SRE
 * workbook, "Alerting on SLOs", approach 6).
 *
 * An SLO's SLI is the share of bad requests: answered 5xx (`availability`), or slower than the
 * threshold (`latency`, read from the histogram bucket of that bound). Its burn rate is that
 * share divided by the error budget (1 - objective): 1 spends the budget exactly over the SLO's
 * window, 14.4 spends a 30-day budget's 2% in one hour.
 *
 * Zero traffic: SLI ratios divide by `(requests > 0)`, so a service without requests has no SLI
 * series at all (never NaN) and cannot alert; and every burn-rate condition also requires the
 * short window to carry more than `alerting.minRequestRate` req/s, so a handful of requests
 * (one failed of three) does not page. A condition is only judged once its long window is full
 * of data (1h after a service first appears for the fastest pair, 3d for the slowest).
 */
import type { SloConfig } from "../config";
import { durationSeconds } from "../config/resolve";
import { bucketMatcher, matchers, MatchValue, rate, series, sumBy } from "../telemetry";
import { allOf, alert, groupBy, num, RuleContext } from "./common";
import type { RuleGroup } from "./index";
import { SERVER_ERROR } from "./api";
import { SLI_WINDOWS, SLO_RECORDING } from "./recording";

/** Error budget of an SLO as a ratio (99.9 → 0.001), without float noise. */
export function errorBudget(slo: SloConfig): number {
    return Number(((100 - slo.objective) / 100).toPrecision(6));
}

/** SLI windows to record: the standard ones plus every window the burn-rate alerts use, shortest first. */
export function sliWindows(ctx: RuleContext): string[] {
    const all = new Set<string>(SLI_WINDOWS);
    for (const w of [...ctx.alerting.slo.page, ...ctx.alerting.slo.ticket]) all.add(w.long).add(w.short);
    return [...all].sort((a, b) => durationSeconds(a) - durationSeconds(b));
}

/** `{slo="name"}`: selects one SLO's recorded series. */
function of(slo: SloConfig): string {
    return `{slo=${JSON.stringify(slo.name)}}`;
}

/** PromQL of an SLO's total and bad request rates over a window, by service. */
function sli(ctx: RuleContext, slo: SloConfig, window: string): { total: string; bad: string } {
    const svc: { service?: MatchValue } = slo.service ? { service: slo.service } : {};
    if (slo.kind === "availability") {
        const m = ctx.m.http.requests;
        const g = groupBy(m, ["service"]);
        return { total: sumBy(g, rate(m, svc, window)), bad: sumBy(g, rate(m, { ...svc, status: SERVER_ERROR }, window)) };
    }
    const h = ctx.m.http.duration;
    const g = groupBy(h, ["service"]);
    const total = sumBy(g, rate(h, svc, window));
    const good = sumBy(g, `rate(${series(h, "_bucket")}${matchers(h, svc, [bucketMatcher(slo.latencyThreshold!)])}[${window}])`);
    return { total, bad: `clamp_min(\n${total}\n-\n${good},\n0\n)` };
}

/**
 * The longest SLI window read from the raw series. A rate over a longer window reads every
 * sample in it: at 28,000 request series (20 services x 25 routes x 4 methods x 6 codes), a
 * 1-day window is 160 million samples and a 3-day one 490 million, beyond Prometheus' default
 * limit of 50 million per query (rule evaluations included), every 15 s. Longer windows average
 * the SLO's recorded 5m rates instead: a few series per SLO, and the mean of a window's 5m rates
 * is its rate (to within the first 5 minutes).
 */
export const RAW_SLI_MAX_WINDOW = "1h";

/** Total and bad request rates of an SLO over `window`: from the raw series, or averaged from the recorded 5m rates. */
function sliOver(ctx: RuleContext, slo: SloConfig, window: string): { total: string; bad: string } {
    if (durationSeconds(window) <= durationSeconds(RAW_SLI_MAX_WINDOW)) return sli(ctx, slo, window);
    const mean = (record: string) => `avg_over_time(${record}${of(slo)}[${window}])`;
    return { total: mean(SLO_RECORDING.requests(SLI_BASE_WINDOW)), bad: mean(SLO_RECORDING.errors(SLI_BASE_WINDOW)) };
}

/** The SLI window the longer ones average: one of SLI_WINDOWS, recorded before them (windows go shortest first). */
const SLI_BASE_WINDOW = "5m";

/** The SLI recording rules of every SLO over every window (requests, bad requests, ratio). */
export function sloRecordingGroup(ctx: RuleContext): RuleGroup {
    const rules = ctx.slos.flatMap((slo) =>
        sliWindows(ctx).flatMap((w) => {
            const { total, bad } = sliOver(ctx, slo, w);
            const labels = { slo: slo.name };
            const req = `${SLO_RECORDING.requests(w)}${of(slo)}`;
            return [
                { record: SLO_RECORDING.requests(w), expr: total, labels },
                // `or 0 * requests`: no bad-request series at all means 0 bad requests, not "unknown".
                { record: SLO_RECORDING.errors(w), expr: `${bad}\nor\n0 * ${total}`, labels },
                { record: SLO_RECORDING.errorRatio(w), expr: `${SLO_RECORDING.errors(w)}${of(slo)}\n/\n(${req} > 0)`, labels },
            ];
        }),
    );
    return { name: "slo.sli", rules };
}

/** The objective and the error budget left over each SLO's window. */
export function sloBudgetGroup(ctx: RuleContext): RuleGroup {
    const windows = new Set(sliWindows(ctx));
    const rules = ctx.slos.flatMap((slo) => {
        const labels = { slo: slo.name };
        const ratio = SLO_RECORDING.errorRatio(slo.window);
        const { total, bad } = sliOver(ctx, slo, slo.window);
        return [
            { record: SLO_RECORDING.objective, expr: `vector(${num(slo.objective / 100)})`, labels },
            // The SLO window's ratio, unless a burn-rate window already records it.
            ...(windows.has(slo.window) ? [] : [{ record: ratio, expr: `(\n${bad}\nor\n0 * ${total}\n)\n/\n(${total} > 0)`, labels }]),
            { record: SLO_RECORDING.budgetRemaining, expr: `1 - ${ratio}${of(slo)} / ${num(errorBudget(slo))}`, labels },
        ];
    });
    return { name: "slo.budget", interval: "1m", rules };
}

/**
 * One burn-rate condition of one SLO: both windows burn faster than `factor`, the short window
 * carries more than `minRequestRate` req/s, and the long window is complete: the SLI was already
 * recorded `long` ago. Without that last guard a service that is new, or a Prometheus that lost
 * its history, would judge a 3-day burn rate from the last hour alone, and a one-minute blip
 * would open a ticket.
 */
function burning(ctx: RuleContext, slo: SloConfig, factor: number, long: string, short: string): string {
    const budget = num(errorBudget(slo));
    const over = (w: string) => `${SLO_RECORDING.errorRatio(w)}${of(slo)} / ${budget} > ${num(factor)}`;
    return allOf([
        over(long),
        over(short),
        `${SLO_RECORDING.requests(short)}${of(slo)} > ${num(ctx.alerting.minRequestRate)}`,
        `present_over_time(${SLO_RECORDING.requests("5m")}${of(slo)}[10m] offset ${long})`,
    ]);
}

export function sloAlertGroup(ctx: RuleContext): RuleGroup {
    const team = ctx.alerting.teams.application;
    const { page, ticket } = ctx.alerting.slo;
    const expr = (pairs: typeof page) =>
        ctx.slos.flatMap((slo) => pairs.map((p) => `(\n${burning(ctx, slo, p.factor, p.long, p.short)}\n)`)).join("\nor\n");
    const list = (pairs: typeof page) => pairs.map((p) => `${num(p.factor)}x over ${p.long} and ${p.short}`).join(", or ");
    if (ctx.slos.length === 0) return { name: "slo.alerts", rules: [] };
    return {
        name: "slo.alerts",
        rules: [
            alert({
                name: "SloErrorBudgetBurnFast",
                expr: expr(page),
                severity: "critical",
                team,
                summary: "{{ $labels.namespace }}/{{ $labels.service }}: SLO {{ $labels.slo }} burns its error budget {{ $value | humanize }}x too fast.",
                description:
                    "{{ $labels.service }} in {{ $labels.namespace }} spends the error budget of SLO {{ $labels.slo }} {{ $value | humanize }} times " +
                    `faster than the objective allows (page: ${list(page)}). At this rate the budget is gone long before the SLO window ends.`,
            }),
            alert({
                name: "SloErrorBudgetBurnSlow",
                expr: expr(ticket),
                severity: "warning",
                team,
                summary: "{{ $labels.namespace }}/{{ $labels.service }}: SLO {{ $labels.slo }} burns its error budget {{ $value | humanize }}x too fast.",
                description:
                    "{{ $labels.service }} in {{ $labels.namespace }} spends the error budget of SLO {{ $labels.slo }} {{ $value | humanize }} times " +
                    `faster than the objective allows (ticket: ${list(ticket)}): the SLO will be missed unless this is fixed within days.`,
            }),
        ],
    };
}
