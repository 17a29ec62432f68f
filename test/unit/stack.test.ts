/**
 * The stack's wiring under Pulumi mocks: the real index.ts, run with the real Pulumi.<stack>.yaml
 * config, every registration recorded. Other components join the stack over time, so these
 * tests pin the namespaces and their default-deny policies exactly but never the total count.
 */
import { readStackConfig } from "../../scripts/lib/stack-files";
import type { RecordedResource } from "../../scripts/lib/mock-runtime";
import { kubernetesRecords, ProgramRun, ROOT, runProgram } from "../support/program";

const NAMESPACE = "kubernetes:core/v1:Namespace";
const NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy";

async function runStack(stack: string, overrides: Record<string, string> = {}): Promise<ProgramRun> {
    const cfg = readStackConfig(ROOT, stack);
    return runProgram(cfg.project, cfg.stack, { ...cfg.config, ...overrides }, cfg.secretKeys);
}

const ofType = (rs: readonly RecordedResource[], type: string) => rs.filter((r) => r.type === type);

describe.each(["dev", "prod"])("the %s stack under mocks", (stack) => {
    let run: ProgramRun;
    beforeAll(async () => {
        run = await runStack(stack);
    });

    it("runs the program to completion without an error", () => {
        expect(run.error).toBeUndefined();
        expect(run.resources.length).toBeGreaterThan(0);
    });

    it("registers exactly one ObservabilityStack component named observability", () => {
        const components = ofType(run.resources, "observability:index:ObservabilityStack");
        expect(components).toHaveLength(1);
        expect(components[0]).toMatchObject({ name: "observability", custom: false });
    });

    it("declares exactly the monitoring and monitoring-agents namespaces, with fixed Pulumi names", () => {
        const namespaces = ofType(run.resources, NAMESPACE);
        expect(namespaces.map((n) => [n.name, n.inputs.metadata.name]).sort()).toEqual([
            ["observability-agents", "monitoring-agents"],
            ["observability-monitoring", "monitoring"],
        ]);
    });

    it("enforces Pod Security restricted on the monitoring namespace, with warn and audit restricted", () => {
        const ns = ofType(run.resources, NAMESPACE).find((n) => n.inputs.metadata.name === "monitoring")!;
        expect(ns.inputs.metadata.labels).toMatchObject({
            "pod-security.kubernetes.io/enforce": "restricted",
            "pod-security.kubernetes.io/warn": "restricted",
            "pod-security.kubernetes.io/audit": "restricted",
            "observability.pulumi.com/environment": stack,
        });
    });

    it("lets the agents namespace run privileged pods while warn and audit stay restricted", () => {
        const ns = ofType(run.resources, NAMESPACE).find((n) => n.inputs.metadata.name === "monitoring-agents")!;
        expect(ns.inputs.metadata.labels).toMatchObject({
            "pod-security.kubernetes.io/enforce": "privileged",
            "pod-security.kubernetes.io/warn": "restricted",
            "pod-security.kubernetes.io/audit": "restricted",
        });
    });

    it("denies all ingress by default in each namespace with one empty-selector, ingress-only policy and no rules", () => {
        const denies = ofType(run.resources, NETWORK_POLICY).filter((p) => p.inputs.metadata.name === "default-deny-ingress");
        expect(denies.map((p) => [p.name, p.inputs.metadata.namespace]).sort()).toEqual([
            ["observability-agents-default-deny", "monitoring-agents"],
            ["observability-monitoring-default-deny", "monitoring"],
        ]);
        for (const p of denies) {
            expect(p.inputs.spec.podSelector).toEqual({});
            expect(p.inputs.spec.policyTypes).toEqual(["Ingress"]);
            expect(p.inputs.spec).not.toHaveProperty("ingress");
            expect(p.inputs.spec).not.toHaveProperty("egress");
        }
    });

    it("names every Kubernetes object explicitly, so Pulumi never appends a random suffix", () => {
        const objects = kubernetesRecords(run.resources);
        expect(objects.length).toBeGreaterThanOrEqual(4);
        const unnamed = objects.filter((o) => typeof o.inputs.metadata?.name !== "string" || o.inputs.metadata.name === "");
        expect(unnamed.map((o) => `${o.type} ${o.name}`)).toEqual([]);
    });

    it("registers no two Kubernetes objects with the same kind, namespace and name", () => {
        const keys = kubernetesRecords(run.resources).map((o) => `${o.type} ${o.inputs.metadata?.namespace ?? ""}/${o.inputs.metadata?.name}`);
        expect(keys.filter((k, i) => keys.indexOf(k) !== i)).toEqual([]);
    });

    it("exports the environment, cluster name and both namespace names", () => {
        expect(run.outputs).toMatchObject({
            environment: stack,
            clusterName: stack,
            monitoringNamespace: "monitoring",
            agentsNamespace: "monitoring-agents",
        });
    });
});

describe("an invalid stack config", () => {
    it("makes the program throw a ConfigError naming the key and value before any resource is registered", async () => {
        const run = await runStack("dev", { "observability:prometheus": JSON.stringify({ replicas: -1 }) });
        expect(run.error).toBeInstanceOf(run.ConfigError);
        expect((run.error as Error).name).toBe("ConfigError");
        expect((run.error as Error).message).toContain("observability:prometheus.replicas = -1: expected a whole number of replicas");
        expect(run.resources).toEqual([]);
        expect(run.outputs).toBeUndefined();
    });

    it("reports every problem at once rather than stopping at the first", async () => {
        const run = await runStack("dev", {
            "observability:prometheus": JSON.stringify({ replicas: -1, retention: "10x" }),
        });
        const message = (run.error as Error).message;
        expect(message).toContain("(2 problems)");
        expect(message).toContain("observability:prometheus.replicas = -1");
        expect(message).toContain('observability:prometheus.retention = "10x": expected a duration such as 15d or 12h');
        expect(run.resources).toEqual([]);
    });
});
