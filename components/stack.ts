/**
 * ObservabilityStack: the root component that composes the whole monitoring stack.
 *
 * It owns the two namespaces and the default-deny network policies, and (as later components
 * land) creates each component with typed arguments derived from the StackConfig. Components
 * never read Pulumi config themselves.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../config";
import { defaultDenyIngress, imageFor, monitoringPriorityClass, standardLabels, versionOf, PART_OF, MANAGED_BY } from "./kube";
import type { Resources } from "../config";
import { Prometheus, prometheusPodLabels } from "./prometheus";
import { Alertmanager } from "./alertmanager";
import { KubeStateMetrics, NodeExporter } from "./exporters";
import type { ComponentTarget } from "./prometheus/config";
import { stackRuleFiles } from "../alerts";
import { createLogsAndTraces, GATEWAY_POD_LABELS, type LogsAndTraces } from "./otel-collector/pipeline";
import { Grafana, grafanaPodLabels as grafanaPodLabelsOf } from "./grafana";
import { dashboardConfigOf, renderDashboards } from "../dashboards";
import { BLACKBOX_APP, BLACKBOX_PORT_NAME, BlackboxExporter, blackboxAddress, probeAlertRelabelConfigs, probeScrapeJobs } from "./blackbox";

/** The config-reloader sidecars are tiny and identical everywhere. */
const RELOADER_RESOURCES: Resources = { requests: { cpu: "5m", memory: "16Mi" }, limits: { cpu: "50m", memory: "48Mi" } };

/**
 * Stack components Prometheus scrapes, by pod label and port name. Components that do not exist
 * in a stack simply have no targets.
 */
export function componentTargets(cfg: StackConfig): ComponentTarget[] {
    const m = cfg.namespaces.monitoring;
    const a = cfg.namespaces.agents;
    return [
        { job: "prometheus", namespace: m, appName: "prometheus", portName: "web" },
        { job: "alertmanager", namespace: m, appName: "alertmanager", portName: "web" },
        { job: "node-exporter", namespace: a, appName: "node-exporter", portName: "metrics" },
        { job: "kube-state-metrics", namespace: m, appName: "kube-state-metrics", portName: "http-metrics", honorLabels: true },
        { job: "kube-state-metrics-self", namespace: m, appName: "kube-state-metrics", portName: "telemetry" },
        { job: "grafana", namespace: m, appName: "grafana", portName: "http" },
        ...(cfg.logs.backend === "loki" ? [{ job: "loki", namespace: m, appName: "loki", portName: "http-metrics" }] : []),
        { job: "jaeger", namespace: m, appName: "jaeger", portName: "admin" },
        { job: "otel-collector-agent", namespace: a, appName: "otel-collector-agent", portName: "metrics" },
        { job: "otel-collector-gateway", namespace: m, appName: "otel-collector-gateway", portName: "metrics" },
        { job: BLACKBOX_APP, namespace: m, appName: BLACKBOX_APP, portName: BLACKBOX_PORT_NAME },
    ];
}

/** Name of the blackbox-exporter component (and of its Service, which the probe jobs address). */
const BLACKBOX_NAME = "blackbox-exporter";

/** The probe scrape jobs of a stack: its config targets and, unless switched off, annotated Services. */
export function stackProbeJobs(cfg: StackConfig): Record<string, unknown>[] {
    return probeScrapeJobs({
        exporterAddress: blackboxAddress(BLACKBOX_NAME, cfg.namespaces.monitoring),
        targets: cfg.probes.targets,
        serviceDiscovery: cfg.probes.serviceDiscovery,
        scrapeInterval: cfg.prometheus.scrapeInterval,
        defaultTeam: cfg.alerting.teams.application,
    });
}

export interface ObservabilityStackArgs {
    /** The resolved stack configuration (from `loadConfig()`). */
    readonly config: StackConfig;
}

/** Pod Security Standards labels of a namespace. */
export function podSecurityLabels(enforce: "restricted" | "baseline" | "privileged"): Record<string, string> {
    return {
        "pod-security.kubernetes.io/enforce": enforce,
        "pod-security.kubernetes.io/enforce-version": "latest",
        // warn and audit stay at restricted everywhere, so any pod that needs more than
        // restricted shows up in kubectl warnings and the audit log, also where it is allowed.
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/warn-version": "latest",
        "pod-security.kubernetes.io/audit": "restricted",
        "pod-security.kubernetes.io/audit-version": "latest",
    };
}

export class ObservabilityStack extends pulumi.ComponentResource {
    /** Namespace of the monitoring workloads. */
    public readonly monitoringNamespace: pulumi.Output<string>;
    /** Namespace of the node-level agents. */
    public readonly agentsNamespace: pulumi.Output<string>;
    public readonly prometheus: Prometheus;
    public readonly alertmanager: Alertmanager;
    /** Log backend, Jaeger and the OpenTelemetry Collector gateway and agents. */
    public readonly logsAndTraces: LogsAndTraces;
    public readonly grafana: Grafana;

    constructor(name: string, args: ObservabilityStackArgs, opts?: pulumi.ComponentResourceOptions) {
        super("observability:index:ObservabilityStack", name, {}, opts);
        const cfg = args.config;
        const nsLabels = {
            "app.kubernetes.io/part-of": PART_OF,
            "app.kubernetes.io/managed-by": MANAGED_BY,
            "observability.pulumi.com/environment": cfg.environment,
        };

        // Deleting a namespace deletes its claims, whatever the claims' own options say. So when a
        // component keeps data on a volume, `pulumi destroy` leaves this namespace (and the
        // claims in it) in place; README "Destroy" has the command that removes them.
        const keepsVolumes = [cfg.prometheus.storage, cfg.alertmanager.storage, cfg.grafana.storage, cfg.logs.storage, cfg.tracing.jaeger.storage].some(
            (s) => s.enabled,
        );
        const monitoring = new k8s.core.v1.Namespace(
            `${name}-monitoring`,
            {
                metadata: {
                    name: cfg.namespaces.monitoring,
                    labels: { ...nsLabels, ...podSecurityLabels("restricted") },
                },
            },
            { parent: this, ...(keepsVolumes ? { retainOnDelete: true } : {}) },
        );

        // The agents namespace exists because node-level agents (node-exporter, the OTel
        // collector agent reading /var/log/pods) need host paths, host network or host PID,
        // which the restricted profile forbids. Keeping them apart lets the monitoring namespace
        // enforce restricted with no exception; here only what the agents need is allowed, and
        // warn/audit stay at restricted so every exception remains visible.
        const agents = new k8s.core.v1.Namespace(
            `${name}-agents`,
            {
                metadata: {
                    name: cfg.namespaces.agents,
                    labels: { ...nsLabels, ...podSecurityLabels("privileged") },
                },
            },
            { parent: this },
        );

        const denyLabels = standardLabels({ name: "network-policy", instance: name, component: "security" });
        defaultDenyIngress(`${name}-monitoring-default-deny`, monitoring.metadata.name, denyLabels, { parent: this });
        defaultDenyIngress(`${name}-agents-default-deny`, agents.metadata.name, denyLabels, { parent: this });

        // Every pod template names this class (the kit's securePodSpec): declare it before them.
        const priorityClass = monitoringPriorityClass(
            `${name}-priority`,
            standardLabels({ name: "priority-class", instance: name, component: "scheduling" }),
            { parent: this },
        );

        const childOpts = { parent: this, dependsOn: [monitoring, priorityClass] };
        const ns = cfg.namespaces.monitoring;
        const grafanaUrl = cfg.ingress ? `https://${cfg.ingress.grafanaHost}` : `http://grafana.${ns}.svc:3000`;
        const prometheusName = "prometheus";
        const prometheusPods = prometheusPodLabels(prometheusName);
        const grafanaName = "grafana";
        const grafanaPodLabels = grafanaPodLabelsOf(grafanaName);

        this.alertmanager = new Alertmanager(
            "alertmanager",
            {
                namespace: ns,
                replicas: cfg.alertmanager.replicas,
                storage: cfg.alertmanager.storage,
                ...(cfg.storageClass ? { storageClass: cfg.storageClass } : {}),
                resources: cfg.alertmanager.resources,
                ...(cfg.alertmanager.image ? { image: cfg.alertmanager.image } : {}),
                receivers: cfg.receivers,
                grafanaUrl,
                clients: [{ podLabels: prometheusPods }, { podLabels: grafanaPodLabels }],
                reloaderResources: RELOADER_RESOURCES,
            },
            childOpts,
        );

        this.prometheus = new Prometheus(
            prometheusName,
            {
                namespace: ns,
                replicas: cfg.prometheus.replicas,
                retention: cfg.prometheus.retention,
                retentionSize: cfg.prometheus.retentionSize,
                storage: cfg.prometheus.storage,
                ...(cfg.storageClass ? { storageClass: cfg.storageClass } : {}),
                resources: cfg.prometheus.resources,
                ...(cfg.prometheus.image ? { image: cfg.prometheus.image } : {}),
                config: {
                    clusterName: cfg.clusterName,
                    environment: cfg.environment,
                    scrapeInterval: cfg.prometheus.scrapeInterval,
                    evaluationInterval: cfg.prometheus.evaluationInterval,
                    alertmanagers: this.alertmanager.podAddresses,
                    components: componentTargets(cfg),
                    staticJobs: cfg.prometheus.staticTargets,
                    extraJobs: stackProbeJobs(cfg),
                    alertRelabelConfigs: probeAlertRelabelConfigs(),
                    remoteWrite: cfg.prometheus.remoteWrite.map((rw) => ({
                        name: rw.name,
                        url: rw.url,
                        ...(rw.bearerToken ? { bearerTokenFile: `/etc/prometheus/secrets/${rw.name}-token` } : {}),
                    })),
                },
                remoteWriteTokens: Object.fromEntries(
                    cfg.prometheus.remoteWrite.filter((rw) => rw.bearerToken).map((rw) => [`${rw.name}-token`, rw.bearerToken!]),
                ),
                // The full rule set from the stack config: metric preset, SLOs, alerting thresholds.
                ruleFiles: stackRuleFiles(cfg),
                // The collector gateway pushes OTLP metrics to every replica's remote-write receiver.
                queryClients: [{ podLabels: grafanaPodLabels }, { podLabels: GATEWAY_POD_LABELS }],
                remoteWriteReceiver: true,
                reloaderResources: RELOADER_RESOURCES,
            },
            childOpts,
        );

        new NodeExporter(
            "node-exporter",
            {
                namespace: agents.metadata.name,
                resources: cfg.nodeExporter.resources,
                ...(cfg.nodeExporter.image ? { image: cfg.nodeExporter.image } : {}),
                prometheusNamespace: ns,
                prometheusPodLabels: prometheusPods,
            },
            { parent: this, dependsOn: [priorityClass] },
        );
        new KubeStateMetrics(
            "kube-state-metrics",
            {
                namespace: monitoring.metadata.name,
                resources: cfg.kubeStateMetrics.resources,
                ...(cfg.kubeStateMetrics.image ? { image: cfg.kubeStateMetrics.image } : {}),
                prometheusNamespace: ns,
                prometheusPodLabels: prometheusPods,
            },
            { parent: this, dependsOn: [priorityClass] },
        );

        new BlackboxExporter(
            BLACKBOX_NAME,
            {
                namespace: ns,
                replicas: cfg.probes.replicas,
                resources: cfg.probes.resources,
                ...(cfg.probes.image ? { image: cfg.probes.image } : {}),
                targets: cfg.probes.targets,
                prometheusNamespace: ns,
                prometheusPodLabels: prometheusPods,
            },
            childOpts,
        );

        this.logsAndTraces = createLogsAndTraces(this, {
            config: cfg,
            remoteWriteUrls: this.prometheus.remoteWriteUrls,
            prometheusPodLabels: prometheusPods,
            grafanaPodLabels,
            dependsOn: [monitoring, agents, priorityClass],
        });

        const es = this.logsAndTraces.elasticsearch;
        this.grafana = new Grafana(
            grafanaName,
            {
                namespace: ns,
                replicas: cfg.grafana.replicas,
                storage: cfg.grafana.storage,
                ...(cfg.storageClass ? { storageClass: cfg.storageClass } : {}),
                ...(cfg.grafana.database ? { database: cfg.grafana.database } : {}),
                resources: cfg.grafana.resources,
                ...(cfg.grafana.image ? { image: cfg.grafana.image } : {}),
                prometheusUrl: this.prometheus.url,
                alertmanagerUrl: this.alertmanager.url,
                jaegerUrl: this.logsAndTraces.jaeger.queryUrl,
                logs: es
                    ? { backend: "elasticsearch", url: this.logsAndTraces.logsUrl, credentials: es.users.grafana }
                    : { backend: "loki", url: this.logsAndTraces.logsUrl },
                metricPreset: cfg.metricPreset,
                scrapeInterval: cfg.prometheus.scrapeInterval,
                prometheusVersion: versionOf(imageFor("prometheus", cfg.prometheus.image)).replace(/^v/, ""),
                dashboards: renderDashboards(dashboardConfigOf(cfg)),
                ...(cfg.ingress ? { ingress: cfg.ingress, ingressControllerNamespace: cfg.namespaces.ingressController } : {}),
                scrapers: [{ podLabels: prometheusPods }],
            },
            childOpts,
        );

        this.monitoringNamespace = monitoring.metadata.name;
        this.agentsNamespace = agents.metadata.name;
        this.registerOutputs({
            monitoringNamespace: this.monitoringNamespace,
            agentsNamespace: this.agentsNamespace,
            prometheusUrl: this.prometheus.url,
            alertmanagerUrl: this.alertmanager.url,
            otlpGrpcEndpoint: this.logsAndTraces.gateway.otlpGrpcEndpoint,
            otlpHttpEndpoint: this.logsAndTraces.gateway.otlpHttpEndpoint,
            grafanaUrl: this.grafana.url,
        });
    }
}
