/**
 * Kubernetes objects for the policy and audit tests: a workload that passes every check, and
 * small builders for the objects around it. Tests break one field at a time from here.
 */
import type { KubeObject } from "../../policy/checks";

export const LABELS = { "app.kubernetes.io/name": "app", "app.kubernetes.io/instance": "app" };

/** A container that passes every check. */
export function goodContainer(name = "app"): any {
    return {
        name,
        image: "quay.io/example/app:v1.2.3",
        ports: [{ name: "http", containerPort: 8080 }],
        resources: { requests: { cpu: "100m", memory: "64Mi" }, limits: { cpu: "500m", memory: "128Mi" } },
        livenessProbe: { httpGet: { path: "/healthz", port: "http" } },
        readinessProbe: { httpGet: { path: "/ready", port: "http" } },
        securityContext: {
            allowPrivilegeEscalation: false,
            privileged: false,
            readOnlyRootFilesystem: true,
            runAsNonRoot: true,
            capabilities: { drop: ["ALL"] },
            seccompProfile: { type: "RuntimeDefault" },
        },
    };
}

/** A pod spec that passes every check. */
export function goodPodSpec(): any {
    return {
        automountServiceAccountToken: false,
        securityContext: { runAsNonRoot: true, runAsUser: 65534, runAsGroup: 65534, fsGroup: 65534, seccompProfile: { type: "RuntimeDefault" } },
        containers: [goodContainer()],
        volumes: [{ name: "config", configMap: { name: "app-config" } }, { name: "data", emptyDir: {} }],
    };
}

export interface WorkloadArgs {
    name?: string;
    namespace?: string;
    replicas?: number;
    spec?: any;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    /** Add pod anti-affinity over its own pods when replicated. @default true */
    spread?: boolean;
}

export function deployment(args: WorkloadArgs = {}): KubeObject {
    const labels = args.labels ?? LABELS;
    const replicas = args.replicas ?? 1;
    const spread =
        replicas > 1 && args.spread !== false
            ? {
                  affinity: {
                      podAntiAffinity: {
                          preferredDuringSchedulingIgnoredDuringExecution: [
                              { weight: 100, podAffinityTerm: { topologyKey: "kubernetes.io/hostname", labelSelector: { matchLabels: labels } } },
                          ],
                      },
                  },
              }
            : {};
    return {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: args.name ?? "app", namespace: args.namespace ?? "monitoring", labels },
        spec: {
            replicas,
            selector: { matchLabels: labels },
            template: {
                metadata: { labels, ...(args.annotations ? { annotations: args.annotations } : {}) },
                spec: { ...spread, ...(args.spec ?? goodPodSpec()) },
            },
        },
    };
}

export function daemonSet(args: Omit<WorkloadArgs, "replicas" | "spread"> = {}): KubeObject {
    const d = deployment({ ...args, name: args.name ?? "agent" });
    delete d.spec.replicas;
    return { ...d, kind: "DaemonSet" };
}

export function namespace(name: string, enforce: "restricted" | "baseline" | "privileged"): KubeObject {
    return { apiVersion: "v1", kind: "Namespace", metadata: { name, labels: { "pod-security.kubernetes.io/enforce": enforce } } };
}

export function networkPolicy(name: string, namespaceName: string, podSelector: any, policyTypes: string[] = ["Ingress"]): KubeObject {
    return {
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: { name, namespace: namespaceName },
        spec: { podSelector, policyTypes, ingress: [] },
    };
}

export function pdb(name: string, namespaceName: string, selector: any, budget: { maxUnavailable?: number; minAvailable?: number } = { maxUnavailable: 1 }): KubeObject {
    return { apiVersion: "policy/v1", kind: "PodDisruptionBudget", metadata: { name, namespace: namespaceName }, spec: { ...budget, selector } };
}

export function configMap(data: Record<string, string>, name = "app-config"): KubeObject {
    return { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: "monitoring" }, data };
}

/** Deep copy, so a test can break one field of a fixture without touching the others. */
export function clone<T>(o: T): T {
    return JSON.parse(JSON.stringify(o));
}
