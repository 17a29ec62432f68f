/**
 * Synthetic-probe rules: the blackbox exporter's view of every probed endpoint (the `probe_*`
 * series of the jobs in components/blackbox/config.ts). A failing probe alerts once, by cause:
 * name resolution (ProbeDnsResolutionFailing) or anything else (ProbeFailing). Slow probes and
 * certificates close to expiry alert on their own.
 *
 * Severity and team: the rules carry static defaults (critical for the failure alerts, the
 * application team), and Prometheus' alert relabeling replaces them with the target's
 * `probe_severity` and `probe_team` as it sends the alerts (probeAlertRelabelConfigs()), so
 * Alertmanager routes each probe by its own owner and severity through the existing matrix.
 */
import { INFRA } from "../telemetry";
import { alert, num, RuleContext } from "./common";
import type { RuleGroup } from "./index";

const P = INFRA.probe;
/** One probe: its job, target and module (the same target may be probed by two modules). */
const PROBE = ["job", "instance", "module"] as const;
const ON_PROBE = `on (${PROBE.join(", ")})`;
/** The target's host name did not resolve (blackbox sets no IP protocol then). */
const UNRESOLVED = `${P.ipProtocol} == 0`;
const DAYS_LEFT = `(${P.sslEarliestCertExpiry} - time()) / 86400`;
const TARGET = "{{ $labels.namespace }}/{{ $labels.service }}";

export function probesAlertGroup(ctx: RuleContext): RuleGroup {
    const a = ctx.alerting.probes;
    const team = ctx.alerting.teams.application;
    const days = (d: number) => `${num(d)} day${d === 1 ? "" : "s"}`;
    return {
        name: "probes.alerts",
        rules: [
            alert({
                name: "ProbeFailing",
                expr: `${P.success}{module!="dns"} == 0\nunless ${ON_PROBE}\n${UNRESOLVED}`,
                for: a.failing.for,
                severity: "critical",
                team,
                summary: `${TARGET}: probe of {{ $labels.target }} is failing.`,
                description:
                    "The blackbox exporter's {{ $labels.module }} probe of {{ $labels.target }} has failed " +
                    `(probe_success = {{ $value }}) at every attempt for ${a.failing.for}: the endpoint is down, answers a non-2xx status, ` +
                    "a redirect, an unexpected body, or a certificate that does not verify. Users reaching it the same way see the same.",
            }),
            alert({
                name: "ProbeDnsResolutionFailing",
                expr: `${P.success}{module="dns"} == 0\nor ${ON_PROBE}\n${UNRESOLVED}`,
                for: a.dnsFailing.for,
                severity: "critical",
                team,
                summary: `${TARGET}: DNS resolution of {{ $labels.target }} is failing.`,
                description:
                    "For " + a.dnsFailing.for + ", either the DNS probe of resolver {{ $labels.target }} got no valid answer, or the host name " +
                    "of {{ $labels.target }} did not resolve before its probe could start (value {{ $value }}: probe_success of a DNS probe, " +
                    "probe_ip_protocol of another). Clients resolving the same name fail the same way.",
            }),
            alert({
                name: "ProbeLatencyP95High",
                expr:
                    `quantile_over_time(0.95, ${P.duration}[${a.latencyWindow}]) > ${num(a.latencyP95.threshold)}\n` +
                    `unless ${ON_PROBE}\n${P.success} == 0`,
                for: a.latencyP95.for,
                severity: "warning",
                team,
                summary: `${TARGET}: probes of {{ $labels.target }} are slow (p95 {{ $value | humanizeDuration }}).`,
                description:
                    `The 95th percentile duration of the {{ $labels.module }} probes of {{ $labels.target }} over ${a.latencyWindow} is ` +
                    `{{ $value | humanizeDuration }}, above ${num(a.latencyP95.threshold)} s, for ${a.latencyP95.for}. ` +
                    "The endpoint answers, slowly (a failing probe alerts as ProbeFailing instead).",
            }),
            alert({
                name: "ProbeTlsCertificateExpiringSoon",
                expr: `(${DAYS_LEFT} < ${num(a.certExpiryWarning.threshold)}) >= ${num(a.certExpiryCritical.threshold)}`,
                for: a.certExpiryWarning.for,
                severity: "warning",
                team,
                summary: `${TARGET}: the TLS certificate of {{ $labels.target }} expires in {{ $value | humanize }} days.`,
                description:
                    "The earliest-expiring certificate {{ $labels.target }} presents expires in {{ $value | humanize }} days, " +
                    `less than ${days(a.certExpiryWarning.threshold)} (for ${a.certExpiryWarning.for}). Renew it before ` +
                    `${days(a.certExpiryCritical.threshold)} are left, when this becomes ProbeTlsCertificateExpiryCritical.`,
            }),
            alert({
                name: "ProbeTlsCertificateExpiryCritical",
                expr: `${DAYS_LEFT} < ${num(a.certExpiryCritical.threshold)}`,
                for: a.certExpiryCritical.for,
                severity: "critical",
                team,
                summary: `${TARGET}: the TLS certificate of {{ $labels.target }} expires in {{ $value | humanize }} days.`,
                description:
                    "The earliest-expiring certificate {{ $labels.target }} presents expires in {{ $value | humanize }} days, " +
                    `less than ${days(a.certExpiryCritical.threshold)} (for ${a.certExpiryCritical.for}). Once it expires, every client ` +
                    "that verifies certificates fails to connect.",
            }),
        ],
    };
}
