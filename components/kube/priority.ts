/**
 * The stack's PriorityClass. Monitoring must keep running when a cluster is short of capacity:
 * that is exactly when its alerts matter. Every pod template the kit builds (`securePodSpec`)
 * names this class, node agents included, so no component has to remember it; the root stack
 * (components/stack.ts) declares the class itself, before any workload.
 *
 * Why the kit and not a Pulumi `transforms` on ObservabilityStack (the CONVENTIONS way for
 * cross-cutting changes): transforms run in the engine, so the offline render under Pulumi mocks
 * (scripts/lib/mock-runtime.ts) would not show the field; the kit default is visible in the
 * render, in the tests and in `pulumi preview` alike.
 */
import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";

/** Name of the PriorityClass every workload of the stack runs with. */
export const MONITORING_PRIORITY_CLASS = "observability-stack";

/**
 * Its value: above every ordinary workload (the default is 0) so the scheduler preempts those
 * first, and far below `system-cluster-critical` (2000000000) and `system-node-critical`, so the
 * cluster's own components always win. User-defined classes may go up to 1000000000.
 */
export const MONITORING_PRIORITY_VALUE = 1_000_000;

/**
 * Declares the stack's PriorityClass (cluster-scoped). `globalDefault` stays false: pods of
 * other teams keep the cluster's default priority.
 */
export function monitoringPriorityClass(
    name: string,
    labels: Record<string, string>,
    opts: pulumi.CustomResourceOptions,
): k8s.scheduling.v1.PriorityClass {
    return new k8s.scheduling.v1.PriorityClass(
        name,
        {
            metadata: { name: MONITORING_PRIORITY_CLASS, labels },
            value: MONITORING_PRIORITY_VALUE,
            globalDefault: false,
            preemptionPolicy: "PreemptLowerPriority",
            description: "Monitoring and alerting of the cluster (observability-stack): scheduled before ordinary workloads, after the cluster's own components.",
        },
        opts,
    );
}
