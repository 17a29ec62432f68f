/**
 * Turns recorded Pulumi registrations into Kubernetes manifests, config files and a summary:
 * the offline render's output. Pure functions over the records, so tests use them directly.
 */
import type { RecordedResource } from "./mock-runtime";

export type K8sObject = {
    apiVersion: string;
    kind: string;
    metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
    [key: string]: any;
};


export { RENDER_DIR_ANNOTATION } from "../../components/kube/render";
import { RENDER_DIR_ANNOTATION } from "../../components/kube/render";

/** Apply order, as Helm installs: what others depend on comes first. */
const KIND_ORDER = [
    "Namespace", "PriorityClass", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodDisruptionBudget",
    "ServiceAccount", "Secret", "ConfigMap", "StorageClass", "PersistentVolume", "PersistentVolumeClaim",
    "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "Service",
    "DaemonSet", "Pod", "ReplicaSet", "Deployment", "HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob",
    "IngressClass", "Ingress", "APIService",
];

function kindRank(kind: string): number {
    const i = KIND_ORDER.indexOf(kind);
    return i < 0 ? KIND_ORDER.length : i;
}

/** Kubernetes objects among the records, without Pulumi-only fields, in apply order. */
export function toKubernetesObjects(records: readonly RecordedResource[]): K8sObject[] {
    const objects = records
        .filter((r) => r.custom && r.type.startsWith("kubernetes:") && !r.type.startsWith("kubernetes:helm") && r.type !== "pulumi:providers:kubernetes")
        .map((r) => {
            const obj = stripUndefined(r.inputs) as K8sObject;
            if (!obj.apiVersion || !obj.kind) throw new Error(`resource ${r.type} "${r.name}" has no apiVersion/kind in its inputs`);
            if (!obj.metadata?.name) {
                throw new Error(`${obj.kind} "${r.name}": expected metadata.name to be set (Pulumi auto-naming would append a random suffix)`);
            }
            return obj;
        });
    return objects.sort(
        (a, b) =>
            kindRank(a.kind) - kindRank(b.kind) ||
            a.kind.localeCompare(b.kind) ||
            (a.metadata.namespace ?? "").localeCompare(b.metadata.namespace ?? "") ||
            a.metadata.name.localeCompare(b.metadata.name),
    );
}

function stripUndefined(v: any): any {
    if (Array.isArray(v)) return v.map(stripUndefined);
    if (v && typeof v === "object") {
        const out: Record<string, any> = {};
        for (const [k, val] of Object.entries(v)) if (val !== undefined) out[k] = stripUndefined(val);
        return out;
    }
    return v;
}

/** Replaces every Secret value by `<redacted:NAME/KEY>`; returns new objects. */
export function redactSecrets(objects: readonly K8sObject[]): K8sObject[] {
    return objects.map((o) => {
        if (o.kind !== "Secret") return o;
        const copy: K8sObject = { ...o };
        for (const field of ["data", "stringData"] as const) {
            if (o[field]) {
                copy[field] = Object.fromEntries(Object.keys(o[field]).sort().map((k) => [k, `<redacted:${o.metadata.name}/${k}>`]));
            }
        }
        return copy;
    });
}

/** Config files carried by annotated ConfigMaps: relative path under `files/` → content. */
export function extractFiles(objects: readonly K8sObject[]): Map<string, string> {
    const files = new Map<string, string>();
    for (const o of objects) {
        const dir = o.metadata.annotations?.[RENDER_DIR_ANNOTATION];
        if (o.kind !== "ConfigMap" || !dir) continue;
        for (const [key, content] of Object.entries<string>(o.data ?? {})) {
            const rel = `${dir}/${key}`;
            if (files.has(rel)) throw new Error(`two ConfigMaps render files/${rel}`);
            files.set(rel, content);
        }
    }
    return new Map([...files.entries()].sort(([a], [b]) => a.localeCompare(b)));
}

/** ConfigMap and Secret keys: what the API server accepts (IsConfigMapKey), which the schema does not say. */
const DATA_KEY = /^[-._a-zA-Z0-9]+$/;

function dataKeyProblems(o: K8sObject): string[] {
    if (o.apiVersion !== "v1" || (o.kind !== "ConfigMap" && o.kind !== "Secret")) return [];
    const fields = o.kind === "ConfigMap" ? ["data", "binaryData"] : ["data", "stringData"];
    const bad = fields.flatMap((f) => Object.keys(((o as any)[f] ?? {}) as object).filter((k) => !DATA_KEY.test(k) || k.length > 253 || k === "." || k === "..").map((k) => `/${f}/${k}`));
    return bad.map((p) => `${describe(o)}: ${p} is not a valid key (keys are at most 253 characters of [-._a-zA-Z0-9], not "." or "..")`);
}

/**
 * Validates each object against the Kubernetes schema of its kind (kubernetes-models), plus the
 * ConfigMap/Secret key rule the API server enforces and the schema does not carry.
 */
export function validateObjects(objects: readonly K8sObject[]): string[] {
    const problems: string[] = [];
    for (const o of objects) {
        problems.push(...dataKeyProblems(o));
        const [group, version] = o.apiVersion.includes("/") ? o.apiVersion.split("/") : [undefined, o.apiVersion];
        const modulePath = group ? `kubernetes-models/${group}/${version}/${o.kind}` : `kubernetes-models/${version}/${o.kind}`;
        let Model: any;
        try {
            Model = require(modulePath)[o.kind];
        } catch {
            problems.push(`${describe(o)}: no schema for ${o.apiVersion} ${o.kind}`);
            continue;
        }
        try {
            new Model(o).validate();
        } catch (e: any) {
            const details: string[] = (e.errors ?? []).map((er: any) => `${er.instancePath || "/"} ${er.message}`);
            problems.push(`${describe(o)}: ${details.length ? details.join("; ") : e.message}`);
        }
    }
    return problems;
}

export function describe(o: K8sObject): string {
    return `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ""}${o.metadata.name}`;
}

/** CPU quantity in millicores. */
export function cpuMillis(q: string | number | undefined): number {
    if (q === undefined) return 0;
    const s = String(q);
    return s.endsWith("m") ? parseFloat(s) : parseFloat(s) * 1000;
}

/** Memory quantity in bytes. */
export function memoryBytes(q: string | number | undefined): number {
    if (q === undefined) return 0;
    const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?$/.exec(String(q));
    if (!m) return NaN;
    const f: Record<string, number> = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4, Pi: 1024 ** 5, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15 };
    return parseFloat(m[1]!) * (m[2] ? f[m[2]]! : 1);
}

export interface Summary {
    stack: string;
    objects: number;
    byKind: Record<string, number>;
    /** Totals over all replicas; DaemonSets count one pod (per node). */
    resources: { requests: { cpu: string; memory: string }; limits: { cpu: string; memory: string } };
    perWorkload: { workload: string; replicas: number; requests: { cpu: string; memory: string }; limits: { cpu: string; memory: string } }[];
    images: string[];
    files: string[];
}

const WORKLOAD_KINDS = ["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod"];

export function podSpecOf(o: K8sObject): any | undefined {
    if (o.kind === "Pod") return o.spec;
    if (o.kind === "CronJob") return o.spec?.jobTemplate?.spec?.template?.spec;
    if (WORKLOAD_KINDS.includes(o.kind)) return o.spec?.template?.spec;
    return undefined;
}

const fmtCpu = (m: number) => `${Math.round(m)}m`;
const fmtMem = (b: number) => `${Math.round(b / 1024 ** 2)}Mi`;

export function summarize(stack: string, objects: readonly K8sObject[], files: readonly string[]): Summary {
    const byKind: Record<string, number> = {};
    for (const o of objects) byKind[o.kind] = (byKind[o.kind] ?? 0) + 1;
    const images = new Set<string>();
    const total = { rc: 0, rm: 0, lc: 0, lm: 0 };
    const perWorkload: Summary["perWorkload"] = [];
    for (const o of objects) {
        const spec = podSpecOf(o);
        if (!spec) continue;
        const replicas = o.kind === "DaemonSet" || o.kind === "Pod" ? 1 : (o.spec?.replicas ?? 1);
        const w = { rc: 0, rm: 0, lc: 0, lm: 0 };
        for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) {
            images.add(c.image);
            if ((spec.initContainers ?? []).includes(c)) continue;
            w.rc += cpuMillis(c.resources?.requests?.cpu);
            w.rm += memoryBytes(c.resources?.requests?.memory);
            w.lc += cpuMillis(c.resources?.limits?.cpu);
            w.lm += memoryBytes(c.resources?.limits?.memory);
        }
        total.rc += w.rc * replicas;
        total.rm += w.rm * replicas;
        total.lc += w.lc * replicas;
        total.lm += w.lm * replicas;
        perWorkload.push({
            workload: `${o.kind}/${o.metadata.name}`,
            replicas,
            requests: { cpu: fmtCpu(w.rc), memory: fmtMem(w.rm) },
            limits: { cpu: fmtCpu(w.lc), memory: fmtMem(w.lm) },
        });
    }
    return {
        stack,
        objects: objects.length,
        byKind: Object.fromEntries(Object.entries(byKind).sort(([a], [b]) => a.localeCompare(b))),
        resources: { requests: { cpu: fmtCpu(total.rc), memory: fmtMem(total.rm) }, limits: { cpu: fmtCpu(total.lc), memory: fmtMem(total.lm) } },
        perWorkload,
        images: [...images].sort(),
        files: [...files],
    };
}
