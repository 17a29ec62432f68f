/**
 * npm run bench -- up: what `pulumi up` costs with the real engine on the local control plane
 * (scripts/cluster.sh), for dev and prod, median of 3 runs each of
 *   - `up` from an empty stack (create everything),
 *   - `preview` with no change,
 *   - `up` of one ConfigMap change (an alert threshold: the rules ConfigMap and a rolling
 *     update of Prometheus),
 * next to the offline render of the same stack. Wall time of the whole command (program
 * evaluation, engine, provider, API server); kwok makes pods ready at once, so a real cluster
 * adds image pulls and start-up. Timings on a shared 2-core machine are noisy: medians only.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { LocalCluster, projectDir } from "../test/support/cluster";

const ROOT = path.resolve(__dirname, "..");
const RUNS = Number(process.env.BENCH_UP_RUNS ?? 3);
const SECRETS: Record<string, Record<string, string>> = {
    dev: { slackWebhookUrl: "https://hooks.slack.invalid/bench" },
    prod: {
        pagerdutyRoutingKey: "bench0123456789abcdef0123456789ab",
        slackWebhookUrl: "https://hooks.slack.invalid/bench",
        smtpPassword: "bench-password",
        teamsWebhookUrl: "https://teams.invalid/bench",
        heartbeatUrl: "https://heartbeat.invalid/bench",
    },
};

function median(xs: number[]): number {
    const s = [...xs].sort((a, b) => a - b);
    const m = Math.floor(s.length / 2);
    return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function timed(what: string, run: () => { status: number | null; stdout: string; stderr: string }): number {
    const t0 = process.hrtime.bigint();
    const r = run();
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r.status !== 0) throw new Error(`${what} failed:\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
    return s;
}

function benchStack(stack: string, portBase: number): Record<string, number> {
    const cluster = new LocalCluster(portBase);
    const project = projectDir(stack);
    const file = path.join(project, `Pulumi.${stack}.yaml`);
    let original = fs.readFileSync(file, "utf8");
    const times: Record<string, number[]> = { render: [], create: [], preview: [], change: [] };
    try {
        for (let i = 0; i < RUNS; i++) {
            const out = fs.mkdtempSync(path.join(cluster.dir, "render-"));
            times.render!.push(timed("render", () => spawnSync(process.execPath, [path.join(ROOT, "scripts", "render.js"), "--stack", stack, "--out", out], { cwd: ROOT, encoding: "utf8" })));
        }
        cluster.up();
        const init = cluster.pulumi(["stack", "init", stack], project);
        if (init.status !== 0) throw new Error(init.stderr);
        for (const [k, v] of Object.entries(SECRETS[stack]!)) cluster.pulumi(["config", "set", "--secret", k, v, "--stack", stack], project);
        // The secrets (and the passphrase salt) are in the stack file now.
        original = fs.readFileSync(file, "utf8");
        for (let i = 0; i < RUNS; i++) {
            fs.writeFileSync(file, original);
            times.create!.push(timed("up", () => cluster.stack(["up", "--stack", stack, "--cwd", project])));
            times.preview!.push(timed("preview", () => cluster.stack(["preview", "--stack", stack, "--cwd", project, "--expect-no-changes"])));
            const doc = yaml.load(original) as { config: Record<string, unknown> };
            doc.config["observability:alerting"] = { api: { errorRatioCritical: { threshold: 0.2 + i / 100 } } };
            fs.writeFileSync(file, yaml.dump(doc, { lineWidth: -1 }));
            times.change!.push(timed("up (one ConfigMap)", () => cluster.stack(["up", "--stack", stack, "--cwd", project])));
            fs.writeFileSync(file, original);
            timed("destroy", () => cluster.stack(["destroy", "--stack", stack, "--cwd", project]));
            // prod keeps its volumes' namespace on destroy (README "Destroy"): back to empty.
            cluster.kubectl(["delete", "namespace", "monitoring", "--ignore-not-found", "--wait=true", "--timeout=120s"]);
            console.log(`  ${stack} run ${i + 1}/${RUNS}: up ${times.create!.at(-1)!.toFixed(1)} s, preview ${times.preview!.at(-1)!.toFixed(1)} s, change ${times.change!.at(-1)!.toFixed(1)} s`);
        }
    } finally {
        fs.writeFileSync(file, original);
        cluster.down();
    }
    return Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
}

const results: Record<string, Record<string, number>> = {};
results.dev = benchStack("dev", 30600);
results.prod = benchStack("prod", 30700);
console.log(`\npulumi up on the local control plane, median of ${RUNS} (seconds, wall):\n`);
console.log("| stack | offline render | up (create) | preview (no change) | up (one ConfigMap change) |");
console.log("|---|---|---|---|---|");
for (const [s, r] of Object.entries(results)) {
    console.log(`| ${s} | ${r.render!.toFixed(1)} | ${r.create!.toFixed(1)} | ${r.preview!.toFixed(1)} | ${r.change!.toFixed(1)} |`);
}
