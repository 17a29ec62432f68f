/**
 * The BlackboxExporter component under Pulumi mocks, constructed directly with typed arguments:
 * exact registrations, the restricted pod security it runs with, the NetworkPolicy admitting only
 * Prometheus (ingress only, so probes may leave), the generated config it mounts, and the pinned
 * image in step with the Debian binary the tests run.
 */
import * as yaml from "js-yaml";
import type { RecordedResource } from "../../scripts/lib/mock-runtime";
import type * as Blackbox from "../../components/blackbox";
import type { ProbeTargetConfig, Resources } from "../../config";
import { IMAGES } from "../../components/kube/images";
import { renderBlackboxConfig } from "../../components/blackbox/config";
import { run } from "../support/tools";

const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const SERVICE = "kubernetes:core/v1:Service";
const SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount";
const CONFIG_MAP = "kubernetes:core/v1:ConfigMap";
const NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
const PDB = "kubernetes:policy/v1:PodDisruptionBudget";

const RESOURCES: Resources = { requests: { cpu: "10m", memory: "32Mi" }, limits: { cpu: "100m", memory: "64Mi" } };
const PROMETHEUS_LABELS = { "app.kubernetes.io/name": "prometheus", "app.kubernetes.io/instance": "prometheus" };
const POD_LABELS = { "app.kubernetes.io/name": "blackbox-exporter", "app.kubernetes.io/instance": "blackbox-exporter" };

const target = (t: Partial<ProbeTargetConfig> & Pick<ProbeTargetConfig, "name" | "url" | "module">): ProbeTargetConfig => ({
    interval: "30s",
    team: "backend",
    severity: "critical",
    service: t.name,
    namespace: "shop",
    ...t,
});
const TARGETS: ProbeTargetConfig[] = [
    target({ name: "checkout", url: "https://checkout.shop.svc/health", module: "http_body", expectBody: "ok" }),
    target({ name: "cluster-dns", url: "dns://kube-dns.kube-system.svc:53/kubernetes.default.svc.cluster.local", module: "dns" }),
];

async function register(build: (m: typeof Blackbox) => void): Promise<{ resources: RecordedResource[]; error?: unknown }> {
    let result: { resources: RecordedResource[]; error?: unknown } | undefined;
    await jest.isolateModulesAsync(async () => {
        const pulumi: typeof import("@pulumi/pulumi") = require("@pulumi/pulumi");
        const { installMocks }: typeof import("../../scripts/lib/mock-runtime") = require("../../scripts/lib/mock-runtime");
        const runtime = installMocks("observability", "test");
        const m: typeof Blackbox = require("../../components/blackbox");
        let error: unknown;
        try {
            build(m);
        } catch (e) {
            error = e;
        }
        await pulumi.runtime.disconnect();
        result = { resources: runtime.resources, ...(error !== undefined ? { error } : {}) };
    });
    return result!;
}

const args = (over: Partial<Blackbox.BlackboxExporterArgs> = {}): Blackbox.BlackboxExporterArgs => ({
    namespace: "monitoring",
    resources: RESOURCES,
    targets: TARGETS,
    prometheusNamespace: "monitoring",
    prometheusPodLabels: PROMETHEUS_LABELS,
    ...over,
});

const only = (rs: readonly RecordedResource[], type: string): RecordedResource => {
    const found = rs.filter((r) => r.type === type);
    expect(found).toHaveLength(1);
    return found[0]!;
};

describe("BlackboxExporter", () => {
    let rs: RecordedResource[];
    let pod: any;
    let container: any;
    beforeAll(async () => {
        const r = await register((m) => new m.BlackboxExporter("blackbox-exporter", args()));
        expect(r.error).toBeUndefined();
        rs = r.resources;
        pod = only(rs, DEPLOYMENT).inputs.spec.template;
        container = pod.spec.containers[0];
    });

    it("registers exactly its component, a ConfigMap, a ServiceAccount, a Deployment, a Service and a NetworkPolicy, named after the component", () => {
        expect(rs.map((r) => [r.type, r.name]).sort()).toEqual(
            [
                ["observability:index:BlackboxExporter", "blackbox-exporter"],
                [CONFIG_MAP, "blackbox-exporter-config"],
                [SERVICE_ACCOUNT, "blackbox-exporter"],
                [DEPLOYMENT, "blackbox-exporter"],
                [SERVICE, "blackbox-exporter"],
                [NETWORK_POLICY, "blackbox-exporter"],
            ].sort(),
        );
        for (const r of rs.filter((x) => x.custom)) expect(r.inputs.metadata.namespace).toBe("monitoring");
    });

    it("runs as non-root with a read-only root filesystem, every capability dropped, no privilege escalation and seccomp RuntimeDefault", () => {
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

    it("shares nothing with the host, mounts no service account token and records no security exception", () => {
        for (const key of ["hostNetwork", "hostPID", "hostIPC"]) expect(pod.spec).not.toHaveProperty(key);
        expect(pod.spec.automountServiceAccountToken).toBe(false);
        expect(only(rs, SERVICE_ACCOUNT).inputs.automountServiceAccountToken).toBe(false);
        expect(pod.spec.volumes).toEqual([{ name: "config", configMap: { name: "blackbox-exporter-config" } }]);
        expect(Object.keys(pod.metadata.annotations ?? {}).filter((k) => k.includes("security-exception"))).toEqual([]);
    });

    it("runs the pinned v0.28.0 image with the given resources, its generated config, and health probes on /-/healthy", () => {
        expect(container.image).toBe("quay.io/prometheus/blackbox-exporter:v0.28.0");
        expect(container.resources).toEqual({ requests: RESOURCES.requests, limits: RESOURCES.limits });
        expect(container.args).toEqual(["--config.file=/etc/blackbox/blackbox.yml", "--web.listen-address=:9115"]);
        expect(container.volumeMounts).toEqual([{ name: "config", mountPath: "/etc/blackbox", readOnly: true }]);
        expect(container.livenessProbe.httpGet).toEqual({ path: "/-/healthy", port: "http" });
        expect(container.readinessProbe.httpGet).toEqual({ path: "/-/healthy", port: "http" });
    });

    it("mounts the rendered blackbox.yml of its targets, rendered under files/blackbox-exporter/", () => {
        const cm = only(rs, CONFIG_MAP).inputs;
        expect(cm.data).toEqual({ "blackbox.yml": renderBlackboxConfig({ targets: TARGETS }) });
        expect(cm.metadata.annotations).toEqual({ "observability.pulumi.com/render-dir": "blackbox-exporter" });
        expect(Object.keys((yaml.load(cm.data["blackbox.yml"]) as { modules: object }).modules)).toEqual(["http_2xx", "http_body", "tcp_connect", "dns", "http_body_checkout", "dns_cluster-dns"]);
    });

    it("rolls its pods when the generated config changes, and only then", async () => {
        const checksum = (r: RecordedResource[]) => only(r, DEPLOYMENT).inputs.spec.template.metadata.annotations["observability.pulumi.com/config-checksum"];
        const same = await register((m) => new m.BlackboxExporter("blackbox-exporter", args()));
        const other = await register((m) => new m.BlackboxExporter("blackbox-exporter", args({ targets: [TARGETS[0]!] })));
        expect(checksum(same.resources)).toBe(checksum(rs));
        expect(checksum(other.resources)).not.toBe(checksum(rs));
    });

    it("exposes port 9115 named http on a ClusterIP Service selecting its pods", () => {
        const svc = only(rs, SERVICE).inputs.spec;
        expect(svc.type).toBe("ClusterIP");
        expect(svc.ports).toEqual([{ name: "http", port: 9115, targetPort: "http", protocol: "TCP" }]);
        expect(svc.selector).toEqual(POD_LABELS);
        expect(container.ports).toEqual([{ name: "http", containerPort: 9115, protocol: "TCP" }]);
    });

    it("admits only the Prometheus pods, on 9115 only, and restricts no egress so probes reach their targets", () => {
        const np = only(rs, NETWORK_POLICY).inputs.spec;
        expect(np.podSelector).toEqual({ matchLabels: POD_LABELS });
        expect(np.policyTypes).toEqual(["Ingress"]);
        expect(np).not.toHaveProperty("egress");
        expect(np.ingress).toEqual([
            {
                from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } }, podSelector: { matchLabels: PROMETHEUS_LABELS } }],
                ports: [{ port: 9115, protocol: "TCP" }],
            },
        ]);
    });

    it("runs one replica without a disruption budget by default", () => {
        expect(only(rs, DEPLOYMENT).inputs.spec.replicas).toBe(1);
        expect(rs.filter((r) => r.type === PDB)).toEqual([]);
    });

    it("spreads two replicas over nodes and keeps one up through drains", async () => {
        const r = await register((m) => new m.BlackboxExporter("blackbox-exporter", args({ replicas: 2 })));
        const spec = only(r.resources, DEPLOYMENT).inputs.spec;
        expect(spec.replicas).toBe(2);
        expect(spec.template.spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.labelSelector.matchLabels).toEqual(POD_LABELS);
        expect(only(r.resources, PDB).inputs.spec).toEqual({ maxUnavailable: 1, selector: { matchLabels: POD_LABELS } });
    });

    it("tells probed workloads which pods to admit and Prometheus which address to probe through", async () => {
        let exporter: Blackbox.BlackboxExporter | undefined;
        await register((m) => {
            exporter = new m.BlackboxExporter("blackbox-exporter", args());
        });
        expect(exporter!.podLabels).toEqual(POD_LABELS);
        expect(exporter!.address).toBe("blackbox-exporter.monitoring.svc:9115");
    });
});

describe("invalid BlackboxExporter arguments", () => {
    const cases: [string, (m: typeof Blackbox) => void, RegExp][] = [
        ["no Prometheus pod labels, which would admit every pod of the namespace", (m) => new m.BlackboxExporter("bb", args({ prometheusPodLabels: {} })), /probes\.prometheusPodLabels \{\}: expected at least one label/],
        ["a limit below its request", (m) => new m.BlackboxExporter("bb", args({ resources: { ...RESOURCES, limits: { cpu: "5m", memory: "64Mi" } } })), /probes\.resources\.limits\.cpu "5m": expected at least the request \(10m\)/],
        ["zero replicas", (m) => new m.BlackboxExporter("bb", args({ replicas: 0 })), /probes\.replicas 0: expected a whole number of at least 1/],
    ];

    it.each(cases)("rejects %s before registering any resource", async (_what, build, message) => {
        const r = await register(build);
        expect(r.error).toBeInstanceOf(Error);
        expect((r.error as Error).message).toMatch(message);
        expect(r.resources).toEqual([]);
    });
});

describe("the pinned image", () => {
    it("is the release of the Debian (forky) blackbox_exporter the tests run (0.28.0)", () => {
        const r = run("blackbox_exporter", ["--version"]);
        const debian = /version (\d+\.\d+\.\d+)/.exec(r.stdout + r.stderr)?.[1];
        expect(debian).toBe("0.28.0");
        expect(IMAGES.blackboxExporter).toBe(`quay.io/prometheus/blackbox-exporter:v${debian}`);
    });
});
