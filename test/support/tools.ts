/**
 * The real Prometheus-stack binaries the artifact tests run (`.tools/bin/`, installed by
 * scripts/install-test-tools.sh), and a one-call render of a stack for them to check.
 *
 * A missing tool is an error, never a skip (CONVENTIONS, Tests): a test that cannot run its tool
 * fails and says how to install it.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { ROOT } from "./program";
import { makeTempDir, runRender } from "./render";

/** The command that installs every binary under `.tools/bin/`. */
export const INSTALL_COMMAND = "bash scripts/install-test-tools.sh";

/** Where the install script puts the binaries, under stable names. */
export const TOOLS_BIN = path.join(ROOT, ".tools", "bin");

/** Binaries the install script provides. */
export type ToolName =
    | "promtool"
    | "amtool"
    | "prometheus"
    | "alertmanager"
    | "node_exporter"
    | "redis_exporter"
    | "postgres_exporter"
    | "blackbox_exporter";

/**
 * Absolute path of `.tools/bin/<name>`. Throws, naming the install command, when the binary is
 * missing or not executable (a dangling symlink counts as missing).
 */
export function toolPath(name: string, installCommand: string = INSTALL_COMMAND): string {
    const p = path.join(TOOLS_BIN, name);
    try {
        fs.accessSync(p, fs.constants.X_OK);
    } catch {
        throw new Error(
            `test tool "${name}" is missing: ${p} does not exist or is not executable.\n` +
                `Install the test tools from the repository root (${ROOT}) with:\n` +
                `    ${installCommand}`,
        );
    }
    return p;
}

export interface RunOptions {
    readonly cwd?: string;
    /** Text written to the tool's stdin. */
    readonly input?: string;
    /** Extra environment variables. */
    readonly env?: Readonly<Record<string, string>>;
    /** @default 60000 */
    readonly timeoutMs?: number;
}

export interface RunResult {
    /** Exit code; null when the process was killed by a signal. */
    readonly status: number | null;
    readonly stdout: string;
    readonly stderr: string;
}

/**
 * Runs `.tools/bin/<tool> <args>` synchronously. Throws when the tool is missing (see
 * {@link toolPath}) or cannot be started or times out; a non-zero exit is returned, not thrown,
 * so tests can assert on it.
 */
export function run(tool: ToolName, args: readonly string[], opts: RunOptions = {}): RunResult {
    const bin = toolPath(tool);
    const r = spawnSync(bin, [...args], {
        cwd: opts.cwd ?? ROOT,
        encoding: "utf8",
        input: opts.input,
        timeout: opts.timeoutMs ?? 60_000,
        env: { ...process.env, ...(opts.env ?? {}) },
    });
    if (r.error) throw new Error(`${tool} ${args.join(" ")}: ${r.error.message}`);
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Renders `stack` with `node scripts/render.js --stack <stack> --out <outDir>` (a fresh temp dir
 * when omitted) and returns the output directory. Throws with the render's stderr unless it
 * exits 0.
 */
export function renderStack(stack: string, outDir: string = path.join(makeTempDir(`render-${stack}`), "out")): string {
    const r = runRender(["--stack", stack, "--out", outDir]);
    if (r.status !== 0) {
        throw new Error(`render of stack "${stack}" exited ${r.status}, expected 0:\n${r.stderr}${r.stdout}`);
    }
    return outDir;
}
