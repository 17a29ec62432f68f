/**
 * Pod Security, field by field, on every pod spec the program renders (dev, prod, and prod with
 * the Elasticsearch backend): every workload of the monitoring namespace meets the `restricted`
 * profile on every container and init container; node-level agents in the agents namespace use
 * only host access that is recorded on the pod template with its reason and listed in the README.
 */
import * as fs from "fs";
import * as path from "path";
import { SECURITY_EXCEPTION_ANNOTATION_PREFIX } from "../../components/kube/security";
import { ROOT } from "../support/program";
import { allContainers, render, SecurityRender, STACK_KEYS, StackKey, Workload, workloadsOf } from "./support";

const MONITORING = "monitoring";
const AGENTS = "monitoring-agents";

/** The volume types the restricted profile allows (Pod Security Standards, "Volume Types"). */
const ALLOWED_VOLUME_TYPES = ["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"];
/** Sysctls the baseline (and so restricted) profile allows. */
const SAFE_SYSCTLS = ["kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start", "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports", "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes"];

const renders: Partial<Record<StackKey, SecurityRender>> = {};
beforeAll(() => {
    for (const key of STACK_KEYS) renders[key] = render(key);
});

const workloads = (key: StackKey, ns: string): Workload[] => workloadsOf(renders[key]!.objects).filter((w) => w.namespace === ns);

/** A container's effective value of a security context field: its own, else the pod's. */
const effective = (w: Workload, c: any, field: string): any => c.securityContext?.[field] ?? w.template.spec.securityContext?.[field];

/** Runs `check` over every container of every workload and returns `workload container: problem` lines. */
function problems(list: readonly Workload[], check: (w: Workload, c: any) => string | undefined): string[] {
    return list.flatMap((w) =>
        allContainers(w.template.spec).flatMap(({ name, kind, container }) => {
            const p = check(w, container);
            return p ? [`${w.kind} ${w.id} ${kind} ${name}: ${p}`] : [];
        }),
    );
}

/** One restricted-profile rule for a container: what it checks and the problem it finds, if any. */
interface ContainerRule {
    readonly title: string;
    readonly check: (w: Workload, c: any) => string | undefined;
    /** Breaks a compliant container so the rule must report it (negative control). */
    readonly breakIt: (c: any) => void;
}

const CONTAINER_RULES: readonly ContainerRule[] = [
    {
        title: "runs every container as non-root (runAsNonRoot true)",
        check: (w, c) => (effective(w, c, "runAsNonRoot") === true ? undefined : `runAsNonRoot is ${effective(w, c, "runAsNonRoot")}`),
        breakIt: (c) => (c.securityContext = { ...c.securityContext, runAsNonRoot: false }),
    },
    {
        title: "runs every container with a fixed non-zero UID",
        check: (w, c) => {
            const uid = effective(w, c, "runAsUser");
            return Number.isInteger(uid) && uid > 0 ? undefined : `runAsUser is ${uid}`;
        },
        breakIt: (c) => (c.securityContext = { ...c.securityContext, runAsUser: 0 }),
    },
    {
        title: "forbids privilege escalation in every container (allowPrivilegeEscalation false)",
        check: (_w, c) => (c.securityContext?.allowPrivilegeEscalation === false ? undefined : `allowPrivilegeEscalation is ${c.securityContext?.allowPrivilegeEscalation}`),
        breakIt: (c) => delete c.securityContext.allowPrivilegeEscalation,
    },
    {
        title: "drops ALL capabilities in every container and adds none back",
        check: (_w, c) => {
            const caps = c.securityContext?.capabilities ?? {};
            if (!(caps.drop ?? []).includes("ALL")) return `capabilities.drop is ${JSON.stringify(caps.drop)}`;
            return (caps.add ?? []).length === 0 ? undefined : `adds ${caps.add.join(", ")}`;
        },
        breakIt: (c) => (c.securityContext.capabilities = { drop: ["ALL"], add: ["NET_RAW"] }),
    },
    {
        title: "runs every container with the RuntimeDefault seccomp profile",
        check: (w, c) => (effective(w, c, "seccompProfile")?.type === "RuntimeDefault" ? undefined : `seccompProfile is ${JSON.stringify(effective(w, c, "seccompProfile"))}`),
        breakIt: (c) => (c.securityContext.seccompProfile = { type: "Unconfined" }),
    },
    {
        title: "runs no container privileged, with a non-default /proc mount or with SELinux user and role overrides",
        check: (w, c) => {
            const sc = c.securityContext ?? {};
            if (sc.privileged === true) return "privileged";
            if (sc.procMount !== undefined && sc.procMount !== "Default") return `procMount ${sc.procMount}`;
            const se = sc.seLinuxOptions ?? w.template.spec.securityContext?.seLinuxOptions;
            if (se?.user || se?.role) return `seLinuxOptions ${JSON.stringify(se)}`;
            return undefined;
        },
        breakIt: (c) => (c.securityContext.privileged = true),
    },
    {
        title: "keeps the root filesystem of every container read-only",
        check: (_w, c) => (c.securityContext?.readOnlyRootFilesystem === true ? undefined : `readOnlyRootFilesystem is ${c.securityContext?.readOnlyRootFilesystem}`),
        breakIt: (c) => (c.securityContext.readOnlyRootFilesystem = false),
    },
    {
        title: "binds no host port in any container",
        check: (_w, c) => {
            const bound = (c.ports ?? []).filter((p: any) => p.hostPort);
            return bound.length ? `hostPort ${bound.map((p: any) => p.hostPort).join(", ")}` : undefined;
        },
        breakIt: (c) => (c.ports = [{ name: "x", containerPort: 9999, hostPort: 9999 }]),
    },
];

describe.each(STACK_KEYS)("Pod Security restricted in the %s render's monitoring namespace", (key) => {
    const list = () => workloads(key, MONITORING);

    it("enforces the restricted level on the namespace and has workloads to check, init containers included", () => {
        const ns = renders[key]!.objects.find((o) => o.kind === "Namespace" && o.metadata.name === MONITORING)!;
        expect(ns.metadata.labels?.["pod-security.kubernetes.io/enforce"]).toBe("restricted");
        expect(list().length).toBeGreaterThanOrEqual(8);
        const containers = list().flatMap((w) => allContainers(w.template.spec));
        expect(containers.length).toBeGreaterThan(list().length);
        // Elasticsearch prepares its config in an init container: the rules cover init containers too.
        if (key === "es") expect(containers.filter((c) => c.kind === "initContainer").map((c) => c.name)).not.toEqual([]);
    });

    it.each(CONTAINER_RULES.map((r) => [r.title, r] as const))("%s", (_title, rule) => {
        expect(problems(list(), rule.check)).toEqual([]);
    });

    it.each(CONTAINER_RULES.map((r) => [r.title, r] as const))("would report a container broken against the rule: %s", (_title, rule) => {
        const w = list()[0]!;
        const broken: Workload = { ...w, template: JSON.parse(JSON.stringify(w.template)) };
        rule.breakIt(broken.template.spec.containers[0]);
        expect(problems([broken], rule.check)).toHaveLength(1);
    });

    it("shares neither the host network, PID nor IPC namespace", () => {
        const pods = list().flatMap((w) => (["hostNetwork", "hostPID", "hostIPC"] as const).filter((f) => w.template.spec[f] === true).map((f) => `${w.id}: ${f}`));
        expect(pods).toEqual([]);
    });

    it("mounts only the volume types the restricted profile allows", () => {
        const bad = list().flatMap((w) =>
            (w.template.spec.volumes ?? []).flatMap((v: any) => {
                const types = Object.keys(v).filter((k) => k !== "name");
                return types.length === 1 && ALLOWED_VOLUME_TYPES.includes(types[0]!) ? [] : [`${w.id} volume ${v.name}: ${types.join(", ")}`];
            }),
        );
        expect(bad).toEqual([]);
        // The check saw volumes of several types.
        const seen = new Set(list().flatMap((w) => (w.template.spec.volumes ?? []).flatMap((v: any) => Object.keys(v).filter((k) => k !== "name"))));
        expect(seen.size).toBeGreaterThanOrEqual(3);
    });

    it("sets only the sysctls the restricted profile calls safe, and no Windows host process", () => {
        const bad = list().flatMap((w) => {
            const sc = w.template.spec.securityContext ?? {};
            const sysctls = (sc.sysctls ?? []).filter((s: any) => !SAFE_SYSCTLS.includes(s.name)).map((s: any) => `${w.id}: sysctl ${s.name}`);
            const hostProcess = [sc, ...allContainers(w.template.spec).map((c) => c.container.securityContext ?? {})].some((x: any) => x.windowsOptions?.hostProcess) ? [`${w.id}: hostProcess`] : [];
            return [...sysctls, ...hostProcess];
        });
        expect(bad).toEqual([]);
    });

    it("records no security exception on any monitoring workload", () => {
        const recorded = list().flatMap((w) => Object.keys(w.template.annotations).filter((a) => a.startsWith(SECURITY_EXCEPTION_ANNOTATION_PREFIX)).map((a) => `${w.id}: ${a}`));
        expect(recorded).toEqual([]);
    });
});

// ---------------------------------------------------------------------------------------------
// Node-level agents
// ---------------------------------------------------------------------------------------------

/** Host access a workload actually uses, by the `SecurityExceptions` field that must explain it. */
function hostAccessOf(w: Workload): Map<string, string[]> {
    const spec = w.template.spec;
    const used = new Map<string, string[]>();
    const add = (field: string, detail: string) => used.set(field, [...(used.get(field) ?? []), detail]);
    if (spec.hostNetwork) add("hostNetwork", "hostNetwork");
    if (spec.hostPID) add("hostPID", "hostPID");
    if (spec.hostIPC) add("hostIPC", "hostIPC");
    for (const v of spec.volumes ?? []) if (v.hostPath) add("hostPath", v.hostPath.path);
    for (const { container } of allContainers(spec)) {
        const sc = container.securityContext ?? {};
        const uid = sc.runAsUser ?? spec.securityContext?.runAsUser;
        if (uid === 0 || (sc.runAsNonRoot ?? spec.securityContext?.runAsNonRoot) === false) add("runAsRoot", "UID 0");
        if (sc.readOnlyRootFilesystem !== true) add("writableRootFilesystem", container.name);
        for (const cap of sc.capabilities?.add ?? []) add("addCapabilities", cap);
    }
    for (const [k, v] of used) used.set(k, [...new Set(v)]);
    return used;
}

/** Rows of the README table "Host access of node-level agents": workload, access, why. */
function readmeHostAccessRows(): { workload: string; access: string; why: string }[] {
    const text = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
    const start = text.indexOf("### Host access of node-level agents");
    expect(start).toBeGreaterThanOrEqual(0);
    const lines = text.slice(start).split("\n").slice(1);
    const rows: { workload: string; access: string; why: string }[] = [];
    let inTable = false;
    for (const line of lines) {
        if (line.startsWith("|")) {
            inTable = true;
            const cells = line.split("|").slice(1, -1).map((c) => c.trim());
            if (cells[0] === "workload" || /^-+$/.test(cells[0]!)) continue;
            rows.push({ workload: cells[0]!, access: cells[1]!, why: cells[2]! });
        } else if (inTable) break;
    }
    return rows;
}

/** How the README's access column names each kind of exception. */
const README_WORDS: Record<string, (detail: string) => string> = {
    hostNetwork: () => "hostNetwork",
    hostPID: () => "hostPID",
    hostPath: (p) => `\`${p}\``,
    runAsRoot: () => "root",
    writableRootFilesystem: () => "writable root filesystem",
    addCapabilities: (cap) => cap,
};

describe.each(STACK_KEYS)("node-level agents in the %s render", (key) => {
    const agents = () => workloads(key, AGENTS);

    it("are exactly node-exporter and the OTel collector agent, both DaemonSets", () => {
        expect(agents().map((w) => `${w.kind} ${w.name}`).sort()).toEqual(["DaemonSet node-exporter", "DaemonSet otel-collector-agent"]);
    });

    it("record every host access they use as a security exception with its reason on the pod template", () => {
        const missing: string[] = [];
        for (const w of agents()) {
            for (const [field, details] of hostAccessOf(w)) {
                const reason = w.template.annotations[`${SECURITY_EXCEPTION_ANNOTATION_PREFIX}${field}`];
                if (!reason || reason.split(/\s+/).length < 5) missing.push(`${w.id} uses ${field} (${details.join(", ")}) without a recorded reason`);
            }
        }
        expect(missing).toEqual([]);
        // The check is not vacuous: the agents do need host access.
        expect(agents().every((w) => hostAccessOf(w).size > 0)).toBe(true);
    });

    it("record no exception they do not use, so every annotation describes real access", () => {
        const stale = agents().flatMap((w) =>
            Object.keys(w.template.annotations)
                .filter((a) => a.startsWith(SECURITY_EXCEPTION_ANNOTATION_PREFIX))
                .map((a) => a.slice(SECURITY_EXCEPTION_ANNOTATION_PREFIX.length))
                .filter((field) => !hostAccessOf(w).has(field))
                .map((field) => `${w.id}: ${field}`),
        );
        expect(stale).toEqual([]);
    });

    it("never share the host IPC namespace, never run privileged, never escalate, drop ALL capabilities and keep seccomp and a read-only root", () => {
        const bad = agents().flatMap((w) => [
            ...(w.template.spec.hostIPC ? [`${w.id}: hostIPC`] : []),
            ...problems([w], (_w, c) => {
                const sc = c.securityContext ?? {};
                if (sc.privileged) return "privileged";
                if (sc.allowPrivilegeEscalation !== false) return "may escalate privileges";
                if (!(sc.capabilities?.drop ?? []).includes("ALL")) return "keeps capabilities";
                if ((sc.capabilities?.add ?? []).length) return `adds ${sc.capabilities.add}`;
                if (effective(w, c, "seccompProfile")?.type !== "RuntimeDefault") return "no RuntimeDefault seccomp";
                if (sc.readOnlyRootFilesystem !== true) return "writable root filesystem";
                return undefined;
            }),
        ]);
        expect(bad).toEqual([]);
    });

    it("mount host paths read-only unless the recorded reason says read-write", () => {
        const bad: string[] = [];
        for (const w of agents()) {
            const hostVolumes = new Map<string, string>((w.template.spec.volumes ?? []).filter((v: any) => v.hostPath).map((v: any) => [v.name, v.hostPath.path]));
            const reason = w.template.annotations[`${SECURITY_EXCEPTION_ANNOTATION_PREFIX}hostPath`] ?? "";
            for (const { container } of allContainers(w.template.spec)) {
                for (const m of container.volumeMounts ?? []) {
                    const hostDir = hostVolumes.get(m.name);
                    if (hostDir && m.readOnly !== true && !new RegExp(`${hostDir.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}\\S* read-write`).test(reason)) {
                        bad.push(`${w.id} mounts ${hostDir} writable but the reason does not say so: ${reason}`);
                    }
                }
            }
        }
        expect(bad).toEqual([]);
    });

    it("are listed in the README's host access table, one row per exception, each with its reason", () => {
        const rows = readmeHostAccessRows();
        const unlisted: string[] = [];
        for (const w of agents()) {
            for (const [field, details] of hostAccessOf(w)) {
                for (const detail of details) {
                    const word = README_WORDS[field]!(detail);
                    const row = rows.find((r) => r.workload === w.name && r.access.includes(word));
                    if (!row || row.why.length < 20) unlisted.push(`${w.name}: ${field} (${word})`);
                }
            }
        }
        expect(unlisted).toEqual([]);
        // And the table names no workload the render does not have.
        expect(rows.filter((r) => !agents().some((w) => w.name === r.workload)).map((r) => r.workload)).toEqual([]);
    });
});
