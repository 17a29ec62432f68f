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
import { defaultDenyIngress, standardLabels, PART_OF, MANAGED_BY } from "./kube";
import type { Resources } from "../config";
import { Prometheus, prometheusPodLabels } from "./prometheus";
import { Alertmanager } from "./alertmanager";
import { KubeStateMetrics, NodeExporter } from "./exporters";
import type { ComponentTarget } from "./prometheus/config";
import { renderRuleFiles, selfMonitoringGroups } from "../alerts";

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
    ];
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

    constructor(name: string, args: ObservabilityStackArgs, opts?: pulumi.ComponentResourceOptions) {
        super("observability:index:ObservabilityStack", name, {}, opts);
        const cfg = args.config;
        const nsLabels = {
            "app.kubernetes.io/part-of": PART_OF,
            "app.kubernetes.io/managed-by": MANAGED_BY,
            "observability.pulumi.com/environment": cfg.environment,
        };

        const monitoring = new k8s.core.v1.Namespace(
            `${name}-monitoring`,
            {
                metadata: {
                    name: cfg.namespaces.monitoring,
                    labels: { ...nsLabels, ...podSecurityLabels("restricted") },
                },
            },
            { parent: this },
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

        const childOpts = { parent: this, dependsOn: [monitoring] };
        const ns = cfg.namespaces.monitoring;
        const grafanaUrl = cfg.ingress ? `https://${cfg.ingress.grafanaHost}` : `http://grafana.${ns}.svc:3000`;
        const prometheusName = "prometheus";
        const prometheusPods = prometheusPodLabels(prometheusName);
        const grafanaPodLabels = { "app.kubernetes.io/name": "grafana" };

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
                    remoteWrite: cfg.prometheus.remoteWrite.map((rw) => ({
                        name: rw.name,
                        url: rw.url,
                        ...(rw.bearerToken ? { bearerTokenFile: `/etc/prometheus/secrets/${rw.name}-token` } : {}),
                    })),
                },
                remoteWriteTokens: Object.fromEntries(
                    cfg.prometheus.remoteWrite.filter((rw) => rw.bearerToken).map((rw) => [`${rw.name}-token`, rw.bearerToken!]),
                ),
                ruleFiles: renderRuleFiles(selfMonitoringGroups(), { runbookBaseUrl: cfg.runbookBaseUrl }),
                queryClients: [{ podLabels: grafanaPodLabels }],
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
            { parent: this },
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
            { parent: this },
        );

        this.monitoringNamespace = monitoring.metadata.name;
        this.agentsNamespace = agents.metadata.name;
        this.registerOutputs({
            monitoringNamespace: this.monitoringNamespace,
            agentsNamespace: this.agentsNamespace,
            prometheusUrl: this.prometheus.url,
            alertmanagerUrl: this.alertmanager.url,
        });
    }
}
