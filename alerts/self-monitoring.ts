/**
 * Self-monitoring: alerts on the observability stack itself (Prometheus, Alertmanager, the
 * OpenTelemetry Collector, the log backend, Grafana), plus the Watchdog that proves the whole
 * alerting path delivers. Metric names and job names come from telemetry/ (`SELF`, `STACK_JOBS`).
 */
import { aggBy, INFRA, SELF, STACK_JOBS, sumBy } from "../telemetry";
import { alert, num, pct, RuleContext } from "./common";
import type { RuleGroup } from "./index";

const job = (name: keyof typeof STACK_JOBS) => `job="${STACK_JOBS[name]}"`;
const SVC = ["cluster", "namespace", "service"];

/**
 * `sum by (g) (rate(...[5m]))` over several counters (one per signal). Each is summed on its own
 * and tagged with a `metric` label before they are added up: a single `{__name__=~"a|b"}`
 * selector would fail, as `rate` drops the names and leaves identical label sets.
 */
function sumRate(names: readonly string[], group: readonly string[], matchers = ""): string {
    const parts = names.map((name) => `label_replace(${sumBy(group, `rate(${name}${matchers ? `{${matchers}}` : ""}[5m])`)}, "metric", "${name}", "", "")`);
    return sumBy(group, parts.length === 1 ? parts[0]! : `\n  ${parts.join("\n  or\n  ")}\n`);
}

/** Share `part / (part + rest)` of collector items, absent when nothing flowed. */
function share(part: readonly string[], rest: readonly string[], group: readonly string[], matchers = ""): string {
    return `${sumRate(part, group, matchers)}\n/\n(${sumRate([...part, ...rest], group, matchers)} > 0)`;
}

export function selfMonitoringAlertGroup(ctx: RuleContext): RuleGroup {
    const a = ctx.alerting.selfMonitoring;
    const team = ctx.alerting.teams.platform;
    const { prometheus: p, alertmanager: am, collector: c, loki } = SELF;
    const prom = `{${job("prometheus")}}`;
    const amSel = `{${job("alertmanager")}}`;
    const amGroup = [...SVC, "integration"];
    const logIngestion =
        ctx.logsBackend === "loki"
            ? `${sumBy(SVC, `rate(${loki.discardedSamples}{${job("loki")}}[5m])`)}\n/\n(${sumBy(SVC, `rate(${loki.linesReceived}{${job("loki")}}[5m])`)} > 0)`
            : share([c.logsSendFailed], [c.logsSent], SVC, 'exporter=~"elasticsearch.*"');
    return {
        name: "self-monitoring.alerts",
        rules: [
            alert({
                name: "Watchdog",
                expr: "vector(1)",
                severity: "info",
                team,
                summary: "Always firing: proves the alerting pipeline delivers end to end.",
                description:
                    "This alert fires all the time (value {{ $value }}). The heartbeat receiver (a dead man's switch) pages when it stops arriving, " +
                    "which means Prometheus, Alertmanager or the path between them is broken.",
            }),
            alert({
                name: "PrometheusConfigReloadFailed",
                expr: `max_over_time(${p.configReloadSuccessful}${prom}[5m]) == 0`,
                for: "10m",
                severity: "warning",
                team,
                summary: "Prometheus {{ $labels.pod }} failed to reload its configuration.",
                description:
                    "The last configuration reload of Prometheus {{ $labels.pod }} in {{ $labels.namespace }} failed " +
                    "(prometheus_config_last_reload_successful = {{ $value }} for 10m): it runs an older configuration and rules.",
            }),
            alert({
                name: "PrometheusRuleEvaluationFailures",
                expr: `${sumBy(["cluster", "namespace", "pod", "rule_group"], `increase(${p.ruleEvaluationFailures}${prom}[5m])`)} > 0`,
                for: "15m",
                severity: "critical",
                team,
                summary: "Prometheus {{ $labels.pod }} fails to evaluate rules of {{ $labels.rule_group }}.",
                description:
                    "Prometheus {{ $labels.pod }} in {{ $labels.namespace }} failed {{ $value | humanize }} rule evaluations of group " +
                    "{{ $labels.rule_group }} in the last 5 minutes (for 15m): the alerts and recordings of that group may be missing.",
            }),
            alert({
                name: "PrometheusNotConnectedToAlertmanagers",
                expr: `max_over_time(${p.alertmanagersDiscovered}${prom}[5m]) < 1`,
                for: "10m",
                severity: "warning",
                team,
                summary: "Prometheus {{ $labels.pod }} is not connected to any Alertmanager.",
                description:
                    "Prometheus {{ $labels.pod }} in {{ $labels.namespace }} has discovered {{ $value }} Alertmanagers for 10m: " +
                    "its alerts reach no one (the Watchdog heartbeat stops too).",
            }),
            alert({
                name: "PrometheusTSDBCompactionsFailing",
                expr: `increase(${p.compactionsFailed}${prom}[3h]) > 0`,
                for: "4h",
                severity: "warning",
                team,
                summary: "Prometheus {{ $labels.pod }} fails to compact its TSDB.",
                description:
                    "Prometheus {{ $labels.pod }} in {{ $labels.namespace }} had {{ $value | humanize }} failed TSDB compactions in the last 3 hours " +
                    "(for 4h): disk use grows and queries slow down.",
            }),
            alert({
                name: "AlertmanagerFailedToSendAlerts",
                expr:
                    `${sumBy(amGroup, `rate(${am.notificationsFailed}${amSel}[5m])`)}\n/\n(${sumBy(amGroup, `rate(${am.notifications}${amSel}[5m])`)} > 0)\n` +
                    `> ${num(a.notificationFailures.threshold)}`,
                for: a.notificationFailures.for,
                severity: "warning",
                team,
                summary: "Alertmanager fails to send {{ $value | humanizePercentage }} of {{ $labels.integration }} notifications.",
                description:
                    "{{ $value | humanizePercentage }} of the {{ $labels.integration }} notifications of Alertmanager in {{ $labels.namespace }} " +
                    `failed over 5m (above ${pct(a.notificationFailures.threshold)} for ${a.notificationFailures.for}): alerts are not reaching people.`,
            }),
            alert({
                name: "AlertmanagerClusterMembersMismatch",
                expr:
                    `${aggBy("max", [...SVC, "pod"], `max_over_time(${am.clusterMembers}${amSel}[5m])`)}\n` +
                    `< on (${SVC.join(", ")}) group_left\n${aggBy("count", SVC, `max_over_time(${am.clusterMembers}${amSel}[5m])`)}`,
                for: "15m",
                severity: "warning",
                team,
                summary: "Alertmanager {{ $labels.pod }} sees {{ $value }} cluster members, fewer than are running.",
                description:
                    "Alertmanager {{ $labels.pod }} in {{ $labels.namespace }} sees {{ $value }} cluster members, fewer than the replicas " +
                    "Prometheus scrapes, for 15m: the cluster is split and notifications may be sent twice or silences not shared.",
            }),
            alert({
                name: "OtelCollectorRefusingData",
                expr: `${share(c.refused, c.accepted, SVC)}\n> ${num(a.collectorRefused.threshold)}`,
                for: a.collectorRefused.for,
                severity: "warning",
                team,
                summary: "{{ $labels.service }} refuses {{ $value | humanizePercentage }} of incoming telemetry.",
                description:
                    "The OpenTelemetry Collector {{ $labels.service }} in {{ $labels.namespace }} refused {{ $value | humanizePercentage }} of the " +
                    `spans, metric points and log records sent to it over 5m (above ${pct(a.collectorRefused.threshold)} for ${a.collectorRefused.for}), ` +
                    "usually because its memory limiter is active: clients retry, then drop.",
            }),
            alert({
                name: "OtelCollectorDroppingData",
                expr: `${share([...c.sendFailed, ...c.enqueueFailed], c.sent, [...SVC, "exporter"])}\n> ${num(a.collectorDropped.threshold)}`,
                for: a.collectorDropped.for,
                severity: "warning",
                team,
                summary: "{{ $labels.service }} drops {{ $value | humanizePercentage }} of telemetry at exporter {{ $labels.exporter }}.",
                description:
                    "The OpenTelemetry Collector {{ $labels.service }} in {{ $labels.namespace }} failed to send or enqueue " +
                    `{{ $value | humanizePercentage }} of the items of exporter {{ $labels.exporter }} over 5m (above ${pct(a.collectorDropped.threshold)} ` +
                    `for ${a.collectorDropped.for}): that telemetry is lost.`,
            }),
            alert({
                name: "LogBackendIngestionErrors",
                expr: `${logIngestion}\n> ${num(a.logIngestionErrors.threshold)}`,
                for: a.logIngestionErrors.for,
                severity: "warning",
                team,
                summary: `The log backend (${ctx.logsBackend}) rejects {{ $value | humanizePercentage }} of log lines.`,
                description:
                    ctx.logsBackend === "loki"
                        ? "Loki in {{ $labels.namespace }} discarded {{ $value | humanizePercentage }} of the log lines it received over 5m " +
                          `(rate limits, too old or too long lines; above ${pct(a.logIngestionErrors.threshold)} for ${a.logIngestionErrors.for}): those logs are lost.`
                        : "The collector failed to write {{ $value | humanizePercentage }} of log records to Elasticsearch over 5m " +
                          `(above ${pct(a.logIngestionErrors.threshold)} for ${a.logIngestionErrors.for}): those logs are lost.`,
            }),
            alert({
                name: "GrafanaDown",
                expr: `${aggBy("max", SVC, `${INFRA.up}{${job("grafana")}}`)} == 0\nor\nabsent(${INFRA.up}{${job("grafana")}})`,
                for: a.componentDown.for,
                severity: "warning",
                team,
                summary: "Grafana is down.",
                description:
                    `No Grafana instance answers its scrape for ${a.componentDown.for} (value {{ $value }}: 0 when every instance fails its scrape, ` +
                    "1 when there is no Grafana target at all): dashboards are unavailable; alerting is not affected.",
            }),
        ],
    };
}
