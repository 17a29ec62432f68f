/**
 * The policies of the `observability-policies` pack, each exported on its own so tests call its
 * `validateResource` / `validateStack` directly. They validate Kubernetes resources by their
 * Pulumi type token (`kubernetes:apps/v1:Deployment`), so they apply to objects declared with
 * @pulumi/kubernetes classes, Helm charts and YAML alike, without importing the provider SDK.
 */
import type {
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";
import {
    configMapSecretFindings,
    describeObject,
    imageViolations,
    isWorkload,
    kindOfPulumiType,
    KubeObject,
    namespaceOf,
    networkPolicyGaps,
    podTemplateOf,
    resourceViolations,
    restrictedProfileViolations,
} from "./checks";

/** Namespaces the restricted profile applies to unless the pack's config names others. */
export const DEFAULT_RESTRICTED_NAMESPACES: readonly string[] = ["monitoring"];

/** The workload a resource is, with its pod template; undefined for anything else. */
function workloadOf(args: { type: string; props: Record<string, any> }) {
    const kind = kindOfPulumiType(args.type);
    if (!isWorkload(kind)) return undefined;
    const object = args.props as KubeObject;
    const template = podTemplateOf(object, kind);
    return template ? { kind: kind!, object, template, name: describeObject(object, kind) } : undefined;
}

export const restrictedPodSecurity: ResourceValidationPolicy = {
    name: "restricted-pod-security",
    description:
        "Workloads in the monitoring namespace meet the Pod Security Standards' restricted profile: runAsNonRoot with a " +
        "non-zero UID, no privilege escalation, capabilities drop ALL, seccomp RuntimeDefault, no host namespaces, ports " +
        "or paths, only the allowed volume types.",
    enforcementLevel: "mandatory",
    severity: "high",
    configSchema: {
        properties: {
            namespaces: {
                type: "array",
                items: { type: "string" },
                default: [...DEFAULT_RESTRICTED_NAMESPACES],
                description: "Namespaces whose workloads must meet the restricted profile (the stack's namespaces.monitoring).",
            },
        },
    },
    validateResource: (args: ResourceValidationArgs, reportViolation: ReportViolation) => {
        const w = workloadOf(args);
        if (!w) return;
        const configured = args.getConfig<{ namespaces?: string[] }>().namespaces;
        const namespaces = configured ?? DEFAULT_RESTRICTED_NAMESPACES;
        if (!namespaces.includes(namespaceOf(w.object))) return;
        for (const v of restrictedProfileViolations(w.template.spec)) reportViolation(`${w.name}: ${v.message}`);
    },
};

export const containerRequestsAndLimits: ResourceValidationPolicy = {
    name: "container-requests-and-limits",
    description: "Every container sets CPU and memory requests and limits, with limits not below requests.",
    enforcementLevel: "mandatory",
    severity: "medium",
    validateResource: (args: ResourceValidationArgs, reportViolation: ReportViolation) => {
        const w = workloadOf(args);
        if (!w) return;
        for (const v of resourceViolations(w.template.spec)) reportViolation(`${w.name}: ${v.message}`);
    },
};

export const pinnedContainerImages: ResourceValidationPolicy = {
    name: "pinned-container-images",
    description: "Every container image is pinned to a version tag or digest: no missing tag, no `latest`.",
    enforcementLevel: "mandatory",
    severity: "medium",
    validateResource: (args: ResourceValidationArgs, reportViolation: ReportViolation) => {
        const w = workloadOf(args);
        if (!w) return;
        for (const v of imageViolations(w.template.spec)) reportViolation(`${w.name}: ${v.message}`);
    },
};

export const noSecretsInConfigMaps: ResourceValidationPolicy = {
    name: "no-secrets-in-configmaps",
    description:
        "ConfigMaps hold no secret-looking values (passwords, tokens, API keys, private keys, webhook URLs): credentials " +
        "live in Kubernetes Secrets and config files reference them (e.g. *_file settings).",
    enforcementLevel: "mandatory",
    severity: "critical",
    validateResource: (args: ResourceValidationArgs, reportViolation: ReportViolation) => {
        if (kindOfPulumiType(args.type) !== "ConfigMap") return;
        const cm = args.props as KubeObject;
        for (const f of configMapSecretFindings(cm)) reportViolation(`${describeObject(cm, "ConfigMap")}: ${f}`);
    },
};

export const networkPolicyPerWorkload: StackValidationPolicy = {
    name: "network-policy-per-workload",
    description:
        "Every workload's pods are selected by a NetworkPolicy of their namespace that governs ingress (a namespace-wide " +
        "default-deny alone only covers pods that listen on no port).",
    enforcementLevel: "mandatory",
    severity: "high",
    validateStack: (args: StackValidationArgs, reportViolation: ReportViolation) => {
        const kubernetes = args.resources.filter((r: PolicyResource) => kindOfPulumiType(r.type) !== undefined);
        const objects = kubernetes.map((r) => r.props as KubeObject);
        const byObject = new Map(objects.map((o, i) => [o, kubernetes[i]!]));
        const gaps = networkPolicyGaps(objects, (o) => kindOfPulumiType(byObject.get(o)!.type));
        for (const gap of gaps) reportViolation(gap.message, byObject.get(gap.object)!.urn);
    },
};

/** Every policy of the pack, in the order the pack reports them. */
export const ALL_POLICIES: (ResourceValidationPolicy | StackValidationPolicy)[] = [
    restrictedPodSecurity,
    containerRequestsAndLimits,
    pinnedContainerImages,
    noSecretsInConfigMaps,
    networkPolicyPerWorkload,
];
