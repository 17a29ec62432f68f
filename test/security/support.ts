/**
 * Helpers of the security and durability tests.
 *
 * Renders: `node scripts/render.js`, as users run it, for three stacks: dev, prod, and "es" (prod
 * with the Elasticsearch log backend and Jaeger on Elasticsearch, from a temporary stack file
 * written next to the others and deleted right after its render). The five test files of this
 * folder read the same renders, so they are kept in a content-addressed cache under the OS temp
 * folder: the key is a hash of every input of the render (the program, its config, the stack
 * files, the lock file), so a changed input always renders afresh and an unchanged one is not
 * rendered five times over on a two-core machine. A lock makes concurrent jest workers wait for
 * one render instead of racing.
 *
 * Mocks: {@link runUnderMocks} runs index.ts under the same mock runtime as the render and also
 * records what the engine would receive for each registration (URN, parent, resource options,
 * aliases), which the render does not show.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import type { K8sObject, Summary } from "../../scripts/lib/manifests";
import type { RecordedResource } from "../../scripts/lib/mock-runtime";
import { containersOf, podTemplateOf, type PodTemplate } from "../../policy/checks";
import { ROOT } from "../support/program";
import { readManifests, runRender } from "../support/render";

export type StackKey = "dev" | "prod" | "es";
export const STACK_KEYS: readonly StackKey[] = ["dev", "prod", "es"];

/** Name of the temporary stack file of the "es" render (`Pulumi.<name>.yaml`, deleted after use). */
export const ES_STACK = "sectest-es";

/** The "es" stack: prod's config with the Elasticsearch backend and Jaeger storing on it. */
export function esStackFile(): string {
    const prod = yaml.load(fs.readFileSync(path.join(ROOT, "Pulumi.prod.yaml"), "utf8")) as { config: Record<string, unknown> };
    const config = {
        ...prod.config,
        "observability:environment": "prod",
        "observability:clusterName": "prod-es",
        "observability:logs": { backend: "elasticsearch" },
        "observability:tracing": { jaeger: { storageBackend: "elasticsearch" } },
    };
    return `# Temporary stack written by test/security/support.ts; deleted after its render.\n${yaml.dump({ config }, { lineWidth: -1 })}`;
}

export type RenderedSummary = Summary & { outputs: Record<string, unknown> };

export interface SecurityRender {
    readonly key: StackKey;
    readonly dir: string;
    readonly objects: K8sObject[];
    readonly summary: RenderedSummary;
}

/** Folders and files whose content decides what a render writes. */
const RENDER_INPUTS = [
    "index.ts", "config.ts", "Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.prod.yaml", "package-lock.json", "tsconfig.json",
    "components", "config", "alerts", "dashboards", "telemetry", "scripts", "test/security/support.ts",
];

function inputsHash(): string {
    const h = crypto.createHash("sha256");
    const add = (rel: string) => {
        const abs = path.join(ROOT, rel);
        if (!fs.existsSync(abs)) return;
        if (fs.statSync(abs).isDirectory()) {
            for (const e of fs.readdirSync(abs).sort()) add(path.join(rel, e));
        } else {
            h.update(rel).update("\0").update(fs.readFileSync(abs)).update("\0");
        }
    };
    for (const rel of RENDER_INPUTS) add(rel);
    return h.digest("hex").slice(0, 16);
}

const CACHE_ROOT = path.join(os.tmpdir(), "observability-security-renders");
const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** Renders a stack into `dir` (which must not exist). */
function renderInto(key: StackKey, dir: string): void {
    const stack = key === "es" ? ES_STACK : key;
    const stackFile = path.join(ROOT, `Pulumi.${ES_STACK}.yaml`);
    if (key === "es") fs.writeFileSync(stackFile, esStackFile());
    try {
        const run = runRender(["--stack", stack, "--out", dir]);
        if (run.status !== 0) throw new Error(`render of ${stack} failed:\n${run.stderr}`);
    } finally {
        if (key === "es") fs.rmSync(stackFile, { force: true });
    }
}

/** Removes cached renders of other inputs that nobody has touched for an hour. */
function pruneCache(keep: string): void {
    for (const e of fs.existsSync(CACHE_ROOT) ? fs.readdirSync(CACHE_ROOT) : []) {
        const p = path.join(CACHE_ROOT, e);
        if (e !== keep && Date.now() - fs.statSync(p).mtimeMs > 3_600_000) fs.rmSync(p, { recursive: true, force: true });
    }
}

/** The render of a stack (see the module comment for the cache). */
export function render(key: StackKey): SecurityRender {
    const hash = inputsHash();
    const root = path.join(CACHE_ROOT, hash);
    const dir = path.join(root, key);
    const done = `${dir}.done`;
    if (!fs.existsSync(done)) {
        fs.mkdirSync(root, { recursive: true });
        pruneCache(hash);
        const lock = `${dir}.lock`;
        const deadline = Date.now() + 600_000;
        let owned = false;
        while (!owned && !fs.existsSync(done)) {
            try {
                fs.mkdirSync(lock);
                owned = true;
                break;
            } catch (e: any) {
                if (e?.code !== "EEXIST") throw e;
            }
            try {
                // A lock older than five minutes belongs to a killed run.
                if (Date.now() - fs.statSync(lock).mtimeMs > 300_000) fs.rmSync(lock, { recursive: true, force: true });
            } catch {
                // released meanwhile
            }
            if (Date.now() > deadline) throw new Error(`timed out waiting for the render lock ${lock}`);
            sleep(250);
        }
        if (owned) {
            try {
                if (!fs.existsSync(done)) {
                    fs.rmSync(dir, { recursive: true, force: true });
                    renderInto(key, dir);
                    fs.writeFileSync(done, new Date().toISOString());
                }
            } finally {
                fs.rmSync(lock, { recursive: true, force: true });
            }
        }
    }
    return {
        key,
        dir,
        objects: readManifests(dir),
        summary: JSON.parse(fs.readFileSync(path.join(dir, "summary.json"), "utf8")),
    };
}

// ---------------------------------------------------------------------------------------------
// Workloads of a render
// ---------------------------------------------------------------------------------------------

export interface Workload {
    readonly object: K8sObject;
    readonly kind: string;
    readonly name: string;
    readonly namespace: string;
    /** `namespace/name`, how the tests name a workload. */
    readonly id: string;
    readonly template: PodTemplate;
    /** Deployments and StatefulSets only. */
    readonly replicas?: number;
}

export function workloadsOf(objects: readonly K8sObject[]): Workload[] {
    return objects.flatMap((o) => {
        const template = podTemplateOf(o);
        if (!template) return [];
        const namespace = o.metadata.namespace ?? "default";
        const replicas = o.kind === "Deployment" || o.kind === "StatefulSet" ? (o.spec?.replicas ?? 1) : undefined;
        return [{ object: o, kind: o.kind, name: o.metadata.name, namespace, id: `${namespace}/${o.metadata.name}`, template, ...(replicas !== undefined ? { replicas } : {}) }];
    });
}

/** Every container of a pod spec, init containers included, with its kind. */
export function allContainers(spec: any): { name: string; kind: string; container: any }[] {
    return containersOf(spec).map((c) => ({ name: c.name, kind: c.kind, container: c.container }));
}

export const isBatch = (w: Workload) => w.kind === "Job" || w.kind === "CronJob";

// ---------------------------------------------------------------------------------------------
// The program under mocks, with what the engine would receive
// ---------------------------------------------------------------------------------------------

/** One registration as the engine receives it. */
export interface Registration {
    readonly type: string;
    readonly name: string;
    readonly custom: boolean;
    /** URN the mock monitor answered (its qualified type holds only the parent's type). */
    readonly mockUrn: string;
    readonly parentMockUrn: string;
    readonly replaceOnChanges: string[];
    readonly deleteBeforeReplace: boolean;
    readonly protect: boolean;
    /** Alias URNs the SDK computed itself (sent when the engine takes no alias specs). */
    readonly aliasUrns: string[];
    /** Alias specs (sent when the engine computes alias URNs itself). */
    readonly aliasSpecs: { name?: string; type?: string; parentUrn?: string; noParent?: boolean }[];
}

export interface MockedProgram {
    readonly registrations: Registration[];
    readonly resources: RecordedResource[];
    readonly generatedSecrets: string[];
    /** index.ts's exports: value and whether the Output is secret. */
    readonly outputs: Record<string, { value: unknown; secret: boolean }>;
    readonly error?: unknown;
}

/**
 * Installs the mocks, wraps the mock monitor so every RegisterResource request is recorded, and
 * runs `build` (which declares resources) in a fresh module registry; waits for every RPC.
 * With `clientSideAliases`, the SDK computes alias URNs itself (the path it takes for an engine
 * without alias specs), so the aliases each child inherits from its parent are in the request.
 */
export async function runUnderMocks(
    project: string,
    stack: string,
    config: Record<string, string>,
    secretKeys: string[],
    build: (req: NodeRequire) => Record<string, unknown> | void,
    opts: { clientSideAliases?: boolean } = {},
): Promise<MockedProgram> {
    let result: MockedProgram | undefined;
    await jest.isolateModulesAsync(async () => {
        const pulumi: typeof import("@pulumi/pulumi") = require("@pulumi/pulumi");
        const settings = require("@pulumi/pulumi/runtime/settings");
        const state = require("@pulumi/pulumi/runtime/state");
        const { installMocks }: typeof import("../../scripts/lib/mock-runtime") = require("../../scripts/lib/mock-runtime");
        const run = installMocks(project, stack);
        pulumi.runtime.setAllConfig(config, secretKeys);
        if (opts.clientSideAliases) state.getStore().supportsAliasSpecs = false;

        const registrations: Registration[] = [];
        const monitor = settings.getMonitor();
        const original = monitor.registerResource.bind(monitor);
        monitor.registerResource = (req: any, callback: (err: unknown, resp: any) => void) =>
            original(req, (err: unknown, resp: any) => {
                if (!err) {
                    registrations.push({
                        type: req.getType(),
                        name: req.getName(),
                        custom: req.getCustom(),
                        mockUrn: resp.getUrn(),
                        parentMockUrn: req.getParent(),
                        replaceOnChanges: req.getReplaceonchangesList(),
                        deleteBeforeReplace: req.getDeletebeforereplace(),
                        protect: req.getProtect(),
                        aliasUrns: req.getAliasurnsList(),
                        aliasSpecs: req.getAliasesList().map((a: any) => {
                            const o = a.toObject().spec ?? {};
                            return { name: o.name || undefined, type: o.type || undefined, parentUrn: o.parenturn || undefined, noParent: o.noparent || undefined };
                        }),
                    });
                }
                callback(err, resp);
            });

        let exported: Record<string, unknown> | void = undefined;
        let error: unknown;
        try {
            exported = build(require);
        } catch (e) {
            error = e;
        }
        await pulumi.runtime.disconnect();
        const outputs: MockedProgram["outputs"] = {};
        for (const [k, v] of Object.entries(exported ?? {})) {
            if (pulumi.Output.isInstance(v)) {
                outputs[k] = { value: await new Promise((resolve) => (v as any).apply((x: unknown) => resolve(x))), secret: await pulumi.isSecret(v as any) };
            } else if (typeof v !== "function") {
                outputs[k] = { value: v, secret: false };
            }
        }
        result = { registrations, resources: run.resources, generatedSecrets: run.generatedSecrets, outputs, ...(error !== undefined ? { error } : {}) };
    });
    return result!;
}

/** Runs index.ts under mocks with a stack's config (plus overrides). */
export async function runStackUnderMocks(stackConfig: { project: string; stack: string; config: Record<string, string>; secretKeys: string[] }, overrides: Record<string, string> = {}): Promise<MockedProgram> {
    return runUnderMocks(stackConfig.project, stackConfig.stack, { ...stackConfig.config, ...overrides }, stackConfig.secretKeys, (req) => req(path.join(ROOT, "index.ts")));
}

/**
 * Config overrides that turn the prod stack into the "es" stack (the same as {@link esStackFile},
 * for runs under mocks that need no stack file).
 */
export const ES_OVERRIDES: Record<string, string> = {
    "observability:clusterName": "prod-es",
    "observability:logs": JSON.stringify({ backend: "elasticsearch" }),
    "observability:tracing": JSON.stringify({ jaeger: { storageBackend: "elasticsearch" } }),
};

/**
 * The URN the engine gives each registration: its type qualified by the types of all its
 * ancestors (the mock monitor keeps only the parent's), computed with the SDK's `createUrn`.
 */
export async function engineUrns(pulumi: typeof import("@pulumi/pulumi"), project: string, stack: string, regs: readonly Registration[]): Promise<Map<string, string>> {
    const byMock = new Map(regs.map((r) => [r.mockUrn, r]));
    const out = new Map<string, string>();
    const resolve = async (r: Registration): Promise<string> => {
        const known = out.get(r.mockUrn);
        if (known) return known;
        const parent = r.parentMockUrn ? byMock.get(r.parentMockUrn) : undefined;
        const parentUrn = parent && parent.type !== "pulumi:pulumi:Stack" ? await resolve(parent) : undefined;
        const urn = await new Promise<string>((res) => pulumi.createUrn(r.name, r.type, parentUrn, project, stack).apply((u) => res(u)));
        out.set(r.mockUrn, urn);
        return urn;
    };
    for (const r of regs) await resolve(r);
    return out;
}
