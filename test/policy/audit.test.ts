/**
 * `npm run audit`'s checks on hand-made manifests: one deliberately bad render proves that every
 * check can fail, a clean one that none fails for nothing, and the exception cases show when a
 * recorded reason explains a loosening and when it does not.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import { auditObjects, CHECKS, explainedFindings, formatReport, main, parseArgs, unexplainedFindings } from "../../scripts/audit-main";
import { SECURITY_EXCEPTION_ANNOTATION_PREFIX } from "../../components/kube/security";
import type { KubeObject } from "../../policy/checks";
import { daemonSet, deployment, goodPodSpec, LABELS, namespace, networkPolicy, pdb } from "./fixtures";

/** A clean render: a 3-replica Deployment with its NetworkPolicy and PDB, and a quiet DaemonSet. */
function cleanRender(): KubeObject[] {
    return [
        namespace("monitoring", "restricted"),
        networkPolicy("default-deny-ingress", "monitoring", {}),
        networkPolicy("app", "monitoring", { matchLabels: LABELS }),
        pdb("app", "monitoring", { matchLabels: LABELS }),
        deployment({ replicas: 3 }),
    ];
}

/** A render in which every check has something to find. */
function badRender(): KubeObject[] {
    const c = {
        name: "bad",
        image: "example/bad:latest",
        ports: [{ containerPort: 80, hostPort: 8080 }],
        securityContext: {
            runAsNonRoot: false,
            runAsUser: 0,
            allowPrivilegeEscalation: true,
            privileged: true,
            readOnlyRootFilesystem: false,
            capabilities: { add: ["SYS_ADMIN"] },
            seccompProfile: { type: "Unconfined" },
        },
        volumeMounts: [{ name: "docker", mountPath: "/var/run/docker.sock" }],
    };
    const spec = { hostNetwork: true, hostPID: true, hostIPC: true, containers: [c], volumes: [{ name: "docker", hostPath: { path: "/var/run/docker.sock" } }] };
    return [
        namespace("monitoring", "restricted"),
        { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "bad", namespace: "monitoring" } },
        pdb("bad", "monitoring", { matchLabels: { "app.kubernetes.io/name": "bad" } }, { minAvailable: 2 }),
        deployment({ name: "bad", replicas: 2, spread: false, labels: { "app.kubernetes.io/name": "bad" }, spec }),
        deployment({ name: "lonely", replicas: 2, spread: false, labels: { "app.kubernetes.io/name": "lonely" }, spec: { ...goodPodSpec(), automountServiceAccountToken: undefined } }),
    ];
}

describe("the audit's checks", () => {
    it("lists the fifteen checks the table shows, each with its own id", () => {
        expect(CHECKS.map((c) => c.id)).toEqual([
            "resources",
            "image-pinning",
            "non-root",
            "privilege-escalation",
            "read-only-root",
            "privileged",
            "capabilities",
            "host-namespaces",
            "host-mounts",
            "seccomp",
            "probes",
            "network-policy",
            "pdb",
            "spread",
            "service-account-token",
        ]);
    });

    it("find nothing in a clean render", () => {
        const report = auditObjects("clean", cleanRender());
        expect(unexplainedFindings(report).map((f) => `${f.check}: ${f.message}`)).toEqual([]);
        expect(report.results.find((r) => r.check.id === "pdb")!.checked).toBe(1);
    });

    const bad = auditObjects("bad", badRender());
    it.each(CHECKS.map((c) => c.id))("fails the %s check on the deliberately bad render", (id) => {
        const result = bad.results.find((r) => r.check.id === id)!;
        expect(result.findings.filter((f) => f.reason === undefined).length).toBeGreaterThan(0);
    });

    it("names the workload and the field of each violation", () => {
        const messages = unexplainedFindings(bad).map((f) => `${f.workload.id} [${f.check}] ${f.message}`);
        expect(messages).toEqual(
            expect.arrayContaining([
                'Deployment monitoring/bad [resources] container "bad": resources requests.cpu, requests.memory, limits.cpu, limits.memory must be set',
                'Deployment monitoring/bad [image-pinning] container "bad": image "example/bad:latest" is tagged latest; pin it to a version tag or digest',
                'Deployment monitoring/bad [host-mounts] volume "docker" mounts the node\'s /var/run/docker.sock WRITABLE in bad',
                "Deployment monitoring/bad [pdb] PodDisruptionBudget bad allows no voluntary eviction, which blocks node drains",
                "Deployment monitoring/lonely [pdb] 2 replicas and no PodDisruptionBudget selects them",
                "Deployment monitoring/lonely [spread] 2 replicas without pod anti-affinity or topology spread over its own pods",
                "Deployment monitoring/lonely [service-account-token] mounts the token of service account default, which no RoleBinding or ClusterRoleBinding grants anything: set automountServiceAccountToken: false",
            ]),
        );
    });

    it("accepts a mounted token for a service account an RBAC binding grants", () => {
        const objects = cleanRender();
        const app = objects.find((o) => o.kind === "Deployment")!;
        app.spec.template.spec.automountServiceAccountToken = true;
        app.spec.template.spec.serviceAccountName = "app";
        const binding: KubeObject = {
            apiVersion: "rbac.authorization.k8s.io/v1",
            kind: "ClusterRoleBinding",
            metadata: { name: "app" },
            subjects: [{ kind: "ServiceAccount", name: "app", namespace: "monitoring" }],
        };
        expect(unexplainedFindings(auditObjects("x", objects)).map((f) => f.message)).toEqual([expect.stringContaining("service account app")]);
        expect(unexplainedFindings(auditObjects("x", [...objects, binding]))).toEqual([]);
    });

    it("does not ask single-replica workloads, DaemonSets or Jobs for a PDB or spread", () => {
        const objects: KubeObject[] = [
            networkPolicy("all", "monitoring", { matchExpressions: [{ key: "app.kubernetes.io/name", operator: "Exists" }] }),
            deployment({ replicas: 1 }),
            daemonSet(),
            { apiVersion: "batch/v1", kind: "Job", metadata: { name: "j", namespace: "monitoring" }, spec: { template: deployment().spec.template } },
        ];
        const report = auditObjects("x", objects);
        expect(report.results.filter((r) => r.check.scope === "multi-replica workloads").map((r) => r.checked)).toEqual([0, 0]);
        expect(unexplainedFindings(report)).toEqual([]);
    });
});

describe("explained exceptions", () => {
    const hostNetworkReason = "reads the node's interfaces";
    const agent = (ns: string) =>
        daemonSet({
            namespace: ns,
            annotations: { [`${SECURITY_EXCEPTION_ANNOTATION_PREFIX}hostNetwork`]: hostNetworkReason },
            spec: { ...goodPodSpec(), hostNetwork: true },
        });
    const policyFor = (ns: string) => networkPolicy("agent", ns, { matchLabels: LABELS });

    it("explains a loosening recorded on the pod template in a namespace that allows it, with its reason", () => {
        const report = auditObjects("x", [namespace("agents", "privileged"), policyFor("agents"), agent("agents")]);
        expect(unexplainedFindings(report)).toEqual([]);
        expect(explainedFindings(report).map((f) => [f.check, f.exception, f.reason])).toEqual([["host-namespaces", "hostNetwork", hostNetworkReason]]);
        expect(formatReport(report)).toContain(`hostNetwork: ${hostNetworkReason}`);
    });

    it("does not explain the same recorded loosening in a namespace that enforces restricted", () => {
        const report = auditObjects("x", [namespace("monitoring", "restricted"), policyFor("monitoring"), agent("monitoring")]);
        expect(unexplainedFindings(report).map((f) => f.message)).toEqual([
            "pod shares the node's network namespace (hostNetwork: true) (an exception is recorded, but namespace monitoring does not allow it)",
        ]);
    });

    it("does not explain a loosening whose exception is not recorded", () => {
        const bare = daemonSet({ namespace: "agents", spec: { ...goodPodSpec(), hostNetwork: true } });
        const report = auditObjects("x", [namespace("agents", "privileged"), policyFor("agents"), bare]);
        expect(unexplainedFindings(report).map((f) => f.check)).toEqual(["host-namespaces"]);
    });

    it("never explains a loosening no exception field covers, such as hostIPC", () => {
        const ipc = daemonSet({
            namespace: "agents",
            annotations: { [`${SECURITY_EXCEPTION_ANNOTATION_PREFIX}hostNetwork`]: hostNetworkReason },
            spec: { ...goodPodSpec(), hostIPC: true },
        });
        const report = auditObjects("x", [namespace("agents", "privileged"), policyFor("agents"), ipc]);
        expect(unexplainedFindings(report).map((f) => f.message)).toEqual(["pod shares the node's IPC namespace (hostIPC: true)"]);
    });
});

describe("npm run audit", () => {
    let tmp: string;
    let out: jest.SpyInstance;
    let err: jest.SpyInstance;
    beforeEach(() => {
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "audit-test-"));
        out = jest.spyOn(console, "log").mockImplementation(() => undefined);
        err = jest.spyOn(console, "error").mockImplementation(() => undefined);
    });
    afterEach(() => {
        out.mockRestore();
        err.mockRestore();
        fs.rmSync(tmp, { recursive: true, force: true });
    });
    const writeRender = (name: string, objects: KubeObject[]) => {
        const dir = path.join(tmp, name);
        fs.mkdirSync(dir);
        fs.writeFileSync(path.join(dir, "manifests.yaml"), objects.map((o) => `---\n${yaml.dump(o)}`).join(""));
        return dir;
    };
    const printed = () => out.mock.calls.map((c) => c.join(" ")).join("\n");

    it("exits 1 and prints the table and each violation for a render with violations", async () => {
        expect(await main(["--dir", writeRender("bad", badRender())])).toBe(1);
        expect(printed()).toMatch(/requests and limits\s+containers\s+2\s+FAIL \(1 violation\)/);
        expect(printed()).toContain("audit FAILED");
    });

    it("exits 0 for a clean render and says so", async () => {
        expect(await main(["--dir", writeRender("clean", cleanRender())])).toBe(0);
        expect(printed()).toMatch(/PodDisruptionBudget\s+multi-replica workloads\s+1\s+ok/);
        expect(printed()).toContain("audit passed");
    });

    it("exits 2 with a usage message for an unknown argument or a folder without manifests", async () => {
        expect(await main(["--bogus"])).toBe(2);
        expect(await main(["--dir", tmp])).toBe(2);
        expect(err.mock.calls.map((c) => c.join(" "))).toEqual([
            expect.stringContaining('unknown argument "--bogus"'),
            expect.stringContaining("holds no manifests.yaml"),
        ]);
    });

    it("audits dev and prod when given no argument", () => {
        expect(parseArgs([])).toEqual({ stacks: ["dev", "prod"], dirs: [] });
        expect(parseArgs(["--stack=prod", "--dir", "out/dev"])).toEqual({ stacks: ["prod"], dirs: ["out/dev"] });
    });
});
