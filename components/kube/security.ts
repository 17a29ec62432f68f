/**
 * Secure pod and container defaults (CONVENTIONS): non-root with a fixed UID, read-only root
 * filesystem, no privilege escalation, every capability dropped, seccomp RuntimeDefault, no
 * service account token unless the workload talks to the API, requests and limits and probes on
 * every container. Loosening any of it takes a named argument whose value is the reason, so the
 * reason travels with the code and into an annotation reviewers see.
 */
import type * as k8s from "@pulumi/kubernetes";
import type { Resources } from "../../config";
import { MONITORING_PRIORITY_CLASS } from "./priority";

type Container = k8s.types.input.core.v1.Container;
type PodSpec = k8s.types.input.core.v1.PodSpec;
type SecurityContext = k8s.types.input.core.v1.SecurityContext;

/** The UID/GID workloads run as unless their image needs another one. */
export const DEFAULT_UID = 65534;

/** Explicit, reasoned exceptions to the restricted defaults. Each value is the reason. */
export interface SecurityExceptions {
    /** The container must write to its root filesystem. */
    readonly writableRootFilesystem?: string;
    /** The pod shares the node's network namespace (e.g. node-exporter reports host interfaces). */
    readonly hostNetwork?: string;
    /** The pod shares the node's PID namespace. */
    readonly hostPID?: string;
    /** Capabilities added back after dropping ALL, with the reason. */
    readonly addCapabilities?: { readonly names: readonly string[]; readonly reason: string };
    /** The container runs as root (UID 0). */
    readonly runAsRoot?: string;
    /** The pod mounts directories of the node (read-only unless stated in the reason). */
    readonly hostPath?: string;
}

export interface SecureContainerArgs extends Omit<Container, "securityContext" | "resources" | "image"> {
    readonly image: string;
    readonly resources: Resources;
    /** Overrides the pod-level UID for this container. */
    readonly runAsUser?: number;
}

/** The restricted container security context. */
export function restrictedSecurityContext(exceptions: SecurityExceptions = {}, runAsUser?: number): SecurityContext {
    return {
        allowPrivilegeEscalation: false,
        privileged: false,
        readOnlyRootFilesystem: !exceptions.writableRootFilesystem,
        runAsNonRoot: !exceptions.runAsRoot,
        ...(exceptions.runAsRoot ? { runAsUser: 0 } : runAsUser !== undefined ? { runAsUser } : {}),
        capabilities: {
            drop: ["ALL"],
            ...(exceptions.addCapabilities ? { add: [...exceptions.addCapabilities.names] } : {}),
        },
        seccompProfile: { type: "RuntimeDefault" },
    };
}

/**
 * A container with the restricted security context and its resources. Throws when a container
 * has no liveness or readiness probe: every long-running container must say how it is healthy.
 */
export function secureContainer(args: SecureContainerArgs, exceptions: SecurityExceptions = {}): Container {
    if (!args.livenessProbe || !args.readinessProbe) {
        throw new Error(`container "${args.name}": expected livenessProbe and readinessProbe (CONVENTIONS: probes on every container)`);
    }
    const { resources, runAsUser, ...rest } = args;
    return {
        imagePullPolicy: "IfNotPresent",
        terminationMessagePolicy: "FallbackToLogsOnError",
        ...rest,
        resources: {
            requests: { cpu: resources.requests.cpu, memory: resources.requests.memory },
            limits: { cpu: resources.limits.cpu, memory: resources.limits.memory },
        },
        securityContext: restrictedSecurityContext(exceptions, runAsUser),
    };
}

export interface SecurePodSpecArgs extends Omit<PodSpec, "securityContext" | "automountServiceAccountToken" | "hostNetwork" | "hostPID" | "hostIPC"> {
    /** Set when the workload calls the Kubernetes API (its service account token is mounted). */
    readonly talksToApiServer?: boolean;
    /** UID and GID of the pod. */
    readonly uid?: number;
    /** Group that owns mounted volumes, so a non-root process can write its data directory. */
    readonly fsGroup?: number;
}

/**
 * Default grace period between SIGTERM and SIGKILL (the Kubernetes default, stated explicitly so
 * every pod template says how long it may take to stop). Stateful workloads that flush data on
 * shutdown pass a longer `terminationGracePeriodSeconds`.
 */
export const DEFAULT_TERMINATION_GRACE_SECONDS = 30;

/**
 * Pod spec with a non-root pod security context and no service account token by default. It
 * also runs the pod with the stack's PriorityClass ({@link MONITORING_PRIORITY_CLASS}) and an
 * explicit termination grace period unless the spec names its own.
 */
export function securePodSpec(args: SecurePodSpecArgs, exceptions: SecurityExceptions = {}): PodSpec {
    const { talksToApiServer, uid, fsGroup, ...rest } = args;
    const id = uid ?? DEFAULT_UID;
    const volumes: unknown[] = Array.isArray(rest.volumes) ? rest.volumes : [];
    const hostPaths = volumes.filter((v: any) => v && typeof v === "object" && v.hostPath);
    if (hostPaths.length > 0 && !exceptions.hostPath) {
        throw new Error(`pod spec mounts hostPath volumes (${hostPaths.map((v: any) => v.name).join(", ")}): expected a hostPath security exception with the reason`);
    }
    return {
        enableServiceLinks: false,
        priorityClassName: MONITORING_PRIORITY_CLASS,
        terminationGracePeriodSeconds: DEFAULT_TERMINATION_GRACE_SECONDS,
        ...(exceptions.hostNetwork ? { dnsPolicy: "ClusterFirstWithHostNet" } : {}),
        ...rest,
        automountServiceAccountToken: talksToApiServer ?? false,
        ...(exceptions.hostNetwork ? { hostNetwork: true } : {}),
        ...(exceptions.hostPID ? { hostPID: true } : {}),
        securityContext: {
            runAsNonRoot: !exceptions.runAsRoot,
            ...(exceptions.runAsRoot ? {} : { runAsUser: id, runAsGroup: id }),
            fsGroup: fsGroup ?? id,
            fsGroupChangePolicy: "OnRootMismatch",
            seccompProfile: { type: "RuntimeDefault" },
        },
    };
}

/** Prefix of the pod annotations that record each security exception and its reason. */
export const SECURITY_EXCEPTION_ANNOTATION_PREFIX = "observability.pulumi.com/security-exception.";

/** Annotations recording every exception and its reason on the pod template. */
export function exceptionAnnotations(exceptions: SecurityExceptions): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [key, value] of Object.entries(exceptions)) {
        if (value === undefined) continue;
        const reason = typeof value === "string" ? value : `${value.names.join(",")}: ${value.reason}`;
        out[`${SECURITY_EXCEPTION_ANNOTATION_PREFIX}${key}`] = reason;
    }
    return out;
}
