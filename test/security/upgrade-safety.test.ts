/**
 * Upgrade safety under Pulumi mocks, from what the engine would receive:
 *
 * - Logical names follow the derivation rules, so the URNs of stateful resources (volumes,
 *   StatefulSets, namespaces, generated passwords and keys) depend on the code's structure only,
 *   never on config: a config change never replaces them.
 * - Re-parenting a component with `aliases` keeps the URNs of its stateful children: the alias
 *   the SDK registers for each child is the child's old URN.
 * - StatefulSets, whose volumeClaimTemplates are immutable, are replaced (delete first) instead of
 *   failing an update, and their claims are retained.
 */
import * as pulumi from "@pulumi/pulumi";
import type { GrafanaArgs } from "../../components/grafana";
import type { LokiArgs } from "../../components/logs";
import { environmentDefaults } from "../../config/defaults";
import { readStackConfig, type StackConfigMap } from "../../scripts/lib/stack-files";
import { ROOT } from "../support/program";
import { engineUrns, ES_OVERRIDES, MockedProgram, Registration, runStackUnderMocks, runUnderMocks, STACK_KEYS, StackKey } from "./support";

const PROJECT = "observability";
const STATEFUL_TYPES = [
    "kubernetes:apps/v1:StatefulSet",
    "kubernetes:core/v1:PersistentVolumeClaim",
    "kubernetes:core/v1:Namespace",
    "random:index/randomPassword:RandomPassword",
    "tls:index/privateKey:PrivateKey",
    "tls:index/selfSignedCert:SelfSignedCert",
];
const STACK_TYPE = "observability:index:ObservabilityStack";

interface Run {
    readonly stack: string;
    readonly program: MockedProgram;
    /** engine URN by mock URN */
    readonly urns: Map<string, string>;
}

async function runKey(key: StackKey, overrides: Record<string, string> = {}): Promise<Run> {
    const cfg: StackConfigMap = readStackConfig(ROOT, key === "dev" ? "dev" : "prod");
    const program = await runStackUnderMocks(cfg, { ...(key === "es" ? ES_OVERRIDES : {}), ...overrides });
    expect(program.error).toBeUndefined();
    return { stack: cfg.stack, program, urns: await engineUrns(pulumi, PROJECT, cfg.stack, program.registrations) };
}

/** Engine URNs of the stateful resources, with the stack name taken out so stacks compare. */
const statefulUrns = (r: Run): string[] =>
    r.program.registrations
        .filter((x) => STATEFUL_TYPES.includes(x.type))
        .map((x) => r.urns.get(x.mockUrn)!.replace(`urn:pulumi:${r.stack}::`, "urn:pulumi:<stack>::"))
        .sort();

const parentOf = (r: Run, x: Registration) => r.program.registrations.find((p) => p.mockUrn === x.parentMockUrn);

const runs: Partial<Record<StackKey, Run>> = {};
beforeAll(async () => {
    for (const key of STACK_KEYS) runs[key] = await runKey(key);
});

describe.each(STACK_KEYS)("logical names in the %s stack", (key) => {
    const run = () => runs[key]!;

    it("root everything in one ObservabilityStack component named observability", () => {
        const roots = run().program.registrations.filter((x) => !parentOf(run(), x));
        expect(roots.map((x) => `${x.type}::${x.name}`)).toEqual([`${STACK_TYPE}::observability`]);
    });

    it("derive every child's name from its parent component's name (childName), the prefix Pulumi's alias inheritance relies on", () => {
        const bad = run()
            .program.registrations.filter((x) => parentOf(run(), x))
            .filter((x) => {
                const parent = parentOf(run(), x)!;
                return !(x.name === parent.name || x.name.startsWith(`${parent.name}-`) || (parent.type === STACK_TYPE && !x.custom));
            })
            .map((x) => `${x.type}::${x.name} under ${parentOf(run(), x)!.name}`);
        expect(bad).toEqual([]);
    });

    it("name every Kubernetes object like its Pulumi resource, except the objects whose Kubernetes name is fixed by design", () => {
        const differing = run()
            .program.resources.filter((r) => r.custom && r.type.startsWith("kubernetes:") && r.inputs.metadata?.name !== r.name)
            .map((r) => `${r.type.split(":").pop()} ${r.name} → ${r.inputs.metadata.name}`)
            .sort();
        // Namespaces carry the configured names; every namespace's deny policy is called
        // default-deny-ingress; the PriorityClass has one cluster-wide name; the Elasticsearch
        // setup Job's name carries a hash of its files so that changed files run a new Job.
        const fixed = [
            /^Namespace observability-monitoring → monitoring$/,
            /^Namespace observability-agents → monitoring-agents$/,
            /^NetworkPolicy observability-(monitoring|agents)-default-deny → default-deny-ingress$/,
            /^PriorityClass observability-priority → observability-stack$/,
            /^Job elasticsearch-setup → elasticsearch-setup-[0-9a-f]{8}$/,
        ];
        expect(differing.filter((d) => !fixed.some((re) => re.test(d)))).toEqual([]);
        expect(differing.length).toBe(key === "es" ? 6 : 5);
    });

    it("gives the stateful resources engine URNs typed by their whole component path", () => {
        const sts = run().program.registrations.filter((x) => x.type === "kubernetes:apps/v1:StatefulSet");
        expect(sts.length).toBeGreaterThanOrEqual(3);
        for (const x of sts) {
            const component = parentOf(run(), x)!;
            expect(run().urns.get(x.mockUrn)).toBe(`urn:pulumi:${run().stack}::${PROJECT}::${STACK_TYPE}$${component.type}$kubernetes:apps/v1:StatefulSet::${x.name}`);
            expect(x.name).toBe(component.name);
        }
    });
});

describe("URNs of stateful resources across config changes", () => {
    it("are the same in dev and prod wherever both have the resource (dev has fewer volumes)", () => {
        const dev = statefulUrns(runs.dev!);
        const prod = statefulUrns(runs.prod!);
        expect(dev.filter((u) => !prod.includes(u))).toEqual([]);
        expect(prod.filter((u) => !dev.includes(u)).map((u) => u.split("::").slice(-2).join("::"))).toEqual(["observability:index:ObservabilityStack$observability:index:Grafana$kubernetes:core/v1:PersistentVolumeClaim::grafana-data"]);
    });

    it("do not change when replicas, retention, storage sizes, resources and images change", async () => {
        const prod = environmentDefaults("prod");
        const changed = await runKey("prod", {
            "observability:prometheus": JSON.stringify({ replicas: 3, retention: "60d", storage: { size: "500Gi" }, image: "quay.io/prometheus/prometheus:v2.54.1" }),
            "observability:alertmanager": JSON.stringify({ replicas: 5, storage: { size: "4Gi" } }),
            "observability:grafana": JSON.stringify({ storage: { size: "20Gi" }, resources: { limits: { memory: "1Gi" } } }),
            "observability:logs": JSON.stringify({ backend: "loki", retention: "90d", storage: { size: "1Ti" } }),
            "observability:tracing": JSON.stringify({ samplingRatio: 0.5, jaeger: { retention: "14d" } }),
        });
        expect(prod.prometheus.replicas).not.toBe(3);
        expect(statefulUrns(changed)).toEqual(statefulUrns(runs.prod!));
    });

    it("differ between the Loki and the Elasticsearch backend only by the backend's own resources", () => {
        const prod = statefulUrns(runs.prod!);
        const es = statefulUrns(runs.es!);
        const name = (u: string) => u.split("$").pop()!;
        expect(prod.filter((u) => !es.includes(u)).map(name)).toEqual(["kubernetes:apps/v1:StatefulSet::loki"]);
        const esOnly = es.filter((u) => !prod.includes(u));
        expect(esOnly.length).toBeGreaterThan(0);
        expect(esOnly.filter((u) => !u.includes("$observability:index:Elasticsearch$"))).toEqual([]);
    });
});

describe("immutable StatefulSet fields", () => {
    it.each(STACK_KEYS)("are replaced delete-first in the %s stack: every StatefulSet registers replaceOnChanges on its volumeClaimTemplates and deleteBeforeReplace", (key) => {
        const sts = runs[key]!.program.registrations.filter((x) => x.type === "kubernetes:apps/v1:StatefulSet");
        expect(sts.length).toBeGreaterThanOrEqual(3);
        for (const x of sts) {
            expect({ name: x.name, replaceOnChanges: x.replaceOnChanges, deleteBeforeReplace: x.deleteBeforeReplace }).toEqual({
                name: x.name,
                replaceOnChanges: ["spec.volumeClaimTemplates"],
                deleteBeforeReplace: true,
            });
        }
    });

    it("keep the claims when the StatefulSet is replaced, so the new pods mount the old volumes", () => {
        const sts = runs.prod!.program.resources.filter((r) => r.type === "kubernetes:apps/v1:StatefulSet" && r.inputs.spec.volumeClaimTemplates);
        expect(sts.length).toBeGreaterThanOrEqual(4);
        for (const r of sts) expect(r.inputs.spec.persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted: "Retain", whenScaled: "Retain" });
    });
});

// ---------------------------------------------------------------------------------------------
// Re-parenting with aliases
// ---------------------------------------------------------------------------------------------

const RESOURCES = { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } };
const PROMETHEUS_LABELS = { "app.kubernetes.io/name": "prometheus", "app.kubernetes.io/instance": "prometheus" };

function grafanaArgs(p: typeof pulumi): GrafanaArgs {
    return {
        namespace: "monitoring",
        storage: { enabled: true, size: "5Gi" },
        resources: RESOURCES,
        prometheusUrl: p.output("http://prometheus.monitoring.svc:9090"),
        alertmanagerUrl: "http://alertmanager.monitoring.svc:9093",
        jaegerUrl: "http://jaeger-query.monitoring.svc:16686",
        logs: { backend: "loki", url: "http://loki.monitoring.svc:3100" },
        metricPreset: "prometheus",
        scrapeInterval: "15s",
        prometheusVersion: "2.53.5",
        dashboards: { "slo.json": '{"uid":"slo"}' },
        scrapers: [{ podLabels: PROMETHEUS_LABELS }],
    };
}

function lokiArgs(): LokiArgs {
    const d = environmentDefaults("prod").loki;
    return {
        namespace: "monitoring",
        retention: d.retention,
        storage: d.storage,
        limits: d.limits,
        resources: d.resources,
        writers: [{ podLabels: { "app.kubernetes.io/name": "otel-collector-gateway" } }],
        readers: [{ podLabels: { "app.kubernetes.io/name": "grafana" } }],
        prometheus: { podLabels: PROMETHEUS_LABELS },
    };
}

/**
 * Declares Grafana and Loki either directly under the ObservabilityStack component (the old
 * layout) or under new `Dashboards` and `Logs` components (the new one), with or without an alias
 * naming the old parent.
 */
function layout(kind: "old" | "moved" | "moved-with-aliases") {
    return (req: NodeRequire) => {
        const p: typeof pulumi = req("@pulumi/pulumi");
        const { Grafana } = req("../../components/grafana") as typeof import("../../components/grafana");
        const { Loki } = req("../../components/logs") as typeof import("../../components/logs");
        const root = new p.ComponentResource(STACK_TYPE, "observability", {}, {});
        if (kind === "old") {
            new Grafana("grafana", grafanaArgs(p), { parent: root });
            new Loki("loki", lokiArgs(), { parent: root });
            return;
        }
        const dashboards = new p.ComponentResource("observability:index:Dashboards", "dashboards", {}, { parent: root });
        const logs = new p.ComponentResource("observability:index:Logs", "logs", {}, { parent: root });
        const aliases = kind === "moved-with-aliases" ? [{ parent: root }] : [];
        new Grafana("grafana", grafanaArgs(p), { parent: dashboards, aliases });
        new Loki("loki", lokiArgs(), { parent: logs, aliases });
    };
}

const MOVED_STATEFUL = [
    "kubernetes:apps/v1:StatefulSet::loki",
    "kubernetes:core/v1:PersistentVolumeClaim::grafana-data",
    "random:index/randomPassword:RandomPassword::grafana-admin-password",
    "random:index/randomPassword:RandomPassword::grafana-secret-key",
];

describe("re-parenting a component with aliases", () => {
    const stack = "upgrade";
    let old: Map<string, string>;
    let moved: { program: MockedProgram; urns: Map<string, string> };
    let movedWithSpecs: MockedProgram;
    let movedWithoutAliases: Map<string, string>;

    /** type::name → engine URN */
    const byName = (p: MockedProgram, urns: Map<string, string>) => new Map(p.registrations.map((x) => [`${x.type}::${x.name}`, urns.get(x.mockUrn)!]));

    beforeAll(async () => {
        const o = await runUnderMocks(PROJECT, stack, {}, [], layout("old"));
        expect(o.error).toBeUndefined();
        old = byName(o, await engineUrns(pulumi, PROJECT, stack, o.registrations));
        // The SDK computes every child's inherited alias URNs itself when the engine takes none.
        const m = await runUnderMocks(PROJECT, stack, {}, [], layout("moved-with-aliases"), { clientSideAliases: true });
        expect(m.error).toBeUndefined();
        moved = { program: m, urns: await engineUrns(pulumi, PROJECT, stack, m.registrations) };
        movedWithSpecs = await runUnderMocks(PROJECT, stack, {}, [], layout("moved-with-aliases"));
        const w = await runUnderMocks(PROJECT, stack, {}, [], layout("moved"));
        movedWithoutAliases = byName(w, await engineUrns(pulumi, PROJECT, stack, w.registrations));
    });

    it("gives the moved resources new URNs, which without aliases would mean delete and re-create (new volumes, new passwords)", () => {
        for (const key of MOVED_STATEFUL) {
            expect(old.get(key)).toBeDefined();
            expect(movedWithoutAliases.get(key)).toBeDefined();
            expect(movedWithoutAliases.get(key)).not.toBe(old.get(key));
        }
    });

    it("registers for each moved component an alias equal to its old URN", () => {
        for (const [type, name] of [["observability:index:Grafana", "grafana"], ["observability:index:Loki", "loki"]]) {
            const reg = moved.program.registrations.find((x) => x.type === type && x.name === name)!;
            expect(reg.aliasUrns).toEqual([old.get(`${type}::${name}`)]);
        }
    });

    it("registers for every stateful child an inherited alias equal to its old URN", () => {
        for (const key of MOVED_STATEFUL) {
            const reg = moved.program.registrations.find((x) => `${x.type}::${x.name}` === key)!;
            expect({ key, aliases: reg.aliasUrns }).toEqual({ key, aliases: expect.arrayContaining([old.get(key)]) });
            expect(moved.urns.get(reg.mockUrn)).not.toBe(old.get(key));
        }
    });

    it("covers every resource of the moved components, not only the stateful ones", () => {
        const children = moved.program.registrations.filter((x) => x.custom);
        expect(children.length).toBeGreaterThan(10);
        const lost = children.filter((x) => !x.aliasUrns.includes(old.get(`${x.type}::${x.name}`)!)).map((x) => `${x.type}::${x.name}`);
        expect(lost).toEqual([]);
    });

    it("sends the engine an alias spec naming the old parent, which resolves to the old URN with createUrn", async () => {
        const reg = movedWithSpecs.registrations.find((x) => x.type === "observability:index:Grafana")!;
        expect(reg.aliasSpecs).toHaveLength(1);
        const spec = reg.aliasSpecs[0]!;
        const resolved = await new Promise<string>((res) => pulumi.createUrn(reg.name, reg.type, spec.parentUrn, PROJECT, stack).apply(res));
        expect(resolved).toBe(old.get("observability:index:Grafana::grafana"));
    });
});
