/**
 * The prod stack's life through the real engine on the local control plane (issue: every step
 * of a stack's life through the real CLI): up with HA replicas, volumes, PDBs, anti-affinity,
 * ingress and every receiver kind; focused diffs of the changes users make; a change that needs
 * a replacement; bad input; destroy.
 */
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import type { K8sObject } from "../../scripts/lib/manifests";
import { LocalCluster, projectDir, readEvents } from "../support/cluster";
import { claimsIn, expectedClaims, liveObjects, must, refusedPods, renderStack, renderedVsLive, unreadyWorkloads } from "../support/lifecycle";
import { objectKey } from "../support/live-compare";
import { ROOT } from "../support/program";
import { makeTempDir, runRender } from "../support/render";

const STACK = "prod";
const cluster = new LocalCluster(30200);
const project = projectDir(STACK);
const work = makeTempDir("obs-prod-lifecycle");
/** Secret values set with `pulumi config set --secret`; none may ever be printed. */
const SECRETS: Record<string, string> = {
    pagerdutyRoutingKey: "pd0123456789abcdef0123456789abcd",
    slackWebhookUrl: "https://hooks.slack.invalid/services/T000/B000/prod-secret-1",
    smtpPassword: "smtp-secret-password-2",
    teamsWebhookUrl: "https://teams.invalid/webhook/prod-secret-3",
    heartbeatUrl: "https://heartbeat.invalid/ping/prod-secret-4",
};
let rendered: K8sObject[] = [];

function stackFile(): { config: Record<string, any> } {
    return yaml.load(fs.readFileSync(path.join(project, `Pulumi.${STACK}.yaml`), "utf8")) as { config: Record<string, any> };
}

/** Runs fn with the project's stack file changed by `change`, restoring it afterwards. */
function withStackChange<T>(change: (config: Record<string, any>) => void, fn: () => T): T {
    const file = path.join(project, `Pulumi.${STACK}.yaml`);
    const original = fs.readFileSync(file, "utf8");
    const doc = stackFile();
    change(doc.config);
    fs.writeFileSync(file, yaml.dump(doc, { lineWidth: -1 }));
    try {
        return fn();
    } finally {
        fs.writeFileSync(file, original);
    }
}

interface Step {
    op: string;
    type: string;
    name: string;
}

/** `pulumi preview` steps other than "same", from the engine's events. */
function previewSteps(label: string): { steps: Step[]; output: string; status: number | null } {
    const events = path.join(work, `preview-${label}.jsonl`);
    const r = cluster.stack(["preview", "--stack", STACK, "--cwd", project, "--json", events]);
    const steps = readEvents(events)
        .map((e) => e.resourcePreEvent?.metadata)
        .filter((m) => m && m.op !== "same")
        .map((m) => ({ op: m.op as string, type: m.type as string, name: String(m.urn).split("::").pop()! }));
    return { steps, output: r.stdout + r.stderr, status: r.status };
}

const short = (s: Step) => `${s.op} ${s.type.replace(/^kubernetes:[^:]+:/, "")} ${s.name}`;
const REPLACING = ["replace", "create-replacement", "delete-replaced", "delete", "discard", "create"];

beforeAll(() => {
    rendered = renderStack(STACK).objects;

    cluster.up();
    must(cluster.pulumi(["stack", "init", STACK], project), "pulumi stack init");
    for (const [k, v] of Object.entries(SECRETS)) must(cluster.pulumi(["config", "set", "--secret", k, v, "--stack", STACK], project), `pulumi config set --secret ${k}`);
}, 600_000);

afterAll(() => {
    cluster.down();
});

describe("prod through the real engine: up", () => {
    it("pulumi up --yes succeeds, printing no secret", () => {
        const r = cluster.stack(["up", "--stack", STACK, "--cwd", project]);
        must(r, "pulumi up");
        for (const v of Object.values(SECRETS)) expect(r.stdout + r.stderr).not.toContain(v);
    }, 900_000);

    it("holds every rendered object with the rendered spec, HA replicas ready, every claim bound", () => {
        expect(renderedVsLive(cluster, rendered)).toEqual([]);
        expect(unreadyWorkloads(cluster, rendered)).toEqual([]);
        const sts = Object.fromEntries(cluster.getJson(["statefulsets.apps", "-n", "monitoring"]).items.map((s: any) => [s.metadata.name, `${s.status.readyReplicas}/${s.spec.replicas}`]));
        expect(sts).toMatchObject({ prometheus: "2/2", alertmanager: "3/3" });
        expect(expectedClaims(rendered)).toBeGreaterThanOrEqual(7);
        expect(claimsIn(cluster, ["monitoring"])).toEqual({ count: expectedClaims(rendered), unbound: [] });
    });

    it("has PodDisruptionBudgets and zone/host anti-affinity accepted for the replicated workloads", () => {
        const pdbs = cluster.getJson(["pdb", "-n", "monitoring"]).items.map((p: any) => p.metadata.name).sort();
        expect(pdbs).toEqual(expect.arrayContaining(["alertmanager", "prometheus", "otel-collector-gateway"]));
        for (const name of ["prometheus", "alertmanager"]) {
            const s = cluster.getJson(["statefulset.apps", "-n", "monitoring", name]);
            expect([name, s.spec.template.spec.affinity?.podAntiAffinity]).toEqual([name, expect.anything()]);
            // Replicas landed on distinct fake nodes.
            const nodes = cluster.getJson(["pods", "-n", "monitoring", "-l", `app.kubernetes.io/name=${name}`]).items.map((p: any) => p.spec.nodeName);
            expect(new Set(nodes).size).toBe(nodes.length);
        }
    });

    it("had no pod refused by PodSecurity, and only the README's host-access agents need more than restricted", () => {
        expect(refusedPods(cluster, ["monitoring", "monitoring-agents"])).toEqual([]);
        const ns = Object.fromEntries(cluster.getJson(["namespaces"]).items.map((n: any) => [n.metadata.name, n.metadata.labels?.["pod-security.kubernetes.io/enforce"]]));
        expect(ns).toMatchObject({ monitoring: "restricted", "monitoring-agents": "privileged" });
        const agents = ["daemonsets.apps", "deployments.apps", "statefulsets.apps"]
            .flatMap((k) => cluster.getJson([k, "-n", "monitoring-agents"]).items.map((w: any) => w.metadata.name))
            .sort();
        const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
        const section = readme.slice(readme.indexOf("### Host access of node-level agents"), readme.indexOf("### Network flows"));
        const listed = [...new Set([...section.matchAll(/^\| ([a-z-]+) \|/gm)].map((m) => m[1]!).filter((w) => w !== "workload"))].sort();
        expect(agents).toEqual(listed);
    });

    it("previews no change straight after up", () => {
        const { steps, status, output } = previewSteps("after-up");
        expect([status, output.includes("error:") ? output : ""]).toEqual([0, ""]);
        expect(steps.map(short)).toEqual([]);
    }, 300_000);
});

describe("prod through the real engine: focused diffs", () => {
    // Each change: the steps it must show, and nothing else. No step may replace or delete.
    const cases: [string, (c: Record<string, any>) => void, string[]][] = [
        ["a retention", (c) => (c["observability:prometheus"] = { ...(c["observability:prometheus"] ?? {}), retention: "45d" }), ["update StatefulSet prometheus"]],
        [
            "an alert threshold",
            (c) => (c["observability:alerting"] = { api: { errorRatioCritical: { threshold: 0.2 } } }),
            ["update ConfigMap prometheus-rules", "update StatefulSet prometheus"],
        ],
        [
            "an SLO objective (rules and the SLO dashboard)",
            (c) => (c["observability:slos"] = [{ name: "api-availability", kind: "availability", objective: 0.995, window: "30d" }]),
            ["update ConfigMap grafana-dashboard-slo", "update ConfigMap prometheus-rules", "update StatefulSet prometheus"],
        ],
        [
            "a receiver",
            (c) => (c["observability:receivers"] = c["observability:receivers"].map((r: any) => (r.kind === "slack" ? { ...r, channel: "#alerts-prod" } : r))),
            ["update ConfigMap alertmanager-config", "update StatefulSet alertmanager"],
        ],
        ["a replica count", (c) => (c["observability:collector"] = { gateway: { replicas: 3 } }), ["update Deployment otel-collector-gateway"]],
        ["an image tag", (c) => (c["observability:kubeStateMetrics"] = { image: "registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.15.1" }), ["update Deployment kube-state-metrics"]],
    ];

    it.each(cases)("%s previews as in-place updates of what reads it, nothing replaced", (_label, change, expected) => {
        const { steps, status, output } = withStackChange(change, () => previewSteps(_label.replace(/\W+/g, "-")));
        expect([status, status === 0 ? "" : output.slice(-3000)]).toEqual([0, ""]);
        expect(steps.filter((s) => REPLACING.includes(s.op)).map(short)).toEqual([]);
        // Everything it touches is an update; what must change is among it.
        const updated = steps.map(short);
        expect(updated).toEqual(expect.arrayContaining(expected));
        expect(steps.every((s) => s.op === "update")).toBe(true);
    }, 300_000);

    it("a new volume size replaces only that StatefulSet (delete first), keeps its claims, as the README documents", () => {
        const size = "150Gi";
        const { steps, status } = withStackChange(
            (c) => (c["observability:prometheus"] = { ...(c["observability:prometheus"] ?? {}), storage: { size } }),
            () => previewSteps("volume-size"),
        );
        expect(status).toBe(0);
        expect(steps.map(short).sort()).toEqual(["create-replacement StatefulSet prometheus", "delete-replaced StatefulSet prometheus", "replace StatefulSet prometheus"]);
        const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
        expect(readme).toMatch(/volumeClaimTemplates[\s\S]{0,600}deleteBeforeReplace[\s\S]{0,600}kubectl patch pvc/);
        expect(readme).toContain("kubectl patch pvc");
    }, 300_000);
});

describe("prod through the real engine: bad input", () => {
    /** A second stack of the same project and config (environment prod), with the secrets given. */
    function otherStack(name: string, secrets: Record<string, string>): string {
        const other = projectDir(STACK);
        fs.renameSync(path.join(other, `Pulumi.${STACK}.yaml`), path.join(other, `Pulumi.${name}.yaml`));
        must(cluster.pulumi(["stack", "init", name], other), "pulumi stack init");
        must(cluster.pulumi(["config", "set", "environment", "prod", "--stack", name], other), "pulumi config set environment");
        for (const [k, v] of Object.entries(secrets)) must(cluster.pulumi(["config", "set", "--secret", k, v, "--stack", name], other), "config set --secret");
        return other;
    }

    it("a missing secret stops preview before any resource, printing the exact command and no secret", () => {
        const { teamsWebhookUrl: _omitted, ...rest } = SECRETS;
        const other = otherStack("prod-missing", rest);
        const events = path.join(work, "missing.jsonl");
        const r = cluster.stack(["preview", "--stack", "prod-missing", "--cwd", other, "--json", events]);
        expect(r.status).toBe(1);
        expect(r.stderr).toContain("run `pulumi config set --secret teamsWebhookUrl <value> --stack prod-missing`");
        // A RunError: the message alone, no "unhandled exception" preamble or stack trace.
        expect(r.stderr).not.toMatch(/unhandled exception|    at /i);
        for (const v of Object.values(SECRETS)) expect(r.stdout + r.stderr).not.toContain(v);
        const registered = readEvents(events).filter((e) => e.resourcePreEvent && e.resourcePreEvent.metadata.type !== "pulumi:pulumi:Stack");
        expect(registered).toEqual([]);
    }, 300_000);

    it("a stack whose cluster is unreachable fails with a message that says so", () => {
        const other = otherStack("prod-unreachable", SECRETS);
        const kubeconfig = path.join(work, "unreachable.kubeconfig");
        // The same credentials, a port where nothing listens.
        fs.writeFileSync(kubeconfig, fs.readFileSync(cluster.env.KUBECONFIG!, "utf8").replace(/server: https:\/\/127\.0\.0\.1:\d+/, "server: https://127.0.0.1:1"));
        const saved = cluster.env.KUBECONFIG!;
        cluster.env.KUBECONFIG = kubeconfig;
        try {
            const r = cluster.stack(["up", "--stack", "prod-unreachable", "--cwd", other], 300_000);
            expect(r.status).toBe(1);
            expect(r.stderr).toMatch(/unreachable/i);
            expect(r.stderr).toContain("127.0.0.1:1");
            for (const v of Object.values(SECRETS)) expect(r.stdout + r.stderr).not.toContain(v);
        } finally {
            cluster.env.KUBECONFIG = saved;
        }
    }, 300_000);

    it("an invalid value prints the message the offline render prints", () => {
        const change = (c: Record<string, any>) => (c["observability:prometheus"] = { ...(c["observability:prometheus"] ?? {}), retention: "10x" });
        const { output, status, steps } = withStackChange(change, () => previewSteps("invalid"));
        expect(status).toBe(1);
        expect(steps).toEqual([]);
        const renderDir = makeTempDir("obs-invalid-render");
        withStackChange(change, () => fs.copyFileSync(path.join(project, `Pulumi.${STACK}.yaml`), path.join(renderDir, `Pulumi.${STACK}.yaml`)));
        const rr = runRender(["--stack", STACK, "--stack-dir", renderDir, "--out", path.join(renderDir, "out")]);
        expect(rr.status).toBe(1);
        const message = 'observability:prometheus.retention = "10x": expected a duration such as 15d or 12h';
        expect(rr.stderr).toContain(message);
        expect(output).toContain(message);
        expect(output).not.toMatch(/unhandled exception|    at /i);
    }, 300_000);

});

describe("prod through the real engine: destroy", () => {
    let claimsBefore: Record<string, string> = {};
    const claims = (): Record<string, string> =>
        Object.fromEntries(cluster.getJson(["pvc", "-A"]).items.map((c: any) => [`${c.metadata.namespace}/${c.metadata.name}`, `${c.spec.volumeName} ${c.status.phase}`]));

    it("pulumi destroy --yes leaves only the monitoring namespace and its volumes, as the README says", () => {
        claimsBefore = claims();
        expect(Object.keys(claimsBefore).length).toBeGreaterThanOrEqual(7);
        must(cluster.stack(["destroy", "--stack", STACK, "--cwd", project]), "pulumi destroy");
        const state = JSON.parse(must(cluster.pulumi(["stack", "export", "--stack", STACK], project), "pulumi stack export"));
        expect(state.deployment.resources ?? []).toEqual([]);
        const live = liveObjects(cluster, rendered);
        // Left: the namespace holding the volumes, and the claims the program declares itself.
        expect(rendered.map(objectKey).filter((k) => live.has(k))).toEqual(["Namespace /monitoring", "PersistentVolumeClaim monitoring/grafana-data"]);
        expect(claims()).toEqual(claimsBefore);
        const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
        expect(readme).toContain("kubectl delete namespace monitoring");
    }, 900_000);

    it("a pulumi up after destroy mounts the retained volumes again; the README's command removes them", () => {
        must(cluster.stack(["up", "--stack", STACK, "--cwd", project]), "pulumi up after destroy");
        expect(claims()).toEqual(claimsBefore);
        must(cluster.stack(["destroy", "--stack", STACK, "--cwd", project]), "pulumi destroy");
        must(cluster.kubectl(["delete", "namespace", "monitoring", "--wait=true", "--timeout=120s"]), "kubectl delete namespace monitoring");
        expect(claims()).toEqual({});
    }, 900_000);
});
