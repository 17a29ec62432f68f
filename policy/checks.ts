/**
 * Pure checks over Kubernetes objects, shared by the CrossGuard policies (`policy/policies.ts`)
 * and `npm run audit` (`scripts/audit.ts`). They take plain objects (a rendered manifest, or a
 * Pulumi resource's props, which have the same shape) and return what is wrong, so each check is
 * tested once with a compliant and a violating object.
 *
 * This module depends on nothing outside Node and this folder: the policy pack is loaded by the
 * Pulumi CLI on its own, and must not type-check the whole program to start.
 */

/** The part of a Kubernetes object the checks read. */
export interface KubeObject {
    apiVersion?: string;
    kind?: string;
    metadata?: { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
    spec?: any;
    data?: Record<string, string>;
    [key: string]: any;
}

/** One problem a check found. */
export interface Violation {
    readonly message: string;
    /** The container it concerns, when it concerns one. */
    readonly container?: string;
    /**
     * The `SecurityExceptions` field (components/kube/security.ts) that can explain this
     * loosening when it is recorded on the pod template; undefined when nothing can.
     */
    readonly exception?: string;
}

/** Kinds that carry a pod template (or are a pod). */
export const WORKLOAD_KINDS: readonly string[] = ["Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"];

/** The kind of a Pulumi Kubernetes resource type token, e.g. `kubernetes:apps/v1:Deployment` → `Deployment`. */
export function kindOfPulumiType(type: string): string | undefined {
    const m = /^kubernetes:[^:]+:([A-Za-z0-9]+)$/.exec(type);
    return m ? m[1] : undefined;
}

/** The Pulumi type token of a Kubernetes object, e.g. `apps/v1` `Deployment` → `kubernetes:apps/v1:Deployment`. */
export function pulumiTypeOf(o: KubeObject): string {
    const apiVersion = o.apiVersion ?? "v1";
    return `kubernetes:${apiVersion.includes("/") ? apiVersion : `core/${apiVersion}`}:${o.kind}`;
}

export function isWorkload(kind: string | undefined): boolean {
    return kind !== undefined && WORKLOAD_KINDS.includes(kind);
}

/** `Kind namespace/name`, the way violations name an object. */
export function describeObject(o: KubeObject, kind = o.kind): string {
    const ns = o.metadata?.namespace;
    return `${kind ?? "object"} ${ns ? `${ns}/` : ""}${o.metadata?.name ?? "(unnamed)"}`;
}

/** A workload's pod template: the labels and annotations its pods get, and their spec. */
export interface PodTemplate {
    readonly labels: Record<string, string>;
    readonly annotations: Record<string, string>;
    readonly spec: any;
}

export function podTemplateOf(o: KubeObject, kind = o.kind): PodTemplate | undefined {
    let template: any;
    if (kind === "Pod") template = { metadata: o.metadata, spec: o.spec };
    else if (kind === "CronJob") template = o.spec?.jobTemplate?.spec?.template;
    else if (isWorkload(kind)) template = o.spec?.template;
    if (!template || typeof template !== "object") return undefined;
    return { labels: template.metadata?.labels ?? {}, annotations: template.metadata?.annotations ?? {}, spec: template.spec ?? {} };
}

/** Namespace of an object; Kubernetes puts an object without one in `default`. */
export function namespaceOf(o: KubeObject): string {
    return o.metadata?.namespace ?? "default";
}

/** Replicas a workload asks for: undefined for DaemonSets, Jobs and Pods, where it does not apply. */
export function replicasOf(o: KubeObject, kind = o.kind): number | undefined {
    if (kind !== "Deployment" && kind !== "StatefulSet" && kind !== "ReplicaSet") return undefined;
    return typeof o.spec?.replicas === "number" ? o.spec.replicas : 1;
}

export interface ContainerRef {
    readonly container: any;
    readonly name: string;
    readonly kind: "container" | "initContainer" | "ephemeralContainer";
}

/** Every container of a pod spec, init and ephemeral ones included. */
export function containersOf(spec: any): ContainerRef[] {
    const out: ContainerRef[] = [];
    const add = (list: unknown, kind: ContainerRef["kind"]) => {
        if (!Array.isArray(list)) return;
        for (const c of list) out.push({ container: c ?? {}, name: String(c?.name ?? "(unnamed)"), kind });
    };
    add(spec?.initContainers, "initContainer");
    add(spec?.containers, "container");
    add(spec?.ephemeralContainers, "ephemeralContainer");
    return out;
}

const label = (c: ContainerRef) => `${c.kind === "container" ? "container" : c.kind} "${c.name}"`;

/** A container's effective value of a security context field: its own, else the pod's. */
function effective(spec: any, c: ContainerRef, field: "runAsNonRoot" | "runAsUser" | "seccompProfile"): any {
    const own = c.container.securityContext?.[field];
    return own !== undefined ? own : spec?.securityContext?.[field];
}

const show = (v: unknown) => (v === undefined ? "unset" : JSON.stringify(v));

// ---------------------------------------------------------------------------------------------
// Pod security fields (the Pod Security Standards' restricted profile, plus read-only root)
// ---------------------------------------------------------------------------------------------

/** runAsNonRoot true and a fixed, non-zero UID on every container (its own or the pod's). */
export function nonRootViolations(spec: any): Violation[] {
    const out: Violation[] = [];
    for (const c of containersOf(spec)) {
        const nonRoot = effective(spec, c, "runAsNonRoot");
        const uid = effective(spec, c, "runAsUser");
        if (nonRoot !== true) {
            out.push({ container: c.name, exception: "runAsRoot", message: `${label(c)}: runAsNonRoot must be true (is ${show(nonRoot)})` });
        }
        if (uid === 0) {
            out.push({ container: c.name, exception: "runAsRoot", message: `${label(c)}: runAsUser must not be 0 (root)` });
        } else if (typeof uid !== "number") {
            out.push({ container: c.name, exception: "runAsRoot", message: `${label(c)}: runAsUser must be a fixed non-zero UID (is ${show(uid)})` });
        }
    }
    return out;
}

export function privilegeEscalationViolations(spec: any): Violation[] {
    return containersOf(spec)
        .filter((c) => c.container.securityContext?.allowPrivilegeEscalation !== false)
        .map((c) => ({
            container: c.name,
            message: `${label(c)}: securityContext.allowPrivilegeEscalation must be false (is ${show(c.container.securityContext?.allowPrivilegeEscalation)})`,
        }));
}

export function privilegedViolations(spec: any): Violation[] {
    return containersOf(spec)
        .filter((c) => c.container.securityContext?.privileged === true)
        .map((c) => ({ container: c.name, message: `${label(c)}: securityContext.privileged must not be true` }));
}

export function readOnlyRootFilesystemViolations(spec: any): Violation[] {
    return containersOf(spec)
        .filter((c) => c.container.securityContext?.readOnlyRootFilesystem !== true)
        .map((c) => ({
            container: c.name,
            exception: "writableRootFilesystem",
            message: `${label(c)}: securityContext.readOnlyRootFilesystem must be true (is ${show(c.container.securityContext?.readOnlyRootFilesystem)})`,
        }));
}

/**
 * Every container drops ALL capabilities and adds back at most `allowedAdd` (the restricted
 * profile allows NET_BIND_SERVICE; the audit allows nothing without a recorded exception).
 */
export function capabilityViolations(spec: any, allowedAdd: readonly string[] = []): Violation[] {
    const out: Violation[] = [];
    for (const c of containersOf(spec)) {
        const caps = c.container.securityContext?.capabilities ?? {};
        const drop: unknown[] = Array.isArray(caps.drop) ? caps.drop : [];
        if (!drop.includes("ALL")) {
            out.push({ container: c.name, message: `${label(c)}: securityContext.capabilities.drop must include ALL (is ${show(caps.drop)})` });
        }
        const added = (Array.isArray(caps.add) ? caps.add : []).filter((cap: unknown) => !allowedAdd.includes(String(cap)));
        if (added.length > 0) {
            out.push({ container: c.name, exception: "addCapabilities", message: `${label(c)}: adds capabilities ${added.join(", ")}` });
        }
    }
    return out;
}

/** No hostNetwork, hostPID, hostIPC or hostPort. */
export function hostNamespaceViolations(spec: any): Violation[] {
    const out: Violation[] = [];
    if (spec?.hostNetwork === true) out.push({ exception: "hostNetwork", message: "pod shares the node's network namespace (hostNetwork: true)" });
    if (spec?.hostPID === true) out.push({ exception: "hostPID", message: "pod shares the node's PID namespace (hostPID: true)" });
    if (spec?.hostIPC === true) out.push({ message: "pod shares the node's IPC namespace (hostIPC: true)" });
    for (const c of containersOf(spec)) {
        for (const p of Array.isArray(c.container.ports) ? c.container.ports : []) {
            if (p?.hostPort === undefined || p.hostPort === 0) continue;
            // With hostNetwork every container port is a node port: hostPort only restates it.
            const impliedByHostNetwork = spec?.hostNetwork === true && p.hostPort === p.containerPort;
            out.push({
                container: c.name,
                ...(impliedByHostNetwork ? { exception: "hostNetwork" } : {}),
                message: `${label(c)}: binds node port ${p.hostPort} (hostPort)${impliedByHostNetwork ? ", as hostNetwork implies" : ""}`,
            });
        }
    }
    return out;
}

/** hostPath volumes, each named with how it is mounted. */
export function hostPathViolations(spec: any): Violation[] {
    const volumes: any[] = Array.isArray(spec?.volumes) ? spec.volumes : [];
    const out: Violation[] = [];
    for (const v of volumes.filter((v) => v?.hostPath)) {
        const mounts = containersOf(spec).flatMap((c) =>
            (Array.isArray(c.container.volumeMounts) ? c.container.volumeMounts : []).filter((m: any) => m?.name === v.name).map((m: any) => ({ c, m })),
        );
        const writable = mounts.filter(({ m }) => m.readOnly !== true).map(({ c }) => c.name);
        out.push({
            exception: "hostPath",
            message:
                `volume "${v.name}" mounts the node's ${v.hostPath.path}` +
                (writable.length > 0 ? ` WRITABLE in ${writable.join(", ")}` : " read-only"),
        });
    }
    return out;
}

/** Volume types the restricted profile allows. */
export const RESTRICTED_VOLUME_TYPES: readonly string[] = [
    "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret",
];

export function volumeTypeViolations(spec: any): Violation[] {
    const volumes: any[] = Array.isArray(spec?.volumes) ? spec.volumes : [];
    const out: Violation[] = [];
    for (const v of volumes) {
        const types = Object.keys(v ?? {}).filter((k) => k !== "name");
        const bad = types.filter((t) => !RESTRICTED_VOLUME_TYPES.includes(t));
        if (bad.length > 0) {
            out.push({
                ...(bad.includes("hostPath") ? { exception: "hostPath" } : {}),
                message: `volume "${v?.name}" has type ${bad.join(", ")}; allowed: ${RESTRICTED_VOLUME_TYPES.join(", ")}`,
            });
        }
    }
    return out;
}

/** seccomp RuntimeDefault (or a Localhost profile) on every container, its own or the pod's. */
export function seccompViolations(spec: any): Violation[] {
    return containersOf(spec)
        .filter((c) => !["RuntimeDefault", "Localhost"].includes(effective(spec, c, "seccompProfile")?.type))
        .map((c) => ({
            container: c.name,
            message: `${label(c)}: seccompProfile.type must be RuntimeDefault (is ${show(effective(spec, c, "seccompProfile")?.type)})`,
        }));
}

/** The fields the Pod Security Standards' `restricted` profile checks. */
export function restrictedProfileViolations(spec: any): Violation[] {
    return [
        ...hostNamespaceViolations(spec),
        ...volumeTypeViolations(spec),
        ...privilegedViolations(spec),
        ...privilegeEscalationViolations(spec),
        ...nonRootViolations(spec),
        ...capabilityViolations(spec, ["NET_BIND_SERVICE"]),
        ...seccompViolations(spec),
    ];
}

// ---------------------------------------------------------------------------------------------
// Resources, images, probes
// ---------------------------------------------------------------------------------------------

/** CPU quantity in cores; NaN when it is not a quantity. */
export function cpuCores(q: unknown): number {
    const m = /^(\d+(?:\.\d+)?)(m)?$/.exec(String(q));
    return m ? parseFloat(m[1]!) / (m[2] ? 1000 : 1) : NaN;
}

/** Memory quantity in bytes; NaN when it is not a quantity. */
export function memoryBytes(q: unknown): number {
    const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/.exec(String(q));
    if (!m) return NaN;
    const f: Record<string, number> = {
        Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
    };
    return parseFloat(m[1]!) * (m[2] ? f[m[2]]! : 1);
}

/** CPU and memory requests and limits on every container, limits not below requests. */
export function resourceViolations(spec: any): Violation[] {
    const out: Violation[] = [];
    for (const c of containersOf(spec)) {
        if (c.kind === "ephemeralContainer") continue; // debugging containers cannot have resources
        const r = c.container.resources ?? {};
        const missing = (["requests", "limits"] as const).flatMap((k) =>
            (["cpu", "memory"] as const).filter((res) => r[k]?.[res] === undefined || r[k]?.[res] === null || r[k]?.[res] === "").map((res) => `${k}.${res}`),
        );
        if (missing.length > 0) {
            out.push({ container: c.name, message: `${label(c)}: resources ${missing.join(", ")} must be set` });
            continue;
        }
        const parse = { cpu: cpuCores, memory: memoryBytes };
        for (const res of ["cpu", "memory"] as const) {
            const req = parse[res](r.requests[res]);
            const lim = parse[res](r.limits[res]);
            if (Number.isNaN(req) || Number.isNaN(lim)) {
                out.push({ container: c.name, message: `${label(c)}: resources.${Number.isNaN(req) ? "requests" : "limits"}.${res} is not a ${res} quantity` });
            } else if (lim < req) {
                out.push({ container: c.name, message: `${label(c)}: resources.limits.${res} ${r.limits[res]} is below requests.${res} ${r.requests[res]}` });
            }
        }
    }
    return out;
}

/**
 * Why an image reference is not pinned, or undefined when it is: it needs a tag other than
 * `latest`, or a digest.
 */
export function imagePinProblem(image: unknown): string | undefined {
    if (typeof image !== "string" || image.trim() === "") return "has no image";
    if (/@sha256:[0-9a-f]{64}$/.test(image)) return undefined;
    const lastSegment = image.slice(image.lastIndexOf("/") + 1);
    const colon = lastSegment.indexOf(":");
    if (colon < 0) return `image "${image}" has no tag (pulls latest)`;
    const tag = lastSegment.slice(colon + 1);
    if (tag === "" || tag.toLowerCase() === "latest") return `image "${image}" is tagged ${tag === "" ? "with nothing" : "latest"}`;
    return undefined;
}

export function imageViolations(spec: any): Violation[] {
    return containersOf(spec)
        .map((c) => ({ c, problem: imagePinProblem(c.container.image) }))
        .filter((x) => x.problem !== undefined)
        .map(({ c, problem }) => ({ container: c.name, message: `${label(c)}: ${problem}; pin it to a version tag or digest` }));
}

/** Liveness and readiness probes on every long-running (regular) container. */
export function probeViolations(spec: any): Violation[] {
    const out: Violation[] = [];
    for (const c of containersOf(spec).filter((c) => c.kind === "container")) {
        const missing = (["livenessProbe", "readinessProbe"] as const).filter((p) => !c.container[p]);
        if (missing.length > 0) out.push({ container: c.name, message: `${label(c)}: has no ${missing.join(" and no ")}` });
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// Selectors and NetworkPolicy coverage
// ---------------------------------------------------------------------------------------------

/** Whether `labels` satisfy a LabelSelector (matchLabels and matchExpressions). */
export function selectorMatches(selector: any, labels: Record<string, string>): boolean {
    if (!selector || typeof selector !== "object") return false;
    for (const [k, v] of Object.entries<string>(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
    for (const e of Array.isArray(selector.matchExpressions) ? selector.matchExpressions : []) {
        const has = Object.prototype.hasOwnProperty.call(labels, e.key);
        const values: string[] = Array.isArray(e.values) ? e.values : [];
        const ok =
            e.operator === "In" ? has && values.includes(labels[e.key]!)
            : e.operator === "NotIn" ? !has || !values.includes(labels[e.key]!)
            : e.operator === "Exists" ? has
            : e.operator === "DoesNotExist" ? !has
            : false;
        if (!ok) return false;
    }
    return true;
}

/** Whether a selector selects everything (`{}`). */
export function selectsEverything(selector: any): boolean {
    return !!selector && Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0;
}

/** Whether a NetworkPolicy restricts ingress (policyTypes defaults to Ingress). */
function governsIngress(np: KubeObject): boolean {
    const types = np.spec?.policyTypes;
    return !Array.isArray(types) || types.length === 0 || types.includes("Ingress");
}

export interface CoverageGap {
    /** The uncovered workload. */
    readonly object: KubeObject;
    readonly message: string;
}

/**
 * Workloads that no NetworkPolicy of their namespace describes. A policy counts when it governs
 * ingress and its podSelector matches the pod template's labels. A namespace-wide policy (empty
 * podSelector, like default-deny) only counts for pods that listen on no port: for the others it
 * says nothing about the flows they need.
 */
export function networkPolicyGaps(objects: readonly KubeObject[], kindOf: (o: KubeObject) => string | undefined = (o) => o.kind): CoverageGap[] {
    const policies = objects.filter((o) => kindOf(o) === "NetworkPolicy" && governsIngress(o));
    const gaps: CoverageGap[] = [];
    for (const o of objects) {
        const kind = kindOf(o);
        const template = podTemplateOf(o, kind);
        if (!template) continue;
        const ns = namespaceOf(o);
        const matching = policies.filter((np) => namespaceOf(np) === ns && selectorMatches(np.spec?.podSelector ?? {}, template.labels));
        const specific = matching.filter((np) => !selectsEverything(np.spec?.podSelector ?? {}));
        const listens = containersOf(template.spec).some((c) => Array.isArray(c.container.ports) && c.container.ports.length > 0);
        if (specific.length > 0 || (!listens && matching.length > 0)) continue;
        gaps.push({
            object: o,
            message:
                `${describeObject(o, kind)}: no NetworkPolicy in namespace ${ns} selects its pods (labels ${JSON.stringify(template.labels)})` +
                (matching.length > 0 ? `; only namespace-wide ${matching.map((np) => np.metadata?.name).join(", ")}, which does not admit the flows its ports need` : ""),
        });
    }
    return gaps;
}

// ---------------------------------------------------------------------------------------------
// Secret material in ConfigMaps
// ---------------------------------------------------------------------------------------------

/** Names of settings that hold credentials. */
const SECRET_KEY = /(password|passwd|passphrase|secret|token|api[_-]?key|apikey|private[_-]?key|routing[_-]?key|webhook(_?url)?|credentials?|client[_-]?secret)/i;
/** Names of settings that hold a password: any literal value is one, however short. */
const PASSWORD_KEY = /(password|passwd|passphrase)/i;
/** Setting names that refer to a credential stored elsewhere, or merely mention one. */
const REFERENCE_KEY = /(_file|_path|file|path|_env|_ref|secretname|secret_name|secretref|enabled|ttl|interval|duration|length|header_name|username|user)$/i;

/** Credentials recognisable by their value alone, whatever the setting is called. */
const SECRET_VALUE_PATTERNS: readonly { readonly what: string; readonly re: RegExp }[] = [
    { what: "a private key", re: /-----BEGIN [A-Z ]*PRIVATE KEY-----/ },
    { what: "a Slack webhook URL", re: /https:\/\/hooks\.slack\.com\/services\/[A-Za-z0-9/_-]+/ },
    { what: "a Microsoft Teams webhook URL", re: /https:\/\/[A-Za-z0-9.-]*webhook\.office\.com\/[A-Za-z0-9/@_-]+/ },
    { what: "a Discord webhook URL", re: /https:\/\/discord(app)?\.com\/api\/webhooks\/\d+\/[A-Za-z0-9_-]+/ },
    { what: "a Slack token", re: /\bxox[abprs]-[A-Za-z0-9-]{10,}/ },
    { what: "a GitHub token", re: /\b(gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})/ },
    { what: "an AWS access key", re: /\b(AKIA|ASIA)[0-9A-Z]{16}\b/ },
    { what: "a JSON Web Token", re: /\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/ },
    { what: "a bearer token", re: /\bBearer\s+(?![$<{])[A-Za-z0-9._~+/-]{16,}=*/ },
    { what: "a password in a URL", re: /[a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:(?![$<{])[^\s@/]+@/i },
];

/** `key: value`, `key = value` or `"key": "value"` anywhere in a text (YAML, INI, JSON, env). */
const ASSIGNMENT = /(?:^|[\s{,;[])["']?([A-Za-z0-9_.-]+)["']?\s*[:=][ \t]*("([^"\n]*)"|'([^'\n]*)'|([^\s,}\]#;]+))/gm;

/** Whether a value only refers to a secret kept elsewhere, or is not a secret at all. */
function isReferenceOrHarmless(value: string): boolean {
    const v = value.trim();
    return (
        v === "" ||
        /^(true|false|null|none|~|yes|no|on|off)$/i.test(v) ||
        /^-?\d+(\.\d+)?[a-zA-Z]{0,2}$/.test(v) || // numbers, durations, sizes
        /^\$/.test(v) || // ${ENV}, $__file{...}, $__env{...}
        /^[[{]/.test(v) || // the start of a list or map, not a value
        /^\{\{.*\}\}$/.test(v) || // templates
        /^<redacted[:>]/.test(v) ||
        /^(\/|\.\/|file:)/.test(v) // a file path
    );
}

/**
 * Whether a literal value under a credential-like name (other than a password) looks like a
 * credential rather than a setting: long, or mixing letters and digits. So the OTel
 * load-balancing exporter's `routing_key: traceID` passes and a PagerDuty routing key does not.
 */
function looksLikeCredential(value: string): boolean {
    const v = value.trim();
    return v.length >= 12 || (v.length >= 8 && /[A-Za-z]/.test(v) && /\d/.test(v));
}

/** A literal value under a credential-like setting name that is (or may be) a credential. */
function isLiteralCredential(setting: string, value: string): boolean {
    if (!SECRET_KEY.test(setting) || REFERENCE_KEY.test(setting) || isReferenceOrHarmless(value)) return false;
    return PASSWORD_KEY.test(setting) || looksLikeCredential(value);
}

/**
 * Secret-looking material in a ConfigMap: data keys named like credentials with a literal value,
 * settings inside the config files named like credentials with a literal value, and values that
 * are credentials by their shape (private keys, webhook URLs, tokens).
 */
export function configMapSecretFindings(cm: KubeObject): string[] {
    const findings: string[] = [];
    const data: Record<string, unknown> = { ...(cm.data ?? {}) };
    for (const [key, raw] of Object.entries(data)) {
        const text = typeof raw === "string" ? raw : JSON.stringify(raw ?? "");
        if (!text.includes("\n") && isLiteralCredential(key, text)) {
            findings.push(`data key "${key}" is named like a credential and holds a literal value`);
        }
        for (const { what, re } of SECRET_VALUE_PATTERNS) {
            if (re.test(text)) findings.push(`data key "${key}" contains ${what}`);
        }
        for (const m of text.matchAll(ASSIGNMENT)) {
            const setting = m[1]!;
            const value = m[3] ?? m[4] ?? m[5] ?? "";
            if (isLiteralCredential(setting, value)) {
                const line = text.slice(0, m.index).split("\n").length + (m[0].startsWith("\n") ? 1 : 0);
                findings.push(`data key "${key}" line ${line}: setting "${setting}" holds a literal value; reference a Secret (e.g. ${setting}_file) instead`);
            }
        }
    }
    return [...new Set(findings)];
}
