/**
 * The Elasticsearch variant through the real engine on the local control plane: a staging stack
 * (the HA profile) with the Elasticsearch log backend, Kibana, Jaeger storing its traces in
 * Elasticsearch, and the transport CA and node certificate from the tls provider (the local
 * stand-in, scripts/local-providers/tls.js: README, "pulumi up for real"). It renders, ups with
 * every rendered object live and ready, holds a node certificate that verifies against its CA,
 * previews empty and destroys down to what the README says is retained.
 *
 * Secrets are compared by their keys only: the render holds mock values and the generated
 * passwords and certificates differ by value (test/support/live-compare.ts); the certificates
 * are checked on their own below.
 */
import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import type { K8sObject } from "../../scripts/lib/manifests";
import { LocalCluster, projectDir } from "../support/cluster";
import { claimsIn, expectedClaims, liveObjects, must, refusedPods, renderStack, renderedVsLive, unreadyWorkloads } from "../support/lifecycle";
import { objectKey } from "../support/live-compare";
import { makeTempDir } from "../support/render";

const STACK = "staging";
const NS = "monitoring";
const cluster = new LocalCluster(30800);
const SECRETS: Record<string, string> = {
    pagerdutyRoutingKey: "pd-staging-es-0123456789abcdef0123",
    slackWebhookUrl: "https://hooks.slack.invalid/services/T000/B000/staging-es-1",
    smtpPassword: "smtp-staging-es-2",
    teamsWebhookUrl: "https://teams.invalid/webhook/staging-es-3",
    heartbeatUrl: "https://heartbeat.invalid/ping/staging-es-4",
};
// One engine run may take minutes on a loaded machine; jest's limit stays above the command's.
const RUN_MS = 840_000;
const TEST_MS = 900_000;
let project = "";
let rendered: K8sObject[] = [];

const named = (kind: string, name: string) => rendered.find((o) => o.kind === kind && o.metadata.name === name) as any;
const secretData = (name: string): Record<string, string> =>
    Object.fromEntries(Object.entries(cluster.getJson(["secret", "-n", NS, name]).data as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, "base64").toString()]));

beforeAll(() => {
    // The prod stack file as a staging stack with the Elasticsearch backend (Kibana comes with it).
    project = projectDir("prod", {
        "observability:environment": "staging",
        "observability:clusterName": "staging-es",
        "observability:logs": { backend: "elasticsearch" },
        "observability:tracing": { jaeger: { storageBackend: "elasticsearch" } },
    });
    fs.renameSync(path.join(project, "Pulumi.prod.yaml"), path.join(project, `Pulumi.${STACK}.yaml`));
    rendered = renderStack(STACK, project).objects;
    cluster.up();
    must(cluster.pulumi(["stack", "init", STACK], project), "pulumi stack init");
    for (const [k, v] of Object.entries(SECRETS)) must(cluster.pulumi(["config", "set", "--secret", k, v, "--stack", STACK], project), `config set --secret ${k}`);
}, TEST_MS);

afterAll(() => {
    cluster.down();
});

describe("staging with Elasticsearch and Kibana, through the real engine", () => {
    it("renders Elasticsearch, Kibana and the transport TLS Secret instead of Loki", () => {
        expect(named("StatefulSet", "elasticsearch").spec.replicas).toBeGreaterThanOrEqual(3);
        expect(named("Deployment", "elasticsearch-kibana")).toBeDefined();
        expect(rendered.filter((o) => o.kind === "Job" && o.metadata.name?.startsWith("elasticsearch-setup-"))).toHaveLength(1);
        expect(named("CronJob", "elasticsearch-jaeger-retention")).toBeDefined();
        expect(Object.keys(named("Secret", "elasticsearch-transport-tls").stringData ?? named("Secret", "elasticsearch-transport-tls").data).sort()).toEqual(["ca.crt", "tls.crt", "tls.key"]);
        expect(rendered.filter((o) => o.metadata.name?.startsWith("loki"))).toEqual([]);
    });

    it("ups with every rendered object live with its spec, ready, its claims bound, printing no secret", () => {
        const r = cluster.stack(["up", "--stack", STACK, "--cwd", project], RUN_MS);
        must(r, "pulumi up");
        const printed = r.stdout + r.stderr;
        for (const v of Object.values(SECRETS)) expect(printed).not.toContain(v);
        expect(printed).not.toMatch(/BEGIN (RSA |EC |OPENSSH )?PRIVATE KEY/);
        expect(renderedVsLive(cluster, rendered)).toEqual([]);
        expect(unreadyWorkloads(cluster, rendered)).toEqual([]);
        expect(claimsIn(cluster, [NS])).toEqual({ count: expectedClaims(rendered), unbound: [] });
        expect(refusedPods(cluster, [NS, "monitoring-agents"])).toEqual([]);
        // `pulumi up` waited for the setup Job (users, roles, kibana_system's password).
        const job = rendered.find((o) => o.kind === "Job" && o.metadata.name?.startsWith("elasticsearch-setup-"))!;
        expect(cluster.getJson(["job", "-n", NS, job.metadata.name!]).status.succeeded).toBeGreaterThanOrEqual(1);
    }, TEST_MS);

    it("holds a node certificate for the StatefulSet's names that openssl verifies against the CA beside it", () => {
        const tlsData = secretData("elasticsearch-transport-tls");
        const dir = makeTempDir("obs-es-tls");
        try {
            fs.chmodSync(dir, 0o700);
            for (const k of ["ca.crt", "tls.crt"]) fs.writeFileSync(path.join(dir, k), tlsData[k]);
            const verify = spawnSync("openssl", ["verify", "-x509_strict", "-purpose", "sslserver", "-CAfile", "ca.crt", "tls.crt"], { cwd: dir, encoding: "utf8" });
            if (verify.error) throw new Error(`openssl: ${verify.error.message}; install it with: apt-get install openssl`);
            expect(`${verify.stdout}${verify.stderr}`).toBe("tls.crt: OK\n");
            expect(spawnSync("openssl", ["verify", "-purpose", "sslclient", "-CAfile", "ca.crt", "tls.crt"], { cwd: dir, encoding: "utf8" }).status).toBe(0);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
        const ca = new crypto.X509Certificate(tlsData["ca.crt"]);
        const node = new crypto.X509Certificate(tlsData["tls.crt"]);
        expect(ca.ca).toBe(true);
        expect(node.ca).toBe(false);
        expect(ca.subject).toBe("O=observability-stack\nCN=staging-es elasticsearch transport CA");
        expect(node.issuer).toBe(ca.subject);
        expect(node.subjectAltName).toBe(`DNS:*.elasticsearch-headless.${NS}.svc, DNS:*.elasticsearch-headless.${NS}.svc.cluster.local, DNS:elasticsearch.${NS}.svc`);
        expect(node.checkPrivateKey(crypto.createPrivateKey(tlsData["tls.key"]))).toBe(true);
        expect(node.checkIssued(ca)).toBe(true);
        expect(ca.checkIssued(node)).toBe(false);
        // Two years for the node, ten for the CA, as the component asks.
        expect(Date.parse(node.validTo) - Date.parse(node.validFrom)).toBe(2 * 8760 * 3600_000);
        expect(Date.parse(ca.validTo) - Date.parse(ca.validFrom)).toBe(10 * 8760 * 3600_000);
        // The StatefulSet mounts exactly this Secret.
        const sts = cluster.getJson(["statefulset", "-n", NS, "elasticsearch"]);
        expect(sts.spec.template.spec.volumes.find((v: any) => v.name === "transport-tls").secret.secretName).toBe("elasticsearch-transport-tls");
    });

    it("previews no change after up", () => {
        must(cluster.stack(["preview", "--stack", STACK, "--cwd", project, "--expect-no-changes"], RUN_MS), "pulumi preview --expect-no-changes");
    }, TEST_MS);

    it("destroys everything but the monitoring namespace and its claims", () => {
        must(cluster.stack(["destroy", "--stack", STACK, "--cwd", project], RUN_MS), "pulumi destroy");
        const live = liveObjects(cluster, rendered);
        const retained = rendered.filter((o) => (o.kind === "Namespace" && o.metadata.name === NS) || o.kind === "PersistentVolumeClaim").map(objectKey);
        expect(rendered.map(objectKey).filter((k) => live.has(k))).toEqual(retained);
        expect(retained).toContain(`Namespace /${NS}`);
        // The StatefulSets' claims (Elasticsearch's data among them) stay with the namespace.
        const claims = cluster.getJson(["pvc", "-n", NS]).items.map((c: any) => c.metadata.name);
        expect(claims.filter((c: string) => /-elasticsearch-\d+$/.test(c))).toHaveLength(named("StatefulSet", "elasticsearch").spec.replicas);
        expect(claims).toHaveLength(expectedClaims(rendered));
        // The state holds nothing: the tls resources were deleted through the provider too.
        const state = JSON.parse(must(cluster.pulumi(["stack", "export", "--stack", STACK], project), "pulumi stack export"));
        expect(state.deployment.resources ?? []).toEqual([]);
        must(cluster.kubectl(["delete", "namespace", NS, "--wait=true", "--timeout=120s"]), `kubectl delete namespace ${NS}`);
    }, TEST_MS);
});
