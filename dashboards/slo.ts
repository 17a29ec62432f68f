/**
 * SLO: per service level objective of the stack config, compliance over its window, the error
 * budget left, and burn rates over the windows of the multiwindow, multi-burn-rate alerts.
 */
import type { DashboardBuilder } from "@grafana/grafana-foundation-sdk/dashboard";
import type { SloConfig } from "../config";
import type { AlertingConfig } from "../config";
import {
    barGaugePanel, below, burnRateLevels, Color, context, DashboardConfig, DASHBOARD_UIDS, layout, newDashboard, prom, Section,
    statPanel, Steps, timeseriesPanel,
} from "./common";
import { sel } from "./queries";

export const UID = DASHBOARD_UIDS.slo;

/**
 * Burn-rate colours from the alert windows: yellow and orange at the ticket rates, red and dark
 * red at the paging rates.
 */
export function burnRateSteps(a: AlertingConfig): Steps {
    const levels = burnRateLevels(a);
    const ticket: Color[] = ["yellow", "orange"];
    const page: Color[] = ["red", "dark-red"];
    let t = 0;
    let p = 0;
    return [
        { value: null, color: "green" },
        ...levels.map((l) => ({ value: l.factor, color: l.pages ? page[Math.min(p++, page.length - 1)]! : ticket[Math.min(t++, ticket.length - 1)]! })),
    ];
}

/** Grafana unit of burn rates (multiples of the sustainable rate). */
export const BURN_RATE_UNIT = "suffix:x";

/** Budget colours: red when spent, orange under a quarter left. */
export const BUDGET_STEPS: Steps = below(0, 0.25);

/** What an SLO counts as good, in words. */
export function sliText(slo: SloConfig): string {
    return slo.kind === "availability" ? "requests not answered with a 5xx status" : `requests served in under ${slo.latencyThreshold} s`;
}

export function slo(cfg: DashboardConfig): DashboardBuilder {
    const ctx = context(cfg);
    const { q } = ctx;
    const levels = burnRateLevels(ctx.alerting);
    const windows = [...new Set(levels.map((l) => l.window))];
    const steps = burnRateSteps(ctx.alerting);
    const policy = levels
        .slice()
        .reverse()
        .map((l) => `${l.pages ? "page" : "ticket"} at ${l.factor}x over ${l.window}`)
        .join(", ");

    const b = newDashboard({
        uid: UID,
        title: "SLO",
        description: "Compliance, error budget and burn rates of each service level objective in the stack config.",
        tags: ["slo"],
        anchor: sel(q.m.http.requests, {}, "", []),
    });

    const sections: Section[] = cfg.slos.map((s) => {
        const objective = s.objective / 100;
        const scopeText = s.service ? `service ${s.service}` : "each selected service";
        return {
            title: `${s.name}: ${s.objective}% of ${sliText(s)} over ${s.window}`,
            panels: [
                [statPanel({ title: `${s.name}: compliance`, description: `Share of ${sliText(s)} over the last ${s.window}, across ${scopeText}. Red under the ${s.objective}% objective.`, unit: "percentunit", decimals: 3, thresholds: below(objective), queries: [prom(q.sli(s, s.window), "compliance", { instant: true })] }, { sparkline: false }), 6],
                [statPanel({ title: `${s.name}: error budget left`, description: `Share of the ${s.window} error budget (${Number((100 - s.objective).toPrecision(6))}% of requests) not yet spent: 100% untouched, 0% spent, negative overspent.`, unit: "percentunit", decimals: 1, thresholds: BUDGET_STEPS, queries: [prom(q.budgetRemaining(s), "budget left", { instant: true })] }, { sparkline: false }), 6],
                [timeseriesPanel({ title: `${s.name}: burn rates`, description: `How fast the error budget burns over ${windows.join(", ")} (1 = the budget lasts exactly ${s.window}). The alerts ${policy}.`, unit: BURN_RATE_UNIT, min: 0, thresholds: steps, queries: windows.map((w) => prom(q.burnRate(s, w), w)) }), 12],
                [barGaugePanel({ title: `${s.name}: budget left by service`, description: `Error budget left over ${s.window} per service.`, unit: "percentunit", min: 0, max: 1, thresholds: BUDGET_STEPS, queries: [prom(q.budgetRemaining(s, ["namespace", "service"]), "{{service}}", { instant: true })] }), 12],
                [timeseriesPanel({ title: `${s.name}: SLI by service (1h)`, description: `Share of ${sliText(s)} per service over a sliding hour, against the ${s.objective}% objective (dashed).`, unit: "percentunit", max: 1, thresholds: below(objective), queries: [prom(q.sli(s, "1h", ["service"]), "{{service}}")] }), 12],
            ],
        };
    });
    if (sections.length === 0) {
        sections.push({
            title: "No SLO configured",
            panels: [[timeseriesPanel({ title: "Availability by service", description: "Share of each service's requests not answered with a 5xx status. The stack config declares no SLO (config key `slos`); add one to get compliance, budgets and burn rates here.", unit: "percentunit", max: 1, queries: [prom(`1 - (\n${q.errorRatio(["namespace", "service"])}\n)`, "{{service}}")] }), 24]],
        });
    }
    return layout(b, sections);
}
