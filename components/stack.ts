/**
 * ObservabilityStack: the root component that composes the whole monitoring stack.
 *
 * It owns the two namespaces and the default-deny network policies, and (as later components
 * land) creates each component with typed arguments derived from the StackConfig. Components
 * never read Pulumi config themselves.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../config";
import { defaultDenyIngress, standardLabels, PART_OF, MANAGED_BY } from "./kube";

export interface ObservabilityStackArgs {
    /** The resolved stack configuration (from `loadConfig()`). */
    readonly config: StackConfig;
}

/** Pod Security Standards labels of a namespace. */
export function podSecurityLabels(enforce: "restricted" | "baseline" | "privileged"): Record<string, string> {
    return {
        "pod-security.kubernetes.io/enforce": enforce,
        "pod-security.kubernetes.io/enforce-version": "latest",
        // warn and audit stay at restricted everywhere, so any pod that needs more than
        // restricted shows up in kubectl warnings and the audit log, also where it is allowed.
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/warn-version": "latest",
        "pod-security.kubernetes.io/audit": "restricted",
        "pod-security.kubernetes.io/audit-version": "latest",
    };
}

export class ObservabilityStack extends pulumi.ComponentResource {
    /** Namespace of the monitoring workloads. */
    public readonly monitoringNamespace: pulumi.Output<string>;
    /** Namespace of the node-level agents. */
    public readonly agentsNamespace: pulumi.Output<string>;

    constructor(name: string, args: ObservabilityStackArgs, opts?: pulumi.ComponentResourceOptions) {
        super("observability:index:ObservabilityStack", name, {}, opts);
        const cfg = args.config;
        const nsLabels = {
            "app.kubernetes.io/part-of": PART_OF,
            "app.kubernetes.io/managed-by": MANAGED_BY,
            "observability.pulumi.com/environment": cfg.environment,
        };

        const monitoring = new k8s.core.v1.Namespace(
            `${name}-monitoring`,
            {
                metadata: {
                    name: cfg.namespaces.monitoring,
                    labels: { ...nsLabels, ...podSecurityLabels("restricted") },
                },
            },
            { parent: this },
        );

        // The agents namespace exists because node-level agents (node-exporter, the OTel
        // collector agent reading /var/log/pods) need host paths, host network or host PID,
        // which the restricted profile forbids. Keeping them apart lets the monitoring namespace
        // enforce restricted with no exception; here only what the agents need is allowed, and
        // warn/audit stay at restricted so every exception remains visible.
        const agents = new k8s.core.v1.Namespace(
            `${name}-agents`,
            {
                metadata: {
                    name: cfg.namespaces.agents,
                    labels: { ...nsLabels, ...podSecurityLabels("privileged"), "pod-security.kubernetes.io/enforce": "privileged" },
                },
            },
            { parent: this },
        );

        const denyLabels = standardLabels({ name: "network-policy", instance: name, component: "security" });
        defaultDenyIngress(`${name}-monitoring-default-deny`, monitoring.metadata.name, denyLabels, { parent: this });
        defaultDenyIngress(`${name}-agents-default-deny`, agents.metadata.name, denyLabels, { parent: this });

        this.monitoringNamespace = monitoring.metadata.name;
        this.agentsNamespace = agents.metadata.name;
        this.registerOutputs({ monitoringNamespace: this.monitoringNamespace, agentsNamespace: this.agentsNamespace });
    }
}
