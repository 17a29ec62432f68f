/**
 * Upgrading a running stack to the current version pins (docs/upgrading.md), through the plain
 * Pulumi CLI on the local control plane: the prod stack is created by the program as it was
 * before the move to current releases (commit UPGRADE_FROM: Prometheus 2.53.5, Alertmanager
 * 0.28.1, Grafana 12.1.0, Loki 3.5.0, node-exporter 1.9.1, kube-state-metrics 2.15.0, ...), then
 * `pulumi preview` of today's program and stack file on that state must show the upgrade as
 * in-place updates (rolling updates of the workloads, new config in ConfigMaps): no StatefulSet,
 * claim, Namespace, Secret or generated password replaced or deleted.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { LocalCluster } from "../support/cluster";
import { must } from "../support/lifecycle";
import { ROOT } from "../support/program";
import { makeTempDir } from "../support/render";

/** The last commit with the old pins (see docs/upgrading.md, "From"). */
const UPGRADE_FROM = "f93b095";
const STACK = "prod";
const SECRETS: Record<string, string> = {
    pagerdutyRoutingKey: "pd0123456789abcdef0123456789upg1",
    slackWebhookUrl: "https://hooks.slack.invalid/services/T000/B000/upgrade-secret-1",
    smtpPassword: "smtp-upgrade-secret-2",
    teamsWebhookUrl: "https://teams.invalid/webhook/upgrade-secret-3",
    heartbeatUrl: "https://heartbeat.invalid/ping/upgrade-secret-4",
};
const cluster = new LocalCluster(31000);
const work = makeTempDir("obs-upgrade");
const project = path.join(work, "project");
const old = path.join(work, "old");

/** Pulumi.yaml and Pulumi.prod.yaml of `source` (a checkout), with the program at `source`. */
function useProgram(source: string): void {
    const pulumiYaml = fs.readFileSync(path.join(source, "Pulumi.yaml"), "utf8");
    fs.writeFileSync(path.join(project, "Pulumi.yaml"), `${pulumiYaml.trimEnd()}\nmain: ${source}\n`);
    const settings = fs.readFileSync(path.join(source, `Pulumi.${STACK}.yaml`), "utf8");
    fs.writeFileSync(path.join(project, `Pulumi.${STACK}.yaml`), settings);
}

interface Step {
    op: string;
    type: string;
    name: string;
}

beforeAll(() => {
    // The program as it was: the tracked files of UPGRADE_FROM, with today's node_modules (the
    // npm dependencies the program uses did not change with the pins).
    fs.mkdirSync(old, { recursive: true });
    const archive = spawnSync("bash", ["-c", `git -C "${ROOT}" archive ${UPGRADE_FROM} | tar -x -C "${old}"`], { encoding: "utf8" });
    if (archive.status !== 0) throw new Error(`git archive ${UPGRADE_FROM} failed (a clone without history?): ${archive.stderr}`);
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(old, "node_modules"));
    fs.mkdirSync(project);
    useProgram(old);
    cluster.up();
}, 600_000);

afterAll(() => {
    cluster.down();
});

describe("upgrading a running prod stack to the current pins", () => {
    it("creates the stack with the old pins", () => {
        must(cluster.pulumi(["stack", "init", STACK], project), "pulumi stack init");
        for (const [k, v] of Object.entries(SECRETS)) must(cluster.pulumi(["config", "set", "--secret", k, v, "--stack", STACK], project), `config set --secret ${k}`);
        must(cluster.pulumi(["up", "--yes", "--stack", STACK, "--color", "never"], project, 1_200_000), "pulumi up (old pins)");
        const sts = cluster.getJson(["statefulset", "prometheus", "-n", "monitoring"]);
        expect(sts.spec.template.spec.containers.find((c: any) => c.name === "prometheus").image).toBe("quay.io/prometheus/prometheus:v2.53.5");
    }, 1_200_000);

    it("previews today's program on it as in-place updates: nothing replaced or deleted", () => {
        // Today's program and stack file on the same state. The stack's passphrase salt stays
        // (the state's secrets are encrypted with it) and the secrets are set again.
        const before = fs.readFileSync(path.join(project, `Pulumi.${STACK}.yaml`), "utf8");
        const salt = before.match(/^encryptionsalt: .*$/m)?.[0];
        expect(salt).toBeDefined();
        useProgram(ROOT);
        fs.appendFileSync(path.join(project, `Pulumi.${STACK}.yaml`), `${salt}\n`);
        for (const [k, v] of Object.entries(SECRETS)) must(cluster.pulumi(["config", "set", "--secret", k, v, "--stack", STACK], project), `config set --secret ${k}`);

        const r = cluster.pulumi(["preview", "--json", "--stack", STACK], project, 900_000);
        must(r, "pulumi preview --json (current pins)");
        const preview = JSON.parse(r.stdout);
        const steps: Step[] = (preview.steps ?? [])
            .filter((s: any) => s.op !== "same")
            .map((s: any) => ({ op: s.op, type: String(s.urn).split("::")[2]!.split("$").pop()!, name: String(s.urn).split("::").pop()! }));
        const short = (s: Step) => `${s.op} ${s.type.replace(/^kubernetes:[^:]+:/, "")} ${s.name}`;

        // Nothing replaced, nothing deleted.
        expect(steps.filter((s) => !["update", "create"].includes(s.op)).map(short)).toEqual([]);
        // Every workload whose image moved rolls in place.
        const updated = steps.filter((s) => s.op === "update").map(short);
        fs.writeFileSync(path.join(work, "upgrade-steps.txt"), `${updated.join("\n")}\n`);
        expect(updated).toEqual(
            expect.arrayContaining([
                "update StatefulSet prometheus",
                "update StatefulSet alertmanager",
                "update StatefulSet loki",
                "update Deployment grafana",
                "update Deployment kube-state-metrics",
                "update Deployment blackbox-exporter",
                "update DaemonSet node-exporter",
                // Teams through msteamsv2_configs.
                "update ConfigMap alertmanager-config",
            ]),
        );
        // No password is regenerated: random resources are untouched.
        expect(steps.filter((s) => s.type.startsWith("random:")).map(short)).toEqual([]);
        // Whatever is new is listed here, so a new object is a reviewed decision.
        expect(steps.filter((s) => s.op === "create").map(short)).toEqual([]);
    }, 900_000);
});
