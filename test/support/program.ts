/**
 * Runs the real program (index.ts) under Pulumi's mock runtime in a fresh module registry, the
 * way `pulumi up` would run it but with every registration recorded instead of sent to an engine.
 *
 * Order matters and is the point of this helper: the mocks are installed and the stack's config
 * is set BEFORE index.ts is required, because the program reads its config and declares its
 * resources while it is being imported.
 */
import * as path from "path";
import type { RecordedResource } from "../../scripts/lib/mock-runtime";

export const ROOT = path.resolve(__dirname, "..", "..");

export interface ProgramRun {
    /** Every registration the program made, in registration order (settled RPCs only). */
    readonly resources: RecordedResource[];
    /** index.ts's exports with Outputs resolved; undefined when the program threw. */
    readonly outputs?: Record<string, unknown>;
    /** What the program threw while it was being imported, if anything. */
    readonly error?: unknown;
    /** The ConfigError class of the registry the program ran in (for instanceof checks). */
    readonly ConfigError: new (...args: any[]) => Error;
}

/**
 * Imports index.ts with `config` (flat `<project>:<key>` → text, as the SDK sees it) under
 * recording mocks, waits until every registration has settled and returns what was recorded.
 */
export async function runProgram(project: string, stack: string, config: Record<string, string>, secretKeys: string[] = []): Promise<ProgramRun> {
    let result: ProgramRun | undefined;
    await jest.isolateModulesAsync(async () => {
        const pulumi: typeof import("@pulumi/pulumi") = require("@pulumi/pulumi");
        const { installMocks }: typeof import("../../scripts/lib/mock-runtime") = require("../../scripts/lib/mock-runtime");
        const run = installMocks(project, stack);
        pulumi.runtime.setAllConfig(config, secretKeys);
        const { ConfigError }: typeof import("../../config") = require("../../config");

        let exported: Record<string, unknown> | undefined;
        let error: unknown;
        try {
            exported = require(path.join(ROOT, "index.ts"));
        } catch (e) {
            error = e;
        }
        // Registrations are asynchronous: a resource declared before a throw would still reach
        // the mocks after it, so settle every RPC before anything is counted.
        await pulumi.runtime.disconnect();

        let outputs: Record<string, unknown> | undefined;
        if (exported) {
            outputs = {};
            for (const [key, value] of Object.entries(exported)) {
                outputs[key] = pulumi.Output.isInstance(value)
                    ? await new Promise((resolve) => (value as import("@pulumi/pulumi").Output<unknown>).apply((v) => resolve(v)))
                    : value;
            }
        }
        result = { resources: run.resources, ConfigError, ...(outputs ? { outputs } : {}), ...(error !== undefined ? { error } : {}) };
    });
    return result!;
}

/** The Kubernetes objects among the registrations (custom resources of the kubernetes provider). */
export function kubernetesRecords(resources: readonly RecordedResource[]): RecordedResource[] {
    return resources.filter((r) => r.custom && r.type.startsWith("kubernetes:") && r.type !== "pulumi:providers:kubernetes");
}
