/**
 * components/kube: labels, naming, the secure pod and container defaults, image pinning and the
 * resource-creating policy helpers (under recording Pulumi mocks).
 */
import * as pulumi from "@pulumi/pulumi";
import { installMocks } from "../../scripts/lib/mock-runtime";
import {
    childName,
    DEFAULT_UID,
    defaultDenyIngress,
    exceptionAnnotations,
    IMAGES,
    imageFor,
    MANAGED_BY,
    PART_OF,
    podDisruptionBudget,
    restrictedSecurityContext,
    secureContainer,
    SecureContainerArgs,
    securePodSpec,
    SecurityExceptions,
    selectorLabels,
    standardLabels,
    versionOf,
    workloadNetworkPolicy,
} from "../../components/kube";

// The helpers below only declare resources when called, so installing the mocks here, before
// any test calls them, is early enough.
const mockRun = installMocks("observability", "kube-kit-test");

const RESOURCES = { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } };
const PROBE = { httpGet: { path: "/-/healthy", port: 9090 } };

function container(overrides: Partial<SecureContainerArgs> = {}): SecureContainerArgs {
    return {
        name: "prometheus",
        image: IMAGES.prometheus,
        resources: RESOURCES,
        livenessProbe: PROBE,
        readinessProbe: { httpGet: { path: "/-/ready", port: 9090 } },
        ...overrides,
    };
}

function settled<T>(o: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => o.apply((v) => resolve(v)));
}

const recorded = (name: string) => mockRun.resources.filter((r) => r.name === name);

describe("standardLabels and selectorLabels", () => {
    const args = { name: "prometheus", instance: "observability-prometheus", component: "metrics", version: "v2.53.5" };

    it("puts all six app.kubernetes.io keys on every object", () => {
        expect(standardLabels(args)).toEqual({
            "app.kubernetes.io/name": "prometheus",
            "app.kubernetes.io/instance": "observability-prometheus",
            "app.kubernetes.io/version": "v2.53.5",
            "app.kubernetes.io/component": "metrics",
            "app.kubernetes.io/part-of": PART_OF,
            "app.kubernetes.io/managed-by": MANAGED_BY,
        });
        expect(PART_OF).toBe("observability-stack");
        expect(MANAGED_BY).toBe("pulumi");
    });

    it("selects pods by name and instance only, never by the version that changes on upgrade", () => {
        const selector = selectorLabels(args);
        expect(selector).toEqual({ "app.kubernetes.io/name": "prometheus", "app.kubernetes.io/instance": "observability-prometheus" });
        expect(selector).not.toHaveProperty(["app.kubernetes.io/version"]);
    });

    it("keeps the selector a subset of the standard labels, so a workload's selector matches its own pods", () => {
        expect(standardLabels(args)).toMatchObject(selectorLabels(args));
    });

    it("omits the version label when no version is known rather than writing an empty one", () => {
        const { version: _unused, ...withoutVersion } = args;
        expect(standardLabels(withoutVersion)).not.toHaveProperty(["app.kubernetes.io/version"]);
        expect(Object.keys(standardLabels(withoutVersion))).toHaveLength(5);
    });
});

describe("childName", () => {
    it("joins the parent name and the suffix with a dash", () => {
        expect(childName("observability-prometheus", "rules")).toBe("observability-prometheus-rules");
    });

    it("returns the parent name itself when there is no suffix", () => {
        expect(childName("grafana")).toBe("grafana");
    });

    it.each([
        ["uppercase letters", "Prometheus", undefined, 'resource name "Prometheus"'],
        ["an underscore", "prom", "rule_files", 'resource name "prom-rule_files"'],
        ["a trailing dash", "prom", "x-", 'resource name "prom-x-"'],
        ["a leading dash", "-prom", undefined, 'resource name "-prom"'],
        ["more than 63 characters", "a".repeat(60), "long", `resource name "${"a".repeat(60)}-long"`],
    ])("rejects a name with %s, quoting the name and what a DNS label allows", (_what, parent, suffix, quoted) => {
        expect(() => childName(parent, suffix)).toThrow(quoted);
        expect(() => childName(parent, suffix)).toThrow("expected a DNS label (lowercase letters, digits, '-', at most 63 characters)");
    });

    it("accepts a name of exactly 63 characters", () => {
        expect(childName("a".repeat(63))).toHaveLength(63);
    });
});

describe("secureContainer", () => {
    it("applies every restricted security field by default", () => {
        const c = secureContainer(container());
        expect(c.securityContext).toEqual({
            allowPrivilegeEscalation: false,
            privileged: false,
            readOnlyRootFilesystem: true,
            runAsNonRoot: true,
            capabilities: { drop: ["ALL"] },
            seccompProfile: { type: "RuntimeDefault" },
        });
    });

    it("copies requests and limits into the container's resources", () => {
        const c = secureContainer(container());
        expect(c.resources).toEqual(RESOURCES);
        expect(c.resources).not.toBe(RESOURCES);
    });

    it("keeps the image, probes and other container fields it was given", () => {
        const c = secureContainer(container({ args: ["--web.enable-lifecycle"], ports: [{ name: "http", containerPort: 9090 }] }));
        expect(c).toMatchObject({
            name: "prometheus",
            image: IMAGES.prometheus,
            args: ["--web.enable-lifecycle"],
            ports: [{ name: "http", containerPort: 9090 }],
            livenessProbe: PROBE,
            readinessProbe: { httpGet: { path: "/-/ready", port: 9090 } },
        });
        expect(c).not.toHaveProperty("runAsUser");
    });

    it("sets a container-level UID when one is given, still non-root", () => {
        const c = secureContainer(container({ runAsUser: 472 }));
        expect(c.securityContext).toMatchObject({ runAsUser: 472, runAsNonRoot: true });
    });

    it("refuses a container without a liveness probe, naming the container", () => {
        const { livenessProbe: _l, ...noLiveness } = container();
        expect(() => secureContainer(noLiveness)).toThrow('container "prometheus": expected livenessProbe and readinessProbe');
    });

    it("refuses a container without a readiness probe, naming the container", () => {
        const { readinessProbe: _r, ...noReadiness } = container({ name: "reloader" });
        expect(() => secureContainer(noReadiness)).toThrow('container "reloader": expected livenessProbe and readinessProbe');
    });
});

describe("securePodSpec", () => {
    const base = { containers: [secureContainer(container())] };

    it("does not mount a service account token unless the workload talks to the API server", () => {
        expect(securePodSpec(base).automountServiceAccountToken).toBe(false);
        expect(securePodSpec({ ...base, talksToApiServer: false }).automountServiceAccountToken).toBe(false);
        expect(securePodSpec({ ...base, talksToApiServer: true }).automountServiceAccountToken).toBe(true);
    });

    it("runs the pod as the fixed non-root UID and GID with seccomp RuntimeDefault", () => {
        const spec = securePodSpec(base);
        expect(DEFAULT_UID).toBeGreaterThan(0);
        expect(spec.securityContext).toEqual({
            runAsNonRoot: true,
            runAsUser: DEFAULT_UID,
            runAsGroup: DEFAULT_UID,
            fsGroup: DEFAULT_UID,
            fsGroupChangePolicy: "OnRootMismatch",
            seccompProfile: { type: "RuntimeDefault" },
        });
    });

    it("uses the given uid and fsGroup instead of the default", () => {
        expect(securePodSpec({ ...base, uid: 472, fsGroup: 1000 }).securityContext).toMatchObject({ runAsUser: 472, runAsGroup: 472, fsGroup: 1000 });
    });

    it("shares neither the host network nor the host PID namespace by default", () => {
        const spec = securePodSpec(base);
        expect(spec).not.toHaveProperty("hostNetwork");
        expect(spec).not.toHaveProperty("hostPID");
        expect(spec.enableServiceLinks).toBe(false);
    });

    it("keeps its helper-only arguments out of the Kubernetes pod spec", () => {
        const spec = securePodSpec({ ...base, talksToApiServer: true, uid: 472, fsGroup: 1000 });
        expect(spec).not.toHaveProperty("talksToApiServer");
        expect(spec).not.toHaveProperty("uid");
        expect(spec).not.toHaveProperty("fsGroup");
        expect(spec.containers).toBe(base.containers);
    });
});

describe("SecurityExceptions", () => {
    const restricted = restrictedSecurityContext();
    const restrictedPod = securePodSpec({ containers: [] });

    /** Fields of `actual` that differ from `baseline` (top level), as a sorted list. */
    const changedFields = (baseline: object, actual: object) =>
        [...new Set([...Object.keys(baseline), ...Object.keys(actual)])]
            .filter((k) => JSON.stringify((baseline as any)[k]) !== JSON.stringify((actual as any)[k]))
            .sort();

    it("writableRootFilesystem loosens only readOnlyRootFilesystem", () => {
        const sc = restrictedSecurityContext({ writableRootFilesystem: "grafana writes plugins to /var/lib/grafana" });
        expect(changedFields(restricted, sc)).toEqual(["readOnlyRootFilesystem"]);
        expect(sc.readOnlyRootFilesystem).toBe(false);
        expect(changedFields(restrictedPod, securePodSpec({ containers: [] }, { writableRootFilesystem: "x" }))).toEqual([]);
    });

    it("runAsRoot loosens only the non-root settings and runs as UID 0", () => {
        const ex = { runAsRoot: "the image's entrypoint chowns its data directory" };
        const sc = restrictedSecurityContext(ex);
        expect(changedFields(restricted, sc)).toEqual(["runAsNonRoot", "runAsUser"]);
        expect(sc).toMatchObject({ runAsNonRoot: false, runAsUser: 0 });
        const pod = securePodSpec({ containers: [] }, ex);
        expect(changedFields(restrictedPod, pod)).toEqual(["securityContext"]);
        expect(pod.securityContext).toEqual({
            runAsNonRoot: false,
            fsGroup: DEFAULT_UID,
            fsGroupChangePolicy: "OnRootMismatch",
            seccompProfile: { type: "RuntimeDefault" },
        });
    });

    it("runAsRoot wins over a container-level UID", () => {
        expect(restrictedSecurityContext({ runAsRoot: "reason" }, 472).runAsUser).toBe(0);
    });

    it("addCapabilities adds back exactly the named capabilities while still dropping ALL", () => {
        const sc = restrictedSecurityContext({ addCapabilities: { names: ["NET_BIND_SERVICE"], reason: "binds port 80" } });
        expect(changedFields(restricted, sc)).toEqual(["capabilities"]);
        expect(sc.capabilities).toEqual({ drop: ["ALL"], add: ["NET_BIND_SERVICE"] });
    });

    it("hostNetwork loosens only the pod's network namespace and DNS policy", () => {
        const pod = securePodSpec({ containers: [] }, { hostNetwork: "node-exporter reports the host's interfaces" });
        expect(changedFields(restrictedPod, pod)).toEqual(["dnsPolicy", "hostNetwork"]);
        expect(pod).toMatchObject({ hostNetwork: true, dnsPolicy: "ClusterFirstWithHostNet" });
        expect(changedFields(restricted, restrictedSecurityContext({ hostNetwork: "x" }))).toEqual([]);
    });

    it("hostPID loosens only the pod's PID namespace", () => {
        const pod = securePodSpec({ containers: [] }, { hostPID: "node-exporter reads /proc of the host" });
        expect(changedFields(restrictedPod, pod)).toEqual(["hostPID"]);
        expect(pod.hostPID).toBe(true);
        expect(changedFields(restricted, restrictedSecurityContext({ hostPID: "x" }))).toEqual([]);
    });

    it("secureContainer passes its exceptions through to the container's security context", () => {
        const c = secureContainer(container(), { writableRootFilesystem: "needs /tmp in the root filesystem" });
        expect(changedFields(restricted, c.securityContext as object)).toEqual(["readOnlyRootFilesystem"]);
    });

    it("exceptionAnnotations records each exception with its reason, and nothing for none", () => {
        const exceptions: SecurityExceptions = {
            hostNetwork: "node-exporter reports the host's interfaces",
            hostPID: "node-exporter reads /proc of the host",
            addCapabilities: { names: ["SYS_TIME", "NET_ADMIN"], reason: "timex collector" },
        };
        expect(exceptionAnnotations(exceptions)).toEqual({
            "observability.pulumi.com/security-exception.hostNetwork": "node-exporter reports the host's interfaces",
            "observability.pulumi.com/security-exception.hostPID": "node-exporter reads /proc of the host",
            "observability.pulumi.com/security-exception.addCapabilities": "SYS_TIME,NET_ADMIN: timex collector",
        });
        expect(exceptionAnnotations({})).toEqual({});
        expect(exceptionAnnotations({ runAsRoot: undefined })).toEqual({});
    });
});

describe("images", () => {
    it.each(Object.entries(IMAGES))("pins %s to an exact version or digest, never latest", (_name, image) => {
        expect(image).not.toMatch(/:latest$/);
        const digest = /@sha256:[a-f0-9]{64}$/.test(image);
        const lastSegment = image.slice(image.lastIndexOf("/") + 1);
        const tag = lastSegment.includes(":") ? lastSegment.slice(lastSegment.indexOf(":") + 1) : undefined;
        expect(digest || (tag !== undefined && /^v?\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?$/.test(tag))).toBe(true);
        expect(image).toMatch(/^[a-z0-9.-]+\.[a-z]+\//); // explicit registry: no implicit docker.io
    });

    it("imageFor returns the pinned default unless the config overrides it", () => {
        expect(imageFor("grafana")).toBe(IMAGES.grafana);
        expect(imageFor("grafana", "registry.example.com/grafana/grafana:12.1.1")).toBe("registry.example.com/grafana/grafana:12.1.1");
    });

    it("versionOf returns the tag of a tagged image", () => {
        expect(versionOf("quay.io/prometheus/prometheus:v2.53.5")).toBe("v2.53.5");
        expect(versionOf(IMAGES.grafana)).toBe("13.2.3");
    });

    it("versionOf ignores a registry port and reads the tag after the last colon", () => {
        expect(versionOf("registry.local:5000/prom/prometheus:v2.53.5")).toBe("v2.53.5");
    });

    it("versionOf returns the first 12 hex digits of a digest, which fit a label value", () => {
        const hex = "0123456789abcdef".repeat(4);
        expect(versionOf(`quay.io/prometheus/prometheus@sha256:${hex}`)).toBe("0123456789ab");
        expect(versionOf(`quay.io/prometheus/prometheus:v2.53.5@sha256:${hex}`)).toBe("0123456789ab");
    });

    it("versionOf turns a tag into a valid label value", () => {
        const v = versionOf(`example.com/app:${"1.2.3+build".padEnd(100, "x")}`);
        expect(v).toMatch(/^[A-Za-z0-9_.-]{1,63}$/);
        expect(v.startsWith("1.2.3-build")).toBe(true);
    });
});

describe("podDisruptionBudget (under mocks)", () => {
    const labels = standardLabels({ name: "alertmanager", instance: "am", component: "alerting" });
    const podLabels = selectorLabels({ name: "alertmanager", instance: "am" });

    it("creates no budget for a single replica, where it would only block node drains", async () => {
        const pdb = podDisruptionBudget("am-single", { namespace: "monitoring", podLabels, labels, replicas: 1 }, {});
        expect(pdb).toBeUndefined();
        // A resource declared afterwards has settled, so one declared by the call would have too.
        await settled(defaultDenyIngress("after-am-single", "monitoring", {}, {}).urn);
        expect(recorded("after-am-single")).toHaveLength(1);
        expect(recorded("am-single")).toEqual([]);
        expect(mockRun.resources.filter((r) => r.type === "kubernetes:policy/v1:PodDisruptionBudget" && r.inputs.metadata?.name === "am-single")).toEqual([]);
    });

    it("creates a named budget allowing one pod down for two replicas", async () => {
        const pdb = podDisruptionBudget("am-pdb", { namespace: "monitoring", podLabels, labels, replicas: 2 }, {});
        expect(pdb).toBeDefined();
        await settled(pdb!.urn);
        const [rec, ...more] = recorded("am-pdb");
        expect(more).toEqual([]);
        expect(rec).toMatchObject({
            type: "kubernetes:policy/v1:PodDisruptionBudget",
            custom: true,
            inputs: {
                apiVersion: "policy/v1",
                kind: "PodDisruptionBudget",
                metadata: { name: "am-pdb", namespace: "monitoring", labels },
                spec: { maxUnavailable: 1, selector: { matchLabels: podLabels } },
            },
        });
    });

    it("honours a larger maxUnavailable", async () => {
        const pdb = podDisruptionBudget("am-pdb-3", { namespace: "monitoring", podLabels, labels, replicas: 5, maxUnavailable: 2 }, {});
        await settled(pdb!.urn);
        expect(recorded("am-pdb-3")[0]!.inputs.spec.maxUnavailable).toBe(2);
    });
});

describe("network policy helpers (under mocks)", () => {
    it("defaultDenyIngress selects every pod of the namespace and admits nothing", async () => {
        const np = defaultDenyIngress("ns-deny", "monitoring", { a: "b" }, {});
        await settled(np.urn);
        const [rec] = recorded("ns-deny");
        expect(rec!.type).toBe("kubernetes:networking.k8s.io/v1:NetworkPolicy");
        expect(rec!.inputs.metadata).toEqual({ name: "default-deny-ingress", namespace: "monitoring", labels: { a: "b" } });
        expect(rec!.inputs.spec).toEqual({ podSelector: {}, policyTypes: ["Ingress"] });
    });

    it("workloadNetworkPolicy admits exactly the named flows, on TCP unless told otherwise", async () => {
        const podLabels = selectorLabels({ name: "prometheus", instance: "p" });
        const grafana = selectorLabels({ name: "grafana", instance: "g" });
        const np = workloadNetworkPolicy(
            "p-ingress",
            {
                namespace: "monitoring",
                podLabels,
                labels: { x: "y" },
                ingress: [
                    { description: "grafana queries", from: [{ podLabels: grafana }], ports: [{ port: 9090 }] },
                    { description: "ingress controller", from: [{ namespace: "ingress-nginx" }], ports: [{ port: "http", protocol: "UDP" }] },
                ],
            },
            {},
        );
        await settled(np.urn);
        const spec = recorded("p-ingress")[0]!.inputs.spec;
        expect(spec).toEqual({
            podSelector: { matchLabels: podLabels },
            policyTypes: ["Ingress"],
            ingress: [
                { from: [{ podSelector: { matchLabels: grafana } }], ports: [{ port: 9090, protocol: "TCP" }] },
                {
                    from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ingress-nginx" } } }],
                    ports: [{ port: "http", protocol: "UDP" }],
                },
            ],
        });
        expect(recorded("p-ingress")[0]!.inputs.metadata.annotations).toEqual({ "observability.pulumi.com/flows": "grafana queries; ingress controller" });
    });
});

describe("host mounts", () => {
    const hostVolume = { name: "proc", hostPath: { path: "/proc", type: "Directory" } };

    it("refuses a hostPath volume without a reasoned hostPath exception, naming the volume", () => {
        expect(() => securePodSpec({ containers: [], volumes: [hostVolume] })).toThrow(/hostPath volumes \(proc\): expected a hostPath security exception/);
    });

    it("accepts a hostPath volume with a hostPath exception and records its reason", () => {
        const exceptions = { hostPath: "reads node statistics from /proc" };
        expect(securePodSpec({ containers: [], volumes: [hostVolume] }, exceptions).volumes).toEqual([hostVolume]);
        expect(Object.values(exceptionAnnotations(exceptions))).toEqual(["reads node statistics from /proc"]);
    });

    it("keeps a dnsPolicy the caller chose even with host networking", () => {
        expect(securePodSpec({ containers: [], dnsPolicy: "Default" }, { hostNetwork: "why" }).dnsPolicy).toBe("Default");
        expect(securePodSpec({ containers: [] }, { hostNetwork: "why" }).dnsPolicy).toBe("ClusterFirstWithHostNet");
    });
});
