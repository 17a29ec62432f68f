/**
 * NetworkPolicy and PodDisruptionBudget helpers. Policies admit exactly the named flows; a
 * namespace's default-deny policy (see `defaultDenyIngress`) rejects everything else.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

type PolicyPeer = k8s.types.input.networking.v1.NetworkPolicyPeer;

/** A port admitted by a policy rule. */
export interface PolicyPort {
    readonly port: number | string;
    readonly protocol?: "TCP" | "UDP";
}

/** One allowed inbound flow: who may connect, and on which ports. */
export interface IngressFlow {
    /** Human-readable description, kept in the policy's annotations. */
    readonly description: string;
    /** Pods selected by labels, optionally in another namespace (by its name). */
    readonly from: readonly FlowPeer[];
    readonly ports: readonly PolicyPort[];
}

export type FlowPeer =
    | { readonly podLabels: Record<string, string>; readonly namespace?: string }
    | { readonly namespace: string; readonly podLabels?: undefined }
    | { readonly namespaceLabels: Record<string, string> };

function peer(p: FlowPeer): PolicyPeer {
    if ("namespaceLabels" in p) return { namespaceSelector: { matchLabels: p.namespaceLabels } };
    const ns = p.namespace ? { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": p.namespace } } } : {};
    return { ...ns, ...(p.podLabels ? { podSelector: { matchLabels: p.podLabels } } : p.namespace ? {} : { podSelector: {} }) };
}

export interface WorkloadPolicyArgs {
    readonly namespace: pulumi.Input<string>;
    /** Selector labels of the pods this policy protects. */
    readonly podLabels: Record<string, string>;
    readonly labels: Record<string, string>;
    readonly ingress: readonly IngressFlow[];
}

/**
 * A NetworkPolicy admitting exactly `ingress` to the selected pods. Throws for a flow without
 * peers: Kubernetes reads a rule with an empty `from` as "from every source".
 */
export function workloadNetworkPolicy(name: string, args: WorkloadPolicyArgs, opts: pulumi.CustomResourceOptions): k8s.networking.v1.NetworkPolicy {
    for (const f of args.ingress) {
        if (f.from.length === 0) throw new Error(`NetworkPolicy ${name}: flow "${f.description}" names no peer, which Kubernetes would read as every source`);
        if (f.ports.length === 0) throw new Error(`NetworkPolicy ${name}: flow "${f.description}" names no port, which Kubernetes would read as every port`);
    }
    return new k8s.networking.v1.NetworkPolicy(
        name,
        {
            metadata: {
                name,
                namespace: args.namespace,
                labels: args.labels,
                annotations: { "observability.pulumi.com/flows": args.ingress.map((f) => f.description).join("; ") },
            },
            spec: {
                podSelector: { matchLabels: args.podLabels },
                policyTypes: ["Ingress"],
                ingress: args.ingress.map((f) => ({
                    from: f.from.map(peer),
                    ports: f.ports.map((p) => ({ port: p.port, protocol: p.protocol ?? "TCP" })),
                })),
            },
        },
        opts,
    );
}

/**
 * Denies all ingress to every pod of a namespace; workload policies then admit named flows.
 * Kubernetes names it `default-deny-ingress` in every namespace (one per namespace); `name` is
 * the Pulumi resource name, which must be unique across namespaces.
 */
export function defaultDenyIngress(name: string, namespace: pulumi.Input<string>, labels: Record<string, string>, opts: pulumi.CustomResourceOptions): k8s.networking.v1.NetworkPolicy {
    return new k8s.networking.v1.NetworkPolicy(
        name,
        {
            metadata: { name: "default-deny-ingress", namespace, labels },
            spec: { podSelector: {}, policyTypes: ["Ingress"] },
        },
        opts,
    );
}

export interface PdbArgs {
    readonly namespace: pulumi.Input<string>;
    readonly podLabels: Record<string, string>;
    readonly labels: Record<string, string>;
    readonly replicas: number;
    /** Pods that may be down at once during voluntary disruptions. @default 1 */
    readonly maxUnavailable?: number;
}

/**
 * A PodDisruptionBudget for a workload with more than one replica; undefined for a single
 * replica, where a budget would only block node drains without protecting anything.
 */
export function podDisruptionBudget(name: string, args: PdbArgs, opts: pulumi.CustomResourceOptions): k8s.policy.v1.PodDisruptionBudget | undefined {
    if (args.replicas < 2) return undefined;
    return new k8s.policy.v1.PodDisruptionBudget(
        name,
        {
            metadata: { name, namespace: args.namespace, labels: args.labels },
            spec: { maxUnavailable: args.maxUnavailable ?? 1, selector: { matchLabels: args.podLabels } },
        },
        opts,
    );
}

/** Prefer spreading replicas over nodes and zones; never blocks scheduling on a small cluster. */
export function spreadAcrossNodes(podLabels: Record<string, string>): Pick<k8s.types.input.core.v1.PodSpec, "affinity" | "topologySpreadConstraints"> {
    return {
        affinity: {
            podAntiAffinity: {
                preferredDuringSchedulingIgnoredDuringExecution: [
                    { weight: 100, podAffinityTerm: { topologyKey: "kubernetes.io/hostname", labelSelector: { matchLabels: podLabels } } },
                ],
            },
        },
        topologySpreadConstraints: [
            { maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: podLabels } },
        ],
    };
}
