/**
 * Compares what the offline render says the program declares with what the API server holds
 * after a real `pulumi up`: every field the render sets must be in the live object with the same
 * value (the server adds defaults, so the live object may hold more).
 */
import type { K8sObject } from "../../scripts/lib/manifests";

/** Kubernetes quantity → a number of base units, or undefined when `v` is not a quantity. */
export function quantityValue(v: unknown): number | undefined {
    if (typeof v === "number") return v;
    if (typeof v !== "string") return undefined;
    const m = /^([+-]?\d+(?:\.\d+)?)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/.exec(v);
    if (!m) return undefined;
    const mult: Record<string, number> = {
        "": 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
        Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
    };
    return Number(m[1]) * mult[m[2] ?? ""];
}

const QUANTITY_PARENTS = /(\.requests|\.limits|\.capacity|\.sizeLimit|\.storage)(\.|$)/;

/**
 * Paths where `expected` (rendered) and `actual` (live) disagree. Objects: every rendered key
 * must match (extra live keys are server defaults). Arrays: same length, element-wise. Scalars:
 * equal, quantities under resources/capacity compared by value ("1024Mi" = "1Gi").
 */
export function subsetDiff(expected: unknown, actual: unknown, at = ""): string[] {
    if (expected === null || expected === undefined) return [];
    // The API server drops empty and false omitempty fields: `matchLabels: {}` and
    // `globalDefault: false` come back absent, meaning the same.
    if (actual === undefined && isEmptyValue(expected)) return [];
    if (Array.isArray(expected)) {
        if (!Array.isArray(actual)) return [`${at}: expected an array, live has ${JSON.stringify(actual)}`];
        if (actual.length !== expected.length) return [`${at}: ${expected.length} items rendered, ${actual.length} live`];
        return expected.flatMap((e, i) => subsetDiff(e, actual[i], `${at}[${i}]`));
    }
    if (typeof expected === "object") {
        if (!actual || typeof actual !== "object" || Array.isArray(actual)) return [`${at}: expected an object, live has ${JSON.stringify(actual)}`];
        return Object.entries(expected as Record<string, unknown>).flatMap(([k, v]) => subsetDiff(v, (actual as Record<string, unknown>)[k], `${at}.${k}`));
    }
    if (expected === actual) return [];
    if (QUANTITY_PARENTS.test(at)) {
        const a = quantityValue(expected), b = quantityValue(actual);
        if (a !== undefined && b !== undefined && Math.abs(a - b) <= Math.abs(a) * 1e-9) return [];
    }
    // The server keeps int-or-string fields as given; a number rendered as a string is the same.
    if (String(expected) === String(actual) && typeof actual !== "object") return [];
    return [`${at}: rendered ${JSON.stringify(expected)}, live ${JSON.stringify(actual)}`];
}

function isEmptyValue(v: unknown): boolean {
    if (v === false || v === "" || v === 0) return true;
    if (Array.isArray(v)) return v.length === 0;
    return typeof v === "object" && v !== null && Object.keys(v).length === 0;
}

/** Identity of an object: `Kind group namespace/name`. */
export function objectKey(o: { apiVersion: string; kind: string; metadata: { name?: string; namespace?: string } }): string {
    const group = o.apiVersion.includes("/") ? o.apiVersion.split("/")[0] : "";
    return `${o.kind}${group ? `.${group}` : ""} ${o.metadata.namespace ?? ""}/${o.metadata.name}`;
}

/**
 * Differences between a rendered object and the live one. Secrets are redacted in the render:
 * only their keys are compared (stringData and data both end up in live `data`).
 */
export function compareObject(rendered: K8sObject, live: any): string[] {
    const r = rendered as any;
    const diffs: string[] = [];
    diffs.push(...subsetDiff(r.metadata?.labels, live.metadata?.labels, ".metadata.labels"));
    diffs.push(...subsetDiff(r.metadata?.annotations, live.metadata?.annotations, ".metadata.annotations"));
    for (const [k, v] of Object.entries(r)) {
        if (k === "apiVersion" || k === "kind" || k === "metadata" || k === "status") continue;
        if (r.kind === "Secret" && (k === "data" || k === "stringData")) continue;
        diffs.push(...subsetDiff(v, live[k], `.${k}`));
    }
    if (r.kind === "Secret") {
        const keys = [...Object.keys(r.data ?? {}), ...Object.keys(r.stringData ?? {})].sort();
        const liveKeys = Object.keys(live.data ?? {}).sort();
        if (JSON.stringify(keys) !== JSON.stringify(liveKeys)) diffs.push(`.data: rendered keys ${keys.join(",")}, live keys ${liveKeys.join(",")}`);
    }
    return diffs;
}
