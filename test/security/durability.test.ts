/**
 * Durability of the prod renders (prod with Loki, and prod with Elasticsearch): what keeps the
 * stack up through node drains, reschedules, capacity shortage and restarts.
 */
import { MONITORING_PRIORITY_CLASS } from "../../components/kube/priority";
import { cpuCores, memoryBytes, selectorMatches } from "../../policy/checks";
import { allContainers, isBatch, render, SecurityRender, Workload, workloadsOf } from "./support";

type ProdKey = "prod" | "es";
const PROD_KEYS: readonly ProdKey[] = ["prod", "es"];

/** Where each stateful workload keeps its state: the mount path that must be on a claim. */
const STATE: Record<ProdKey, readonly { workload: string; container: string; path: string }[]> = {
    prod: [
        { workload: "StatefulSet monitoring/prometheus", container: "prometheus", path: "/prometheus" },
        { workload: "StatefulSet monitoring/alertmanager", container: "alertmanager", path: "/alertmanager" },
        { workload: "Deployment monitoring/grafana", container: "grafana", path: "/var/lib/grafana" },
        { workload: "StatefulSet monitoring/loki", container: "loki", path: "/var/loki" },
        { workload: "StatefulSet monitoring/jaeger", container: "jaeger", path: "/badger" },
    ],
    es: [
        { workload: "StatefulSet monitoring/prometheus", container: "prometheus", path: "/prometheus" },
        { workload: "StatefulSet monitoring/alertmanager", container: "alertmanager", path: "/alertmanager" },
        { workload: "Deployment monitoring/grafana", container: "grafana", path: "/var/lib/grafana" },
        { workload: "StatefulSet monitoring/elasticsearch", container: "elasticsearch", path: "/usr/share/elasticsearch/data" },
        // Jaeger keeps its spans in Elasticsearch here: no volume of its own.
    ],
};

const renders: Partial<Record<ProdKey, SecurityRender>> = {};
beforeAll(() => {
    for (const key of PROD_KEYS) renders[key] = render(key);
});

const label = (w: Workload) => `${w.kind} ${w.id}`;

describe.each(PROD_KEYS)("durability of the %s render", (key) => {
    const objects = () => renders[key]!.objects;
    const workloads = () => workloadsOf(objects());
    const multi = () => workloads().filter((w) => (w.replicas ?? 1) > 1);

    it("runs several replicas of Prometheus, Alertmanager, the collector gateway and the blackbox exporter", () => {
        const names = multi().map((w) => w.name);
        expect(names).toEqual(expect.arrayContaining(["prometheus", "alertmanager", "otel-collector-gateway", "blackbox-exporter", ...(key === "es" ? ["elasticsearch"] : [])]));
    });

    it("gives every multi-replica workload a PodDisruptionBudget that selects its pods and still allows one eviction", () => {
        const pdbs = objects().filter((o) => o.kind === "PodDisruptionBudget");
        const problems: string[] = [];
        for (const w of multi()) {
            const mine = pdbs.filter((p) => p.metadata.namespace === w.namespace && selectorMatches(p.spec.selector, w.template.labels));
            if (mine.length !== 1) problems.push(`${label(w)}: ${mine.length} PodDisruptionBudgets`);
            for (const p of mine) {
                const allowed = p.spec.maxUnavailable !== undefined ? Number(p.spec.maxUnavailable) : (w.replicas ?? 1) - Number(p.spec.minAvailable);
                if (!(allowed >= 1 && allowed < (w.replicas ?? 1))) problems.push(`${label(w)}: ${p.metadata.name} allows ${allowed} of ${w.replicas} down`);
            }
        }
        expect(problems).toEqual([]);
    });

    it("spreads the replicas of every multi-replica workload over nodes (anti-affinity) and zones (topology spread)", () => {
        const problems = multi().flatMap((w) => {
            const spec = w.template.spec;
            const anti = [
                ...(spec.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []),
                ...(spec.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((t: any) => t.podAffinityTerm),
            ].filter((t: any) => t.topologyKey === "kubernetes.io/hostname" && selectorMatches(t.labelSelector, w.template.labels));
            const spread = (spec.topologySpreadConstraints ?? []).filter((t: any) => t.topologyKey === "topology.kubernetes.io/zone" && selectorMatches(t.labelSelector, w.template.labels));
            return [...(anti.length ? [] : [`${label(w)}: no anti-affinity over nodes`]), ...(spread.length ? [] : [`${label(w)}: no topology spread over zones`])];
        });
        expect(problems).toEqual([]);
    });

    it("keeps state on PersistentVolumeClaims, never on emptyDir, wherever state lives", () => {
        const problems: string[] = [];
        for (const s of STATE[key]) {
            const w = workloads().find((x) => label(x) === s.workload);
            if (!w) {
                problems.push(`${s.workload}: not rendered`);
                continue;
            }
            const mount = (w.template.spec.containers.find((c: any) => c.name === s.container)?.volumeMounts ?? []).find((m: any) => m.mountPath === s.path);
            if (!mount) {
                problems.push(`${s.workload}: nothing mounted at ${s.path}`);
                continue;
            }
            const fromTemplate = (w.object.spec.volumeClaimTemplates ?? []).find((t: any) => t.metadata.name === mount.name);
            const volume = (w.template.spec.volumes ?? []).find((v: any) => v.name === mount.name);
            const claim = fromTemplate ? fromTemplate.spec : volume?.persistentVolumeClaim ? objects().find((o) => o.kind === "PersistentVolumeClaim" && o.metadata.name === volume.persistentVolumeClaim.claimName)?.spec : undefined;
            if (!claim) problems.push(`${s.workload}: ${s.path} is on ${volume ? Object.keys(volume).filter((k) => k !== "name").join(",") : "nothing"}, not a claim`);
            else if (!(memoryBytes(claim.resources?.requests?.storage) >= 2 ** 30)) problems.push(`${s.workload}: claim of ${claim.resources?.requests?.storage}`);
        }
        expect(problems).toEqual([]);
    });

    it("retains the claims of every StatefulSet when it is deleted or scaled down, so a replacement finds its data", () => {
        const problems = objects()
            .filter((o) => o.kind === "StatefulSet" && (o.spec.volumeClaimTemplates ?? []).length > 0)
            .filter((o) => JSON.stringify(o.spec.persistentVolumeClaimRetentionPolicy) !== JSON.stringify({ whenDeleted: "Retain", whenScaled: "Retain" }))
            .map((o) => o.metadata.name);
        expect(problems).toEqual([]);
    });

    it("sets CPU and memory requests and limits on every container and init container, limits not below requests", () => {
        const problems = workloads().flatMap((w) =>
            allContainers(w.template.spec).flatMap(({ name, container }) => {
                const r = container.resources ?? {};
                const missing = ["requests.cpu", "requests.memory", "limits.cpu", "limits.memory"].filter((k) => {
                    const [a, b] = k.split(".") as [string, string];
                    return r[a]?.[b] === undefined;
                });
                if (missing.length) return [`${label(w)} ${name}: no ${missing.join(", ")}`];
                const below = [
                    ...(cpuCores(r.limits.cpu) < cpuCores(r.requests.cpu) ? ["cpu"] : []),
                    ...(memoryBytes(r.limits.memory) < memoryBytes(r.requests.memory) ? ["memory"] : []),
                ];
                return below.map((b) => `${label(w)} ${name}: ${b} limit below request`);
            }),
        );
        expect(problems).toEqual([]);
    });

    it("gives every long-running container a liveness and a readiness probe (Jobs run to completion and have none)", () => {
        const problems = workloads()
            .filter((w) => !isBatch(w))
            .flatMap((w) =>
                w.template.spec.containers.flatMap((c: any) =>
                    (["livenessProbe", "readinessProbe"] as const).filter((p) => !c[p]).map((p) => `${label(w)} ${c.name}: no ${p}`),
                ),
            );
        expect(problems).toEqual([]);
        // Batch workloads exist only with Elasticsearch (setup Job, span retention CronJob).
        expect(workloads().filter(isBatch).map((w) => w.kind).sort()).toEqual(key === "es" ? ["CronJob", "Job"] : []);
    });

    it("declares the stack's PriorityClass: above ordinary pods, below the cluster's own, never the global default", () => {
        const classes = objects().filter((o) => o.kind === "PriorityClass");
        expect(classes.map((c) => c.metadata.name)).toEqual([MONITORING_PRIORITY_CLASS]);
        const pc = classes[0]!;
        expect(pc.value).toBeGreaterThan(0);
        expect(pc.value).toBeLessThanOrEqual(1_000_000_000);
        expect(pc.globalDefault).toBe(false);
        expect(pc.preemptionPolicy).toBe("PreemptLowerPriority");
    });

    it("runs every workload with that PriorityClass, node agents and Jobs included", () => {
        const without = workloads().filter((w) => w.template.spec.priorityClassName !== MONITORING_PRIORITY_CLASS).map(label);
        expect(without).toEqual([]);
        expect(workloads().filter((w) => w.kind === "DaemonSet").length).toBe(2);
    });

    it("states a termination grace period on every pod, longer where data is flushed on shutdown", () => {
        const grace = Object.fromEntries(workloads().map((w) => [label(w), w.template.spec.terminationGracePeriodSeconds]));
        for (const [w, g] of Object.entries(grace)) expect({ workload: w, ok: Number.isInteger(g) && g >= 30 }).toEqual({ workload: w, ok: true });
        // Prometheus writes its head block, Loki flushes chunks, Alertmanager and Elasticsearch persist state.
        expect(grace["StatefulSet monitoring/prometheus"]).toBeGreaterThanOrEqual(300);
        expect(grace["StatefulSet monitoring/alertmanager"]).toBeGreaterThanOrEqual(60);
        if (key === "prod") expect(grace["StatefulSet monitoring/loki"]).toBeGreaterThanOrEqual(120);
        if (key === "es") expect(grace["StatefulSet monitoring/elasticsearch"]).toBeGreaterThanOrEqual(60);
    });

    it("rolls Deployments with several replicas without taking one away first", () => {
        const problems = multi()
            .filter((w) => w.kind === "Deployment")
            .filter((w) => {
                const ru = w.object.spec.strategy?.rollingUpdate;
                const hasPdb = objects().some((o) => o.kind === "PodDisruptionBudget" && selectorMatches(o.spec.selector, w.template.labels));
                return !(ru?.maxUnavailable === 0 || hasPdb);
            })
            .map(label);
        expect(problems).toEqual([]);
    });
});
