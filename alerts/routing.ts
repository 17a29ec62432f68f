/**
 * Alert routing as typed code, and alertmanager.yml generated from it.
 *
 * The matrix (by the `severity` label, CONVENTIONS' critical/warning/info plus high and low for
 * teams that want finer priorities):
 *
 * | route        | matches                          | receivers (by their `routes`)  | cadence               |
 * |--------------|----------------------------------|--------------------------------|-----------------------|
 * | heartbeat    | alertname="Watchdog"             | dead-man's-switch webhook      | repeat every 1 m      |
 * | stakeholders | audience="stakeholders"          | MS Teams Workflows (continues) | like high             |
 * | critical     | severity="critical"              | PagerDuty, Slack               | page fast, repeat 1 h |
 * | high         | severity="high"                  | email, Slack                   | repeat 4 h            |
 * | warning      | severity="warning" (medium)      | email                          | repeat 12 h           |
 * | low          | severity="low"                   | email, once a day (digest)     | outside quiet hours   |
 * | info         | severity="info"                  | null (visible in the UI only)  |                       |
 * | (default)    | anything else                    | the critical receivers         | so nothing is lost    |
 *
 * A route that no receiver serves falls back to the default receiver, never to `null`.
 *
 * Alerts with a `team` label go first through that team's sub-route, which uses the team's own
 * receivers for each route and falls back to the shared ones.
 */
import * as yaml from "js-yaml";
import type { ReceiverConfig, RouteRole } from "../config";

/** A receiver as routing needs it: its credential stays out of the generated file. */
export type ReceiverSpec = ReceiverConfig extends infer R ? (R extends ReceiverConfig ? Omit<R, "credential"> : never) : never;

export const SEVERITIES = ["critical", "high", "warning", "low", "info"] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Grouping cadence of one route. */
export interface Cadence {
    readonly groupWait: string;
    readonly groupInterval: string;
    readonly repeatInterval: string;
}

export const CADENCE: Readonly<Record<"critical" | "high" | "warning" | "low" | "heartbeat", Cadence>> = {
    critical: { groupWait: "10s", groupInterval: "1m", repeatInterval: "1h" },
    high: { groupWait: "30s", groupInterval: "5m", repeatInterval: "4h" },
    warning: { groupWait: "1m", groupInterval: "10m", repeatInterval: "12h" },
    // A daily digest: everything low collects for a day into one notification.
    low: { groupWait: "10m", groupInterval: "24h", repeatInterval: "24h" },
    heartbeat: { groupWait: "0s", groupInterval: "1m", repeatInterval: "1m" },
};

export const GROUP_BY = ["alertname", "service", "cluster"] as const;
export const NULL_RECEIVER = "null";
export const QUIET_HOURS = "quiet-hours";

/** File names of receiver credentials inside the mounted Secret. */
export function credentialFile(receiver: Pick<ReceiverConfig, "name" | "kind">): string {
    return `${receiver.name}-${receiver.kind === "pagerduty" ? "routing-key" : receiver.kind === "email" ? "password" : "url"}`;
}

export interface AlertmanagerConfigArgs {
    readonly receivers: readonly ReceiverSpec[];
    /** Directory where the receivers' Secret is mounted. */
    readonly secretsDir: string;
    /** Directory of the notification templates. */
    readonly templatesDir: string;
    /** Grafana base URL, for dashboard links in notifications. */
    readonly grafanaUrl: string;
    /** Quiet hours of the low route, in this IANA time zone. @default "UTC" */
    readonly timeZone?: string;
}

type Route = Record<string, unknown>;

function cadence(c: Cadence): Record<string, string> {
    return { group_wait: c.groupWait, group_interval: c.groupInterval, repeat_interval: c.repeatInterval };
}

function receiverEntry(r: ReceiverSpec, dir: string): Record<string, unknown> {
    const file = `${dir}/${credentialFile(r)}`;
    const sr = r.sendResolved;
    switch (r.kind) {
        case "pagerduty":
            return {
                pagerduty_configs: [
                    {
                        send_resolved: sr,
                        routing_key_file: file,
                        description: '{{ template "obs.title" . }}',
                        severity: '{{ if eq .CommonLabels.severity "critical" }}critical{{ else }}warning{{ end }}',
                        details: {
                            summary: '{{ template "obs.summary" . }}',
                            runbook_url: '{{ template "obs.runbook" . }}',
                            dashboard: '{{ template "obs.dashboard" . }}',
                            firing: '{{ template "obs.text" . }}',
                        },
                        links: [{ href: '{{ template "obs.runbook" . }}', text: "Runbook" }],
                    },
                ],
            };
        case "slack":
            return {
                slack_configs: [
                    {
                        send_resolved: sr,
                        api_url_file: file,
                        channel: r.channel,
                        title: '{{ template "obs.title" . }}',
                        title_link: '{{ template "obs.dashboard" . }}',
                        text: '{{ template "obs.text" . }}',
                        color: '{{ if eq .Status "firing" }}{{ if eq .CommonLabels.severity "critical" }}danger{{ else }}warning{{ end }}{{ else }}good{{ end }}',
                        actions: [
                            { type: "button", text: "Runbook", url: '{{ template "obs.runbook" . }}' },
                            { type: "button", text: "Dashboard", url: '{{ template "obs.dashboard" . }}' },
                        ],
                    },
                ],
            };
        case "email":
            return {
                email_configs: [
                    {
                        send_resolved: sr,
                        to: r.to,
                        from: r.from,
                        smarthost: r.smarthost,
                        require_tls: r.requireTls,
                        ...(r.authUsername ? { auth_username: r.authUsername } : {}),
                        ...(r.authPasswordSecret ? { auth_password_file: file } : {}),
                        headers: { Subject: '{{ template "obs.title" . }}' },
                        html: '{{ template "obs.email.html" . }}',
                        text: '{{ template "obs.text" . }}',
                    },
                ],
            };
        case "msteams":
            // Teams through a Workflows (Power Automate) webhook, which takes Adaptive Cards:
            // msteamsv2. The Office 365 connector webhooks msteams_configs posted to are retired.
            return {
                msteamsv2_configs: [
                    { send_resolved: sr, webhook_url_file: file, title: '{{ template "obs.title" . }}', text: '{{ template "obs.text" . }}' },
                ],
            };
        case "webhook":
            return { webhook_configs: [{ send_resolved: sr, url_file: file, max_alerts: 0 }] };
    }
}

/** Receivers serving a route: the team's own first, else the shared ones (no team). */
function receiversFor(all: readonly ReceiverSpec[], role: RouteRole, team?: string): string[] {
    const own = all.filter((r) => r.team === team && r.routes.includes(role)).map((r) => r.name);
    if (own.length > 0 || team === undefined) return own;
    return all.filter((r) => r.team === undefined && r.routes.includes(role)).map((r) => r.name);
}

/**
 * A route delivering to several receivers: Alertmanager routes to one receiver each, so the
 * first gets the route and the others sibling routes with `continue: true` before it.
 */
function fanOut(matchers: string[], names: string[], c: Cadence, extra: Route = {}): Route[] {
    if (names.length === 0) return [];
    return names.map((receiver, i) => ({
        receiver,
        matchers,
        ...cadence(c),
        ...extra,
        ...(i < names.length - 1 ? { continue: true } : {}),
    }));
}

/**
 * A route whose role no receiver serves goes to the fallback receiver rather than nowhere: a
 * warning in a stack with only a Slack receiver for critical and high must still reach a human.
 */
function severityRoutes(all: readonly ReceiverSpec[], fallback: string, team?: string): Route[] {
    const routes: Route[] = [];
    for (const role of ["critical", "high", "warning", "low"] as const) {
        const names = receiversFor(all, role, team);
        const extra: Route = role === "low" ? { mute_time_intervals: [QUIET_HOURS], group_by: ["cluster"] } : {};
        routes.push(...fanOut([`severity="${role}"`], names.length ? names : [fallback], CADENCE[role], extra));
    }
    routes.push({ receiver: NULL_RECEIVER, matchers: ['severity="info"'] });
    return routes;
}

/** alertmanager.yml as a plain object. */
export function alertmanagerConfig(a: AlertmanagerConfigArgs): Record<string, unknown> {
    const names = new Set<string>();
    for (const r of a.receivers) {
        if (r.name === NULL_RECEIVER) throw new Error(`receiver name "${NULL_RECEIVER}" is reserved for the null receiver`);
        if (names.has(r.name)) throw new Error(`receiver name "${r.name}" is used twice`);
        names.add(r.name);
    }
    const heartbeat = receiversFor(a.receivers, "heartbeat");
    const stakeholders = receiversFor(a.receivers, "stakeholders");
    const fallback = receiversFor(a.receivers, "critical")[0] ?? a.receivers[0]?.name ?? NULL_RECEIVER;
    const teams = [...new Set(a.receivers.map((r) => r.team).filter((t): t is string => t !== undefined))].sort();

    const routes: Route[] = [
        { receiver: heartbeat[0] ?? NULL_RECEIVER, matchers: ['alertname="Watchdog"'], ...cadence(CADENCE.heartbeat) },
        ...stakeholders.map((receiver) => ({ receiver, matchers: ['audience="stakeholders"'], continue: true, ...cadence(CADENCE.high) })),
        ...teams.map((team) => ({ receiver: receiversFor(a.receivers, "critical", team)[0] ?? fallback, matchers: [`team="${team}"`], routes: severityRoutes(a.receivers, fallback, team) })),
        ...severityRoutes(a.receivers, fallback),
    ];

    return {
        global: { resolve_timeout: "5m" },
        templates: [`${a.templatesDir}/*.tmpl`],
        route: {
            receiver: fallback,
            group_by: [...GROUP_BY],
            ...cadence(CADENCE.high),
            routes,
        },
        inhibit_rules: [
            {
                // A critical alert says it all: mute lesser alerts of the same alert and service.
                source_matchers: ['severity="critical"'],
                target_matchers: ['severity=~"high|warning|low|info"'],
                equal: ["alertname", "service", "cluster"],
            },
            {
                // The cluster is unreachable: every other alert of it is a consequence.
                source_matchers: ['alertname="ClusterDown"'],
                target_matchers: ['alertname!~"ClusterDown|Watchdog"'],
                equal: ["cluster"],
            },
            {
                // A service's targets are down: its error, latency and traffic alerts are explained.
                source_matchers: ['alertname="TargetDown"'],
                target_matchers: ['alertname!~"TargetDown|ClusterDown|Watchdog"'],
                equal: ["cluster", "service"],
            },
        ],
        time_intervals: [
            {
                name: QUIET_HOURS,
                time_intervals: [
                    { times: [{ start_time: "20:00", end_time: "24:00" }], location: a.timeZone ?? "UTC" },
                    { times: [{ start_time: "00:00", end_time: "08:00" }], location: a.timeZone ?? "UTC" },
                    { weekdays: ["saturday", "sunday"], location: a.timeZone ?? "UTC" },
                ],
            },
        ],
        receivers: [{ name: NULL_RECEIVER }, ...a.receivers.map((r) => ({ name: r.name, ...receiverEntry(r, a.secretsDir) }))],
    };
}

export function renderAlertmanagerConfig(a: AlertmanagerConfigArgs): string {
    return `# Generated by alerts/routing.ts; do not edit.\n${yaml.dump(alertmanagerConfig(a), { lineWidth: -1, noRefs: true })}`;
}

/** Notification templates: every message carries summary, description, runbook and dashboard. */
export function notificationTemplates(grafanaUrl: string): string {
    const base = grafanaUrl.replace(/\/+$/, "");
    return `{{/* Generated by alerts/routing.ts; do not edit. */}}
{{ define "obs.title" }}[{{ .Status | toUpper }}{{ if eq .Status "firing" }}:{{ .Alerts.Firing | len }}{{ end }}] {{ .CommonLabels.alertname }}{{ with .CommonLabels.service }} · {{ . }}{{ end }} ({{ .CommonLabels.cluster }}){{ end }}
{{ define "obs.summary" }}{{ with .CommonAnnotations.summary }}{{ . }}{{ else }}{{ with index .Alerts 0 }}{{ .Annotations.summary }}{{ end }}{{ end }}{{ end }}
{{ define "obs.runbook" }}{{ with .CommonAnnotations.runbook_url }}{{ . }}{{ else }}{{ with index .Alerts 0 }}{{ .Annotations.runbook_url }}{{ end }}{{ end }}{{ end }}
{{ define "obs.dashboard" }}{{ with .CommonAnnotations.dashboard_url }}{{ . }}{{ else }}${base}/d/system-overview?var-cluster={{ .CommonLabels.cluster }}{{ with .CommonLabels.service }}&var-service={{ . }}{{ end }}{{ end }}{{ end }}
{{ define "obs.text" }}{{ range .Alerts }}*{{ .Labels.alertname }}* ({{ .Labels.severity }}){{ with .Labels.service }} service={{ . }}{{ end }}
{{ .Annotations.summary }}
{{ .Annotations.description }}
Runbook: {{ .Annotations.runbook_url }}
{{ end }}Dashboard: {{ template "obs.dashboard" . }}{{ end }}
{{ define "obs.email.html" }}<h2>{{ template "obs.title" . }}</h2>{{ range .Alerts }}<h3>{{ .Labels.alertname }} ({{ .Labels.severity }})</h3><p>{{ .Annotations.summary }}</p><p>{{ .Annotations.description }}</p><p><a href="{{ .Annotations.runbook_url }}">Runbook</a></p>{{ end }}<p><a href="{{ template "obs.dashboard" . }}">Dashboard</a></p>{{ end }}
`;
}
