/**
 * Provider Monitoring: availability, latency, errors, rate limits, token usage and spend of the
 * external (LLM) providers the selected services call.
 */
import type { DashboardBuilder } from "@grafana/grafana-foundation-sdk/dashboard";
import { eq, label, re } from "../telemetry";
import type { Matchers } from "../telemetry";
import {
    above, barGaugePanel, below, context, DashboardConfig, DASHBOARD_UIDS, labelValues, layout, legendOf, newDashboard, pct, prom,
    serviceLinks, statPanel, timeseriesPanel,
} from "./common";
import { sel, SERVICE, VAR } from "./queries";

export const UID = DASHBOARD_UIDS.providers;

/** Grafana unit of token rates. */
export const TOKENS_PER_SECOND = "suffix: tok/s";
/** Grafana unit of token counts per hour. */
export const TOKENS_PER_HOUR = "suffix: tok/h";

/** `status` of a failed provider call (TELEMETRY-CONTRACT: success/error/rate_limited). */
export const PROVIDER_STATUS = { success: "success", error: "error", rateLimited: "rate_limited" } as const;

export function providerMonitoring(cfg: DashboardConfig): DashboardBuilder {
    const ctx = context(cfg);
    const { q } = ctx;
    const a = ctx.alerting.providers;
    const llm = q.m.llm;
    const scoped: Matchers<"service" | "provider"> = { ...SERVICE, provider: re(VAR.provider) };
    const perProvider = ["namespace", "service", "provider"] as const;
    const errors = above(a.errorRatio.threshold);
    const providerLegend = `${legendOf(llm.requests, "provider")} (${legendOf(llm.requests, "service")})`;

    const b = newDashboard({
        uid: UID,
        title: "Provider Monitoring",
        description: "Availability, latency, errors, rate limits, token usage and spend of the external providers the selected services call.",
        tags: ["providers"],
        anchor: sel(llm.requests, {}, "", []),
        extraVariables: [{ name: "provider", label: "Provider", query: labelValues(sel(llm.requests, SERVICE), label(llm.requests, "provider")) }],
    });

    return layout(b, [
        {
            title: "Summary",
            panels: [
                [statPanel({ title: "Provider availability", description: `Share of provider calls that succeeded (neither failed nor rate limited). The provider alert fires when more than ${pct(a.errorRatio.threshold)} of a provider's calls fail.`, unit: "percentunit", decimals: 2, thresholds: below(Number((1 - a.errorRatio.threshold).toPrecision(6))), queries: [prom(q.ratio(llm.requests, { status: eq(PROVIDER_STATUS.success) }, scoped), "availability")] }), 6],
                [statPanel({ title: "Provider calls", description: "Calls per second to the selected providers.", unit: "reqps", queries: [prom(q.rate(llm.requests, scoped), "calls/s")] }), 6],
                [statPanel({ title: "Token rate", description: "Input and output tokens per second consumed at the selected providers.", unit: TOKENS_PER_SECOND, queries: [prom(q.rate(llm.tokens, scoped), "tokens/s")] }), 6],
                [statPanel({ title: "Spend in time range", description: "Provider spend in US dollars over the dashboard's time range.", unit: "currencyUSD", decimals: 2, queries: [prom(q.increaseOverRange(llm.cost, scoped), "USD", { instant: true })] }, { sparkline: false }), 6],
            ],
        },
        {
            title: "Availability and latency",
            panels: [
                [timeseriesPanel({ title: "Error rate by provider", description: `Share of each provider's calls that failed (status "${PROVIDER_STATUS.error}"); the dashed line is the alert level (${pct(a.errorRatio.threshold)} for ${a.errorRatio.for}). Click a series for the calling service's error logs.`, unit: "percentunit", min: 0, thresholds: errors, links: serviceLinks(ctx, { drillDown: false, levels: ["error", "fatal"] }), queries: [prom(q.ratio(llm.requests, { status: eq(PROVIDER_STATUS.error) }, scoped, [...perProvider], ["providerErrorRatio"]), providerLegend)] }), 12],
                [timeseriesPanel({ title: "Calls by status", description: "Calls per second per provider and status (success, error, rate_limited), stacked.", unit: "reqps", min: 0, queries: [prom(q.rate(llm.requests, scoped, ["provider", "status"]), `${legendOf(llm.requests, "provider")} ${legendOf(llm.requests, "status")}`)] }, { stack: true }), 12],
                [timeseriesPanel({ title: "Response time by provider", description: `95th percentile provider latency per calling service; the dashed line is the alert threshold (${a.latencyP95.threshold} s for ${a.latencyP95.for}). Click a series for the calling service's traces.`, unit: "s", min: 0, thresholds: above(a.latencyP95.threshold), links: serviceLinks(ctx, { drillDown: false }), queries: [prom(q.quantile(0.95, llm.duration, scoped, [...perProvider]), providerLegend)] }), 12],
                [timeseriesPanel({ title: "Median response time by provider", description: "Median provider latency per provider, over all calling services.", unit: "s", min: 0, queries: [prom(q.quantile(0.5, llm.duration, scoped, ["provider"]), legendOf(llm.duration, "provider"))] }), 12],
                [timeseriesPanel({ title: "Rate limit remaining", description: `Requests left in the current rate-limit window per provider (lowest over the calling services); the alert fires under ${a.rateLimitRemaining.threshold} for ${a.rateLimitRemaining.for}.`, unit: "short", min: 0, thresholds: below(a.rateLimitRemaining.threshold), queries: [prom(q.gauge("min", llm.rateLimitRemaining, scoped, ["provider"]), legendOf(llm.rateLimitRemaining, "provider"))] }), 24],
            ],
        },
        {
            title: "Tokens and cost",
            panels: [
                [timeseriesPanel({ title: "Token usage by provider", description: "Tokens (input and output) per second per provider and model, stacked.", unit: TOKENS_PER_SECOND, min: 0, queries: [prom(q.rate(llm.tokens, scoped, ["provider", "model"]), legendOf(llm.tokens, "provider", "model"))] }, { stack: true }), 12],
                [timeseriesPanel({ title: "Token spend per hour by service", description: `Tokens per hour per calling service at the current rate; the dashed line is the token budget (${a.tokenBudgetPerHour.threshold} tokens per hour).`, unit: TOKENS_PER_HOUR, min: 0, thresholds: above(a.tokenBudgetPerHour.threshold), links: serviceLinks(ctx), queries: [prom(`${q.rate(llm.tokens, SERVICE, ["namespace", "service"])} * 3600`, "{{service}}")] }), 12],
                [timeseriesPanel({ title: "Spend rate by provider", description: "Provider spend in US dollars per hour at the current rate, stacked.", unit: "currencyUSD", min: 0, decimals: 2, queries: [prom(`${q.rate(llm.cost, scoped, ["provider"])} * 3600`, legendOf(llm.cost, "provider"))] }, { stack: true }), 12],
                [barGaugePanel({ title: "Spend by model", description: "Spend in US dollars per provider and model over the dashboard's time range.", unit: "currencyUSD", decimals: 2, queries: [prom(q.increaseOverRange(llm.cost, scoped, ["provider", "model"]), legendOf(llm.cost, "provider", "model"), { instant: true })] }), 12],
            ],
        },
    ]);
}
