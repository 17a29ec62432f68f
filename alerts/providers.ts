/**
 * LLM / external provider rules: recording rules for request, error, latency, token and cost
 * rates, and alerts on a failing or slow provider, an exhausted rate limit and token spend.
 */
import { aggBy, bucketRate, eq, rate, selector, sumBy } from "../telemetry";
import { alert, and, groupBy, num, pct, RuleContext, SERVICE_REF } from "./common";
import type { RuleGroup } from "./index";
import { RECORDING } from "./recording";

const r = (name: keyof typeof RECORDING): string => RECORDING[name].record;

/** The `status` value of a failed provider request. */
export const PROVIDER_ERROR = eq("error");

export function providersRecordingGroup(ctx: RuleContext): RuleGroup {
    const llm = ctx.m.llm;
    const byProvider = groupBy(llm.requests, ["service", "provider"]);
    const durationByProvider = groupBy(llm.duration, ["service", "provider"]);
    return {
        name: "providers.recording",
        rules: [
            { record: r("providerRequestRate"), expr: sumBy(groupBy(llm.requests, ["service", "provider", "status"]), rate(llm.requests, {}, "5m")) },
            {
                record: r("providerErrorRatio"),
                expr:
                    `(\n${sumBy(byProvider, rate(llm.requests, { status: PROVIDER_ERROR }, "5m"))}\nor\n0 * ${sumBy(byProvider, rate(llm.requests, {}, "5m"))}\n)\n` +
                    `/\n(${sumBy(byProvider, rate(llm.requests, {}, "5m"))} > 0)`,
            },
            { record: r("providerLatencyBuckets"), expr: sumBy(["le", ...durationByProvider], bucketRate(llm.duration, {}, "5m")) },
            // `and ... > 0`: a provider without calls in the window has no quantile rather than NaN.
            {
                record: r("providerLatencyP95"),
                expr: `histogram_quantile(0.95, ${r("providerLatencyBuckets")})\nand on (${durationByProvider.join(", ")})\n${r("providerLatencyBuckets")}{le="+Inf"} > 0`,
            },
            { record: r("providerRateLimitRemaining"), expr: aggBy("min", groupBy(llm.rateLimitRemaining, ["service", "provider"]), selector(llm.rateLimitRemaining)) },
            { record: r("providerTokenRate"), expr: sumBy(groupBy(llm.tokens, ["service", "provider", "model"]), rate(llm.tokens, {}, "5m")) },
            { record: r("providerCostRate"), expr: sumBy(groupBy(llm.cost, ["service", "provider", "model"]), rate(llm.cost, {}, "5m")) },
        ],
    };
}

export function providersAlertGroup(ctx: RuleContext): RuleGroup {
    const a = ctx.alerting.providers;
    const team = ctx.alerting.teams.application;
    const llm = ctx.m.llm;
    const minRate = num(ctx.alerting.minRequestRate);
    const byProvider = groupBy(llm.requests, ["service", "provider"]);
    return {
        name: "providers.alerts",
        rules: [
            alert({
                name: "LlmProviderErrorRateHigh",
                expr: and(`${r("providerErrorRatio")} > ${num(a.errorRatio.threshold)}`, `${sumBy(byProvider, rate(llm.requests, {}, "5m"))} > ${minRate}`),
                for: a.errorRatio.for,
                severity: "warning",
                team,
                summary: `${SERVICE_REF}: {{ $value | humanizePercentage }} of requests to {{ $labels.provider }} fail.`,
                description:
                    `{{ $value | humanizePercentage }} of the requests {{ $labels.service }} in {{ $labels.namespace }} sent to provider ` +
                    `{{ $labels.provider }} over 5m failed (status "error"; above ${pct(a.errorRatio.threshold)} for ${a.errorRatio.for}).`,
            }),
            alert({
                name: "LlmProviderLatencyHigh",
                expr: and(`${r("providerLatencyP95")} > ${num(a.latencyP95.threshold)}`, `${sumBy(byProvider, rate(llm.requests, {}, "5m"))} > ${minRate}`),
                for: a.latencyP95.for,
                severity: "warning",
                team,
                summary: `${SERVICE_REF}: p95 latency of {{ $labels.provider }} is {{ $value | humanizeDuration }}.`,
                description:
                    `The 95th percentile latency of the requests {{ $labels.service }} in {{ $labels.namespace }} sends to provider ` +
                    `{{ $labels.provider }} is {{ $value | humanizeDuration }} over 5m, above ${num(a.latencyP95.threshold)}s for ${a.latencyP95.for}.`,
            }),
            alert({
                name: "LlmRateLimitLow",
                expr: `${aggBy("min", groupBy(llm.rateLimitRemaining, ["service", "provider"]), selector(llm.rateLimitRemaining))} < ${num(a.rateLimitRemaining.threshold)}`,
                for: a.rateLimitRemaining.for,
                severity: "warning",
                team,
                summary: `${SERVICE_REF}: {{ $value }} requests left in the {{ $labels.provider }} rate limit.`,
                description:
                    `{{ $labels.service }} in {{ $labels.namespace }} has {{ $value }} requests left in its rate limit at provider ` +
                    `{{ $labels.provider }}, below ${num(a.rateLimitRemaining.threshold)} for ${a.rateLimitRemaining.for}: requests will be rejected.`,
            }),
            alert({
                name: "LlmTokenSpendOverBudget",
                expr: `${sumBy(groupBy(llm.tokens, ["service"]), rate(llm.tokens, {}, "1h"))} * 3600 > ${num(a.tokenBudgetPerHour.threshold)}`,
                for: a.tokenBudgetPerHour.for,
                severity: "warning",
                team,
                summary: `${SERVICE_REF}: spends {{ $value | humanize }} tokens per hour, over budget.`,
                description:
                    `{{ $labels.service }} in {{ $labels.namespace }} used {{ $value | humanize }} tokens (input and output, all providers) ` +
                    `in the last hour, above the budget of ${num(a.tokenBudgetPerHour.threshold)} tokens per hour for ${a.tokenBudgetPerHour.for}.`,
            }),
        ],
    };
}
