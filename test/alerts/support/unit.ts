/**
 * Turns the cases of ./cases.ts into promtool test groups: a fire case asserts the exact
 * `ALERTS` series (alertname, firing, severity, team and the identifying labels) at its
 * evaluation time; a silent case asserts promtool's `alert_rule_test` finds no firing alert then,
 * and that the alert never fired at any evaluation before.
 */
import type { RuleContext } from "../../../alerts";
import type { Case } from "./cases";
import { EXPECTED, INTERVAL } from "./cases";
import { minutes, TestGroup } from "./promtool";
import { seriesText } from "./series";

export function teamOf(ctx: RuleContext, alert: string): string {
    return ctx.alerting.teams[EXPECTED[alert]!.team];
}

export function fireGroup(ctx: RuleContext, alert: string, c: Case): TestGroup {
    const at = minutes(c.at);
    const labels = { alertname: alert, alertstate: "firing", severity: EXPECTED[alert]!.severity, team: teamOf(ctx, alert), ...(c.labels ?? {}) };
    return {
        name: `${alert} fires when ${c.what}`,
        interval: `${c.interval ?? INTERVAL}s`,
        input_series: c.series,
        promql_expr_test: [{ expr: `ALERTS{alertname="${alert}",alertstate="firing"}`, eval_time: at, exp_samples: [{ labels: seriesText("ALERTS", labels), value: 1 }] }],
    };
}

export function silentGroup(alert: string, c: Case): TestGroup {
    const at = minutes(c.at);
    return {
        name: `${alert} stays silent when ${c.what}`,
        interval: `${c.interval ?? INTERVAL}s`,
        input_series: c.series,
        alert_rule_test: [{ alertname: alert, eval_time: at, exp_alerts: [] }],
        promql_expr_test: [{ expr: `max_over_time(ALERTS{alertname="${alert}",alertstate="firing"}[${at}:${c.evaluation ?? INTERVAL}s])`, eval_time: at, exp_samples: [] }],
    };
}
