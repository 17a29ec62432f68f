/**
 * `pulumi up` for real: the dev stack through the real Pulumi engine (CLI built from the Go
 * module proxy, the Kubernetes provider plugin) against a real kube-apiserver with RBAC and
 * PodSecurity admission, a real controller manager and scheduler, and kwok's fake nodes
 * (scripts/cluster.sh). Shown, in order:
 *  - `up` from empty state succeeds;
 *  - every object of the offline render of the same stack exists in the API server with the
 *    rendered spec (so the render is the real program);
 *  - every Deployment, StatefulSet and DaemonSet has ready replicas equal to desired, every claim
 *    is bound, PodSecurity rejected no pod;
 *  - the stack outputs resolve;
 *  - `preview --expect-no-changes` passes straight after (no perpetual diff);
 *  - `destroy` empties the stack and the API server of the stack's objects;
 *  - `cluster.sh down` leaves no process behind.
 */
import * as path from "path";
import type { K8sObject } from "../../scripts/lib/manifests";
import { LocalCluster, projectDir, readEvents } from "../support/cluster";
import { claimsIn, expectedClaims, liveObjects, must, refusedPods, renderStack, renderedVsLive, unreadyWorkloads } from "../support/lifecycle";
import { objectKey } from "../support/live-compare";
import { makeTempDir } from "../support/render";

const STACK = "dev";
const cluster = new LocalCluster(30000);
const project = projectDir(STACK);
const work = makeTempDir("obs-lifecycle");
let rendered: K8sObject[] = [];
let renderedOutputs: Record<string, unknown> = {};

beforeAll(() => {
    ({ objects: rendered, outputs: renderedOutputs } = renderStack(STACK));

    cluster.up();
    // Plain CLI commands, as a contributor types them after `eval "$(scripts/cluster.sh env)"`.
    must(cluster.pulumi(["stack", "init", STACK], project), "pulumi stack init");
    must(cluster.pulumi(["config", "set", "--secret", "slackWebhookUrl", "https://hooks.slack.invalid/services/T000/B000/local-test", "--stack", STACK], project), "pulumi config set --secret");
}, 600_000);

afterAll(() => {
    cluster.down();
});

describe("the dev stack through the real Pulumi engine on a local control plane", () => {
    it("pulumi up from empty state succeeds", () => {
        const events = path.join(work, "up.jsonl");
        const r = cluster.stack(["up", "--stack", STACK, "--cwd", project, "--json", events]);
        must(r, "pulumi up");
        const created = readEvents(events).filter((e) => e.resOutputsEvent?.metadata?.op === "create");
        // Every rendered Kubernetes object was created by the engine (plus components, providers).
        expect(created.length).toBeGreaterThanOrEqual(rendered.length);
        expect(r.stdout).toMatch(/Resources:\s*\n\s*\+ \d+ created/);
    }, 900_000);

    it("holds every rendered object in the API server with the rendered spec", () => {
        expect(rendered.length).toBeGreaterThan(50);
        expect(renderedVsLive(cluster, rendered)).toEqual([]);
    });

    it("has every workload ready with its desired replicas, every claim bound, no pod refused", () => {
        expect(rendered.filter((o) => ["Deployment", "StatefulSet", "DaemonSet"].includes(o.kind)).length).toBeGreaterThan(5);
        expect(unreadyWorkloads(cluster, rendered)).toEqual([]);
        const namespaces = rendered.filter((o) => o.kind === "Namespace").map((o) => o.metadata.name!);
        expect(namespaces.length).toBeGreaterThan(0);
        // dev keeps its data in emptyDir: no claim (prod.test.ts has them).
        expect(claimsIn(cluster, namespaces)).toEqual({ count: expectedClaims(rendered), unbound: [] });
        expect(refusedPods(cluster, namespaces)).toEqual([]);
    });

    it("binds a claim of the default class and of a named class (the cluster's volume provisioning)", () => {
        const ns = "volume-check";
        const claim = (name: string, cls?: string) => ({
            apiVersion: "v1",
            kind: "PersistentVolumeClaim",
            metadata: { name, namespace: ns },
            spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "5Gi" } }, ...(cls ? { storageClassName: cls } : {}) },
        });
        const docs = [{ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } }, claim("default-class"), claim("named-class", "fast-ssd")];
        must(cluster.kubectl(["apply", "-f", "-"], docs.map((d) => JSON.stringify(d)).join("\n")), "kubectl apply");
        const deadline = Date.now() + 30_000;
        let phases: string[] = [];
        while (Date.now() < deadline) {
            phases = cluster.getJson(["pvc", "-n", ns]).items.map((c: any) => `${c.metadata.name}=${c.status?.phase}`).sort();
            if (phases.every((p) => p.endsWith("=Bound")) && phases.length === 2) break;
            require("child_process").spawnSync("sleep", ["0.5"]);
        }
        expect(phases).toEqual(["default-class=Bound", "named-class=Bound"]);
        expect(cluster.getJson(["pvc", "-n", ns, "default-class"]).spec.storageClassName).toBe("kwok-volume");
        must(cluster.kubectl(["delete", "namespace", ns, "--wait=true", "--timeout=60s"]), "kubectl delete namespace");
    });

    it("resolves the stack outputs, the password as a secret", () => {
        const outs = JSON.parse(must(cluster.stack(["outputs", "--stack", STACK, "--cwd", project]), "stack outputs"));
        expect(Object.keys(outs).sort()).toEqual(Object.keys(renderedOutputs).sort());
        for (const [k, v] of Object.entries(renderedOutputs)) {
            if (k === "grafanaAdminPassword") expect(outs[k]).toBe("[secret]");
            else expect([k, outs[k]]).toEqual([k, v]);
        }
        // The secret itself is in state, encrypted, and shown only on request.
        const shown = must(cluster.pulumi(["stack", "output", "grafanaAdminPassword", "--show-secrets", "--stack", STACK], project), "pulumi stack output");
        expect(shown.trim()).toMatch(/^[A-Za-z0-9]{32}$/);
    });

    it("previews no change straight after up (no perpetual diff)", () => {
        const events = path.join(work, "preview.jsonl");
        const r = cluster.stack(["preview", "--stack", STACK, "--cwd", project, "--expect-no-changes", "--json", events]);
        must(r, "pulumi preview --expect-no-changes");
        const changing = readEvents(events)
            .filter((e) => e.resourcePreEvent && e.resourcePreEvent.metadata.op !== "same")
            .map((e) => `${e.resourcePreEvent.metadata.op} ${e.resourcePreEvent.metadata.urn} ${JSON.stringify(e.resourcePreEvent.metadata.diffs ?? [])}`);
        expect(changing).toEqual([]);
    }, 600_000);

    it("pulumi destroy empties the stack and removes the stack's objects", () => {
        must(cluster.stack(["destroy", "--stack", STACK, "--cwd", project]), "pulumi destroy");
        const state = JSON.parse(must(cluster.pulumi(["stack", "export", "--stack", STACK], project), "pulumi stack export"));
        expect(state.deployment.resources ?? []).toEqual([]);
        const live = liveObjects(cluster, rendered);
        expect(rendered.map(objectKey).filter((k) => live.has(k))).toEqual([]);
    }, 900_000);

    it("cluster.sh down stops what it started and leaves no process behind", () => {
        expect(cluster.status()).toMatch(/kube-apiserver running/);
        expect(cluster.processes().length).toBeGreaterThanOrEqual(5);
        const r = cluster.down();
        expect(r.status).toBe(0);
        expect(cluster.status()).not.toMatch(/running/);
        expect(cluster.processes()).toEqual([]);
    }, 180_000);
});
