/**
 * The exporter components under Pulumi mocks, constructed directly with typed arguments. Every
 * registration is recorded; the tests pin exact types and names, the host access node-exporter
 * gets (and everything it must not get), kube-state-metrics' RBAC, tokens and network policies.
 */
import type { RecordedResource } from "../../scripts/lib/mock-runtime";
import type * as Exporters from "../../components/exporters";
import type { Resources } from "../../config";

const DAEMON_SET = "kubernetes:apps/v1:DaemonSet";
const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const SERVICE = "kubernetes:core/v1:Service";
const SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount";
const NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
const CLUSTER_ROLE = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole";
const CLUSTER_ROLE_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding";
const EXCEPTION = "observability.pulumi.com/security-exception.";

const RESOURCES: Resources = { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "250m", memory: "180Mi" } };
const PROMETHEUS_LABELS = { "app.kubernetes.io/name": "prometheus", "app.kubernetes.io/instance": "observability-prometheus" };

interface Registered {
    readonly resources: RecordedResource[];
    readonly error?: unknown;
}

/**
 * Installs recording mocks, then imports the exporters in a fresh module registry and runs
 * `build`; waits for every registration to settle before returning what was recorded.
 */
async function register(build: (m: typeof Exporters) => void): Promise<Registered> {
    let result: Registered | undefined;
    await jest.isolateModulesAsync(async () => {
        const pulumi: typeof import("@pulumi/pulumi") = require("@pulumi/pulumi");
        const { installMocks }: typeof import("../../scripts/lib/mock-runtime") = require("../../scripts/lib/mock-runtime");
        const run = installMocks("observability", "test");
        const m: typeof Exporters = require("../../components/exporters");
        let error: unknown;
        try {
            build(m);
        } catch (e) {
            error = e;
        }
        await pulumi.runtime.disconnect();
        result = { resources: run.resources, ...(error !== undefined ? { error } : {}) };
    });
    return result!;
}

const nodeExporterArgs = (): Exporters.NodeExporterArgs => ({
    namespace: "monitoring-agents",
    resources: RESOURCES,
    prometheusNamespace: "monitoring",
    prometheusPodLabels: PROMETHEUS_LABELS,
});

const ksmArgs = (): Exporters.KubeStateMetricsArgs => ({
    namespace: "monitoring",
    resources: RESOURCES,
    prometheusNamespace: "monitoring",
    prometheusPodLabels: PROMETHEUS_LABELS,
});

const only = (rs: readonly RecordedResource[], type: string): RecordedResource => {
    const found = rs.filter((r) => r.type === type);
    expect(found).toHaveLength(1);
    return found[0]!;
};

const typesAndNames = (rs: readonly RecordedResource[]) => rs.map((r) => [r.type, r.name]).sort();

describe("NodeExporter", () => {
    let rs: RecordedResource[];
    let pod: any;
    let container: any;
    beforeAll(async () => {
        const run = await register((m) => new m.NodeExporter("obs-node-exporter", nodeExporterArgs()));
        expect(run.error).toBeUndefined();
        rs = run.resources;
        pod = only(rs, DAEMON_SET).inputs.spec.template;
        container = pod.spec.containers[0];
    });

    it("registers exactly its component, a DaemonSet, a Service, a ServiceAccount and a NetworkPolicy, all named after the component", () => {
        expect(typesAndNames(rs)).toEqual(
            [
                ["observability:index:NodeExporter", "obs-node-exporter"],
                [DAEMON_SET, "obs-node-exporter"],
                [SERVICE, "obs-node-exporter"],
                [SERVICE_ACCOUNT, "obs-node-exporter"],
                [NETWORK_POLICY, "obs-node-exporter"],
            ].sort(),
        );
        for (const r of rs.filter((x) => x.custom)) {
            expect(r.inputs.metadata).toMatchObject({ name: "obs-node-exporter", namespace: "monitoring-agents" });
        }
    });

    it("shares only the host network, never the host PID or IPC namespace", () => {
        expect(pod.spec.hostNetwork).toBe(true);
        expect(pod.spec.dnsPolicy).toBe("ClusterFirstWithHostNet");
        expect(pod.spec).not.toHaveProperty("hostPID");
        expect(pod.spec).not.toHaveProperty("hostIPC");
    });

    it("mounts exactly /proc, /sys and / of the host, all read-only, with host-to-container propagation only for the root", () => {
        expect(pod.spec.volumes).toEqual([
            { name: "proc", hostPath: { path: "/proc", type: "Directory" } },
            { name: "sys", hostPath: { path: "/sys", type: "Directory" } },
            { name: "root", hostPath: { path: "/", type: "Directory" } },
        ]);
        expect(container.volumeMounts).toEqual([
            { name: "proc", mountPath: "/host/proc", readOnly: true },
            { name: "sys", mountPath: "/host/sys", readOnly: true },
            { name: "root", mountPath: "/host/root", readOnly: true, mountPropagation: "HostToContainer" },
        ]);
    });

    it("points node-exporter at the host mounts and listens on 9100, excluding kubelet and container mounts", () => {
        expect(container.args).toEqual(
            expect.arrayContaining(["--path.procfs=/host/proc", "--path.sysfs=/host/sys", "--path.rootfs=/host/root", "--web.listen-address=:9100"]),
        );
        const exclude = container.args.find((a: string) => a.startsWith("--collector.filesystem.mount-points-exclude="));
        const re = new RegExp(exclude.slice(exclude.indexOf("=") + 1));
        expect(re.test("/var/lib/kubelet/pods/abc/volumes/kubernetes.io~projected/token")).toBe(true);
        expect(re.test("/run/containerd/io.containerd.runtime.v2.task/k8s.io/abc/rootfs")).toBe(true);
        expect(re.test("/var/lib/docker/overlay2/abc/merged")).toBe(true);
        expect(re.test("/")).toBe(false);
        expect(re.test("/var/lib/kubelet")).toBe(false);
        expect(re.test("/mnt/data")).toBe(false);
    });

    it("runs as the non-root UID 65534 with a read-only root filesystem, every capability dropped, unprivileged, seccomp RuntimeDefault", () => {
        expect(pod.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65534, runAsGroup: 65534, seccompProfile: { type: "RuntimeDefault" } });
        expect(container.securityContext).toEqual({
            allowPrivilegeEscalation: false,
            privileged: false,
            readOnlyRootFilesystem: true,
            runAsNonRoot: true,
            capabilities: { drop: ["ALL"] },
            seccompProfile: { type: "RuntimeDefault" },
        });
    });

    it("records each host-access exception with its reason as a pod annotation, and nothing else", () => {
        const exceptions = Object.entries(pod.metadata.annotations).filter(([k]) => k.startsWith(EXCEPTION));
        expect(exceptions.map(([k]) => k).sort()).toEqual([`${EXCEPTION}hostNetwork`, `${EXCEPTION}hostPath`]);
        expect(pod.metadata.annotations[`${EXCEPTION}hostNetwork`]).toMatch(/network interfaces/);
        expect(pod.metadata.annotations[`${EXCEPTION}hostPath`]).toMatch(/read-only \/proc, \/sys and \//);
    });

    it("is not found through the prometheus.io/scrape annotation, only by its app.kubernetes.io/name label and metrics port", () => {
        expect(Object.keys(pod.metadata.annotations).filter((k) => k.startsWith("prometheus.io/"))).toEqual([]);
        expect(pod.metadata.labels).toMatchObject({ "app.kubernetes.io/name": "node-exporter", "app.kubernetes.io/instance": "obs-node-exporter" });
        expect(container.ports).toEqual([{ name: "metrics", containerPort: 9100, hostPort: 9100, protocol: "TCP" }]);
    });

    it("mounts no service account token, neither through its account nor its pods", () => {
        expect(pod.spec.automountServiceAccountToken).toBe(false);
        expect(only(rs, SERVICE_ACCOUNT).inputs.automountServiceAccountToken).toBe(false);
        expect(pod.spec.serviceAccountName).toBe("obs-node-exporter");
    });

    it("runs on every Linux node, tolerating every taint, with the stack's priority class and 10% of nodes updated at a time", () => {
        const ds = only(rs, DAEMON_SET).inputs.spec;
        expect(pod.spec.tolerations).toEqual([{ operator: "Exists" }]);
        expect(pod.spec.nodeSelector).toEqual({ "kubernetes.io/os": "linux" });
        expect(pod.spec.priorityClassName).toBe("observability-stack");
        expect(ds.updateStrategy).toEqual({ type: "RollingUpdate", rollingUpdate: { maxUnavailable: "10%" } });
        expect(ds.selector.matchLabels).toEqual({ "app.kubernetes.io/name": "node-exporter", "app.kubernetes.io/instance": "obs-node-exporter" });
    });

    it("uses the pinned image, the given requests and limits, and probes / on the metrics port", () => {
        expect(container.image).toBe("quay.io/prometheus/node-exporter:v1.12.1");
        expect(container.resources).toEqual({ requests: RESOURCES.requests, limits: RESOURCES.limits });
        expect(container.livenessProbe.httpGet).toEqual({ path: "/", port: "metrics" });
        expect(container.readinessProbe.httpGet).toEqual({ path: "/", port: "metrics" });
    });

    it("exposes a ClusterIP Service with port 9100 named metrics for discovery through endpoints", () => {
        const svc = only(rs, SERVICE).inputs.spec;
        expect(svc.type).toBe("ClusterIP");
        expect(svc).not.toHaveProperty("clusterIP");
        expect(svc.ports).toEqual([{ name: "metrics", port: 9100, targetPort: "metrics", protocol: "TCP" }]);
        expect(svc.selector).toEqual({ "app.kubernetes.io/name": "node-exporter", "app.kubernetes.io/instance": "obs-node-exporter" });
    });

    it("admits only the Prometheus pods of the Prometheus namespace, on 9100 only", () => {
        const np = only(rs, NETWORK_POLICY).inputs.spec;
        expect(np.policyTypes).toEqual(["Ingress"]);
        expect(np.podSelector).toEqual({ matchLabels: { "app.kubernetes.io/name": "node-exporter", "app.kubernetes.io/instance": "obs-node-exporter" } });
        expect(np.ingress).toEqual([
            {
                from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } }, podSelector: { matchLabels: PROMETHEUS_LABELS } }],
                ports: [{ port: 9100, protocol: "TCP" }],
            },
        ]);
    });

    it("exposes its service name, namespace and port as outputs", async () => {
        let outputs: Record<string, unknown> = {};
        await jest.isolateModulesAsync(async () => {
            const pulumi: typeof import("@pulumi/pulumi") = require("@pulumi/pulumi");
            require("../../scripts/lib/mock-runtime").installMocks("observability", "test");
            const m: typeof Exporters = require("../../components/exporters");
            const ne = new m.NodeExporter("obs-node-exporter", nodeExporterArgs());
            const resolved = await new Promise<[string, string]>((resolve) => pulumi.all([ne.serviceName, ne.namespace]).apply(resolve));
            outputs = { serviceName: resolved[0], namespace: resolved[1], port: ne.port, appName: ne.appName, portName: ne.portName };
            await pulumi.runtime.disconnect();
        });
        expect(outputs).toEqual({ serviceName: "obs-node-exporter", namespace: "monitoring-agents", port: 9100, appName: "node-exporter", portName: "metrics" });
    });
});

describe("KubeStateMetrics", () => {
    let rs: RecordedResource[];
    let pod: any;
    let container: any;
    beforeAll(async () => {
        const run = await register((m) => new m.KubeStateMetrics("obs-kube-state-metrics", ksmArgs()));
        expect(run.error).toBeUndefined();
        rs = run.resources;
        pod = only(rs, DEPLOYMENT).inputs.spec.template;
        container = pod.spec.containers[0];
    });

    it("registers exactly its component, a Deployment, a Service, a ServiceAccount, a ClusterRole, its binding and a NetworkPolicy, all named after the component", () => {
        expect(typesAndNames(rs)).toEqual(
            [
                ["observability:index:KubeStateMetrics", "obs-kube-state-metrics"],
                [DEPLOYMENT, "obs-kube-state-metrics"],
                [SERVICE, "obs-kube-state-metrics"],
                [SERVICE_ACCOUNT, "obs-kube-state-metrics"],
                [CLUSTER_ROLE, "obs-kube-state-metrics"],
                [CLUSTER_ROLE_BINDING, "obs-kube-state-metrics"],
                [NETWORK_POLICY, "obs-kube-state-metrics"],
            ].sort(),
        );
        for (const r of rs.filter((x) => x.custom)) expect(r.inputs.metadata.name).toBe("obs-kube-state-metrics");
        for (const t of [DEPLOYMENT, SERVICE, SERVICE_ACCOUNT, NETWORK_POLICY]) expect(only(rs, t).inputs.metadata.namespace).toBe("monitoring");
        for (const t of [CLUSTER_ROLE, CLUSTER_ROLE_BINDING]) expect(only(rs, t).inputs.metadata).not.toHaveProperty("namespace");
    });

    it("grants only list and watch, never on secrets, and exactly on the collectors it runs", () => {
        const rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[] = only(rs, CLUSTER_ROLE).inputs.rules;
        for (const rule of rules) {
            expect(rule.verbs).toEqual(["list", "watch"]);
            expect(rule.resources).not.toContain("secrets");
            expect(rule.resources).not.toContain("*");
            expect(rule.apiGroups).not.toContain("*");
        }
        const granted = rules.flatMap((r) => r.resources).sort();
        const flag = container.args.find((a: string) => a.startsWith("--resources="));
        expect(flag.slice("--resources=".length).split(",").sort()).toEqual(granted);
        expect(granted).toEqual(expect.arrayContaining(["pods", "deployments", "nodes", "namespaces", "statefulsets", "daemonsets", "jobs"]));
        expect(granted).not.toContain("configmaps");
        // kube-state-metrics v2.18+ collects EndpointSlices by default; v1 Endpoints are deprecated.
        expect(granted).not.toContain("endpoints");
        expect(rules.find((r) => r.resources.includes("endpointslices"))!.apiGroups).toEqual(["discovery.k8s.io"]);
        expect(rules.find((r) => r.resources.includes("deployments"))!.apiGroups).toEqual(["apps"]);
        expect(rules.find((r) => r.resources.includes("pods"))!.apiGroups).toEqual([""]);
    });

    it("binds the ClusterRole to its own ServiceAccount in its namespace", () => {
        const binding = only(rs, CLUSTER_ROLE_BINDING).inputs;
        expect(binding.roleRef).toEqual({ apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "obs-kube-state-metrics" });
        expect(binding.subjects).toEqual([{ kind: "ServiceAccount", name: "obs-kube-state-metrics", namespace: "monitoring" }]);
    });

    it("mounts its service account token in the pod, because it talks to the API, while the account itself does not auto-mount it", () => {
        expect(pod.spec.automountServiceAccountToken).toBe(true);
        expect(pod.spec.serviceAccountName).toBe("obs-kube-state-metrics");
        expect(only(rs, SERVICE_ACCOUNT).inputs.automountServiceAccountToken).toBe(false);
    });

    it("runs one replica as the non-root UID 65534 with the restricted security context and no host access", () => {
        expect(only(rs, DEPLOYMENT).inputs.spec.replicas).toBe(1);
        expect(pod.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65534, seccompProfile: { type: "RuntimeDefault" } });
        expect(container.securityContext).toEqual({
            allowPrivilegeEscalation: false,
            privileged: false,
            readOnlyRootFilesystem: true,
            runAsNonRoot: true,
            capabilities: { drop: ["ALL"] },
            seccompProfile: { type: "RuntimeDefault" },
        });
        for (const field of ["hostNetwork", "hostPID", "hostIPC", "volumes"]) expect(pod.spec).not.toHaveProperty(field);
        expect(Object.keys(pod.metadata.annotations ?? {})).toEqual([]);
    });

    it("serves metrics on http-metrics 8080 and its own telemetry on 8081, probing /livez and /readyz", () => {
        expect(container.image).toBe("registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.20.0");
        expect(container.ports).toEqual([
            { name: "http-metrics", containerPort: 8080, protocol: "TCP" },
            { name: "telemetry", containerPort: 8081, protocol: "TCP" },
        ]);
        expect(container.livenessProbe.httpGet).toEqual({ path: "/livez", port: "http-metrics" });
        expect(container.readinessProbe.httpGet).toEqual({ path: "/readyz", port: "telemetry" });
        expect(container.resources).toEqual({ requests: RESOURCES.requests, limits: RESOURCES.limits });
    });

    it("exposes both ports on a ClusterIP Service", () => {
        const svc = only(rs, SERVICE).inputs.spec;
        expect(svc.type).toBe("ClusterIP");
        expect(svc.ports).toEqual([
            { name: "http-metrics", port: 8080, targetPort: "http-metrics", protocol: "TCP" },
            { name: "telemetry", port: 8081, targetPort: "telemetry", protocol: "TCP" },
        ]);
        expect(svc.selector).toEqual({ "app.kubernetes.io/name": "kube-state-metrics", "app.kubernetes.io/instance": "obs-kube-state-metrics" });
    });

    it("admits only the Prometheus pods, on 8080 and 8081 only", () => {
        const np = only(rs, NETWORK_POLICY).inputs.spec;
        expect(np.podSelector).toEqual({ matchLabels: { "app.kubernetes.io/name": "kube-state-metrics", "app.kubernetes.io/instance": "obs-kube-state-metrics" } });
        expect(np.ingress).toEqual([
            {
                from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } }, podSelector: { matchLabels: PROMETHEUS_LABELS } }],
                ports: [
                    { port: 8080, protocol: "TCP" },
                    { port: 8081, protocol: "TCP" },
                ],
            },
        ]);
    });

    it("grants and runs exactly the collectors it is given", async () => {
        const run = await register((m) => new m.KubeStateMetrics("obs-kube-state-metrics", { ...ksmArgs(), collectors: ["pods", "deployments", "nodes"] }));
        expect(run.error).toBeUndefined();
        expect(only(run.resources, CLUSTER_ROLE).inputs.rules).toEqual([
            { apiGroups: [""], resources: ["nodes", "pods"], verbs: ["list", "watch"] },
            { apiGroups: ["apps"], resources: ["deployments"], verbs: ["list", "watch"] },
        ]);
        expect(only(run.resources, DEPLOYMENT).inputs.spec.template.spec.containers[0].args).toContain("--resources=pods,deployments,nodes");
    });
});

describe("invalid exporter arguments", () => {
    const cases: [string, (m: typeof Exporters) => void, RegExp][] = [
        ["an empty node-exporter namespace", (m) => new m.NodeExporter("ne", { ...nodeExporterArgs(), namespace: "" }), /nodeExporter\.namespace "": expected a namespace name/],
        ["an empty kube-state-metrics namespace", (m) => new m.KubeStateMetrics("ksm", { ...ksmArgs(), namespace: "" }), /kubeStateMetrics\.namespace "": expected a namespace name/],
        ["a Prometheus namespace that is not a DNS label", (m) => new m.NodeExporter("ne", { ...nodeExporterArgs(), prometheusNamespace: "Monitoring" }), /nodeExporter\.prometheusNamespace "Monitoring"/],
        ["no Prometheus pod labels, which would admit every pod of the namespace", (m) => new m.KubeStateMetrics("ksm", { ...ksmArgs(), prometheusPodLabels: {} }), /kubeStateMetrics\.prometheusPodLabels \{\}: expected at least one label/],
        ["a malformed memory limit", (m) => new m.NodeExporter("ne", { ...nodeExporterArgs(), resources: { ...RESOURCES, limits: { cpu: "1", memory: "lots" } } }), /nodeExporter\.resources\.limits\.memory "lots"/],
        ["a limit below its request", (m) => new m.NodeExporter("ne", { ...nodeExporterArgs(), resources: { ...RESOURCES, limits: { cpu: "10m", memory: "1Gi" } } }), /nodeExporter\.resources\.limits\.cpu "10m": expected at least the request \(50m\)/],
        ["an image with whitespace", (m) => new m.KubeStateMetrics("ksm", { ...ksmArgs(), image: "kube-state-metrics latest" }), /kubeStateMetrics\.image "kube-state-metrics latest"/],
        ["the secrets collector", (m) => new m.KubeStateMetrics("ksm", { ...ksmArgs(), collectors: ["pods", "secrets" as Exporters.KsmCollector] }), /kubeStateMetrics\.collectors "secrets": not allowed/],
        ["an unknown collector", (m) => new m.KubeStateMetrics("ksm", { ...ksmArgs(), collectors: ["podz" as Exporters.KsmCollector] }), /kubeStateMetrics\.collectors "podz": expected one of/],
        ["no collectors", (m) => new m.KubeStateMetrics("ksm", { ...ksmArgs(), collectors: [] }), /kubeStateMetrics\.collectors \[\]: expected at least one/],
        ["a component name that cannot name Kubernetes objects", (m) => new m.NodeExporter("Node_Exporter", nodeExporterArgs()), /resource name "Node_Exporter": expected a DNS label/],
    ];

    it.each(cases)("rejects %s before registering any resource", async (_what, build, message) => {
        const run = await register(build);
        expect(run.error).toBeInstanceOf(Error);
        expect((run.error as Error).message).toMatch(message);
        expect(run.resources).toEqual([]);
    });
});
