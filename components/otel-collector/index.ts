/**
 * The OpenTelemetry Collector (contrib distribution, pinned): a per-node agent DaemonSet and an
 * OTLP gateway Deployment. Their configs come from the pure generators in ./config.ts; these
 * components wrap them into ConfigMaps, workloads, Services, RBAC and NetworkPolicies.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as crypto from "crypto";
import type { Resources } from "../../config";
import { parseQuantity } from "../../config/resolve";
import {
    childName, exceptionAnnotations, imageFor, IngressFlow, podDisruptionBudget, RENDER_DIR_ANNOTATION, secureContainer,
    securePodSpec, selectorLabels, spreadAcrossNodes, standardLabels, versionOf, workloadNetworkPolicy, type SecurityExceptions,
} from "../kube";
import {
    agentConfig, AgentConfigArgs, CHECKPOINT_DIR, COLLECTOR_METRICS_PORT, ELASTICSEARCH_PASSWORD_ENV, gatewayConfig, GatewayConfigArgs,
    GatewayLogsTarget, HEALTH_PORT, LOADBALANCED_OTLP_PORT, NODE_NAME_ENV, OTLP_GRPC_PORT, OTLP_HTTP_PORT, POD_LOGS_DIR,
    renderCollectorConfig, TailSamplingArgs,
} from "./config";

export * from "./config";

/** `app.kubernetes.io/name` of the agent pods (Prometheus' otel-collector-agent job keeps them). */
export const AGENT_APP = "otel-collector-agent";
/** `app.kubernetes.io/name` of the gateway pods (Prometheus' otel-collector-gateway job keeps them). */
export const GATEWAY_APP = "otel-collector-gateway";
/** Name of the container port serving the collector's own metrics. */
export const METRICS_PORT_NAME = "metrics";
/** UID of the contrib image's user. */
const COLLECTOR_UID = 10001;
const CONFIG_DIR = "/etc/otelcol";

/** Arguments both collector components share. */
interface CollectorArgsBase {
    /** Namespace to run in; a plain string because in-cluster addresses are built from it. */
    readonly namespace: string;
    readonly resources: Resources;
    /** Image override; the pinned contrib image otherwise. */
    readonly image?: string;
    /** `k8s.cluster.name` on every signal. */
    readonly clusterName: string;
    /** `deployment.environment` on every signal. */
    readonly environment: string;
    /** Namespace and pod labels of Prometheus, admitted to the metrics port. */
    readonly prometheus: { readonly namespace: string; readonly podLabels: Record<string, string> };
    /**
     * Labels of the application namespaces admitted to the OTLP ports; `{}` admits every
     * namespace. @default {}
     */
    readonly applicationNamespaceLabels?: Record<string, string>;
}

export interface OtelCollectorGatewayArgs extends CollectorArgsBase {
    /** @default 1. More than one turns on trace-id routing between the replicas. */
    readonly replicas?: number;
    /** `host:port` of Jaeger's OTLP gRPC receiver (from the Jaeger component). */
    readonly jaegerOtlpEndpoint: pulumi.Input<string>;
    /** Remote-write URLs of every Prometheus replica (from the Prometheus component). */
    readonly remoteWriteUrls: pulumi.Input<pulumi.Input<string>[]>;
    /** Log backend target (from the Loki or Elasticsearch component). */
    readonly logs: pulumi.Input<GatewayLogsTarget>;
    /** Password of the Elasticsearch ingest user, when logs go to Elasticsearch. */
    readonly elasticsearchPassword?: pulumi.Input<string>;
    readonly sampling: TailSamplingArgs;
    /** Namespace and pod labels of the agents, admitted to the OTLP and routing ports. */
    readonly agents: { readonly namespace: string; readonly podLabels: Record<string, string> };
}

/** `GOMEMLIMIT` at 80% of the memory limit: Go's GC works harder before the kernel kills the pod. */
export function goMemLimit(r: Resources): string {
    return `${Math.floor((parseQuantity(r.limits.memory) * 0.8) / 1024 ** 2)}MiB`;
}

function checksum(text: string): string {
    return crypto.createHash("sha256").update(text).digest("hex");
}

function collectorProbes() {
    const probe = { httpGet: { path: "/", port: "health" }, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 };
    return { livenessProbe: probe, readinessProbe: probe };
}

function validateBase(kind: string, a: CollectorArgsBase): void {
    if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(a.namespace ?? "")) throw new Error(`${kind}.namespace ${JSON.stringify(a.namespace)}: expected a namespace name`);
    for (const kind2 of ["cpu", "memory"] as const) {
        if (!(parseQuantity(a.resources.limits[kind2]) >= parseQuantity(a.resources.requests[kind2]))) {
            throw new Error(`${kind}.resources.limits.${kind2} ${JSON.stringify(a.resources.limits[kind2])}: expected at least the request (${a.resources.requests[kind2]})`);
        }
    }
}

/** Read-only discovery the k8s_attributes processor (and the agent's k8snode detector) needs. */
function collectorRbacRules(nodes: boolean): k8s.types.input.rbac.v1.PolicyRule[] {
    return [
        { apiGroups: [""], resources: ["pods", "namespaces", ...(nodes ? ["nodes"] : [])], verbs: ["get", "list", "watch"] },
        // The owning Deployment's name is read from the pod's ReplicaSet.
        { apiGroups: ["apps"], resources: ["replicasets"], verbs: ["get", "list", "watch"] },
    ];
}

function rbac(parent: pulumi.Resource, name: string, namespace: string, labels: Record<string, string>, rules: k8s.types.input.rbac.v1.PolicyRule[]): k8s.core.v1.ServiceAccount {
    const opts = { parent };
    const sa = new k8s.core.v1.ServiceAccount(childName(name), { metadata: { name: childName(name), namespace, labels } }, opts);
    const role = new k8s.rbac.v1.ClusterRole(childName(name), { metadata: { name: childName(name), labels }, rules }, opts);
    new k8s.rbac.v1.ClusterRoleBinding(
        childName(name),
        {
            metadata: { name: childName(name), labels },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role.metadata.name },
            subjects: [{ kind: "ServiceAccount", name: sa.metadata.name, namespace }],
        },
        opts,
    );
    return sa;
}

/**
 * The OTLP gateway: receives OTLP from applications and agents, enriches, masks, filters and
 * (tail-)samples, and exports traces to Jaeger, metrics to Prometheus and logs to the log backend.
 */
export class OtelCollectorGateway extends pulumi.ComponentResource {
    /** `host:port` of the OTLP gRPC endpoint applications send to. */
    public readonly otlpGrpcEndpoint: string;
    /** URL of the OTLP HTTP endpoint applications send to. */
    public readonly otlpHttpEndpoint: string;
    /** DNS name of the headless Service trace-id routing resolves (set with more than one replica). */
    public readonly headlessHost?: string;
    /** Selector labels of the gateway pods. */
    public readonly podLabels: Record<string, string>;
    /** The generated config (YAML), for inspection. */
    public readonly configText: pulumi.Output<string>;

    constructor(name: string, args: OtelCollectorGatewayArgs, opts?: pulumi.ComponentResourceOptions) {
        super("observability:index:OtelCollectorGateway", name, {}, opts);
        validateBase("collector.gateway", args);
        const replicas = args.replicas ?? 1;
        if (!Number.isInteger(replicas) || replicas < 1) throw new Error(`collector.gateway.replicas ${replicas}: expected a whole number of at least 1`);
        if (!(args.sampling.ratio >= 0 && args.sampling.ratio <= 1)) throw new Error(`tracing.samplingRatio ${args.sampling.ratio}: expected a ratio from 0 to 1`);
        const ns = args.namespace;
        const image = imageFor("otelCollector", args.image);
        const ids = { name: GATEWAY_APP, instance: name };
        const labels = standardLabels({ ...ids, component: "telemetry-gateway", version: versionOf(image) });
        const podLabels = selectorLabels(ids);
        const childOpts = { parent: this };
        const routed = replicas > 1;
        const headlessName = childName(name, "headless");
        const headlessHost = routed ? `${headlessName}.${ns}.svc.cluster.local` : undefined;

        const sa = rbac(this, name, ns, labels, collectorRbacRules(false));

        this.configText = pulumi
            .all([args.jaegerOtlpEndpoint, args.remoteWriteUrls, args.logs])
            .apply(([jaeger, urls, logs]) => {
                const cfg: GatewayConfigArgs = {
                    clusterName: args.clusterName,
                    environment: args.environment,
                    selfServiceName: GATEWAY_APP,
                    replicas,
                    headlessHost: headlessHost ?? "",
                    jaegerOtlpEndpoint: jaeger,
                    metrics: { remoteWriteUrls: urls },
                    logs: logs as GatewayLogsTarget,
                    sampling: args.sampling,
                };
                return renderCollectorConfig(gatewayConfig(cfg));
            });
        const configMap = new k8s.core.v1.ConfigMap(
            childName(name, "config"),
            {
                metadata: { name: childName(name, "config"), namespace: ns, labels, annotations: { [RENDER_DIR_ANNOTATION]: "otel-collector" } },
                data: { "gateway.yaml": this.configText },
            },
            childOpts,
        );
        const usesElasticsearch = args.elasticsearchPassword !== undefined;
        const secret = usesElasticsearch
            ? new k8s.core.v1.Secret(
                  childName(name, "elasticsearch"),
                  { metadata: { name: childName(name, "elasticsearch"), namespace: ns, labels }, type: "Opaque", stringData: { password: args.elasticsearchPassword! } },
                  childOpts,
              )
            : undefined;

        const container = secureContainer({
            name: "otel-collector",
            image,
            args: [`--config=${CONFIG_DIR}/gateway.yaml`],
            env: [
                { name: "GOMEMLIMIT", value: goMemLimit(args.resources) },
                ...(secret ? [{ name: ELASTICSEARCH_PASSWORD_ENV, valueFrom: { secretKeyRef: { name: secret.metadata.name, key: "password" } } }] : []),
            ],
            ports: [
                { name: "otlp-grpc", containerPort: OTLP_GRPC_PORT },
                { name: "otlp-http", containerPort: OTLP_HTTP_PORT },
                ...(routed ? [{ name: "otlp-routed", containerPort: LOADBALANCED_OTLP_PORT }] : []),
                { name: METRICS_PORT_NAME, containerPort: COLLECTOR_METRICS_PORT },
                { name: "health", containerPort: HEALTH_PORT },
            ],
            resources: args.resources,
            ...collectorProbes(),
            volumeMounts: [{ name: "config", mountPath: CONFIG_DIR, readOnly: true }],
        });
        new k8s.apps.v1.Deployment(
            childName(name),
            {
                metadata: { name: childName(name), namespace: ns, labels },
                spec: {
                    replicas,
                    selector: { matchLabels: podLabels },
                    strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
                    template: {
                        metadata: {
                            labels,
                            // The collector does not reload its config: a changed checksum rolls the pods.
                            annotations: { "observability.pulumi.com/config-checksum": this.configText.apply(checksum) },
                        },
                        spec: securePodSpec({
                            serviceAccountName: sa.metadata.name,
                            talksToApiServer: true,
                            uid: COLLECTOR_UID,
                            terminationGracePeriodSeconds: 30,
                            ...(replicas > 1 ? spreadAcrossNodes(podLabels) : {}),
                            containers: [container],
                            volumes: [{ name: "config", configMap: { name: configMap.metadata.name } }],
                        }),
                    },
                },
            },
            childOpts,
        );
        const service = new k8s.core.v1.Service(
            childName(name),
            {
                metadata: { name: childName(name), namespace: ns, labels },
                spec: {
                    selector: podLabels,
                    ports: [
                        { name: "otlp-grpc", port: OTLP_GRPC_PORT, targetPort: "otlp-grpc", appProtocol: "grpc" },
                        { name: "otlp-http", port: OTLP_HTTP_PORT, targetPort: "otlp-http" },
                    ],
                },
            },
            childOpts,
        );
        if (routed) {
            new k8s.core.v1.Service(
                headlessName,
                {
                    metadata: { name: headlessName, namespace: ns, labels },
                    // One A record per ready pod: the loadbalancing exporter's ring.
                    spec: { clusterIP: "None", selector: podLabels, ports: [{ name: "otlp-routed", port: LOADBALANCED_OTLP_PORT, targetPort: "otlp-routed" }] },
                },
                childOpts,
            );
        }
        podDisruptionBudget(childName(name), { namespace: ns, podLabels, labels, replicas }, childOpts);
        const apps = args.applicationNamespaceLabels ?? {};
        const flows: IngressFlow[] = [
            // Applications push OTLP; the gateway is their entry point. The agents forward to it
            // whichever namespaces the application selector admits.
            {
                description: `applications (namespaces ${Object.keys(apps).length ? JSON.stringify(apps) : "any"}) and the agents → OTLP 4317/4318`,
                from: [{ namespaceLabels: { ...apps } }, { namespace: args.agents.namespace, podLabels: args.agents.podLabels }],
                ports: [{ port: OTLP_GRPC_PORT }, { port: OTLP_HTTP_PORT }],
            },
            { description: "prometheus scrapes the collector's metrics on 8888", from: [{ namespace: args.prometheus.namespace, podLabels: args.prometheus.podLabels }], ports: [{ port: COLLECTOR_METRICS_PORT }] },
        ];
        if (routed) {
            flows.push({
                description: "trace-id-routed spans from gateway replicas and agents → 4319",
                from: [{ podLabels }, { namespace: args.agents.namespace, podLabels: args.agents.podLabels }],
                ports: [{ port: LOADBALANCED_OTLP_PORT }],
            });
        }
        workloadNetworkPolicy(childName(name), { namespace: ns, podLabels, labels, ingress: flows }, childOpts);

        this.podLabels = podLabels;
        this.otlpGrpcEndpoint = `${childName(name)}.${ns}.svc:${OTLP_GRPC_PORT}`;
        this.otlpHttpEndpoint = `http://${childName(name)}.${ns}.svc:${OTLP_HTTP_PORT}`;
        if (headlessHost) this.headlessHost = headlessHost;
        this.registerOutputs({ otlpGrpcEndpoint: this.otlpGrpcEndpoint, otlpHttpEndpoint: this.otlpHttpEndpoint, service: service.metadata.name });
    }
}

export interface OtelCollectorAgentArgs extends CollectorArgsBase {
    /** `host:port` of the gateway's OTLP gRPC Service (from the gateway component). */
    readonly gatewayOtlpEndpoint: string;
    /** The gateway's headless Service host when it runs more than one replica. */
    readonly gatewayHeadlessHost?: string;
}

/**
 * Host access of the agent, each with its reason (recorded on the pod template). No host network,
 * host PID or host port: node-local applications reach the agent through its Service with
 * `internalTrafficPolicy: Local`, which keeps the traffic on the node.
 */
export const AGENT_HOST_ACCESS: SecurityExceptions = {
    runAsRoot:
        "the kubelet writes /var/log/pods/*/*/*.log as root with mode 0640, readable by UID 0 only; every capability stays dropped, " +
        "so this root cannot bypass file permissions, and the root filesystem stays read-only",
    hostPath:
        `${POD_LOGS_DIR} read-only (the container logs the filelog receiver tails) and /var/lib/otelcol read-write ` +
        "(filelog checkpoints, so a restarted agent resumes where it stopped instead of losing or repeating lines)",
};

/**
 * The per-node agent: tails every container's log file, receives OTLP from node-local
 * applications, adds Kubernetes metadata and forwards everything to the gateway.
 */
export class OtelCollectorAgent extends pulumi.ComponentResource {
    /** `host:port` of the agent's node-local OTLP gRPC endpoint. */
    public readonly otlpGrpcEndpoint: string;
    /** Selector labels of the agent pods. */
    public readonly podLabels: Record<string, string>;
    /** The generated config (YAML). */
    public readonly configText: string;

    constructor(name: string, args: OtelCollectorAgentArgs, opts?: pulumi.ComponentResourceOptions) {
        super("observability:index:OtelCollectorAgent", name, {}, opts);
        validateBase("collector.agent", args);
        const ns = args.namespace;
        const image = imageFor("otelCollector", args.image);
        const ids = { name: AGENT_APP, instance: name };
        const labels = standardLabels({ ...ids, component: "telemetry-agent", version: versionOf(image) });
        const podLabels = selectorLabels(ids);
        const childOpts = { parent: this };

        const cfg: AgentConfigArgs = {
            clusterName: args.clusterName,
            environment: args.environment,
            selfServiceName: AGENT_APP,
            gatewayOtlpEndpoint: args.gatewayOtlpEndpoint,
            ...(args.gatewayHeadlessHost ? { traceRouting: { headlessHost: args.gatewayHeadlessHost, port: LOADBALANCED_OTLP_PORT } } : {}),
            agentNamespace: ns,
            agentPodPrefix: childName(name),
        };
        this.configText = renderCollectorConfig(agentConfig(cfg));

        const sa = rbac(this, name, ns, labels, collectorRbacRules(true));
        const configMap = new k8s.core.v1.ConfigMap(
            childName(name, "config"),
            {
                metadata: { name: childName(name, "config"), namespace: ns, labels, annotations: { [RENDER_DIR_ANNOTATION]: "otel-collector" } },
                data: { "agent.yaml": this.configText },
            },
            childOpts,
        );
        const container = secureContainer(
            {
                name: "otel-collector",
                image,
                args: [`--config=${CONFIG_DIR}/agent.yaml`],
                env: [
                    { name: NODE_NAME_ENV, valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
                    { name: "GOMEMLIMIT", value: goMemLimit(args.resources) },
                ],
                ports: [
                    { name: "otlp-grpc", containerPort: OTLP_GRPC_PORT },
                    { name: "otlp-http", containerPort: OTLP_HTTP_PORT },
                    { name: METRICS_PORT_NAME, containerPort: COLLECTOR_METRICS_PORT },
                    { name: "health", containerPort: HEALTH_PORT },
                ],
                resources: args.resources,
                ...collectorProbes(),
                volumeMounts: [
                    { name: "config", mountPath: CONFIG_DIR, readOnly: true },
                    { name: "pod-logs", mountPath: POD_LOGS_DIR, readOnly: true },
                    { name: "checkpoints", mountPath: CHECKPOINT_DIR },
                ],
            },
            AGENT_HOST_ACCESS,
        );
        new k8s.apps.v1.DaemonSet(
            childName(name),
            {
                metadata: { name: childName(name), namespace: ns, labels },
                spec: {
                    selector: { matchLabels: podLabels },
                    updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "10%" } },
                    template: {
                        metadata: {
                            labels,
                            annotations: { ...exceptionAnnotations(AGENT_HOST_ACCESS), "observability.pulumi.com/config-checksum": checksum(this.configText) },
                        },
                        spec: securePodSpec(
                            {
                                serviceAccountName: sa.metadata.name,
                                talksToApiServer: true,
                                // Logs of every pod on every node, tainted ones included.
                                tolerations: [{ operator: "Exists" }],
                                nodeSelector: { "kubernetes.io/os": "linux" },
                                containers: [container],
                                volumes: [
                                    { name: "config", configMap: { name: configMap.metadata.name } },
                                    { name: "pod-logs", hostPath: { path: POD_LOGS_DIR, type: "Directory" } },
                                    { name: "checkpoints", hostPath: { path: "/var/lib/otelcol", type: "DirectoryOrCreate" } },
                                ],
                            },
                            AGENT_HOST_ACCESS,
                        ),
                    },
                },
            },
            childOpts,
        );
        new k8s.core.v1.Service(
            childName(name),
            {
                metadata: { name: childName(name), namespace: ns, labels },
                spec: {
                    selector: podLabels,
                    // Node-local delivery: an application's OTLP stays on its node.
                    internalTrafficPolicy: "Local",
                    ports: [
                        { name: "otlp-grpc", port: OTLP_GRPC_PORT, targetPort: "otlp-grpc", appProtocol: "grpc" },
                        { name: "otlp-http", port: OTLP_HTTP_PORT, targetPort: "otlp-http" },
                    ],
                },
            },
            childOpts,
        );
        workloadNetworkPolicy(
            childName(name),
            {
                namespace: ns,
                podLabels,
                labels,
                ingress: [
                    {
                        description: `node-local applications (namespaces ${Object.keys(args.applicationNamespaceLabels ?? {}).length ? JSON.stringify(args.applicationNamespaceLabels) : "any"}) → OTLP 4317/4318`,
                        from: [{ namespaceLabels: { ...(args.applicationNamespaceLabels ?? {}) } }],
                        ports: [{ port: OTLP_GRPC_PORT }, { port: OTLP_HTTP_PORT }],
                    },
                    { description: "prometheus scrapes the collector's metrics on 8888", from: [{ namespace: args.prometheus.namespace, podLabels: args.prometheus.podLabels }], ports: [{ port: COLLECTOR_METRICS_PORT }] },
                ],
            },
            childOpts,
        );

        this.podLabels = podLabels;
        this.otlpGrpcEndpoint = `${childName(name)}.${ns}.svc:${OTLP_GRPC_PORT}`;
        this.registerOutputs({ otlpGrpcEndpoint: this.otlpGrpcEndpoint });
    }
}
