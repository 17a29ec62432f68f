/**
 * Prometheus: a StatefulSet (an HA pair in prod) with least-privilege discovery RBAC, its config
 * and rules from ConfigMaps reloaded in place by a sidecar, a Service for queries and a headless
 * Service for the per-pod DNS names.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as crypto from "crypto";
import type { Resources, StorageConfig } from "../../config";
import {
    childName, imageFor, podDisruptionBudget, secureContainer, securePodSpec, selectorLabels, spreadAcrossNodes,
    standardLabels, versionOf, workloadNetworkPolicy, IngressFlow, statefulData, STATEFUL_SET_OPTIONS,
} from "../kube";
import { RENDER_DIR_ANNOTATION } from "../kube/render";
import { configReloader } from "../kube/reloader";
import { renderPrometheusConfig, PrometheusConfigArgs, RULES_DIR } from "./config";

export const PROMETHEUS_PORT = 9090;
export const PROMETHEUS_APP = "prometheus";

/**
 * Selector labels of the pods of the Prometheus component named `instance`: other components
 * admit them in their NetworkPolicies before the Prometheus component itself exists.
 */
export function prometheusPodLabels(instance: string): Record<string, string> {
    return selectorLabels({ name: PROMETHEUS_APP, instance });
}

export interface PrometheusArgs {
    /** Namespace to run in (the monitoring namespace). */
    readonly namespace: pulumi.Input<string>;
    /** @default 1 */
    readonly replicas?: number;
    /** Sample retention, e.g. `15d`. */
    readonly retention: string;
    /** TSDB size cap, e.g. `45GB`; keep it below the volume size. */
    readonly retentionSize: string;
    /** A PersistentVolumeClaim per replica when enabled; an emptyDir otherwise. */
    readonly storage: StorageConfig;
    /** StorageClass of the claims; undefined uses the cluster default. */
    readonly storageClass?: string;
    readonly resources: Resources;
    /** Image override; the pinned default otherwise. */
    readonly image?: string;
    /** Everything prometheus.yml is generated from, except the replica label (set from `replicas`). */
    readonly config: Omit<PrometheusConfigArgs, "replicaExternalLabel" | "retention">;
    /** Rule files: file name (`*.yml`) → content. */
    readonly ruleFiles: Readonly<Record<string, string>>;
    /** Who may query Prometheus on 9090 besides itself (Grafana, ...). */
    readonly queryClients?: IngressFlow["from"];
    /** Bearer tokens of remote-write targets: file name → secret value. */
    readonly remoteWriteTokens?: Readonly<Record<string, pulumi.Input<string>>>;
    /** Resources of the config-reloader sidecar. */
    readonly reloaderResources: Resources;
    /**
     * Accept pushed samples on /api/v1/write (`--web.enable-remote-write-receiver`): the
     * OpenTelemetry Collector gateway writes OTLP metrics there, to every replica (see
     * {@link Prometheus.remoteWriteUrls} and components/otel-collector/config.ts). The writers
     * must also be in {@link queryClients}, which admits them to port 9090.
     * @default false
     */
    readonly remoteWriteReceiver?: boolean;
}

/** Discovery needs to read these, cluster-wide, and nothing else (CONVENTIONS: least privilege). */
export const PROMETHEUS_RBAC_RULES: k8s.types.input.rbac.v1.PolicyRule[] = [
    { apiGroups: [""], resources: ["nodes", "nodes/metrics", "services", "endpoints", "pods"], verbs: ["get", "list", "watch"] },
    { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["get", "list", "watch"] },
    { nonResourceURLs: ["/metrics"], verbs: ["get"] },
];

export class Prometheus extends pulumi.ComponentResource {
    /** In-cluster query URL, e.g. `http://prometheus.monitoring.svc:9090`. */
    public readonly url: pulumi.Output<string>;
    public readonly serviceName: pulumi.Output<string>;
    /** Selector labels of the Prometheus pods (for other components' NetworkPolicies). */
    public readonly podLabels: Record<string, string>;
    /** Remote-write URL of each replica by its stable per-pod DNS name (`.../api/v1/write`). */
    public readonly remoteWriteUrls: pulumi.Output<string>[];

    constructor(name: string, args: PrometheusArgs, opts?: pulumi.ComponentResourceOptions) {
        super("observability:index:Prometheus", name, {}, opts);
        const replicas = args.replicas ?? 1;
        if (!Number.isInteger(replicas) || replicas < 1) throw new Error(`prometheus.replicas ${replicas}: expected a whole number of at least 1`);
        for (const file of Object.keys(args.ruleFiles)) {
            if (!/^[A-Za-z0-9_.-]+\.yml$/.test(file)) throw new Error(`prometheus rule file "${file}": expected a file name ending in .yml`);
        }
        const image = imageFor("prometheus", args.image);
        const ids = { name: PROMETHEUS_APP, instance: name, component: "metrics", version: versionOf(image) };
        const labels = standardLabels(ids);
        const podLabels = prometheusPodLabels(name);
        const ns = args.namespace;
        const childOpts = { parent: this };

        const sa = new k8s.core.v1.ServiceAccount(childName(name), { metadata: { name: childName(name), namespace: ns, labels } }, childOpts);
        const role = new k8s.rbac.v1.ClusterRole(
            childName(name, "discovery"),
            { metadata: { name: childName(name, "discovery"), labels }, rules: PROMETHEUS_RBAC_RULES },
            childOpts,
        );
        new k8s.rbac.v1.ClusterRoleBinding(
            childName(name, "discovery"),
            {
                metadata: { name: childName(name, "discovery"), labels },
                roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role.metadata.name },
                subjects: [{ kind: "ServiceAccount", name: sa.metadata.name, namespace: ns }],
            },
            childOpts,
        );

        const configText = renderPrometheusConfig({
            ...args.config,
            replicaExternalLabel: replicas > 1,
            retention: { time: args.retention, size: args.retentionSize },
        });
        const configMap = new k8s.core.v1.ConfigMap(
            childName(name, "config"),
            { metadata: { name: childName(name, "config"), namespace: ns, labels, annotations: { [RENDER_DIR_ANNOTATION]: "prometheus" } }, data: { "prometheus.yml": configText } },
            childOpts,
        );
        const rulesMap = new k8s.core.v1.ConfigMap(
            childName(name, "rules"),
            { metadata: { name: childName(name, "rules"), namespace: ns, labels, annotations: { [RENDER_DIR_ANNOTATION]: "prometheus/rules" } }, data: { ...args.ruleFiles } },
            childOpts,
        );
        const tokens = args.remoteWriteTokens ?? {};
        const tokenSecret = Object.keys(tokens).length
            ? new k8s.core.v1.Secret(
                  childName(name, "remote-write"),
                  { metadata: { name: childName(name, "remote-write"), namespace: ns, labels }, type: "Opaque", stringData: { ...tokens } },
                  childOpts,
              )
            : undefined;

        const headless = new k8s.core.v1.Service(
            childName(name, "headless"),
            {
                metadata: { name: childName(name, "headless"), namespace: ns, labels },
                spec: { clusterIP: "None", selector: podLabels, ports: [{ name: "web", port: PROMETHEUS_PORT, targetPort: "web" }], publishNotReadyAddresses: true },
            },
            childOpts,
        );
        const service = new k8s.core.v1.Service(
            childName(name),
            {
                metadata: { name: childName(name), namespace: ns, labels },
                spec: { selector: podLabels, ports: [{ name: "web", port: PROMETHEUS_PORT, targetPort: "web" }], sessionAffinity: "ClientIP" },
            },
            childOpts,
        );

        const checksum = crypto.createHash("sha256").update(configText).update(JSON.stringify(args.ruleFiles)).digest("hex");
        const dataVolume = "data";
        const prom = secureContainer({
            name: "prometheus",
            image,
            // Prometheus 3: retention is in prometheus.yml (the flags are deprecated), external
            // labels expand ${POD_NAME} by default (the expand-external-labels feature is gone),
            // and the image ships no console templates for --web.console.* to point at.
            args: [
                "--config.file=/etc/prometheus/config/prometheus.yml",
                "--storage.tsdb.path=/prometheus",
                "--web.enable-lifecycle",
                ...(args.remoteWriteReceiver ? ["--web.enable-remote-write-receiver"] : []),
            ],
            env: [{ name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }],
            ports: [{ name: "web", containerPort: PROMETHEUS_PORT }],
            resources: args.resources,
            livenessProbe: { httpGet: { path: "/-/healthy", port: "web" }, periodSeconds: 15, timeoutSeconds: 5, failureThreshold: 6 },
            readinessProbe: { httpGet: { path: "/-/ready", port: "web" }, periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 3 },
            // WAL replay after a restart of a large TSDB takes minutes: don't kill it meanwhile.
            startupProbe: { httpGet: { path: "/-/ready", port: "web" }, periodSeconds: 10, failureThreshold: 60 },
            volumeMounts: [
                { name: "config", mountPath: "/etc/prometheus/config", readOnly: true },
                { name: "rules", mountPath: RULES_DIR, readOnly: true },
                { name: dataVolume, mountPath: "/prometheus" },
                ...(tokenSecret ? [{ name: "remote-write", mountPath: "/etc/prometheus/secrets", readOnly: true }] : []),
            ],
        });
        const reloader = configReloader({
            image: imageFor("configReloader"),
            resources: args.reloaderResources,
            reloadUrl: `http://127.0.0.1:${PROMETHEUS_PORT}/-/reload`,
            watchedDirs: [
                { volume: "config", path: "/etc/prometheus/config" },
                { volume: "rules", path: RULES_DIR },
            ],
        });

        const storage = args.storage;
        const data = statefulData({ storage, podLabels, volumeName: dataVolume, emptyDirSizeLimit: "2Gi", ...(args.storageClass ? { storageClass: args.storageClass } : {}) });
        const statefulSet = new k8s.apps.v1.StatefulSet(
            childName(name),
            {
                metadata: { name: childName(name), namespace: ns, labels },
                spec: {
                    replicas,
                    serviceName: headless.metadata.name,
                    podManagementPolicy: "Parallel",
                    selector: { matchLabels: podLabels },
                    updateStrategy: { type: "RollingUpdate" },
                    template: {
                        metadata: {
                            labels,
                            // The sidecar reloads changed config in place; the checksum records
                            // which config a pod template was declared with, for reviewers.
                            annotations: { "observability.pulumi.com/config-checksum": checksum },
                        },
                        spec: securePodSpec({
                            serviceAccountName: sa.metadata.name,
                            talksToApiServer: true,
                            terminationGracePeriodSeconds: 600,
                            ...(replicas > 1 ? spreadAcrossNodes(podLabels) : {}),
                            containers: [prom, reloader],
                            volumes: [
                                { name: "config", configMap: { name: configMap.metadata.name } },
                                { name: "rules", configMap: { name: rulesMap.metadata.name } },
                                ...(tokenSecret ? [{ name: "remote-write", secret: { secretName: tokenSecret.metadata.name, defaultMode: 0o440 } }] : []),
                                ...data.volumes,
                            ],
                        }),
                    },
                    ...data.claims,
                },
            },
            // volumeClaimTemplates are immutable: a change must replace the StatefulSet (the
            // claims themselves are retained by the retention policy above).
            { ...childOpts, ...STATEFUL_SET_OPTIONS },
        );

        podDisruptionBudget(childName(name), { namespace: ns, podLabels, labels, replicas }, childOpts);
        workloadNetworkPolicy(
            childName(name),
            {
                namespace: ns,
                podLabels,
                labels,
                ingress: [
                    { description: "Prometheus replicas and query clients → 9090", from: [{ podLabels }, ...(args.queryClients ?? [])], ports: [{ port: PROMETHEUS_PORT }] },
                ],
            },
            childOpts,
        );

        this.podLabels = podLabels;
        this.remoteWriteUrls = Array.from(
            { length: replicas },
            // From the fixed names, not the resources' outputs: while a StatefulSet replacement
            // (a new volume size) is previewed its name is unknown, and the collector config that
            // holds these URLs, and the gateway Deployment with it, would be replaced too.
            (_, i) => pulumi.interpolate`http://${childName(name)}-${i}.${childName(name, "headless")}.${ns}.svc:${PROMETHEUS_PORT}/api/v1/write`,
        );
        this.serviceName = service.metadata.name;
        this.url = pulumi.interpolate`http://${service.metadata.name}.${ns}.svc:${PROMETHEUS_PORT}`;
        this.registerOutputs({ url: this.url, serviceName: this.serviceName, statefulSet: statefulSet.metadata.name });
    }
}
