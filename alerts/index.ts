/**
 * Prometheus rule files generated from typed rule groups. Every alert gets `runbook_url` from
 * one mapping pass (CONVENTIONS), so no alert can ship without its runbook link.
 *
 * One module per domain builds a recording group and an alert group from a {@link RuleContext}
 * (metric preset, `alerting` thresholds, SLOs, log backend): api, websocket, providers, cache-db,
 * infrastructure, self-monitoring, slo. Recording-rule names are in ./recording.ts, the
 * thresholds dashboards draw in ./thresholds.ts, routing in ./routing.ts. The runbooks are
 * docs/runbooks/<AlertName>.md; test/alerts proves every alert with promtool.
 */
import * as yaml from "js-yaml";
import type { StackConfig } from "../config";
import { apiAlertGroup, apiRecordingGroup, apiRouteRecordingGroup } from "./api";
import { cacheDbAlertGroup, cacheDbRecordingGroup } from "./cache-db";
import { ruleContext, RuleContext } from "./common";
import { infrastructureAlertGroup, infrastructureRecordingGroup } from "./infrastructure";
import { probesAlertGroup } from "./probes";
import { providersAlertGroup, providersRecordingGroup } from "./providers";
import { selfMonitoringAlertGroup } from "./self-monitoring";
import { sloAlertGroup, sloBudgetGroup, sloRecordingGroup } from "./slo";
import { websocketAlertGroup, websocketRecordingGroup } from "./websocket";

export { ruleContext } from "./common";
export type { RuleContext, RuleContextArgs } from "./common";
export { RECORDING, ROUTE_RULES_INTERVAL, SLO_RECORDING, SLI_WINDOWS } from "./recording";
export type { RecordingRef, RecordingKey } from "./recording";
export { errorBudget, sliWindows } from "./slo";
export { SERVER_ERROR } from "./api";
/** Thresholds and windows the rules use; dashboards draw the same values (`cfg.alerting`). */
export { DEFAULT_ALERTING } from "../config/defaults";
export type { AlertingConfig } from "../config";
export { panelThresholds } from "./thresholds";
export type { PanelThreshold, PanelThresholds } from "./thresholds";

export interface AlertRule {
    readonly alert: string;
    readonly expr: string;
    readonly for?: string;
    readonly labels: { readonly severity: "critical" | "warning" | "info"; readonly team: string } & Readonly<Record<string, string>>;
    readonly annotations: { readonly summary: string; readonly description: string } & Readonly<Record<string, string>>;
}

export interface RecordingRule {
    readonly record: string;
    readonly expr: string;
    readonly labels?: Readonly<Record<string, string>>;
}

export interface RuleGroup {
    readonly name: string;
    readonly interval?: string;
    readonly rules: readonly (AlertRule | RecordingRule)[];
}

export interface RulesArgs {
    /** Base URL of the runbooks; each alert links `<base>/<AlertName>.md`. */
    readonly runbookBaseUrl: string;
}

/**
 * Self-monitoring rules (Watchdog, Prometheus, Alertmanager, collector, log backend, Grafana),
 * with the default thresholds unless a context is given.
 */
export function selfMonitoringGroups(ctx: RuleContext = ruleContext()): RuleGroup[] {
    return [selfMonitoringAlertGroup(ctx)];
}

/**
 * The full rule set, recording groups first: API, WebSocket, providers, cache and database,
 * infrastructure, self-monitoring, SLOs and synthetic probes. Pure: the same context gives the same groups.
 */
export function ruleGroups(ctx: RuleContext = ruleContext()): RuleGroup[] {
    return [
        apiRecordingGroup(ctx),
        apiRouteRecordingGroup(ctx),
        websocketRecordingGroup(ctx),
        providersRecordingGroup(ctx),
        cacheDbRecordingGroup(ctx),
        infrastructureRecordingGroup(),
        sloRecordingGroup(ctx),
        sloBudgetGroup(ctx),
        apiAlertGroup(ctx),
        websocketAlertGroup(ctx),
        providersAlertGroup(ctx),
        cacheDbAlertGroup(ctx),
        infrastructureAlertGroup(ctx),
        ...selfMonitoringGroups(ctx),
        sloAlertGroup(ctx),
        probesAlertGroup(ctx),
    ].filter((g) => g.rules.length > 0);
}

/** The rule context of a stack: its metric preset, thresholds, SLOs and log backend. */
export function stackRuleContext(cfg: Pick<StackConfig, "metricPreset" | "alerting" | "slos" | "logs">): RuleContext {
    return ruleContext({ preset: cfg.metricPreset, alerting: cfg.alerting, slos: cfg.slos, logsBackend: cfg.logs.backend });
}

/** Every rule file of a stack (`file name → YAML`), as Prometheus loads them. */
export function stackRuleFiles(cfg: Pick<StackConfig, "metricPreset" | "alerting" | "slos" | "logs" | "runbookBaseUrl">): Record<string, string> {
    return renderRuleFiles(ruleGroups(stackRuleContext(cfg)), { runbookBaseUrl: cfg.runbookBaseUrl });
}

/** Every alerting rule of the groups. */
export function alertRules(groups: readonly RuleGroup[]): AlertRule[] {
    return groups.flatMap((g) => g.rules.filter(isAlert));
}

/** Every recording rule of the groups. */
export function recordingRules(groups: readonly RuleGroup[]): RecordingRule[] {
    return groups.flatMap((g) => g.rules.filter((r): r is RecordingRule => !isAlert(r)));
}

export function isAlert(r: AlertRule | RecordingRule): r is AlertRule {
    return "alert" in r;
}

/** Rule groups → `file name → YAML text`, with `runbook_url` added to every alert. */
export function renderRuleFiles(groups: readonly RuleGroup[], args: RulesArgs): Record<string, string> {
    const base = args.runbookBaseUrl.replace(/\/+$/, "");
    const files: Record<string, string> = {};
    for (const g of groups) {
        const doc = {
            groups: [
                {
                    name: g.name,
                    ...(g.interval ? { interval: g.interval } : {}),
                    rules: g.rules.map((r) =>
                        isAlert(r)
                            ? {
                                  alert: r.alert,
                                  expr: r.expr,
                                  ...(r.for ? { for: r.for } : {}),
                                  labels: { ...r.labels },
                                  annotations: { ...r.annotations, runbook_url: `${base}/${r.alert}.md` },
                              }
                            : { record: r.record, expr: r.expr, ...(r.labels ? { labels: { ...r.labels } } : {}) },
                    ),
                },
            ],
        };
        files[`${g.name.replace(/[^A-Za-z0-9_-]+/g, "-")}.yml`] = `# Generated by alerts/; do not edit.\n${yaml.dump(doc, { lineWidth: -1, noRefs: true })}`;
    }
    return files;
}
