/**
 * A variant users will make, through the real engine on the local control plane: a staging
 * stack (the HA profile) with remote write to a long-term store (its bearer token a secret),
 * probe targets and Loki on object storage. It renders, ups with every rendered object live and
 * ready, previews empty and destroys. (The Elasticsearch variant, with the tls stand-in's
 * certificates, is elasticsearch.test.ts.)
 */
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import type { K8sObject } from "../../scripts/lib/manifests";
import { LocalCluster, projectDir } from "../support/cluster";
import { claimsIn, expectedClaims, liveObjects, must, refusedPods, renderStack, renderedVsLive, unreadyWorkloads } from "../support/lifecycle";
import { objectKey } from "../support/live-compare";

const STACK = "staging";
const cluster = new LocalCluster(30400);
const SECRETS: Record<string, string> = {
    pagerdutyRoutingKey: "pd-staging-0123456789abcdef012345",
    slackWebhookUrl: "https://hooks.slack.invalid/services/T000/B000/staging-1",
    smtpPassword: "smtp-staging-2",
    teamsWebhookUrl: "https://teams.invalid/webhook/staging-3",
    heartbeatUrl: "https://heartbeat.invalid/ping/staging-4",
    mimirToken: "mimir-bearer-token-staging-5",
};
let project = "";
let rendered: K8sObject[] = [];

beforeAll(() => {
    // The prod stack file as a staging stack, plus the variant's settings.
    project = projectDir("prod", {
        "observability:environment": "staging",
        "observability:clusterName": "staging",
        "observability:prometheus": { remoteWrite: [{ name: "mimir", url: "https://mimir.example.com/api/v1/push", bearerTokenSecret: "mimirToken" }] },
        "observability:probes": { targets: [{ name: "api", url: "https://api.example.com/health" }, { name: "db", url: "tcp://db.example.com:5432" }] },
        "observability:logs": { backend: "loki", objectStorage: { kind: "s3", bucket: "observability-logs", region: "eu-west-1" } },
    });
    fs.renameSync(path.join(project, "Pulumi.prod.yaml"), path.join(project, `Pulumi.${STACK}.yaml`));
    rendered = renderStack(STACK, project).objects;
    cluster.up();
    must(cluster.pulumi(["stack", "init", STACK], project), "pulumi stack init");
    for (const [k, v] of Object.entries(SECRETS)) must(cluster.pulumi(["config", "set", "--secret", k, v, "--stack", STACK], project), `config set --secret ${k}`);
}, 600_000);

afterAll(() => {
    cluster.down();
});

describe("staging with remote write, probe targets and Loki object storage, through the real engine", () => {
    it("renders what the variant asks for", () => {
        const prometheusConfig = rendered.find((o) => o.kind === "ConfigMap" && o.metadata.name === "prometheus-config") as any;
        expect(JSON.stringify(prometheusConfig.data)).toContain("https://mimir.example.com/api/v1/push");
        const loki = rendered.find((o) => o.kind === "ConfigMap" && o.metadata.name?.startsWith("loki")) as any;
        expect(JSON.stringify(loki.data)).toContain("observability-logs");
        expect(rendered.some((o) => o.kind === "Secret" && o.metadata.name === "prometheus-remote-write")).toBe(true);
        const stackDoc = yaml.load(fs.readFileSync(path.join(project, `Pulumi.${STACK}.yaml`), "utf8")) as any;
        expect(stackDoc.config["observability:environment"]).toBe("staging");
    });

    it("ups with every rendered object live with its spec, ready, its claims bound, printing no secret", () => {
        const r = cluster.stack(["up", "--stack", STACK, "--cwd", project]);
        must(r, "pulumi up");
        for (const v of Object.values(SECRETS)) expect(r.stdout + r.stderr).not.toContain(v);
        expect(renderedVsLive(cluster, rendered)).toEqual([]);
        expect(unreadyWorkloads(cluster, rendered)).toEqual([]);
        expect(claimsIn(cluster, ["monitoring"])).toEqual({ count: expectedClaims(rendered), unbound: [] });
        expect(refusedPods(cluster, ["monitoring", "monitoring-agents"])).toEqual([]);
        // The token reached the cluster only as a Secret key, never in the config.
        const tokenSecret = cluster.getJson(["secret", "-n", "monitoring", "prometheus-remote-write"]);
        expect(Object.values(tokenSecret.data).map((v) => Buffer.from(String(v), "base64").toString())).toContain(SECRETS.mimirToken);
        const config = cluster.getJson(["configmap", "-n", "monitoring", "prometheus-config"]);
        expect(JSON.stringify(config.data)).not.toContain(SECRETS.mimirToken);
    }, 900_000);

    it("previews no change after up", () => {
        must(cluster.stack(["preview", "--stack", STACK, "--cwd", project, "--expect-no-changes"]), "pulumi preview --expect-no-changes");
    }, 300_000);

    it("destroys everything but the monitoring namespace and its claims", () => {
        must(cluster.stack(["destroy", "--stack", STACK, "--cwd", project]), "pulumi destroy");
        const live = liveObjects(cluster, rendered);
        expect(rendered.map(objectKey).filter((k) => live.has(k))).toEqual(["Namespace /monitoring", "PersistentVolumeClaim monitoring/grafana-data"]);
        must(cluster.kubectl(["delete", "namespace", "monitoring", "--wait=true", "--timeout=120s"]), "kubectl delete namespace monitoring");
    }, 900_000);
});
