/**
 * KubeStateMetrics: one kube-state-metrics pod turning the API server's object state (pods,
 * deployments, nodes, ...) into metrics, with read-only RBAC limited to the collectors it runs.
 *
 * The `--resources` flag and the ClusterRole are generated from the same collector list, so the
 * exporter never lists what it may not read and RBAC never grants what it does not use. Secrets
 * are never collected: listing them returns their values, and kube-state-metrics' secret metrics
 * (metadata only) are not worth holding every secret of the cluster.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { childName, imageFor, secureContainer, securePodSpec, selectorLabels, standardLabels, versionOf, workloadNetworkPolicy } from "../kube";
import { validateExporterArgs, type ExporterArgs } from "./node-exporter";

/**
 * The API group of every collector kube-state-metrics v2.20 can run that this component offers
 * (core group is `""`).
 * `secrets` is deliberately absent, so it cannot be selected.
 */
export const KSM_COLLECTOR_API_GROUPS = {
    certificatesigningrequests: "certificates.k8s.io",
    configmaps: "",
    cronjobs: "batch",
    daemonsets: "apps",
    deployments: "apps",
    endpoints: "",
    endpointslices: "discovery.k8s.io",
    horizontalpodautoscalers: "autoscaling",
    ingresses: "networking.k8s.io",
    jobs: "batch",
    leases: "coordination.k8s.io",
    limitranges: "",
    mutatingwebhookconfigurations: "admissionregistration.k8s.io",
    namespaces: "",
    networkpolicies: "networking.k8s.io",
    nodes: "",
    persistentvolumeclaims: "",
    persistentvolumes: "",
    poddisruptionbudgets: "policy",
    pods: "",
    replicasets: "apps",
    replicationcontrollers: "",
    resourcequotas: "",
    services: "",
    statefulsets: "apps",
    storageclasses: "storage.k8s.io",
    validatingwebhookconfigurations: "admissionregistration.k8s.io",
    volumeattachments: "storage.k8s.io",
} as const;

/** A kube-state-metrics collector (a `--resources` entry) this component can grant and run. */
export type KsmCollector = keyof typeof KSM_COLLECTOR_API_GROUPS;

/**
 * kube-state-metrics v2.20's default collectors minus `secrets` and `configmaps` (listing either
 * returns the objects' data, not just the metadata the metrics use, and nothing in the stack's
 * dashboards or alerts reads kube_secret_* or kube_configmap_*) and minus the admission policy
 * collectors v2.20 added (nothing reads them). `endpointslices` replaced the deprecated
 * `endpoints` among the defaults in v2.18 (Kubernetes deprecated v1 Endpoints in 1.33).
 */
export const DEFAULT_KSM_COLLECTORS: readonly KsmCollector[] = [
    "certificatesigningrequests",
    "cronjobs",
    "daemonsets",
    "deployments",
    "endpointslices",
    "horizontalpodautoscalers",
    "ingresses",
    "jobs",
    "leases",
    "limitranges",
    "mutatingwebhookconfigurations",
    "namespaces",
    "networkpolicies",
    "nodes",
    "persistentvolumeclaims",
    "persistentvolumes",
    "poddisruptionbudgets",
    "pods",
    "replicasets",
    "replicationcontrollers",
    "resourcequotas",
    "services",
    "statefulsets",
    "storageclasses",
    "validatingwebhookconfigurations",
    "volumeattachments",
];

/** Arguments of {@link KubeStateMetrics}. */
export interface KubeStateMetricsArgs extends ExporterArgs {
    /** The monitoring namespace (Pod Security `restricted`). */
    readonly namespace: pulumi.Input<string>;
    /**
     * Collectors to run; the ClusterRole grants list/watch on exactly these. Never `secrets`.
     * @default DEFAULT_KSM_COLLECTORS (v2.20's defaults without secrets, configmaps and admission policies: least privilege)
     */
    readonly collectors?: readonly KsmCollector[];
}

/** Value of the pods' `app.kubernetes.io/name`: Prometheus' kube-state-metrics job keeps pods by it. */
export const KSM_APP = "kube-state-metrics";
/** Port of the object-state metrics. */
export const KSM_METRICS_PORT = 8080;
/** Name of the object-state metrics container port. */
export const KSM_METRICS_PORT_NAME = "http-metrics";
/** Port of kube-state-metrics' own metrics (list/watch errors, scrape durations). */
export const KSM_TELEMETRY_PORT = 8081;
/** Name of the self-telemetry container port. */
export const KSM_TELEMETRY_PORT_NAME = "telemetry";

/** ClusterRole rules granting list and watch (all a reflector needs) on `collectors`, grouped by API group. */
export function ksmClusterRoleRules(collectors: readonly KsmCollector[]): k8s.types.input.rbac.v1.PolicyRule[] {
    const byGroup = new Map<string, string[]>();
    for (const c of collectors) {
        const group = KSM_COLLECTOR_API_GROUPS[c];
        byGroup.set(group, [...(byGroup.get(group) ?? []), c]);
    }
    return [...byGroup.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([group, resources]) => ({ apiGroups: [group], resources: [...resources].sort(), verbs: ["list", "watch"] }));
}

function validateCollectors(collectors: readonly string[]): void {
    if (collectors.length === 0) {
        throw new Error(`kubeStateMetrics.collectors []: expected at least one collector (e.g. pods, deployments, nodes)`);
    }
    const seen = new Set<string>();
    for (const c of collectors) {
        if (c === "secrets") {
            throw new Error(`kubeStateMetrics.collectors "secrets": not allowed, listing secrets would give kube-state-metrics every secret value in the cluster`);
        }
        if (!Object.hasOwn(KSM_COLLECTOR_API_GROUPS, c)) {
            throw new Error(`kubeStateMetrics.collectors ${JSON.stringify(c)}: expected one of ${Object.keys(KSM_COLLECTOR_API_GROUPS).join(", ")}`);
        }
        if (seen.has(c)) throw new Error(`kubeStateMetrics.collectors ${JSON.stringify(c)}: listed twice`);
        seen.add(c);
    }
}

/**
 * kube-state-metrics as a single-replica Deployment with its ServiceAccount, a read-only
 * ClusterRole and its binding, a ClusterIP Service with both ports, and a NetworkPolicy admitting
 * only Prometheus.
 */
export class KubeStateMetrics extends pulumi.ComponentResource {
    /** Name of the Service in front of the pod. */
    public readonly serviceName: pulumi.Output<string>;
    /** Namespace the pod runs in. */
    public readonly namespace: pulumi.Output<string>;
    /** Port of the object-state metrics. */
    public readonly port: number;
    /** Port of kube-state-metrics' own metrics. */
    public readonly telemetryPort: number;
    /** Value of `app.kubernetes.io/name` on the pod, for Prometheus' scrape job. */
    public readonly appName: string;
    /** Name of the object-state metrics container port, for Prometheus' scrape job. */
    public readonly portName: string;

    constructor(name: string, args: KubeStateMetricsArgs, opts?: pulumi.ComponentResourceOptions) {
        validateExporterArgs("kubeStateMetrics", args);
        const collectors = args.collectors ?? DEFAULT_KSM_COLLECTORS;
        validateCollectors(collectors);
        const resourceName = childName(name);
        super("observability:index:KubeStateMetrics", name, {}, opts);

        const image = imageFor("kubeStateMetrics", args.image);
        const namespace = args.namespace;
        const ids = { name: KSM_APP, instance: name };
        const labels = standardLabels({ ...ids, component: "exporter", version: versionOf(image) });
        const podLabels = selectorLabels(ids);

        const serviceAccount = new k8s.core.v1.ServiceAccount(
            resourceName,
            {
                metadata: { name: resourceName, namespace, labels },
                // Off at the account: only the pod spec below, which needs the API, mounts the token.
                automountServiceAccountToken: false,
            },
            { parent: this },
        );

        const clusterRole = new k8s.rbac.v1.ClusterRole(
            resourceName,
            { metadata: { name: resourceName, labels }, rules: ksmClusterRoleRules(collectors) },
            { parent: this },
        );

        new k8s.rbac.v1.ClusterRoleBinding(
            resourceName,
            {
                metadata: { name: resourceName, labels },
                roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: clusterRole.metadata.name },
                subjects: [{ kind: "ServiceAccount", name: serviceAccount.metadata.name, namespace }],
            },
            { parent: this },
        );

        const container = secureContainer({
            name: KSM_APP,
            image,
            resources: args.resources,
            args: [`--port=${KSM_METRICS_PORT}`, `--telemetry-port=${KSM_TELEMETRY_PORT}`, `--resources=${collectors.join(",")}`],
            ports: [
                { name: KSM_METRICS_PORT_NAME, containerPort: KSM_METRICS_PORT, protocol: "TCP" },
                { name: KSM_TELEMETRY_PORT_NAME, containerPort: KSM_TELEMETRY_PORT, protocol: "TCP" },
            ],
            livenessProbe: { httpGet: { path: "/livez", port: KSM_METRICS_PORT_NAME }, initialDelaySeconds: 5, timeoutSeconds: 5 },
            readinessProbe: { httpGet: { path: "/readyz", port: KSM_TELEMETRY_PORT_NAME }, initialDelaySeconds: 5, timeoutSeconds: 5 },
        });

        new k8s.apps.v1.Deployment(
            resourceName,
            {
                metadata: { name: resourceName, namespace, labels },
                spec: {
                    replicas: 1,
                    selector: { matchLabels: podLabels },
                    template: {
                        metadata: { labels },
                        spec: securePodSpec({
                            serviceAccountName: serviceAccount.metadata.name,
                            // kube-state-metrics lists and watches the API: its token is mounted.
                            talksToApiServer: true,
                            containers: [container],
                            nodeSelector: { "kubernetes.io/os": "linux" },
                        }),
                    },
                },
            },
            { parent: this },
        );

        const service = new k8s.core.v1.Service(
            resourceName,
            {
                metadata: { name: resourceName, namespace, labels },
                spec: {
                    type: "ClusterIP",
                    selector: podLabels,
                    ports: [
                        { name: KSM_METRICS_PORT_NAME, port: KSM_METRICS_PORT, targetPort: KSM_METRICS_PORT_NAME, protocol: "TCP" },
                        { name: KSM_TELEMETRY_PORT_NAME, port: KSM_TELEMETRY_PORT, targetPort: KSM_TELEMETRY_PORT_NAME, protocol: "TCP" },
                    ],
                },
            },
            { parent: this },
        );

        workloadNetworkPolicy(
            resourceName,
            {
                namespace,
                podLabels,
                labels,
                ingress: [
                    {
                        description: `prometheus scrapes kube-state-metrics on ${KSM_METRICS_PORT} and ${KSM_TELEMETRY_PORT}`,
                        from: [{ namespace: args.prometheusNamespace, podLabels: { ...args.prometheusPodLabels } }],
                        ports: [{ port: KSM_METRICS_PORT }, { port: KSM_TELEMETRY_PORT }],
                    },
                ],
            },
            { parent: this },
        );

        this.serviceName = service.metadata.name;
        this.namespace = pulumi.output(namespace);
        this.port = KSM_METRICS_PORT;
        this.telemetryPort = KSM_TELEMETRY_PORT;
        this.appName = KSM_APP;
        this.portName = KSM_METRICS_PORT_NAME;
        this.registerOutputs({
            serviceName: this.serviceName,
            namespace: this.namespace,
            port: this.port,
            telemetryPort: this.telemetryPort,
            appName: this.appName,
            portName: this.portName,
        });
    }
}
