/**
 * The local control plane (scripts/cluster.sh) and the real Pulumi engine (scripts/stack.js, the
 * Pulumi CLI) for lifecycle tests: start a cluster in a temp dir, run plain `pulumi` and
 * `kubectl` commands and the Automation-API driver against it, stop it.
 *
 * A missing binary fails the test with the command that builds it (never a skip).
 */
import { spawnSync, SpawnSyncReturns } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { ROOT } from "./program";
import { makeTempDir } from "./render";

export const BUILD_COMMAND = "node scripts/build-go-tools.js";
const BIN = path.join(ROOT, ".tools", "bin");
export const CLUSTER_BINARIES = [
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kubectl",
    "kwok",
    "pulumi",
    "pulumi-language-nodejs",
    "pulumi-resource-kubernetes",
];

export interface CommandResult {
    readonly status: number | null;
    readonly stdout: string;
    readonly stderr: string;
}

function result(r: SpawnSyncReturns<string>, what: string): CommandResult {
    if (r.error) throw new Error(`${what}: ${r.error.message}\n${r.stderr ?? ""}`);
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Throws, naming the build command, when a binary the cluster needs is missing. */
export function requireClusterBinaries(binDir = BIN): void {
    const missing = CLUSTER_BINARIES.filter((b) => {
        try {
            fs.accessSync(path.join(binDir, b), fs.constants.X_OK);
            return false;
        } catch {
            return true;
        }
    });
    if (missing.length > 0) {
        throw new Error(
            `missing in ${binDir}: ${missing.join(", ")}.\nBuild them from the repository root (${ROOT}) with:\n    ${BUILD_COMMAND}\n` +
                `(or run every install step: bash scripts/install-test-tools.sh)`,
        );
    }
}

export class LocalCluster {
    readonly dir: string;
    readonly env: Record<string, string>;
    private started = false;
    private readonly ownsDir: boolean;

    constructor(readonly portBase: number, dir?: string) {
        this.ownsDir = dir === undefined;
        this.dir = dir ?? makeTempDir("obs-cluster");
        this.env = { ...(process.env as Record<string, string>), CLUSTER_DIR: this.dir, CLUSTER_PORT_BASE: String(portBase) };
    }

    private script(args: string[], timeoutMs: number): CommandResult {
        return result(
            spawnSync("bash", [path.join(ROOT, "scripts", "cluster.sh"), ...args], { cwd: ROOT, env: this.env, encoding: "utf8", timeout: timeoutMs }),
            `scripts/cluster.sh ${args.join(" ")}`,
        );
    }

    /** `cluster.sh up`, then takes over the variables `cluster.sh env` prints. */
    up(): CommandResult {
        requireClusterBinaries();
        this.started = true;
        const r = this.script(["up"], 240_000);
        if (r.status !== 0) throw new Error(`scripts/cluster.sh up failed (${r.status}):\n${r.stderr}`);
        const envOut = this.script(["env"], 30_000);
        for (const line of envOut.stdout.split("\n")) {
            const m = /^export ([A-Z_]+)=(.*)$/.exec(line);
            if (!m) continue;
            // Values are single-quoted; PATH is '<bin>':"$PATH".
            const value = m[2].replace(/"\$PATH"/, process.env.PATH ?? "").replace(/'/g, "");
            this.env[m[1]] = value;
        }
        return r;
    }

    /**
     * `cluster.sh down`; then removes the cluster's temp dir (etcd data, state, logs: ~250 MB)
     * unless OBS_KEEP_CLUSTER=1 asks to keep it for a post-mortem.
     */
    down(): CommandResult {
        const r = this.started ? this.script(["down"], 120_000) : { status: 0, stdout: "", stderr: "" };
        if (this.ownsDir && r.status === 0 && process.env.OBS_KEEP_CLUSTER !== "1") {
            fs.rmSync(this.dir, { recursive: true, force: true });
        }
        return r;
    }

    status(): string {
        return this.script(["status"], 30_000).stdout;
    }

    /** PIDs of processes whose command line mentions this cluster's directory. */
    processes(): number[] {
        const pids: number[] = [];
        for (const p of fs.readdirSync("/proc")) {
            if (!/^\d+$/.test(p)) continue;
            try {
                const cmd = fs.readFileSync(`/proc/${p}/cmdline`, "utf8");
                if (cmd.includes(this.dir)) pids.push(Number(p));
            } catch {
                /* gone */
            }
        }
        return pids.filter((p) => p !== process.pid);
    }

    kubectl(args: string[], input?: string): CommandResult {
        return result(
            spawnSync(path.join(BIN, "kubectl"), args, { env: this.env, encoding: "utf8", input, timeout: 60_000, maxBuffer: 1 << 28 }),
            `kubectl ${args.join(" ")}`,
        );
    }

    /** `kubectl get ... -o json` items; throws on failure. */
    getJson(args: string[]): any {
        const r = this.kubectl(["get", ...args, "-o", "json"]);
        if (r.status !== 0) throw new Error(`kubectl get ${args.join(" ")} failed: ${r.stderr}`);
        return JSON.parse(r.stdout);
    }

    /** The plain Pulumi CLI, as a user runs it after `eval "$(scripts/cluster.sh env)"`. */
    pulumi(args: string[], cwd: string, timeoutMs = 120_000): CommandResult {
        return result(spawnSync(path.join(BIN, "pulumi"), [...args, "--non-interactive"], { cwd, env: this.env, encoding: "utf8", timeout: timeoutMs, maxBuffer: 1 << 28 }), `pulumi ${args.join(" ")}`);
    }

    /** scripts/stack.js (the Automation-API driver of the real engine). */
    stack(args: string[], timeoutMs = 900_000): CommandResult {
        return result(
            spawnSync(process.execPath, [path.join(ROOT, "scripts", "stack.js"), ...args], { cwd: ROOT, env: this.env, encoding: "utf8", timeout: timeoutMs, maxBuffer: 1 << 28 }),
            `node scripts/stack.js ${args.join(" ")}`,
        );
    }
}

/**
 * A project directory for a stack: Pulumi.yaml and Pulumi.<stack>.yaml copied from the
 * repository, so tests may set config without touching the work tree. The program stays
 * index.ts of the repository: Pulumi.yaml's `main` points at it, so the plain CLI (`pulumi up`
 * in this directory) runs it through the language host exactly as in the repository.
 */
export function projectDir(stack: string, overrides: Record<string, unknown> = {}): string {
    const dir = makeTempDir(`obs-project-${stack}`);
    const project = fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8");
    if (/^main:/m.test(project)) throw new Error("Pulumi.yaml sets main: projectDir() would override it");
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), `${project.trimEnd()}\nmain: ${ROOT}\n`);
    const doc = (yaml.load(fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8")) ?? {}) as { config?: Record<string, unknown> };
    doc.config = { ...(doc.config ?? {}), ...overrides };
    fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), yaml.dump(doc, { lineWidth: -1 }));
    return dir;
}

/** Engine events written by `stack.js --json FILE`. */
export function readEvents(file: string): any[] {
    if (!fs.existsSync(file)) return [];
    return fs
        .readFileSync(file, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l));
}
