/**
 * What the lifecycle tests share: the render of a stack as the reference, live objects of its
 * kinds, and the checks every stack must pass after `pulumi up` on the local control plane.
 */
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import type { K8sObject } from "../../scripts/lib/manifests";
import type { CommandResult, LocalCluster } from "./cluster";
import { compareObject, objectKey } from "./live-compare";
import { makeTempDir, runRender } from "./render";

/** The command's stdout; throws with its output tail when it failed. */
export function must(r: CommandResult, what: string): string {
    if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status}):\n${r.stdout.slice(-4000)}\n${r.stderr.slice(-4000)}`);
    return r.stdout;
}

export interface Rendered {
    readonly objects: K8sObject[];
    readonly outputs: Record<string, unknown>;
}

/** The offline render of a stack (its stack file from stackDir, default the repository). */
export function renderStack(stack: string, stackDir?: string): Rendered {
    const out = path.join(makeTempDir(`obs-render-${stack}`), "out");
    const r = runRender(["--stack", stack, "--out", out, ...(stackDir ? ["--stack-dir", stackDir] : [])]);
    if (r.status !== 0) throw new Error(`render of ${stack} failed: ${r.stderr}`);
    return {
        objects: (yaml.loadAll(fs.readFileSync(path.join(out, "manifests.yaml"), "utf8")) as K8sObject[]).filter(Boolean),
        outputs: JSON.parse(fs.readFileSync(path.join(out, "summary.json"), "utf8")).outputs,
    };
}

/** `Kind.group` (or `Kind` for the core group) of each kind among the objects, for kubectl. */
export function kindsOf(objects: readonly K8sObject[]): string[] {
    return [...new Set(objects.map((o) => (o.apiVersion.includes("/") ? `${o.kind}.${o.apiVersion.split("/")[0]}` : o.kind)))];
}

/** Live objects of those kinds in every namespace, by objectKey. */
export function liveObjects(cluster: LocalCluster, objects: readonly K8sObject[]): Map<string, any> {
    const live = new Map<string, any>();
    for (const k of kindsOf(objects)) for (const item of cluster.getJson([k, "-A"]).items) live.set(objectKey(item), item);
    return live;
}

/** Every rendered object that is missing live or differs from its live spec. */
export function renderedVsLive(cluster: LocalCluster, objects: readonly K8sObject[]): string[] {
    const live = liveObjects(cluster, objects);
    return objects.flatMap((o) => {
        const l = live.get(objectKey(o));
        return l ? compareObject(o, l).map((d) => `${objectKey(o)} ${d}`) : [`${objectKey(o)}: missing in the API server`];
    });
}

/** Claims the stack makes: one per StatefulSet replica and volumeClaimTemplate, plus its own. */
export function expectedClaims(objects: readonly K8sObject[]): number {
    const fromTemplates = objects
        .filter((o) => o.kind === "StatefulSet")
        .reduce((n, o: any) => n + (o.spec.replicas ?? 1) * (o.spec.volumeClaimTemplates?.length ?? 0), 0);
    return fromTemplates + objects.filter((o) => o.kind === "PersistentVolumeClaim").length;
}

/** Workloads whose ready replicas differ from the desired ones ("Kind name: ready/desired"). */
export function unreadyWorkloads(cluster: LocalCluster, objects: readonly K8sObject[]): string[] {
    const problems: string[] = [];
    for (const w of objects.filter((o) => ["Deployment", "StatefulSet", "DaemonSet"].includes(o.kind))) {
        const l = cluster.getJson([`${w.kind}.apps`, "-n", w.metadata.namespace!, w.metadata.name!]);
        const [ready, desired] =
            w.kind === "DaemonSet" ? [l.status?.numberReady ?? 0, l.status?.desiredNumberScheduled ?? 0] : [l.status?.readyReplicas ?? 0, l.spec.replicas ?? 1];
        if (desired < 1 || ready !== desired) problems.push(`${w.kind} ${w.metadata.name}: ${ready}/${desired} ready`);
    }
    return problems;
}

/** Claims in the namespaces that are not Bound, and how many there are. */
export function claimsIn(cluster: LocalCluster, namespaces: readonly string[]): { count: number; unbound: string[] } {
    const claims = namespaces.flatMap((ns) => cluster.getJson(["pvc", "-n", ns]).items);
    return { count: claims.length, unbound: claims.filter((c: any) => c.status?.phase !== "Bound").map((c: any) => c.metadata.name) };
}

/** Pods refused at creation (PodSecurity and the like): FailedCreate events in the namespaces. */
export function refusedPods(cluster: LocalCluster, namespaces: readonly string[]): string[] {
    return namespaces
        .flatMap((ns) => cluster.getJson(["events", "-n", ns]).items)
        .filter((e: any) => e.reason === "FailedCreate")
        .map((e: any) => `${e.involvedObject.kind} ${e.involvedObject.name}: ${e.message}`);
}
