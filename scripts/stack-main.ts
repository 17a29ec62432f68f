/**
 * Runs the real program (index.ts) through the real Pulumi engine with the Automation API:
 * `pulumi preview`, `up`, `refresh`, `destroy` against whatever cluster KUBECONFIG names.
 *
 * Why not plain `pulumi up`: the Go module proxy this project builds its tools from refuses the
 * Node.js language host (`pulumi-language-nodejs`), so the local CLI cannot start a `nodejs`
 * program by itself. The Automation API's inline program is the same index.ts, loaded with
 * ts-node exactly as the language host loads it (scripts/register-ts.js), in this process; the
 * CLI, the engine, the providers and the state are the real ones. Users with their own Pulumi
 * CLI keep running `pulumi up` (README).
 *
 *   node scripts/stack.js <preview|up|refresh|destroy|outputs> --stack NAME [--cwd DIR]
 *        [--expect-no-changes] [--json FILE] [--diff]
 *
 * --cwd: the directory holding Pulumi.yaml and Pulumi.<stack>.yaml (default: the repository);
 * --json FILE: the engine events (preview steps, diagnostics) as JSON lines, for tests.
 * The stack is created on first use. Exit code 0 on success, 1 on failure (the engine's message
 * printed), 2 on bad usage.
 */
import * as fs from "fs";
import * as path from "path";
import { LocalWorkspace, PulumiCommand, Stack, EngineEvent } from "@pulumi/pulumi/automation";

const ROOT = path.resolve(__dirname, "..");
const OPS = ["preview", "up", "refresh", "destroy", "outputs"] as const;
type Op = (typeof OPS)[number];

interface Args {
    op: Op;
    stack: string;
    cwd: string;
    expectNoChanges: boolean;
    json?: string;
    diff: boolean;
}

function parseArgs(argv: string[]): Args | string {
    const op = argv[0] as Op;
    if (!OPS.includes(op)) return `expected an operation (${OPS.join(", ")}), got ${JSON.stringify(argv[0] ?? "")}`;
    const a: Partial<Args> = { op, cwd: ROOT, expectNoChanges: false, diff: false };
    for (let i = 1; i < argv.length; i++) {
        const k = argv[i];
        if (k === "--stack") a.stack = argv[++i];
        else if (k === "--cwd") a.cwd = path.resolve(argv[++i] ?? "");
        else if (k === "--json") a.json = path.resolve(argv[++i] ?? "");
        else if (k === "--expect-no-changes") a.expectNoChanges = true;
        else if (k === "--diff") a.diff = true;
        else return `unknown argument ${JSON.stringify(k)}`;
    }
    if (!a.stack) return "--stack NAME is required";
    return a as Args;
}

/** The program: index.ts itself, its exports as the stack outputs. */
async function program(): Promise<Record<string, unknown>> {
    const exported = require(path.join(ROOT, "index.ts"));
    return { ...exported };
}

async function openStack(a: Args): Promise<Stack> {
    const pulumiCommand = await PulumiCommand.get({ skipVersionCheck: false });
    return LocalWorkspace.createOrSelectStack(
        { stackName: a.stack, projectName: "observability", program },
        { workDir: a.cwd, pulumiCommand },
    );
}

export async function main(argv: string[]): Promise<number> {
    const a = parseArgs(argv);
    if (typeof a === "string") {
        process.stderr.write(`stack: ${a}\nusage: node scripts/stack.js <${OPS.join("|")}> --stack NAME [--cwd DIR] [--expect-no-changes] [--json FILE] [--diff]\n`);
        return 2;
    }
    const events: string[] = [];
    const onEvent = (e: EngineEvent) => {
        if (a.json) events.push(JSON.stringify(e));
    };
    const onOutput = (s: string) => process.stdout.write(s);
    try {
        const stack = await openStack(a);
        const common = { onOutput, onEvent, color: "never" as const, ...(a.diff ? { diff: true } : {}) };
        switch (a.op) {
            case "preview":
                await stack.preview({ ...common, expectNoChanges: a.expectNoChanges });
                break;
            case "up":
                await stack.up({ ...common, ...(a.expectNoChanges ? { expectNoChanges: true } : {}) });
                break;
            case "refresh":
                await stack.refresh({ ...common, ...(a.expectNoChanges ? { expectNoChanges: true } : {}) });
                break;
            case "destroy":
                await stack.destroy({ onOutput, onEvent, color: "never" });
                break;
            case "outputs": {
                const outs = await stack.outputs();
                const shown = Object.fromEntries(Object.entries(outs).map(([k, v]) => [k, v.secret ? "[secret]" : v.value]));
                process.stdout.write(`${JSON.stringify(shown, null, 2)}\n`);
                break;
            }
        }
        return 0;
    } catch (e: any) {
        // CommandError carries the CLI's own stderr; the program's errors are in it already.
        const text = String(e?.commandResult?.stderr || e?.message || e);
        process.stderr.write(`stack ${a.op} --stack ${a.stack} failed:\n${text}\n`);
        return 1;
    } finally {
        if (a.json) fs.writeFileSync(a.json, events.join("\n") + (events.length ? "\n" : ""));
    }
}
