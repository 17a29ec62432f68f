/**
 * Synthetic monitoring as pure functions of typed input: the blackbox exporter's `blackbox.yml`
 * (its probe modules), the Prometheus scrape jobs that run the probes, and the alert relabeling
 * that gives probe alerts the severity and team of their target.
 *
 * Every probe series carries `target` (what was probed), `service`, `namespace`, `module` (the
 * base module: http_2xx, http_body, tcp_connect or dns), `probe_severity` and `probe_team`. The
 * rules in alerts/probes.ts and the Endpoints row of System Overview read these labels.
 */
import * as yaml from "js-yaml";
import type { ProbeModule, ProbeTargetConfig } from "../../config";

/** Value of the pods' `app.kubernetes.io/name`, and the exporter's own scrape job. */
export const BLACKBOX_APP = "blackbox-exporter";
/** blackbox_exporter's conventional port. */
export const BLACKBOX_PORT = 9115;
export const BLACKBOX_PORT_NAME = "http";

/**
 * Upper bound of one probe. The exporter also stops at Prometheus' scrape timeout (minus 0.5 s),
 * whichever comes first, so a probe never outlives its scrape.
 */
export const PROBE_TIMEOUT = "5s";

/**
 * What a healthy body looks like to the shared `http_body` module (Services that name it in
 * their annotation): a JSON `status` of ok/up/healthy/pass/UP, as common health endpoints answer.
 * Targets of the stack config give their own pattern (`expectBody`).
 */
export const HEALTHY_BODY = '(?i)"status"\\s*:\\s*"(ok|up|healthy|pass)"';

/**
 * The name the shared `dns` module resolves: the API server's Service, which exists in every
 * cluster (default cluster domain). Targets of the stack config name their own in the URL.
 */
export const CLUSTER_DNS_QUERY = "kubernetes.default.svc.cluster.local";

/** Scrape job names of the probes. */
export const PROBE_JOBS = {
    /** Targets of the stack config (`probes.targets`). */
    static: "probes",
    /** Services annotated `probe.observability/path`. */
    services: "service-probes",
} as const;

/** Labels every probe series carries besides `service`, `namespace`, `job` and `instance`. */
export const PROBE_LABELS = {
    target: "target",
    module: "module",
    severity: "probe_severity",
    team: "probe_team",
} as const;

/** Service annotations that opt a Service into probing and tune its probe. */
export const PROBE_ANNOTATIONS = {
    /** Required: the path probed (HTTP modules); its presence opts the Service in. */
    path: "probe.observability/path",
    /** Port number or name of the Service to probe. @default every port of the Service */
    port: "probe.observability/port",
    /** @default http_2xx */
    module: "probe.observability/module",
    /** http or https. @default http */
    scheme: "probe.observability/scheme",
    /** Severity of the failure alerts. @default critical */
    severity: "probe.observability/severity",
    /** Team of the alerts. @default alerting.teams.application */
    team: "probe.observability/team",
} as const;

/** The `__meta_kubernetes_service_annotation_*` label kubernetes_sd sets for an annotation. */
export function annotationMeta(annotation: string, present = false): string {
    return `__meta_kubernetes_service_annotation${present ? "present" : ""}_${annotation.replace(/[^A-Za-z0-9_]/g, "_")}`;
}

/** The blackbox module a config target is probed with: its own when it customises one. */
export function moduleKey(t: Pick<ProbeTargetConfig, "name" | "module" | "expectBody">): string {
    if (t.module === "http_body" && t.expectBody !== undefined) return `http_body_${t.name}`;
    if (t.module === "dns") return `dns_${t.name}`;
    return t.module;
}

/** The `target` parameter of a config target: the URL for HTTP, `host:port` for TCP and DNS. */
export function probeParam(t: Pick<ProbeTargetConfig, "url" | "module">): string {
    if (t.module === "tcp_connect") return t.url.replace(/^tcp:\/\//, "").replace(/\/$/, "");
    if (t.module === "dns") {
        const hostPort = t.url.replace(/^dns:\/\//, "").split("/")[0]!;
        return /:\d+$/.test(hostPort) ? hostPort : `${hostPort}:53`;
    }
    return t.url;
}

/** The name a dns target resolves (the path of its `dns://resolver/name` URL). */
function dnsQuery(url: string): string {
    return url.replace(/^dns:\/\/[^/]+\//, "");
}

type Module = Record<string, unknown>;

function httpModule(bodyPattern?: string): Module {
    return {
        prober: "http",
        timeout: PROBE_TIMEOUT,
        http: {
            method: "GET",
            // A redirect is an answer worth seeing, not something to follow: a health endpoint
            // that redirects (to a login page, say) is misconfigured.
            follow_redirects: false,
            preferred_ip_protocol: "ip4",
            // Certificates are verified against the pod's CA bundle: a probe through a bad
            // certificate fails, as a browser would.
            tls_config: { insecure_skip_verify: false },
            ...(bodyPattern !== undefined ? { fail_if_body_not_matches_regexp: [bodyPattern] } : {}),
        },
    };
}

function dnsModule(query: string): Module {
    return {
        prober: "dns",
        timeout: PROBE_TIMEOUT,
        dns: {
            preferred_ip_protocol: "ip4",
            transport_protocol: "udp",
            query_name: query,
            query_type: "A",
            valid_rcodes: ["NOERROR"],
            // NOERROR without an A record (NODATA) is a failed resolution too.
            validate_answer_rrs: { fail_if_none_matches_regexp: ["\\sIN\\s+A\\s"] },
        },
    };
}

/** The four modules every stack has, by name. */
export const BASE_MODULES: Readonly<Record<ProbeModule, Module>> = {
    http_2xx: httpModule(),
    http_body: httpModule(HEALTHY_BODY),
    tcp_connect: { prober: "tcp", timeout: PROBE_TIMEOUT, tcp: { preferred_ip_protocol: "ip4" } },
    dns: dnsModule(CLUSTER_DNS_QUERY),
};

export interface BlackboxConfigArgs {
    /** Config targets; those with their own body pattern or DNS name get a module of their own. */
    readonly targets: readonly ProbeTargetConfig[];
}

/** blackbox.yml as a plain object. */
export function blackboxConfig(a: BlackboxConfigArgs): Record<string, unknown> {
    const modules: Record<string, Module> = { ...BASE_MODULES };
    for (const t of a.targets) {
        const key = moduleKey(t);
        if (key === t.module) continue;
        modules[key] = t.module === "dns" ? dnsModule(dnsQuery(t.url)) : httpModule(t.expectBody);
    }
    return { modules };
}

/** blackbox.yml as text. */
export function renderBlackboxConfig(a: BlackboxConfigArgs): string {
    return `# Generated by components/blackbox/config.ts; do not edit.\n${yaml.dump(blackboxConfig(a), { lineWidth: -1, noRefs: true })}`;
}

export interface ProbeJobsArgs {
    /** `host:port` of the blackbox exporter's Service. */
    readonly exporterAddress: string;
    readonly targets: readonly ProbeTargetConfig[];
    /** Add the job probing Services annotated `probe.observability/path`. */
    readonly serviceDiscovery: boolean;
    /** Prometheus' global scrape interval: targets probed at another interval set their own. */
    readonly scrapeInterval: string;
    /** `probe_team` of discovered Services without a team annotation. */
    readonly defaultTeam: string;
}

type Relabel = Record<string, unknown>;

/** The probe parameter becomes the `target` and `instance` labels; the scrape goes to the exporter. */
function toExporter(exporterAddress: string): Relabel[] {
    return [
        { source_labels: ["__param_target"], target_label: PROBE_LABELS.target },
        { source_labels: ["__param_target"], target_label: "instance" },
        { target_label: "__address__", replacement: exporterAddress },
    ];
}

function staticProbeJob(a: ProbeJobsArgs): Record<string, unknown> {
    return {
        job_name: PROBE_JOBS.static,
        metrics_path: "/probe",
        static_configs: a.targets.map((t) => ({
            targets: [probeParam(t)],
            labels: {
                __param_module: moduleKey(t),
                ...(t.interval !== a.scrapeInterval ? { __scrape_interval__: t.interval } : {}),
                [PROBE_LABELS.module]: t.module,
                service: t.service,
                namespace: t.namespace,
                [PROBE_LABELS.severity]: t.severity,
                [PROBE_LABELS.team]: t.team,
            },
        })),
        relabel_configs: [{ source_labels: ["__address__"], target_label: "__param_target" }, ...toExporter(a.exporterAddress)],
    };
}

function serviceProbeJob(a: ProbeJobsArgs): Record<string, unknown> {
    const ann = (k: keyof typeof PROBE_ANNOTATIONS) => annotationMeta(PROBE_ANNOTATIONS[k]);
    const port = "__tmp_probe_port";
    const scheme = "__tmp_probe_scheme";
    return {
        job_name: PROBE_JOBS.services,
        metrics_path: "/probe",
        kubernetes_sd_configs: [{ role: "service" }],
        relabel_configs: [
            { source_labels: [annotationMeta(PROBE_ANNOTATIONS.path, true)], regex: "true", action: "keep" },
            // Role service gives one target per Service port. With a port annotation, keep the
            // port it names: compare with the port's name, or with its number when the
            // annotation is numeric (keepequal: the label must equal the annotation).
            { source_labels: [ann("port"), "__meta_kubernetes_service_port_name"], regex: "[^;]+;(.*)", target_label: port },
            { source_labels: [ann("port"), "__meta_kubernetes_service_port_number"], regex: "\\d+;(\\d+)", target_label: port },
            { source_labels: [port], target_label: ann("port"), action: "keepequal" },
            { target_label: "__param_module", replacement: "http_2xx" },
            { source_labels: [ann("module")], regex: "(.+)", target_label: "__param_module" },
            { source_labels: ["__param_module"], target_label: PROBE_LABELS.module },
            { target_label: scheme, replacement: "http" },
            { source_labels: [ann("scheme")], regex: "(https?)", target_label: scheme },
            // __address__ is `<service>.<namespace>.svc:<port>`: HTTP modules get a URL, TCP and DNS the address.
            { source_labels: [scheme, "__address__", ann("path")], regex: "(.+);(.+);/?(.*)", replacement: "$1://$2/$3", target_label: "__param_target" },
            { source_labels: ["__param_module", "__address__"], regex: "(?:tcp_connect|dns);(.+)", target_label: "__param_target" },
            { source_labels: ["__meta_kubernetes_service_name"], target_label: "service" },
            { source_labels: ["__meta_kubernetes_namespace"], target_label: "namespace" },
            { target_label: PROBE_LABELS.severity, replacement: "critical" },
            { source_labels: [ann("severity")], regex: "(critical|warning|info)", target_label: PROBE_LABELS.severity },
            { target_label: PROBE_LABELS.team, replacement: a.defaultTeam },
            { source_labels: [ann("team")], regex: "(.+)", target_label: PROBE_LABELS.team },
            ...toExporter(a.exporterAddress),
        ],
    };
}

/**
 * The probe scrape jobs: one for the config targets (when there are any) and one discovering
 * annotated Services (unless switched off). Each scrape asks the exporter to probe one target.
 */
export function probeScrapeJobs(a: ProbeJobsArgs): Record<string, unknown>[] {
    return [...(a.targets.length > 0 ? [staticProbeJob(a)] : []), ...(a.serviceDiscovery ? [serviceProbeJob(a)] : [])];
}

/** Probe alerts whose severity is the target's (the others have fixed severities). */
export const TARGET_SEVERITY_ALERTS = ["ProbeFailing", "ProbeDnsResolutionFailing"] as const;

/**
 * Alert relabeling (prometheus.yml `alerting.alert_relabel_configs`), applied as Prometheus sends
 * alerts to Alertmanager, so routing sees the target's owner:
 * - the probe-failure and DNS alerts take the `severity` of their target (`probe_severity`);
 * - every probe alert takes the `team` of its target (`probe_team`);
 * - `TargetDown` of a probe job means the exporter did not answer the probe scrape, not that the
 *   probed service is down: its `service` becomes the exporter's, so Alertmanager's TargetDown
 *   inhibition mutes the exporter's alerts rather than every probed service's.
 * The rules keep static defaults (critical, the application team), which is what the `ALERTS`
 * series in Prometheus shows.
 */
export function probeAlertRelabelConfigs(): Relabel[] {
    return [
        {
            source_labels: ["alertname", PROBE_LABELS.severity],
            regex: `(${TARGET_SEVERITY_ALERTS.join("|")});(critical|warning|info)`,
            replacement: "$2",
            target_label: "severity",
        },
        { source_labels: ["alertname", PROBE_LABELS.team], regex: "(Probe[A-Za-z]+);(.+)", replacement: "$2", target_label: "team" },
        {
            source_labels: ["alertname", "job"],
            regex: `TargetDown;(${PROBE_JOBS.static}|${PROBE_JOBS.services})`,
            replacement: BLACKBOX_APP,
            target_label: "service",
        },
    ];
}
