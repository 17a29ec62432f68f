/**
 * NetworkPolicies as a flow matrix. The test derives every allowed inbound flow from the
 * rendered policies (each policy's podSelector resolved to the rendered workloads by their pod
 * labels; each `from` peer to workloads or namespaces; each port by number or by the named
 * container port of the destination) and compares the result with the matrix the stack is meant
 * to have, written out below. Anything the policies admit beyond it, or fail to admit, is a diff.
 */
import { componentTargets } from "../../components/stack";
import type { StackConfig } from "../../config";
import type { K8sObject } from "../../scripts/lib/manifests";
import { toKubernetesObjects } from "../../scripts/lib/manifests";
import { readStackConfig } from "../../scripts/lib/stack-files";
import { selectorMatches } from "../../policy/checks";
import { ROOT } from "../support/program";
import { allContainers, render, runStackUnderMocks, SecurityRender, STACK_KEYS, StackKey, workloadsOf } from "./support";

const NAME_LABEL = "kubernetes.io/metadata.name";

interface Port {
    readonly name?: string;
    readonly port: number;
    readonly protocol: string;
}

interface Endpoint {
    readonly id: string;
    readonly namespace: string;
    readonly labels: Record<string, string>;
    readonly ports: readonly Port[];
}

function endpointsOf(objects: readonly K8sObject[]): Endpoint[] {
    return workloadsOf(objects).map((w) => ({
        id: w.id,
        namespace: w.namespace,
        labels: w.template.labels,
        ports: allContainers(w.template.spec).flatMap(({ container }) =>
            (container.ports ?? []).map((p: any) => ({ ...(p.name ? { name: p.name } : {}), port: p.containerPort, protocol: p.protocol ?? "TCP" })),
        ),
    }));
}

/** Namespaces of the render with the labels Kubernetes gives them (their name label included). */
function namespacesOf(objects: readonly K8sObject[]): Map<string, Record<string, string>> {
    return new Map(objects.filter((o) => o.kind === "Namespace").map((o) => [o.metadata.name, { ...(o.metadata.labels ?? {}), [NAME_LABEL]: o.metadata.name }]));
}

const labelText = (labels: Record<string, string>) =>
    Object.entries(labels)
        .map(([k, v]) => `${k}=${v}`)
        .sort()
        .join(",");

/** How a namespaceSelector reads in the matrix, and whether it reaches beyond the rendered namespaces. */
function describeNamespaces(sel: any): { text: string; pinned?: string } {
    const labels: Record<string, string> = sel.matchLabels ?? {};
    if ((sel.matchExpressions ?? []).length) throw new Error(`namespaceSelector with matchExpressions is not modelled: ${JSON.stringify(sel)}`);
    if (Object.keys(labels).length === 0) return { text: "every namespace" };
    if (Object.keys(labels).length === 1 && labels[NAME_LABEL]) return { text: `namespace ${labels[NAME_LABEL]}`, pinned: labels[NAME_LABEL] };
    return { text: `namespaces labelled ${labelText(labels)}` };
}

export interface FlowMatrix {
    /** `source → namespace/workload:port/PROTOCOL`, sorted. */
    readonly flows: string[];
    /** Problems found while deriving: rules admitting any source or port, unresolved named ports. */
    readonly problems: string[];
}

/** The flows the rendered NetworkPolicies admit. */
export function deriveFlows(objects: readonly K8sObject[]): FlowMatrix {
    const endpoints = endpointsOf(objects);
    const namespaces = namespacesOf(objects);
    const flows = new Set<string>();
    const problems: string[] = [];
    const policies = objects.filter((o) => o.kind === "NetworkPolicy" && (o.spec?.policyTypes ?? ["Ingress"]).includes("Ingress"));

    const sourcesOf = (policyNs: string, peer: any): string[] => {
        if (peer.ipBlock) return [`cidr ${peer.ipBlock.cidr}`];
        const podSel = peer.podSelector;
        if (podSel && (podSel.matchExpressions ?? []).length) throw new Error(`podSelector with matchExpressions is not modelled: ${JSON.stringify(podSel)}`);
        if (!peer.namespaceSelector) {
            return endpoints.filter((e) => e.namespace === policyNs && selectorMatches(podSel ?? {}, e.labels)).map((e) => e.id);
        }
        const ns = describeNamespaces(peer.namespaceSelector);
        if (!podSel) return [`every pod in ${ns.text}`];
        if (ns.pinned && namespaces.has(ns.pinned)) return endpoints.filter((e) => e.namespace === ns.pinned && selectorMatches(podSel, e.labels)).map((e) => e.id);
        return [`pods ${labelText(podSel.matchLabels ?? {}) || "(any)"} in ${ns.text}`];
    };

    for (const np of policies) {
        const ns = np.metadata.namespace ?? "default";
        const targets = endpoints.filter((e) => e.namespace === ns && selectorMatches(np.spec.podSelector ?? {}, e.labels));
        for (const [i, rule] of (np.spec.ingress ?? []).entries()) {
            const where = `NetworkPolicy ${ns}/${np.metadata.name} rule ${i}`;
            if (!rule.from || rule.from.length === 0) problems.push(`${where} admits every source`);
            if (!rule.ports || rule.ports.length === 0) problems.push(`${where} admits every port`);
            const sources = (rule.from ?? []).flatMap((p: any) => sourcesOf(ns, p));
            if (rule.from?.length && sources.length === 0) problems.push(`${where}: no peer matches a rendered workload or namespace (${JSON.stringify(rule.from)})`);
            for (const t of targets) {
                for (const p of rule.ports ?? []) {
                    const protocol = p.protocol ?? "TCP";
                    const port = typeof p.port === "number" ? p.port : t.ports.find((cp) => cp.name === p.port && cp.protocol === protocol)?.port;
                    if (port === undefined) {
                        problems.push(`${where}: ${t.id} has no ${protocol} container port named ${p.port}`);
                        continue;
                    }
                    if (!t.ports.some((cp) => cp.port === port && cp.protocol === protocol)) problems.push(`${where}: ${t.id} does not listen on ${port}/${protocol}`);
                    for (const s of sources) flows.add(`${s} → ${t.id}:${port}/${protocol}`);
                }
            }
        }
    }
    return { flows: [...flows].sort(), problems };
}

// ---------------------------------------------------------------------------------------------
// The matrix the stack is meant to have
// ---------------------------------------------------------------------------------------------

const PROM = "monitoring/prometheus";
const GRAFANA = "monitoring/grafana";
const AM = "monitoring/alertmanager";
const GATEWAY = "monitoring/otel-collector-gateway";
const AGENT = "monitoring-agents/otel-collector-agent";
const JAEGER = "monitoring/jaeger";
const INGRESS = "every pod in namespace ingress-nginx";
const APPS = "every pod in every namespace"; // namespaces.applicationSelector defaults to every namespace

/** Prometheus → every scrape target (its own port included: the HA pair scrapes itself and its peer). */
function scrapes(logs: "loki" | "elasticsearch"): string[] {
    return [
        `${PROM} → ${PROM}:9090/TCP`,
        `${PROM} → ${AM}:9093/TCP`,
        `${PROM} → ${GRAFANA}:3000/TCP`,
        `${PROM} → monitoring/kube-state-metrics:8080/TCP`,
        `${PROM} → monitoring/kube-state-metrics:8081/TCP`,
        `${PROM} → monitoring/blackbox-exporter:9115/TCP`,
        `${PROM} → ${JAEGER}:8888/TCP`,
        `${PROM} → ${GATEWAY}:8888/TCP`,
        `${PROM} → ${AGENT}:8888/TCP`,
        `${PROM} → monitoring-agents/node-exporter:9100/TCP`,
        ...(logs === "loki" ? [`${PROM} → monitoring/loki:3100/TCP`] : []),
    ];
}

function expectedMatrix(key: StackKey): string[] {
    const prodLike = key !== "dev";
    const logs = key === "es" ? "elasticsearch" : "loki";
    const flows = [
        ...scrapes(logs),
        // Grafana → Prometheus, Alertmanager, the log backend, Jaeger.
        `${GRAFANA} → ${PROM}:9090/TCP`,
        `${GRAFANA} → ${AM}:9093/TCP`,
        `${GRAFANA} → ${JAEGER}:16686/TCP`,
        // Prometheus → Alertmanager is the scrape flow above: the same port carries alerts.
        // Alertmanager ↔ Alertmanager gossip.
        `${AM} → ${AM}:9094/TCP`,
        `${AM} → ${AM}:9094/UDP`,
        // Agents → gateway OTLP; applications → gateway and node agent OTLP.
        `${AGENT} → ${GATEWAY}:4317/TCP`,
        `${AGENT} → ${GATEWAY}:4318/TCP`,
        `${APPS} → ${GATEWAY}:4317/TCP`,
        `${APPS} → ${GATEWAY}:4318/TCP`,
        `${APPS} → ${AGENT}:4317/TCP`,
        `${APPS} → ${AGENT}:4318/TCP`,
        // Gateway → Jaeger (OTLP; the Service offers gRPC and HTTP), Prometheus (remote write).
        `${GATEWAY} → ${JAEGER}:4317/TCP`,
        `${GATEWAY} → ${JAEGER}:4318/TCP`,
        `${GATEWAY} → ${PROM}:9090/TCP`,
    ];
    if (logs === "loki") {
        flows.push(`${GRAFANA} → monitoring/loki:3100/TCP`, `${GATEWAY} → monitoring/loki:3100/TCP`);
    } else {
        const es = "monitoring/elasticsearch";
        flows.push(
            `${GRAFANA} → ${es}:9200/TCP`,
            `${GATEWAY} → ${es}:9200/TCP`,
            // Jaeger stores spans in Elasticsearch; the setup Job and the retention CronJob create
            // users, roles and index policies and delete old span indices; Kibana reads.
            `${JAEGER} → ${es}:9200/TCP`,
            `monitoring/elasticsearch-jaeger-retention → ${es}:9200/TCP`,
            ...setupJobFlows(es),
            `monitoring/elasticsearch-kibana → ${es}:9200/TCP`,
            // Elasticsearch nodes talk to each other on the transport port.
            `${es} → ${es}:9300/TCP`,
        );
    }
    if (prodLike) {
        // More than one gateway replica: spans are routed by trace id between the replicas, and
        // the agents send to the routing port too.
        flows.push(`${GATEWAY} → ${GATEWAY}:4319/TCP`, `${AGENT} → ${GATEWAY}:4319/TCP`);
        // The ingress controller → Grafana and the Jaeger UI (prod publishes both).
        flows.push(`${INGRESS} → ${GRAFANA}:3000/TCP`, `${INGRESS} → ${JAEGER}:16686/TCP`);
    }
    return flows.sort();
}

/** The setup Job's name carries a hash of its files; the matrix names it by prefix. */
let setupJobName = "";
const setupJobFlows = (es: string) => [`monitoring/${setupJobName} → ${es}:9200/TCP`];

// ---------------------------------------------------------------------------------------------

const renders: Partial<Record<StackKey, SecurityRender>> = {};
beforeAll(() => {
    for (const key of STACK_KEYS) renders[key] = render(key);
    setupJobName = renders.es!.objects.find((o) => o.kind === "Job" && o.metadata.name.startsWith("elasticsearch-setup-"))!.metadata.name;
});

describe.each(STACK_KEYS)("NetworkPolicies of the %s render", (key) => {
    const objects = () => renders[key]!.objects;

    it("deny all ingress by default in both namespaces", () => {
        for (const ns of ["monitoring", "monitoring-agents"]) {
            const deny = objects().filter((o) => o.kind === "NetworkPolicy" && o.metadata.namespace === ns && Object.keys(o.spec.podSelector ?? {}).length === 0);
            expect(deny.map((d) => d.spec)).toEqual([{ podSelector: {}, policyTypes: ["Ingress"] }]);
        }
    });

    it("admit exactly the expected flow matrix", () => {
        const { flows } = deriveFlows(objects());
        const expected = expectedMatrix(key);
        expect({ missing: expected.filter((f) => !flows.includes(f)), unexpected: flows.filter((f) => !expected.includes(f)) }).toEqual({ missing: [], unexpected: [] });
    });

    it("have no rule that admits every source or every port, and every admitted port is one the destination listens on", () => {
        expect(deriveFlows(objects()).problems).toEqual([]);
    });

    it("select every workload with a policy of its own, beyond the namespace's default deny", () => {
        const policies = objects().filter((o) => o.kind === "NetworkPolicy" && Object.keys(o.spec.podSelector?.matchLabels ?? {}).length > 0);
        const uncovered = workloadsOf(objects())
            .filter((w) => allContainers(w.template.spec).some((c) => (c.container.ports ?? []).length > 0))
            .filter((w) => !policies.some((p) => p.metadata.namespace === w.namespace && selectorMatches(p.spec.podSelector, w.template.labels)))
            .map((w) => w.id);
        expect(uncovered).toEqual([]);
    });

    it("let Prometheus reach the port of every scrape target its config derives from the stack", () => {
        // componentTargets reads the namespaces and the log backend of the config.
        const cfg = {
            namespaces: { monitoring: "monitoring", agents: "monitoring-agents", ingressController: "ingress-nginx", applicationSelector: {} },
            logs: { backend: key === "es" ? "elasticsearch" : "loki" },
        } as unknown as StackConfig;
        const { flows } = deriveFlows(objects());
        const endpoints = endpointsOf(objects());
        const unreachable: string[] = [];
        for (const t of componentTargets(cfg)) {
            const targets = endpoints.filter((e) => e.namespace === t.namespace && e.labels["app.kubernetes.io/name"] === t.appName);
            expect(targets.map((e) => e.id)).not.toEqual([]);
            for (const e of targets) {
                const port = e.ports.find((p) => p.name === t.portName);
                if (!port || !flows.includes(`${PROM} → ${e.id}:${port.port}/TCP`)) unreachable.push(`${t.job}: ${e.id}:${t.portName}`);
            }
        }
        expect(unreachable).toEqual([]);
    });
});

describe("the deriver itself", () => {
    const base = (): K8sObject[] => renders.dev!.objects;

    it("reports a policy rule without peers as admitting every source", () => {
        const objects = [...base(), { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: { name: "open", namespace: "monitoring" }, spec: { podSelector: { matchLabels: { "app.kubernetes.io/name": "grafana" } }, ingress: [{ ports: [{ port: 3000 }] }] } }];
        expect(deriveFlows(objects).problems).toContain("NetworkPolicy monitoring/open rule 0 admits every source");
    });

    it("resolves a named port to the destination's container port and shows an extra flow as unexpected", () => {
        const objects = [
            ...base(),
            {
                apiVersion: "networking.k8s.io/v1",
                kind: "NetworkPolicy",
                metadata: { name: "extra", namespace: "monitoring" },
                spec: {
                    podSelector: { matchLabels: { "app.kubernetes.io/name": "loki" } },
                    ingress: [{ from: [{ podSelector: { matchLabels: { "app.kubernetes.io/name": "kube-state-metrics" } } }], ports: [{ port: "http-metrics" }] }],
                },
            },
        ];
        const { flows } = deriveFlows(objects);
        expect(flows).toContain("monitoring/kube-state-metrics → monitoring/loki:3100/TCP");
        expect(expectedMatrix("dev")).not.toContain("monitoring/kube-state-metrics → monitoring/loki:3100/TCP");
    });
});

describe("the application namespace selector (namespaces.applicationSelector)", () => {
    const selector = { "observability.example.com/telemetry": "enabled" };
    let flows: string[];
    beforeAll(async () => {
        const cfg = readStackConfig(ROOT, "prod");
        const run = await runStackUnderMocks(cfg, { "observability:namespaces": JSON.stringify({ applicationSelector: selector }) });
        expect(run.error).toBeUndefined();
        flows = deriveFlows(toKubernetesObjects(run.resources)).flows;
    });

    it("admits OTLP to the gateway and the node agents only from namespaces with those labels", () => {
        const apps = "every pod in namespaces labelled observability.example.com/telemetry=enabled";
        expect(flows).toEqual(expect.arrayContaining([`${apps} → ${GATEWAY}:4317/TCP`, `${apps} → ${GATEWAY}:4318/TCP`, `${apps} → ${AGENT}:4317/TCP`, `${apps} → ${AGENT}:4318/TCP`]));
        expect(flows.filter((f) => f.startsWith("every pod in every namespace"))).toEqual([]);
    });

    it("still admits the agents to the gateway, whatever namespaces it selects", () => {
        expect(flows).toEqual(expect.arrayContaining([`${AGENT} → ${GATEWAY}:4317/TCP`, `${AGENT} → ${GATEWAY}:4318/TCP`, `${AGENT} → ${GATEWAY}:4319/TCP`]));
    });
});
