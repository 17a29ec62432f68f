/**
 * `npm run audit`: static security and operability checks over the rendered manifests of each
 * stack, printed as a table per stack. Loosenings recorded on a pod template with the reason
 * (`observability.pulumi.com/security-exception.<field>`, see components/kube/security.ts) in a
 * namespace whose Pod Security level allows them (the agents namespace) count as explained and
 * are listed with that reason; anything else is a violation and the exit code is 1.
 *
 *   npm run audit                       renders dev and prod into a temp dir and audits both
 *   npm run audit -- --stack prod       renders and audits one stack
 *   npm run audit -- --dir out/dev      audits an existing render (a folder with manifests.yaml)
 *
 * Loaded by scripts/audit.js (the `npm run audit` entry point), which registers ts-node the way the render does.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import { SECURITY_EXCEPTION_ANNOTATION_PREFIX } from "../components/kube/security";
import {
    capabilityViolations,
    describeObject,
    hostNamespaceViolations,
    hostPathViolations,
    imageViolations,
    KubeObject,
    namespaceOf,
    networkPolicyGaps,
    nonRootViolations,
    podTemplateOf,
    PodTemplate,
    privilegedViolations,
    privilegeEscalationViolations,
    probeViolations,
    readOnlyRootFilesystemViolations,
    replicasOf,
    resourceViolations,
    seccompViolations,
    selectorMatches,
    containersOf,
    Violation,
} from "../policy/checks";

/** Pod Security levels under which a recorded exception is allowed to take effect. */
const RELAXED_LEVELS = ["privileged", "baseline"];
const ENFORCE_LABEL = "pod-security.kubernetes.io/enforce";

/** A workload of the render, with its pod template. */
export interface Workload {
    readonly object: KubeObject;
    readonly kind: string;
    readonly id: string;
    readonly namespace: string;
    readonly template: PodTemplate;
    /** Undefined for DaemonSets, Jobs and Pods. */
    readonly replicas: number | undefined;
}

export interface AuditContext {
    readonly objects: readonly KubeObject[];
    readonly workloads: readonly Workload[];
}

/** What a check examined: every container, every workload, or workloads with more than one replica. */
export type CheckScope = "containers" | "workloads" | "multi-replica workloads";

export interface AuditCheck {
    readonly id: string;
    readonly title: string;
    readonly scope: CheckScope;
    /** The problems of one workload. */
    readonly check: (w: Workload, ctx: AuditContext) => Violation[];
}

export interface Finding {
    readonly check: string;
    readonly workload: Workload;
    readonly message: string;
    /** The `SecurityExceptions` field that could explain it. */
    readonly exception?: string;
    /** The recorded reason, when the finding is explained. */
    readonly reason?: string;
}

export interface CheckResult {
    readonly check: AuditCheck;
    readonly checked: number;
    readonly findings: readonly Finding[];
}

export interface AuditReport {
    readonly name: string;
    readonly objects: number;
    readonly workloads: number;
    readonly containers: number;
    readonly results: readonly CheckResult[];
}

const perContainer = (f: (spec: any) => Violation[]) => (w: Workload) => f(w.template.spec);
const isBatch = (w: Workload) => w.kind === "Job" || w.kind === "CronJob";

/** PodDisruptionBudgets selecting the workload's pods, and whether each still allows an eviction. */
function pdbViolations(w: Workload, ctx: AuditContext): Violation[] {
    const pdbs = ctx.objects.filter(
        (o) => o.kind === "PodDisruptionBudget" && namespaceOf(o) === w.namespace && selectorMatches(o.spec?.selector, w.template.labels),
    );
    if (pdbs.length === 0) return [{ message: `${w.replicas} replicas and no PodDisruptionBudget selects them` }];
    const out: Violation[] = [];
    for (const pdb of pdbs) {
        const { maxUnavailable, minAvailable } = pdb.spec ?? {};
        const blocks =
            maxUnavailable === 0 || maxUnavailable === "0%" || (typeof minAvailable === "number" && minAvailable >= (w.replicas ?? 1)) || minAvailable === "100%";
        if (blocks) out.push({ message: `PodDisruptionBudget ${pdb.metadata?.name} allows no voluntary eviction, which blocks node drains` });
    }
    return out;
}

/** Anti-affinity or topology spread over the workload's own pods. */
function spreadViolations(w: Workload): Violation[] {
    const spec = w.template.spec;
    const anti = spec?.affinity?.podAntiAffinity ?? {};
    const terms = [
        ...(anti.requiredDuringSchedulingIgnoredDuringExecution ?? []),
        ...(anti.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((t: any) => t?.podAffinityTerm),
    ];
    const spreads = Array.isArray(spec?.topologySpreadConstraints) ? spec.topologySpreadConstraints : [];
    const selfSelecting = [...terms, ...spreads].some((t: any) => t && selectorMatches(t.labelSelector, w.template.labels));
    return selfSelecting ? [] : [{ message: `${w.replicas} replicas without pod anti-affinity or topology spread over its own pods` }];
}

/**
 * The service account token is mounted only where the workload calls the API: explicitly off, or
 * on for a service account that an RBAC binding of the render grants something.
 */
function serviceAccountTokenViolations(w: Workload, ctx: AuditContext): Violation[] {
    const spec = w.template.spec ?? {};
    const saName: string = spec.serviceAccountName ?? spec.serviceAccount ?? "default";
    const sa = ctx.objects.find((o) => o.kind === "ServiceAccount" && o.metadata?.name === saName && namespaceOf(o) === w.namespace);
    const mounted = spec.automountServiceAccountToken ?? sa?.automountServiceAccountToken ?? true;
    if (mounted !== true) return [];
    const bound = ctx.objects.some(
        (o) =>
            (o.kind === "RoleBinding" || o.kind === "ClusterRoleBinding") &&
            (o.subjects ?? []).some((s: any) => s?.kind === "ServiceAccount" && s.name === saName && (s.namespace ?? namespaceOf(o)) === w.namespace),
    );
    if (bound) return [];
    return [
        {
            message:
                `mounts the token of service account ${saName}, which no RoleBinding or ClusterRoleBinding grants anything: ` +
                `set automountServiceAccountToken: false`,
        },
    ];
}

/** The checks, in the order the table lists them. */
export const CHECKS: readonly AuditCheck[] = [
    { id: "resources", title: "requests and limits", scope: "containers", check: perContainer(resourceViolations) },
    { id: "image-pinning", title: "image pinning", scope: "containers", check: perContainer(imageViolations) },
    { id: "non-root", title: "non-root, fixed UID", scope: "containers", check: perContainer(nonRootViolations) },
    { id: "privilege-escalation", title: "no privilege escalation", scope: "containers", check: perContainer(privilegeEscalationViolations) },
    { id: "read-only-root", title: "read-only root filesystem", scope: "containers", check: perContainer(readOnlyRootFilesystemViolations) },
    { id: "privileged", title: "not privileged", scope: "containers", check: perContainer(privilegedViolations) },
    { id: "capabilities", title: "capabilities drop ALL, add none", scope: "containers", check: (w) => capabilityViolations(w.template.spec, []) },
    { id: "host-namespaces", title: "host network/PID/IPC/ports", scope: "workloads", check: perContainer(hostNamespaceViolations) },
    { id: "host-mounts", title: "host path mounts", scope: "workloads", check: perContainer(hostPathViolations) },
    { id: "seccomp", title: "seccomp RuntimeDefault", scope: "containers", check: perContainer(seccompViolations) },
    { id: "probes", title: "liveness and readiness probes", scope: "containers", check: (w) => (isBatch(w) ? [] : probeViolations(w.template.spec)) },
    {
        id: "network-policy",
        title: "NetworkPolicy coverage",
        scope: "workloads",
        check: (w, ctx) => networkPolicyGaps([w.object, ...ctx.objects.filter((o) => o.kind === "NetworkPolicy")]).map((g) => ({ message: g.message })),
    },
    { id: "pdb", title: "PodDisruptionBudget", scope: "multi-replica workloads", check: pdbViolations },
    { id: "spread", title: "anti-affinity / topology spread", scope: "multi-replica workloads", check: spreadViolations },
    { id: "service-account-token", title: "service account token", scope: "workloads", check: serviceAccountTokenViolations },
];

export function workloadsOf(objects: readonly KubeObject[]): Workload[] {
    const out: Workload[] = [];
    for (const object of objects) {
        const template = podTemplateOf(object);
        if (!template) continue;
        out.push({
            object,
            kind: object.kind!,
            id: describeObject(object),
            namespace: namespaceOf(object),
            template,
            replicas: replicasOf(object),
        });
    }
    return out;
}

/** Namespaces of the render whose Pod Security level lets a recorded exception take effect. */
export function relaxedNamespaces(objects: readonly KubeObject[]): Set<string> {
    return new Set(
        objects
            .filter((o) => o.kind === "Namespace" && RELAXED_LEVELS.includes(o.metadata?.labels?.[ENFORCE_LABEL] ?? ""))
            .map((o) => o.metadata!.name!),
    );
}

/** The recorded reason of an exception; for capabilities the annotation reads `NAMES: reason`. */
function recordedReason(w: Workload, exception: string | undefined): string | undefined {
    return exception === undefined ? undefined : w.template.annotations[`${SECURITY_EXCEPTION_ANNOTATION_PREFIX}${exception}`];
}

/** Runs every check over the objects of one render. */
export function auditObjects(name: string, objects: readonly KubeObject[], checks: readonly AuditCheck[] = CHECKS): AuditReport {
    const workloads = workloadsOf(objects);
    const ctx: AuditContext = { objects, workloads };
    const relaxed = relaxedNamespaces(objects);
    const results: CheckResult[] = checks.map((check) => {
        const inScope = workloads.filter((w) => check.scope !== "multi-replica workloads" || (w.replicas ?? 1) > 1);
        const checked = check.scope === "containers" ? inScope.reduce((n, w) => n + containersOf(w.template.spec).length, 0) : inScope.length;
        const findings: Finding[] = inScope.flatMap((w) =>
            check.check(w, ctx).map((v): Finding => {
                const reason = recordedReason(w, v.exception);
                const base = { check: check.id, workload: w, ...(v.exception ? { exception: v.exception } : {}) };
                if (reason !== undefined && relaxed.has(w.namespace)) return { ...base, message: v.message, reason };
                const note = reason !== undefined ? ` (an exception is recorded, but namespace ${w.namespace} does not allow it)` : "";
                return { ...base, message: `${v.message}${note}` };
            }),
        );
        return { check, checked, findings };
    });
    return {
        name,
        objects: objects.length,
        workloads: workloads.length,
        containers: workloads.reduce((n, w) => n + containersOf(w.template.spec).length, 0),
        results,
    };
}

export const unexplainedFindings = (r: AuditReport): Finding[] => r.results.flatMap((x) => x.findings.filter((f) => f.reason === undefined));
export const explainedFindings = (r: AuditReport): Finding[] => r.results.flatMap((x) => x.findings.filter((f) => f.reason !== undefined));

function resultText(r: CheckResult): string {
    const unexplained = r.findings.filter((f) => f.reason === undefined).length;
    const explained = r.findings.length - unexplained;
    if (unexplained > 0) return `FAIL (${unexplained} violation${unexplained === 1 ? "" : "s"}${explained ? `, ${explained} explained` : ""})`;
    if (r.checked === 0) return "n/a";
    return explained > 0 ? `ok (${explained} explained)` : "ok";
}

/** The report as a table, followed by the explained exceptions and the violations. */
export function formatReport(report: AuditReport): string {
    const titleWidth = Math.max(5, ...report.results.map((r) => r.check.title.length)) + 2;
    const scopeWidth = Math.max(...report.results.map((r) => r.check.scope.length)) + 2;
    const lines = [
        `audit of ${report.name}: ${report.objects} objects, ${report.workloads} workloads, ${report.containers} containers`,
        "",
        `  ${"check".padEnd(titleWidth)}${"scope".padEnd(scopeWidth)}${"checked".padStart(7)}  result`,
        ...report.results.map((r) => `  ${r.check.title.padEnd(titleWidth)}${r.check.scope.padEnd(scopeWidth)}${String(r.checked).padStart(7)}  ${resultText(r)}`),
    ];
    const explained = explainedFindings(report);
    if (explained.length > 0) {
        lines.push("", "  explained exceptions (recorded on the pod template, in a namespace whose Pod Security level allows them):");
        const byWorkload = new Map<string, Map<string, Finding[]>>();
        for (const f of explained) {
            const exceptions = byWorkload.get(f.workload.id) ?? new Map<string, Finding[]>();
            exceptions.set(f.exception!, [...(exceptions.get(f.exception!) ?? []), f]);
            byWorkload.set(f.workload.id, exceptions);
        }
        for (const [workload, exceptions] of byWorkload) {
            lines.push(`    ${workload}`);
            for (const [exception, findings] of exceptions) {
                lines.push(`      ${exception}: ${findings[0]!.reason}`, ...findings.map((f) => `        - [${f.check}] ${f.message}`));
            }
        }
    }
    const violations = unexplainedFindings(report);
    if (violations.length > 0) {
        lines.push("", "  violations:");
        for (const f of violations) lines.push(`    - ${f.workload.id} [${f.check}] ${f.message}`);
    }
    return lines.join("\n");
}

export function readManifestDir(dir: string): KubeObject[] {
    const file = path.join(dir, "manifests.yaml");
    if (!fs.existsSync(file)) throw new AuditError(`${dir} holds no manifests.yaml: pass a render's output folder (npm run render -- --stack dev --out DIR)`);
    return (yaml.loadAll(fs.readFileSync(file, "utf8")) as KubeObject[]).filter((o) => o && typeof o === "object");
}

/** An error whose message is all the user needs. */
export class AuditError extends Error {}

const USAGE = "usage: npm run audit -- [--stack NAME]... [--dir RENDER_DIR]...";

export function parseArgs(argv: readonly string[]): { stacks: string[]; dirs: string[] } {
    const stacks: string[] = [];
    const dirs: string[] = [];
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i]!;
        const value = (flag: string) => {
            const v = a.startsWith(`${flag}=`) ? a.slice(flag.length + 1) : argv[++i];
            if (!v) throw new AuditError(`${flag} needs a value: ${USAGE}`);
            return v;
        };
        if (a === "--stack" || a.startsWith("--stack=")) stacks.push(value("--stack"));
        else if (a === "--dir" || a.startsWith("--dir=")) dirs.push(value("--dir"));
        else throw new AuditError(`unknown argument "${a}": ${USAGE}`);
    }
    if (stacks.length === 0 && dirs.length === 0) stacks.push("dev", "prod");
    return { stacks, dirs };
}

/** Renders a stack with `node scripts/render.js`, exactly as `npm run render` does. */
function renderStack(root: string, stack: string, outDir: string): void {
    const r = spawnSync(process.execPath, [path.join(root, "scripts", "render.js"), "--stack", stack, "--out", outDir], {
        cwd: root,
        encoding: "utf8",
        env: { ...process.env, FORCE_COLOR: "0" },
    });
    if (r.status !== 0) throw new AuditError(`rendering stack ${stack} failed:\n${r.stderr || r.stdout}`);
}

export async function main(argv: readonly string[]): Promise<number> {
    const root = path.resolve(__dirname, "..");
    let tmp: string | undefined;
    try {
        const { stacks, dirs } = parseArgs(argv);
        const targets: { name: string; dir: string }[] = dirs.map((d) => ({ name: path.resolve(d), dir: path.resolve(d) }));
        if (stacks.length > 0) {
            tmp = fs.mkdtempSync(path.join(os.tmpdir(), "audit-"));
            for (const stack of stacks) {
                const dir = path.join(tmp, stack);
                renderStack(root, stack, dir);
                targets.push({ name: `stack ${stack}`, dir });
            }
        }
        const reports = targets.map((t) => auditObjects(t.name, readManifestDir(t.dir)));
        console.log(reports.map(formatReport).join("\n\n"));
        const summary = reports.map((r) => `${r.name}: ${unexplainedFindings(r).length} violations, ${explainedFindings(r).length} explained`);
        const failed = reports.some((r) => unexplainedFindings(r).length > 0);
        console.log(`\naudit ${failed ? "FAILED" : "passed"}: ${summary.join("; ")}`);
        return failed ? 1 : 0;
    } catch (e: any) {
        console.error(`audit failed: ${e instanceof AuditError ? e.message : (e?.stack ?? e)}`);
        return 2;
    } finally {
        if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    }
}
