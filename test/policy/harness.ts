/**
 * Calls a policy's validate function the way the policy analyzer does, with a fake args object,
 * and collects what it reports. @pulumi/policy ships no test helpers; the args here carry what
 * its server passes (type, props, urn, name, options, config) and nothing the policies may not use.
 */
import type {
    PolicyResource,
    ResourceValidation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";
import { KubeObject, pulumiTypeOf } from "../../policy/checks";

export interface Reported {
    readonly message: string;
    readonly urn?: string;
}

const OPTIONS = { protect: false, ignoreChanges: [], aliases: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 }, additionalSecretOutputs: [] };

export function urnOf(o: KubeObject): string {
    return `urn:pulumi:test::observability::${pulumiTypeOf(o)}::${o.metadata?.namespace ?? "default"}-${o.metadata?.name}`;
}

function notApplicable(reason?: string): never {
    throw new Error(`policy declared itself not applicable: ${reason}`);
}

/** Policy config as the engine passes it: the schema's defaults unless the test sets values. */
function configOf(policy: ResourceValidationPolicy | StackValidationPolicy, config: Record<string, unknown> | undefined): Record<string, unknown> {
    const defaults = Object.fromEntries(
        Object.entries(policy.configSchema?.properties ?? {})
            .filter(([, s]) => (s as { default?: unknown }).default !== undefined)
            .map(([k, s]) => [k, (s as { default?: unknown }).default]),
    );
    return { ...defaults, ...(config ?? {}) };
}

export function resourceArgs(o: KubeObject, config: Record<string, unknown> = {}): ResourceValidationArgs {
    return {
        type: pulumiTypeOf(o),
        props: o,
        urn: urnOf(o),
        name: `${o.metadata?.namespace ?? "default"}-${o.metadata?.name}`,
        opts: OPTIONS,
        stackTags: new Map(),
        isType: () => {
            throw new Error("policies match on args.type, not on SDK classes");
        },
        asType: () => {
            throw new Error("policies match on args.type, not on SDK classes");
        },
        getConfig: <T extends object>() => config as T,
        notApplicable,
    };
}

/** The messages a resource policy reports for one object. */
export async function runResourcePolicy(policy: ResourceValidationPolicy, o: KubeObject, config?: Record<string, unknown>): Promise<string[]> {
    const reported: string[] = [];
    const validations: ResourceValidation[] = Array.isArray(policy.validateResource) ? policy.validateResource : policy.validateResource ? [policy.validateResource] : [];
    if (validations.length === 0) throw new Error(`policy ${policy.name} has no validateResource`);
    for (const validate of validations) await validate(resourceArgs(o, configOf(policy, config)), (message) => reported.push(message));
    return reported;
}

/** What a stack policy reports for a whole set of objects. */
export async function runStackPolicy(policy: StackValidationPolicy, objects: readonly KubeObject[], config?: Record<string, unknown>): Promise<Reported[]> {
    const resources: PolicyResource[] = objects.map((o) => ({
        ...resourceArgs(o),
        dependencies: [],
        propertyDependencies: {},
        asType: () => undefined,
    }));
    const reported: Reported[] = [];
    const args: StackValidationArgs = {
        resources,
        stackTags: new Map(),
        getConfig: <T extends object>() => configOf(policy, config) as T,
        notApplicable,
    };
    await policy.validateStack(args, (message, urn) => reported.push({ message, ...(urn ? { urn } : {}) }));
    return reported;
}
