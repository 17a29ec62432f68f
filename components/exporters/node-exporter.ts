/**
 * NodeExporter: one node-exporter pod per node, reading the host's /proc, /sys and filesystems
 * read-only and reporting the node's own network interfaces. It runs in the agents namespace
 * because host network and host paths are beyond Pod Security `restricted`; every such exception
 * is named in code with its reason and recorded on the pod template as an annotation.
 *
 * Prometheus finds it through a dedicated job that keeps pods labelled
 * `app.kubernetes.io/name=node-exporter` on the container port named `metrics`, not through the
 * `prometheus.io/scrape` annotation (which would scrape it a second time under another job).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { Resources } from "../../config";
import { parseQuantity } from "../../config/resolve";
import {
    childName,
    exceptionAnnotations,
    imageFor,
    secureContainer,
    securePodSpec,
    selectorLabels,
    standardLabels,
    versionOf,
    workloadNetworkPolicy,
    type SecurityExceptions,
} from "../kube";

/** Arguments every exporter shares: where it runs, what it may use, and who may scrape it. */
export interface ExporterArgs {
    /** Namespace the exporter runs in; a plain string is validated as a DNS label. */
    readonly namespace: pulumi.Input<string>;
    /** Container requests and limits. */
    readonly resources: Resources;
    /** Image override (`repo:tag` or `repo@sha256:...`). @default the pinned image in components/kube/images.ts */
    readonly image?: string;
    /** Namespace of the Prometheus pods, the only clients the NetworkPolicy admits. */
    readonly prometheusNamespace: string;
    /** Labels selecting the Prometheus pods within {@link prometheusNamespace}; at least one. */
    readonly prometheusPodLabels: Readonly<Record<string, string>>;
}

/** Arguments of {@link NodeExporter}. */
export interface NodeExporterArgs extends ExporterArgs {
    /** The agents namespace (Pod Security `privileged`): host network and host paths are needed. */
    readonly namespace: pulumi.Input<string>;
}

/** Value of the pods' `app.kubernetes.io/name`: Prometheus' node-exporter job keeps pods by it. */
export const NODE_EXPORTER_APP = "node-exporter";
/** Name of the container port serving metrics, which Prometheus' job keeps. */
export const NODE_EXPORTER_PORT_NAME = "metrics";
/** node-exporter's conventional port; with host networking it is a port on every node. */
export const NODE_EXPORTER_PORT = 9100;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const LABEL_KEY = /^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

/**
 * Validates the arguments every exporter shares and throws on the first problem, naming the
 * field (`<prefix>.<field>`) and its value. Runs before anything is registered.
 * @internal shared by the exporter components; not part of the package's surface.
 */
export function validateExporterArgs(prefix: string, args: ExporterArgs): void {
    const fail = (field: string, value: unknown, expected: string): never => {
        throw new Error(`${prefix}.${field} ${JSON.stringify(value)}: expected ${expected}`);
    };
    // An Output cannot be inspected before it resolves; the stack passes the namespace it created.
    if (typeof args.namespace === "string" && !DNS_LABEL.test(args.namespace)) {
        fail("namespace", args.namespace, "a namespace name (DNS label: lowercase letters, digits and '-', at most 63 characters)");
    }
    if (!DNS_LABEL.test(args.prometheusNamespace ?? "")) {
        fail("prometheusNamespace", args.prometheusNamespace, "a namespace name (DNS label: lowercase letters, digits and '-', at most 63 characters)");
    }
    const podLabels = Object.entries(args.prometheusPodLabels ?? {});
    if (podLabels.length === 0) {
        // An empty selector would admit every pod of the Prometheus namespace, not Prometheus.
        fail("prometheusPodLabels", args.prometheusPodLabels, "at least one label selecting the Prometheus pods");
    }
    for (const [key, value] of podLabels) {
        if (!LABEL_KEY.test(key)) fail(`prometheusPodLabels[${JSON.stringify(key)}]`, key, "a label key such as app.kubernetes.io/name");
        if (typeof value !== "string" || !LABEL_VALUE.test(value)) fail(`prometheusPodLabels[${JSON.stringify(key)}]`, value, "a label value (at most 63 letters, digits, '-', '_' or '.')");
    }
    if (args.image !== undefined && !/^\S+$/.test(args.image)) {
        fail("image", args.image, "an image reference such as quay.io/org/name:v1.2.3, without spaces");
    }
    for (const level of ["requests", "limits"] as const) {
        for (const kind of ["cpu", "memory"] as const) {
            const q = args.resources?.[level]?.[kind];
            const n = typeof q === "string" ? parseQuantity(q) : NaN;
            if (!(n > 0)) fail(`resources.${level}.${kind}`, q, kind === "cpu" ? "a positive CPU quantity such as 100m or 1" : "a positive memory quantity such as 128Mi");
        }
    }
    for (const kind of ["cpu", "memory"] as const) {
        if (parseQuantity(args.resources.limits[kind]) < parseQuantity(args.resources.requests[kind])) {
            fail(`resources.limits.${kind}`, args.resources.limits[kind], `at least the request (${args.resources.requests[kind]})`);
        }
    }
}

/** Host access of node-exporter, each with its reason (recorded as pod annotations). */
const HOST_ACCESS: SecurityExceptions = {
    hostNetwork:
        "node-exporter reports the node's own network interfaces (node_network_*), which only the host network namespace shows; it serves :9100 on every node",
    hostPath:
        "read-only /proc, /sys and / of the node (at /host/proc, /host/sys, /host/root) are where node-exporter reads CPU, memory, disk and filesystem statistics",
    // No hostPID: the host's /proc mounted at /host/proc already shows the host's processes and
    // /proc/1/mounts, which is all the default collectors read. Sharing the PID namespace would
    // only add the ability to signal or ptrace host processes.
};

/**
 * Mount points whose filesystems are container or pod plumbing (volumes, overlay roots, runtime
 * state) rather than node disks: reporting them multiplies node_filesystem_* series per pod.
 */
const MOUNT_POINTS_EXCLUDE =
    "^/(dev|proc|sys|run/credentials/.+|run/containerd/.+|run/k3s/containerd/.+|var/lib/containerd/.+|var/lib/docker/.+|var/lib/containers/storage/.+|var/lib/kubelet/.+)($|/)";

/** Per-pod virtual interfaces (veth pairs, Calico's 15-hex-digit names): one series set per pod. */
const VIRTUAL_DEVICES_EXCLUDE = "^(veth.*|[a-f0-9]{15})$";

/**
 * node-exporter as a DaemonSet on every node, with its ServiceAccount (no token), a ClusterIP
 * Service for discovery through endpoints, and a NetworkPolicy admitting only Prometheus.
 */
export class NodeExporter extends pulumi.ComponentResource {
    /** Name of the Service in front of the node-exporter pods. */
    public readonly serviceName: pulumi.Output<string>;
    /** Namespace the pods run in. */
    public readonly namespace: pulumi.Output<string>;
    /** Metrics port (on the node, since the pods use the host network). */
    public readonly port: number;
    /** Value of `app.kubernetes.io/name` on the pods, for Prometheus' scrape job. */
    public readonly appName: string;
    /** Name of the metrics container port, for Prometheus' scrape job. */
    public readonly portName: string;

    constructor(name: string, args: NodeExporterArgs, opts?: pulumi.ComponentResourceOptions) {
        validateExporterArgs("nodeExporter", args);
        const resourceName = childName(name);
        super("observability:index:NodeExporter", name, {}, opts);

        const image = imageFor("nodeExporter", args.image);
        const namespace = args.namespace;
        const ids = { name: NODE_EXPORTER_APP, instance: name };
        const labels = standardLabels({ ...ids, component: "exporter", version: versionOf(image) });
        const podLabels = selectorLabels(ids);

        const serviceAccount = new k8s.core.v1.ServiceAccount(
            resourceName,
            {
                metadata: { name: resourceName, namespace, labels },
                // node-exporter never calls the Kubernetes API.
                automountServiceAccountToken: false,
            },
            { parent: this },
        );

        const probe = { httpGet: { path: "/", port: NODE_EXPORTER_PORT_NAME }, initialDelaySeconds: 5, periodSeconds: 10, timeoutSeconds: 5 };

        const container = secureContainer({
            name: NODE_EXPORTER_APP,
            image,
            resources: args.resources,
            args: [
                "--path.procfs=/host/proc",
                "--path.sysfs=/host/sys",
                "--path.rootfs=/host/root",
                `--web.listen-address=:${NODE_EXPORTER_PORT}`,
                `--collector.filesystem.mount-points-exclude=${MOUNT_POINTS_EXCLUDE}`,
                `--collector.netclass.ignored-devices=${VIRTUAL_DEVICES_EXCLUDE}`,
                `--collector.netdev.device-exclude=${VIRTUAL_DEVICES_EXCLUDE}`,
            ],
            // With host networking the container port is a port of the node; hostPort states it
            // explicitly instead of leaving the API server to default it.
            ports: [{ name: NODE_EXPORTER_PORT_NAME, containerPort: NODE_EXPORTER_PORT, hostPort: NODE_EXPORTER_PORT, protocol: "TCP" }],
            volumeMounts: [
                { name: "proc", mountPath: "/host/proc", readOnly: true },
                { name: "sys", mountPath: "/host/sys", readOnly: true },
                // HostToContainer: filesystems the node mounts after the pod started (new disks,
                // volumes) become visible without a restart.
                { name: "root", mountPath: "/host/root", readOnly: true, mountPropagation: "HostToContainer" },
            ],
            livenessProbe: probe,
            readinessProbe: probe,
        }, HOST_ACCESS);

        const podSpec = securePodSpec(
            {
                serviceAccountName: serviceAccount.metadata.name,
                containers: [container],
                volumes: [
                    { name: "proc", hostPath: { path: "/proc", type: "Directory" } },
                    { name: "sys", hostPath: { path: "/sys", type: "Directory" } },
                    { name: "root", hostPath: { path: "/", type: "Directory" } },
                ],
                // node-exporter is built for Linux only.
                nodeSelector: { "kubernetes.io/os": "linux" },
                // Every node is measured, including tainted control-plane and dedicated nodes.
                tolerations: [{ operator: "Exists" }],
            },
            HOST_ACCESS,
        );

        new k8s.apps.v1.DaemonSet(
            resourceName,
            {
                metadata: { name: resourceName, namespace, labels },
                spec: {
                    selector: { matchLabels: podLabels },
                    updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "10%" } },
                    template: {
                        metadata: { labels, annotations: exceptionAnnotations(HOST_ACCESS) },
                        spec: podSpec,
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
                    ports: [{ name: NODE_EXPORTER_PORT_NAME, port: NODE_EXPORTER_PORT, targetPort: NODE_EXPORTER_PORT_NAME, protocol: "TCP" }],
                },
            },
            { parent: this },
        );

        // Most CNIs do not apply NetworkPolicy to host-network pods, so on those this policy is
        // declared intent only; CNIs with host policies (Cilium host firewall, Calico host
        // endpoints) enforce it. It also keeps the agents namespace's default deny honest.
        workloadNetworkPolicy(
            resourceName,
            {
                namespace,
                podLabels,
                labels,
                ingress: [
                    {
                        description: `prometheus scrapes node-exporter on ${NODE_EXPORTER_PORT}`,
                        from: [{ namespace: args.prometheusNamespace, podLabels: { ...args.prometheusPodLabels } }],
                        ports: [{ port: NODE_EXPORTER_PORT }],
                    },
                ],
            },
            { parent: this },
        );

        this.serviceName = service.metadata.name;
        this.namespace = pulumi.output(namespace);
        this.port = NODE_EXPORTER_PORT;
        this.appName = NODE_EXPORTER_APP;
        this.portName = NODE_EXPORTER_PORT_NAME;
        this.registerOutputs({
            serviceName: this.serviceName,
            namespace: this.namespace,
            port: this.port,
            appName: this.appName,
            portName: this.portName,
        });
    }
}
