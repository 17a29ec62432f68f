/**
 * The promtool cases of the synthetic-probe alerts (alerts/probes.ts), registered into the alert
 * test suite's table (test/alerts/support/cases.ts), so the same checks cover them: every alert
 * has a fire case and a silent case near its threshold, its severity and team are the spec's,
 * and its runbook exists.
 *
 * Probe series carry the labels the probe jobs set (components/blackbox/config.ts): `job`,
 * `instance` and `target` (the probed URL or address), `module`, `service`, `namespace`,
 * `probe_severity` and `probe_team`.
 */
import { durationSeconds } from "../../../config/resolve";
import type { RuleContext } from "../../../alerts";
import type { AlertCases, Case } from "../../alerts/support/cases";
import { gauge, InputSeries, Phase, steady } from "../../alerts/support/series";
import { INFRA } from "../../../telemetry";

/** Severity and owning team of every probe alert (issue 8). Failure alerts default to critical. */
export const PROBE_EXPECTED = {
    ProbeFailing: { severity: "critical", team: "application" },
    ProbeDnsResolutionFailing: { severity: "critical", team: "application" },
    ProbeLatencyP95High: { severity: "warning", team: "application" },
    ProbeTlsCertificateExpiringSoon: { severity: "warning", team: "application" },
    ProbeTlsCertificateExpiryCritical: { severity: "critical", team: "application" },
} as const;

const P = INFRA.probe;
const min = (d: string) => durationSeconds(d) / 60;

/** The labels of one probe's series, as the `probes` job writes them. */
export function probeLabels(target: string, module: "http_2xx" | "http_body" | "tcp_connect" | "dns", extra: Record<string, string> = {}): Record<string, string> {
    return {
        job: "probes",
        instance: target,
        target,
        module,
        service: "checkout",
        namespace: "shop",
        probe_severity: "critical",
        probe_team: "shop-team",
        ...extra,
    };
}

const HEALTH = "https://checkout.shop.svc:8443/health";
const DB = "db.shop.svc:5432";
const RESOLVER = "kube-dns.kube-system.svc:53";
const UNKNOWN_HOST = "http://checkout.nowhere.invalid/health";

/** @param interval the unit tests' sample interval in seconds (test/alerts/support/cases.ts) */
export function probeAlertCases(ctx: RuleContext, interval: number): Record<keyof typeof PROBE_EXPECTED, AlertCases> {
    const a = ctx.alerting.probes;
    const I = interval;
    /** probe_success, probe_ip_protocol and probe_duration_seconds of one probe, by phase. */
    const probe = (labels: Record<string, string>, phases: readonly Phase<{ ok: boolean; resolved?: boolean; seconds?: number }>[]): InputSeries[] => [
        gauge(P.success, labels, I, phases.map((p) => ({ minutes: p.minutes, value: p.value.ok ? 1 : 0 }))),
        gauge(P.ipProtocol, labels, I, phases.map((p) => ({ minutes: p.minutes, value: p.value.resolved === false ? 0 : 4 }))),
        gauge(P.duration, labels, I, phases.map((p) => ({ minutes: p.minutes, value: p.value.seconds ?? 0.05 }))),
    ];
    const http = probeLabels(HEALTH, "http_2xx");
    const tcp = probeLabels(DB, "tcp_connect", { service: "db" });
    const dns = probeLabels(RESOLVER, "dns", { service: "kube-dns", namespace: "kube-system", probe_team: "platform" });
    const unresolved = probeLabels(UNKNOWN_HOST, "http_2xx");

    const failFor = min(a.failing.for);
    const dnsFor = min(a.dnsFailing.for);
    const failAt = 5 + failFor + 2;
    const dnsAt = 5 + dnsFor + 2;
    /** 5 good minutes, then `then` until the evaluation. */
    const breaks = (at: number, then: { ok: boolean; resolved?: boolean }) => [
        { minutes: 5, value: { ok: true } },
        { minutes: at - 5, value: then },
    ];
    /** 5 good minutes, `bad` for `minutes`, then good again until the evaluation. */
    const blip = (at: number, minutes: number, bad: { ok: boolean; resolved?: boolean }) => [
        { minutes: 5, value: { ok: true } },
        { minutes, value: bad },
        { minutes: at - 5 - minutes, value: { ok: true } },
    ];

    const latency = a.latencyP95.threshold;
    const latencyAt = min(a.latencyWindow) + min(a.latencyP95.for) + 2;

    /** A TLS probe whose earliest certificate has `days` left at the evaluation time (promtool starts at Unix time 0). */
    const cert = (days: number, at: number): InputSeries[] => [
        ...probe(http, steady(at, { ok: true })),
        gauge(P.sslEarliestCertExpiry, http, I, steady(at, at * 60 + days * 86400)),
    ];
    const warnDays = a.certExpiryWarning.threshold;
    const critDays = a.certExpiryCritical.threshold;
    const warnAt = min(a.certExpiryWarning.for) + 5;
    const critAt = min(a.certExpiryCritical.for) + 5;
    const between = (warnDays + critDays) / 2;

    const fire = (what: string, series: InputSeries[], at: number, labels: Record<string, string>): Case => ({ what, series, at, labels });
    const silent = (what: string, series: InputSeries[], at: number): Case => ({ what, series, at });

    return {
        ProbeFailing: {
            fire: [
                fire(`an HTTPS health endpoint fails its probe for ${failAt - 5}m`, probe(http, breaks(failAt, { ok: false })), failAt, http),
                fire(`a TCP port refuses connections for ${failAt - 5}m`, probe(tcp, breaks(failAt, { ok: false })), failAt, tcp),
            ],
            silent: [
                silent(`an HTTPS health endpoint fails its probe for ${failFor - 0.5}m, then recovers`, probe(http, blip(failAt, failFor - 0.5, { ok: false })), failAt),
                silent(`a probe fails because its host name does not resolve (ProbeDnsResolutionFailing's case)`, probe(unresolved, breaks(failAt, { ok: false, resolved: false })), failAt),
                silent(`a DNS probe fails (ProbeDnsResolutionFailing's case)`, probe(dns, breaks(failAt, { ok: false })), failAt),
            ],
        },
        ProbeDnsResolutionFailing: {
            fire: [
                fire(`the cluster resolver gives no valid answer for ${dnsAt - 5}m`, probe(dns, breaks(dnsAt, { ok: false })), dnsAt, dns),
                fire(`an HTTP probe's host name does not resolve for ${dnsAt - 5}m`, probe(unresolved, breaks(dnsAt, { ok: false, resolved: false })), dnsAt, unresolved),
            ],
            silent: [
                silent(`the cluster resolver gives no valid answer for ${dnsFor - 0.5}m, then recovers`, probe(dns, blip(dnsAt, dnsFor - 0.5, { ok: false })), dnsAt),
                silent("an HTTP probe fails with its host name resolved (ProbeFailing's case)", probe(http, breaks(dnsAt, { ok: false })), dnsAt),
            ],
        },
        ProbeLatencyP95High: {
            fire: [fire(`probes take ${latency * 1.5}s`, probe(http, steady(latencyAt, { ok: true, seconds: latency * 1.5 })), latencyAt, http)],
            silent: [
                silent(`probes take ${latency * 0.9}s`, probe(http, steady(latencyAt, { ok: true, seconds: latency * 0.9 })), latencyAt),
                silent(`probes time out after ${latency * 3}s and fail (ProbeFailing's case)`, probe(http, steady(latencyAt, { ok: false, seconds: latency * 3 })), latencyAt),
            ],
        },
        ProbeTlsCertificateExpiringSoon: {
            fire: [fire(`the certificate has ${between} days left`, cert(between, warnAt), warnAt, http)],
            silent: [
                silent(`the certificate has ${warnDays + 1} days left`, cert(warnDays + 1, warnAt), warnAt),
                silent(`the certificate has ${critDays - 1} days left (ProbeTlsCertificateExpiryCritical's case)`, cert(critDays - 1, warnAt), warnAt),
            ],
        },
        ProbeTlsCertificateExpiryCritical: {
            fire: [
                fire(`the certificate has ${critDays - 1} days left`, cert(critDays - 1, critAt), critAt, http),
                fire("the certificate expired a day ago", cert(-1, critAt), critAt, http),
            ],
            silent: [silent(`the certificate has ${critDays + 0.5} days left`, cert(critDays + 0.5, critAt), critAt)],
        },
    };
}
