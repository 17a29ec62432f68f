/** Standard `app.kubernetes.io/*` labels (CONVENTIONS: one helper for every object). */

export const PART_OF = "observability-stack";
export const MANAGED_BY = "pulumi";

export interface LabelArgs {
    /** The application, e.g. `prometheus`. */
    readonly name: string;
    /** The instance, unique per release of the application: the component's Pulumi name. */
    readonly instance: string;
    /** Role inside the stack, e.g. `metrics`, `alerting`. */
    readonly component: string;
    /** Version of the application (image tag). */
    readonly version?: string;
}

/** Labels for every object of a workload. */
export function standardLabels(a: LabelArgs): Record<string, string> {
    return {
        ...selectorLabels(a),
        "app.kubernetes.io/component": a.component,
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/managed-by": MANAGED_BY,
        ...(a.version ? { "app.kubernetes.io/version": a.version } : {}),
    };
}

/**
 * Labels that select a workload's pods. Kept to name and instance: selectors are immutable, so
 * nothing that changes on upgrade (version) may be part of them.
 */
export function selectorLabels(a: Pick<LabelArgs, "name" | "instance">): Record<string, string> {
    return { "app.kubernetes.io/name": a.name, "app.kubernetes.io/instance": a.instance };
}

/** Child resource name: `<parent>-<suffix>`, or the parent name itself for the main object. */
export function childName(parent: string, suffix?: string): string {
    const n = suffix ? `${parent}-${suffix}` : parent;
    if (n.length > 63 || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(n)) {
        throw new Error(`resource name "${n}": expected a DNS label (lowercase letters, digits, '-', at most 63 characters)`);
    }
    return n;
}
