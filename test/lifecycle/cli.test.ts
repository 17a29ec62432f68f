/**
 * The plain Pulumi CLI, as users and the pull-request workflow run it: `pulumi up`,
 * `pulumi preview --policy-pack policy` and scripts/pr-preview.sh in a project directory, the
 * program loaded by the Node.js language host (built by scripts/build-go-tools.js beside the
 * CLI), against the local control plane. Shown:
 *  - `pulumi up --policy-pack policy` creates the dev stack with the CrossGuard pack passing, and
 *    `pulumi preview --expect-no-changes` passes after it;
 *  - the pack passes for the prod stack too (every shipped stack);
 *  - a program that breaks mandatory policies (an untagged image, a privileged container, no
 *    resource limits, no NetworkPolicy) is refused by the CLI with the policies' messages, before
 *    anything exists;
 *  - the pull-request preview (scripts/pr-preview.sh, the steps .github/workflows/preview.yml
 *    runs) of a real change writes the comment users see: the resources that change, the policy
 *    verdict, the diff, the rendered-manifest diff, and no secret value.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { LocalCluster, projectDir } from "../support/cluster";
import { must } from "../support/lifecycle";
import { ROOT } from "../support/program";
import { makeTempDir } from "../support/render";

const cluster = new LocalCluster(30600);
const POLICY = path.join(ROOT, "policy");
const SLACK = "https://hooks.slack.invalid/services/T000/B000/cli-secret-0";
const PROD_SECRETS: Record<string, string> = {
    pagerdutyRoutingKey: "pd0123456789abcdef0123456789cli1",
    slackWebhookUrl: "https://hooks.slack.invalid/services/T000/B000/cli-secret-1",
    smtpPassword: "smtp-cli-secret-2",
    teamsWebhookUrl: "https://teams.invalid/webhook/cli-secret-3",
    heartbeatUrl: "https://heartbeat.invalid/ping/cli-secret-4",
};
const dev = projectDir("dev");
const work = makeTempDir("obs-cli");

function stackConfig(dir: string, stack: string): { config: Record<string, any> } {
    return yaml.load(fs.readFileSync(path.join(dir, `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, any> };
}

/** Copies of the repository's tracked files (as they are in the work tree), for base/head renders. */
function checkout(name: string): string {
    const dir = path.join(work, name);
    const files = spawnSync("git", ["ls-files", "-z"], { cwd: ROOT, encoding: "utf8" }).stdout.split("\0").filter(Boolean);
    expect(files.length).toBeGreaterThan(100);
    for (const f of files) {
        if (!fs.existsSync(path.join(ROOT, f))) continue; // deleted in the work tree
        fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
        fs.copyFileSync(path.join(ROOT, f), path.join(dir, f));
    }
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"));
    return dir;
}

beforeAll(() => {
    cluster.up();
    must(cluster.pulumi(["stack", "init", "dev"], dev), "pulumi stack init");
    must(cluster.pulumi(["config", "set", "--secret", "slackWebhookUrl", SLACK, "--stack", "dev"], dev), "pulumi config set --secret");
}, 600_000);

afterAll(() => {
    cluster.down();
});

describe("the plain Pulumi CLI with the language host and the policy pack", () => {
    // First, while the cluster is empty: two stacks of one cluster would share the monitoring
    // namespace, and the API server's dry run would merge prod's objects into dev's.
    it("passes the policy pack for the prod stack", () => {
        const prod = projectDir("prod");
        must(cluster.pulumi(["stack", "init", "prod"], prod), "pulumi stack init prod");
        for (const [k, v] of Object.entries(PROD_SECRETS)) must(cluster.pulumi(["config", "set", "--secret", k, v, "--stack", "prod"], prod), `config set --secret ${k}`);
        const r = cluster.pulumi(["preview", "--stack", "prod", "--policy-pack", POLICY, "--color", "never"], prod, 600_000);
        must(r, "pulumi preview --policy-pack policy (prod)");
        expect(r.stdout).toContain("✅ observability-policies@v0.1.0");
        expect(r.stdout).toMatch(/\+ \d+ to create/);
        for (const v of Object.values(PROD_SECRETS)) expect(r.stdout + r.stderr).not.toContain(v);
    }, 600_000);

    it("pulumi up --policy-pack policy creates the dev stack with every policy passing", () => {
        const r = cluster.pulumi(["up", "--yes", "--stack", "dev", "--policy-pack", POLICY, "--color", "never"], dev, 900_000);
        must(r, "pulumi up --policy-pack policy");
        expect(r.stdout).toMatch(/Policies:\s*\n\s*✅ observability-policies@v0\.1\.0 \(local: [^)]*policy\)/);
        expect(r.stdout).toMatch(/Resources:\s*\n\s*\+ \d+ created/);
        expect(r.stdout).not.toContain(SLACK);
        // The objects are in the API server: the program really ran through the CLI.
        const sts = cluster.getJson(["statefulsets", "-n", "monitoring"]).items.map((i: any) => i.metadata.name);
        expect(sts).toEqual(expect.arrayContaining(["alertmanager", "prometheus"]));
    }, 900_000);

    it("pulumi preview --expect-no-changes --policy-pack policy passes after it", () => {
        const r = cluster.pulumi(["preview", "--expect-no-changes", "--stack", "dev", "--policy-pack", POLICY, "--color", "never"], dev, 600_000);
        must(r, "pulumi preview --expect-no-changes");
        expect(r.stdout).toContain("✅ observability-policies@v0.1.0");
    }, 600_000);

    it("refuses a program that breaks mandatory policies, with the policies' messages", () => {
        // What a platform engineer's extension could declare: an untagged image, a privileged
        // container without limits, in the restricted monitoring namespace.
        const bad = makeTempDir("obs-cli-bad");
        fs.writeFileSync(path.join(bad, "Pulumi.yaml"), "name: policy-breaker\nruntime: nodejs\n");
        // @pulumi/policy reads the version it reports from the package.json of the directory the
        // CLI runs in (the project's), as with the upstream language host.
        fs.writeFileSync(path.join(bad, "package.json"), JSON.stringify({ name: "policy-breaker", version: "1.0.0", main: "index.js" }));
        fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(bad, "node_modules"));
        fs.writeFileSync(
            path.join(bad, "index.js"),
            `const k8s = require("@pulumi/kubernetes");
new k8s.apps.v1.Deployment("debug-shell", {
    metadata: { name: "debug-shell", namespace: "monitoring" },
    spec: {
        selector: { matchLabels: { app: "debug-shell" } },
        template: {
            metadata: { labels: { app: "debug-shell" } },
            spec: { containers: [{ name: "shell", image: "busybox", securityContext: { privileged: true } }] },
        },
    },
});
`,
        );
        must(cluster.pulumi(["stack", "init", "bad"], bad), "pulumi stack init bad");
        const r = cluster.pulumi(["preview", "--stack", "bad", "--policy-pack", POLICY, "--color", "never"], bad, 300_000);
        const out = r.stdout + r.stderr;
        expect(r.status).not.toBe(0);
        expect(out).toMatch(/❌ observability-policies@v\S+ \(local: [^)]*policy\)/);
        const violated = [...out.matchAll(/\[mandatory\] \[severity: \w+\]\s+([a-z0-9-]+)\s+\(kubernetes:apps\/v1:Deployment: debug-shell\)/g)].map((m) => m[1]);
        expect([...new Set(violated)].sort()).toEqual(["container-requests-and-limits", "network-policy-per-workload", "pinned-container-images", "restricted-pod-security"]);
        expect(out).toContain('container "shell": securityContext.privileged must not be true');
        expect(out).toContain('container "shell": image "busybox" has no tag (pulls latest); pin it to a version tag or digest');
        // The pull-request comment of such a change says so.
        const md = path.join(work, "preview-bad.md");
        const pr = spawnSync("bash", [path.join(ROOT, "scripts", "pr-preview.sh"), "pulumi-preview", "bad", md], { cwd: bad, env: cluster.env, encoding: "utf8", timeout: 300_000 });
        expect(pr.status).toBe(1);
        const comment = fs.readFileSync(md, "utf8");
        expect(comment).toContain("### `pulumi preview` of `bad` failed (exit 1)");
        expect(comment).toContain(
            "Policy pack `policy/`: violated (container-requests-and-limits, network-policy-per-workload, pinned-container-images, restricted-pod-security).",
        );
        expect(comment).toContain('pinned-container-images (kubernetes:apps/v1:Deployment: debug-shell): Deployment monitoring/debug-shell: container "shell": image "busybox" has no tag');
        // Nothing was created.
        const deployments = cluster.getJson(["deployments", "-n", "monitoring"]).items.map((i: any) => i.metadata.name);
        expect(deployments).not.toContain("debug-shell");
    }, 300_000);
});

describe("the pull-request preview (scripts/pr-preview.sh, as preview.yml runs it)", () => {
    // The pull request: a tighter critical error-ratio threshold and a longer retention for dev.
    const change = (config: Record<string, any>) => {
        config["observability:alerting"] = { api: { errorRatioCritical: { threshold: 0.2 } } };
        config["observability:prometheus"] = { ...(config["observability:prometheus"] ?? {}), retention: "21d" };
    };

    it("writes the pulumi preview comment naming the changed resources, with the policy verdict", () => {
        const doc = stackConfig(dev, "dev");
        change(doc.config);
        fs.writeFileSync(path.join(dev, "Pulumi.dev.yaml"), yaml.dump(doc, { lineWidth: -1 }));

        const out = path.join(work, "preview-dev.md");
        const r = spawnSync("bash", [path.join(ROOT, "scripts", "pr-preview.sh"), "pulumi-preview", "dev", out], {
            cwd: dev,
            env: cluster.env,
            encoding: "utf8",
            timeout: 600_000,
        });
        expect([r.status, r.stderr.slice(-2000)]).toEqual([0, ""]);
        const md = fs.readFileSync(out, "utf8");
        expect(md.split("\n")[0]).toBe("<!-- observability-pulumi-preview:dev -->");
        expect(md).toMatch(/^### `pulumi preview` of `dev`: ~ 5 to update, \d+ unchanged$/m);
        expect(md).toContain("Policy pack `policy/`: passed.");
        // The table names exactly the resources the change touches: the rules, the two dashboards
        // that state the error-rate thresholds (descriptions and threshold steps), prometheus.yml
        // (retention lives there since Prometheus 3) and Prometheus (its config checksums).
        const rows = md.split("\n").filter((l) => /^\| `/.test(l));
        expect(rows.sort()).toEqual(
            [
                "| `~` update | `kubernetes:core/v1:ConfigMap` | `grafana-dashboard-api-performance` |",
                "| `~` update | `kubernetes:core/v1:ConfigMap` | `grafana-dashboard-system-overview` |",
                "| `~` update | `kubernetes:core/v1:ConfigMap` | `prometheus-config` |",
                "| `~` update | `kubernetes:apps/v1:StatefulSet` | `prometheus` |",
                "| `~` update | `kubernetes:core/v1:ConfigMap` | `prometheus-rules` |",
            ].sort(),
        );
        // Then the CLI's own diff, from its first changed resource (cut at 30 kB; the retention's
        // new value is shown by the render diff below).
        expect(md).toMatch(/<details><summary>full diff<\/summary>\n\n```diff\nPreviewing update \(dev\):\n[\s\S]*~ kubernetes:core\/v1:ConfigMap: \(update\)/);
        expect(md).not.toContain(SLACK);
    }, 600_000);

    it("writes the rendered-manifest diff of base and head", () => {
        const base = checkout("base");
        const head = checkout("head");
        const doc = stackConfig(head, "dev");
        change(doc.config);
        fs.writeFileSync(path.join(head, "Pulumi.dev.yaml"), yaml.dump(doc, { lineWidth: -1 }));

        const out = path.join(work, "render-diff");
        const r = spawnSync("bash", [path.join(ROOT, "scripts", "pr-preview.sh"), "render-diff", base, head, out, "dev"], {
            cwd: ROOT,
            encoding: "utf8",
            timeout: 600_000,
        });
        expect([r.status, r.stdout.match(/::warning::.*/g)]).toEqual([0, null]);
        const md = fs.readFileSync(path.join(out, "comment.md"), "utf8");
        expect(md.split("\n")[0]).toBe("<!-- observability-render-diff -->");
        expect(md).toMatch(/<summary><b>dev<\/b>: \d+ changed lines<\/summary>/);
        const diff = fs.readFileSync(path.join(out, "diff-dev.txt"), "utf8");
        expect(diff).toMatch(/^\+.*\b21d\b/m);
        // The alert rule file carries the new threshold.
        expect(diff).toMatch(/^\+.*> 0\.2\b/m);
        expect(md).not.toContain(SLACK);
    }, 900_000);
});
