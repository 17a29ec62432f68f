/**
 * Offline render: runs the real index.ts with a stack's config under the Pulumi SDK's mock
 * runtime and writes every Kubernetes object and generated config file under out/<stack>/.
 * Loaded by scripts/render.js, which registers ts-node exactly as `pulumi up` does.
 *
 *   npm run render -- --stack <dev|prod> [--out DIR] [--stack-dir DIR]
 *
 * --stack-dir: read Pulumi.<stack>.yaml from DIR instead of the repository (a proposed config,
 * a stack kept elsewhere); Pulumi.yaml and the program are always the repository's.
 */
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import * as pulumi from "@pulumi/pulumi";
import { readStackConfig } from "./lib/stack-files";
import { installMocks } from "./lib/mock-runtime";
import { extractFiles, redactSecrets, summarize, toKubernetesObjects, validateObjects, Summary } from "./lib/manifests";

export interface RenderOptions {
    readonly root: string;
    readonly stack: string;
    readonly outDir: string;
    /** Directory holding Pulumi.<stack>.yaml (default: root). */
    readonly stackDir?: string;
}

export interface RenderResult {
    readonly summary: Summary;
    readonly outDir: string;
    readonly warnings: string[];
    /** Milliseconds spent evaluating the program (registrations until the last RPC settled). */
    readonly evaluationMs: number;
}

/** A render failure whose message is all the user needs (no stack trace). */
export class RenderError extends Error {}

const YAML_OPTS: yaml.DumpOptions = { lineWidth: -1, noRefs: true, sortKeys: false, quotingType: '"' };

export async function render(opts: RenderOptions): Promise<RenderResult> {
    let cfg: ReturnType<typeof readStackConfig>;
    try {
        cfg = readStackConfig(opts.root, opts.stack, opts.stackDir ?? opts.root);
    } catch (e: any) {
        // An unknown stack or an unreadable stack file is a user error: the message says it all.
        throw new RenderError(e?.message ?? String(e));
    }
    const warnings = cfg.missingSecrets.map(
        (k) => `secret ${k} is not set in Pulumi.${opts.stack}.yaml: rendered with a placeholder; before \`pulumi up\` run ` +
            `\`pulumi config set --secret ${k.split(":")[1]} <value> --stack ${opts.stack}\``,
    );

    // A failed render must not leave the previous output behind for someone to apply.
    clearOutputDir(opts.outDir);

    const run = installMocks(cfg.project, cfg.stack);
    pulumi.runtime.setAllConfig(cfg.config, cfg.secretKeys);

    const started = process.hrtime.bigint();
    let exportsOfProgram: Record<string, unknown> = {};
    try {
        await pulumi.runtime.runInPulumiStack(async () => {
            exportsOfProgram = require(path.join(opts.root, "index.ts"));
            return exportsOfProgram;
        });
        await pulumi.runtime.disconnect();
    } catch (e: any) {
        throw new RenderError(e?.name === "ConfigError" ? e.message : `program failed: ${e?.stack ?? e}`);
    }
    const evaluationMs = Number(process.hrtime.bigint() - started) / 1e6;

    const objects = toKubernetesObjects(run.resources);
    const invalid = validateObjects(objects);
    if (invalid.length > 0) {
        throw new RenderError(`${invalid.length} rendered object(s) fail the Kubernetes schema:\n${invalid.map((p) => `  - ${p}`).join("\n")}`);
    }
    const files = extractFiles(objects);
    const redacted = redactSecrets(objects);

    const outputs: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(exportsOfProgram)) {
        if (pulumi.Output.isInstance(value)) {
            outputs[name] = (await pulumi.isSecret(value)) ? `<redacted:${name}>` : await outputValue(value);
        } else if (typeof value !== "function") {
            outputs[name] = value;
        }
    }

    const summary = summarize(opts.stack, redacted, [...files.keys()]);
    fs.rmSync(opts.outDir, { recursive: true, force: true });
    fs.mkdirSync(path.join(opts.outDir, "files"), { recursive: true });
    fs.writeFileSync(path.join(opts.outDir, "manifests.yaml"), redacted.map((o) => `---\n${yaml.dump(o, YAML_OPTS)}`).join(""));
    for (const [rel, content] of files) {
        const file = path.join(opts.outDir, "files", rel);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, content);
    }
    fs.writeFileSync(path.join(opts.outDir, "summary.json"), `${JSON.stringify({ ...summary, outputs }, null, 2)}\n`);

    const leaks = scanForSecrets(opts.outDir, [...cfg.secretPlaceholders, ...run.generatedSecrets]);
    if (leaks.length > 0) {
        fs.rmSync(opts.outDir, { recursive: true, force: true });
        throw new RenderError(`secret material reached the render output (output removed):\n${leaks.map((l) => `  - ${l}`).join("\n")}`);
    }
    return { summary, outDir: opts.outDir, warnings, evaluationMs };
}

/**
 * Empties the output directory, refusing a non-empty one that is not a previous render (so
 * `--out .` cannot delete a work tree).
 */
export function clearOutputDir(dir: string): void {
    if (!fs.existsSync(dir)) return;
    const entries = fs.readdirSync(dir);
    if (entries.length > 0 && !entries.includes("summary.json") && !entries.includes("manifests.yaml")) {
        throw new RenderError(`refusing to overwrite ${dir}: it is not empty and holds no previous render (no summary.json or manifests.yaml)`);
    }
    fs.rmSync(dir, { recursive: true, force: true });
}

function outputValue(o: pulumi.Output<unknown>): Promise<unknown> {
    return new Promise((resolve) => o.apply((v) => resolve(v)));
}

/** Every file under dir that contains one of the secret values, named with the secret's position. */
export function scanForSecrets(dir: string, secrets: readonly string[]): string[] {
    const found: string[] = [];
    const walk = (d: string) => {
        for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
            const p = path.join(d, entry.name);
            if (entry.isDirectory()) walk(p);
            else {
                const text = fs.readFileSync(p, "utf8");
                const b64 = (s: string) => Buffer.from(s).toString("base64");
                for (const s of secrets) {
                    if (s && (text.includes(s) || text.includes(b64(s)))) found.push(`${path.relative(dir, p)} contains a secret value (${s.slice(0, 12)}...)`);
                }
            }
        }
    };
    walk(dir);
    return found;
}

function table(summary: Summary, outDir: string, evaluationMs: number): string {
    const lines = [
        `rendered stack "${summary.stack}" to ${outDir} (${summary.objects} objects, ${summary.files.length} files, program evaluated in ${Math.round(evaluationMs)} ms)`,
        "",
        "  kind                          count",
        ...Object.entries(summary.byKind).map(([k, n]) => `  ${k.padEnd(30)}${String(n).padStart(5)}`),
        "",
        `  requests: cpu ${summary.resources.requests.cpu}, memory ${summary.resources.requests.memory}`,
        `  limits:   cpu ${summary.resources.limits.cpu}, memory ${summary.resources.limits.memory}`,
        `  images:   ${summary.images.length}`,
    ];
    return lines.join("\n");
}

const USAGE = "usage: npm run render -- --stack <name> [--out DIR] [--stack-dir DIR]";

export function parseArgs(argv: readonly string[]): { stack: string; out?: string; stackDir?: string } {
    let stack: string | undefined;
    let out: string | undefined;
    let stackDir: string | undefined;
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i]!;
        if (a === "--stack") stack = argv[++i];
        else if (a.startsWith("--stack=")) stack = a.slice(8);
        else if (a === "--out") out = argv[++i];
        else if (a.startsWith("--out=")) out = a.slice(6);
        else if (a === "--stack-dir") stackDir = argv[++i];
        else if (a.startsWith("--stack-dir=")) stackDir = a.slice(12);
        else throw new RenderError(`unknown argument "${a}": ${USAGE}`);
    }
    if (!stack) throw new RenderError(`missing --stack: ${USAGE}`);
    if (!/^[A-Za-z0-9_.-]+$/.test(stack)) throw new RenderError(`--stack "${stack}": expected a stack name such as dev or prod`);
    return { stack, ...(out ? { out } : {}), ...(stackDir ? { stackDir } : {}) };
}

export async function main(argv: readonly string[]): Promise<number> {
    const root = path.resolve(__dirname, "..");
    try {
        const args = parseArgs(argv);
        const outDir = path.resolve(args.out ?? path.join(root, "out", args.stack));
        const result = await render({ root, stack: args.stack, outDir, ...(args.stackDir ? { stackDir: path.resolve(args.stackDir) } : {}) });
        for (const w of result.warnings) console.warn(`warning: ${w}`);
        console.log(table(result.summary, path.relative(process.cwd(), outDir) || ".", result.evaluationMs));
        return 0;
    } catch (e: any) {
        console.error(`render failed: ${e instanceof RenderError ? e.message : (e?.stack ?? e)}`);
        return 1;
    }
}
