/**
 * The rendered OpenTelemetry Collector configs, checked by the structural validator against the
 * pinned contrib release and against the Services the same render declares; plus the wiring
 * around them (Prometheus' remote-write receiver, trace-id routing, host access of the agent).
 */
import { IMAGES, versionOf } from "../../components/kube/images";
import { SECURITY_EXCEPTION_ANNOTATION_PREFIX } from "../../components/kube/security";
import { CONTRIB_COMPONENTS, CONTRIB_RELEASE, isContribComponent } from "../../components/otel-collector/contrib-components";
import { agentConfig, gatewayConfig, GatewayConfigArgs, LOADBALANCED_OTLP_PORT } from "../../components/otel-collector/config";
import { validateCollectorConfig, KnownService } from "../../components/otel-collector/validate";
import { cleanup, containersOf, Rendered, renderStack } from "./support";

const renders: Partial<Record<"dev" | "prod", Rendered>> = {};
beforeAll(() => {
    renders.dev = renderStack("dev");
    renders.prod = renderStack("prod");
});
afterAll(() => {
    cleanup(renders.dev);
    cleanup(renders.prod);
});

const gw = (s: "dev" | "prod") => renders[s]!.yamlFile("otel-collector/gateway.yaml");
const agent = (s: "dev" | "prod") => renders[s]!.yamlFile("otel-collector/agent.yaml");

describe("the pinned contrib component list", () => {
    it("describes the same release as the pinned collector image", () => {
        expect(versionOf(IMAGES.otelCollector)).toBe(CONTRIB_RELEASE);
        expect(IMAGES.otelCollector).toMatch(/^docker\.io\/otel\/opentelemetry-collector-contrib:/);
    });

    it("lists each component type once per kind", () => {
        for (const list of Object.values(CONTRIB_COMPONENTS)) expect(new Set(list).size).toBe(list.length);
    });

    it("resolves a named component id to its type", () => {
        expect(isContribComponent("exporters", "otlp_grpc/jaeger")).toBe(true);
        expect(isContribComponent("exporters", "jaeger")).toBe(false);
        expect(isContribComponent("processors", "tail_sampling")).toBe(true);
    });
});

describe.each(["dev", "prod"] as const)("the rendered %s collector configs", (stack) => {
    it("pass the structural validator against the Services the render contains", () => {
        const services = renders[stack]!.services;
        expect(validateCollectorConfig(gw(stack), services)).toEqual([]);
        expect(validateCollectorConfig(agent(stack), services)).toEqual([]);
    });

    it("set deployment.environment and k8s.cluster.name from the stack config in every pipeline", () => {
        for (const cfg of [gw(stack), agent(stack)]) {
            expect(cfg.processors["resource/environment"].attributes).toEqual([
                { key: "deployment.environment", value: stack, action: "upsert" },
                { key: "k8s.cluster.name", value: stack, action: "upsert" },
            ]);
            // Each signal's entry pipeline (the one with the otlp receiver) sets them.
            for (const p of Object.values<any>(cfg.service.pipelines).filter((p) => p.receivers.includes("otlp"))) {
                expect(p.processors).toContain("resource/environment");
            }
        }
    });

    it("masks, then drops health checks, then samples, in the pipeline that exports traces to Jaeger", () => {
        const traces = Object.values<any>(gw(stack).service.pipelines).find((p) => p.exporters.includes("otlp_grpc/jaeger"));
        const order = ["memory_limiter", "transform/redact", "filter/health-checks", ...(stack === "prod" ? ["tail_sampling"] : []), "batch"];
        expect(traces.processors.filter((p: string) => order.includes(p))).toEqual(order);
    });

    it("exports traces to Jaeger's internal OTLP Service and logs to Loki's OTLP endpoint", () => {
        const cfg = gw(stack);
        expect(cfg.exporters["otlp_grpc/jaeger"].endpoint).toBe("jaeger-collector.monitoring.svc:4317");
        expect(cfg.exporters["otlp_http/loki"].endpoint).toBe("http://loki.monitoring.svc:3100/otlp");
        expect(cfg.service.pipelines.logs.exporters).toEqual(["otlp_http/loki"]);
    });

    it("moves service and level to the resource so Loki indexes exactly those two labels", () => {
        const cfg = gw(stack);
        expect(cfg.processors["groupbyattrs/log-labels"]).toEqual({ keys: ["service", "level"] });
        const logs = cfg.service.pipelines.logs.processors;
        expect(logs.indexOf("transform/log-fields")).toBeLessThan(logs.indexOf("groupbyattrs/log-labels"));
    });

    it("writes metrics to the remote-write receiver of every Prometheus replica, which has it turned on", () => {
        const prom = renders[stack]!.find("StatefulSet", "prometheus", "monitoring");
        const replicas = prom.spec.replicas;
        const exporters = gw(stack).service.pipelines.metrics.exporters;
        expect(exporters).toHaveLength(replicas);
        expect(exporters.map((e: string) => gw(stack).exporters[e].endpoint)).toEqual(
            Array.from({ length: replicas }, (_, i) => `http://prometheus-${i}.prometheus-headless.monitoring.svc:9090/api/v1/write`),
        );
        expect(containersOf(prom)[0].args).toContain("--web.enable-remote-write-receiver");
        const policy = renders[stack]!.find("NetworkPolicy", "prometheus", "monitoring");
        const peers = policy.spec.ingress.flatMap((r: any) => r.from);
        expect(peers).toContainEqual({ podSelector: { matchLabels: { "app.kubernetes.io/name": "otel-collector-gateway", "app.kubernetes.io/instance": "otel-collector-gateway" } } });
    });

    it("tails /var/log/pods with the container parser and the contract's JSON fields, skipping its own pods", () => {
        const filelog = agent(stack).receivers.filelog;
        expect(filelog.include).toEqual(["/var/log/pods/*/*/*.log"]);
        expect(filelog.exclude).toEqual(["/var/log/pods/monitoring-agents_otel-collector-agent-*/*/*.log"]);
        expect(filelog.operators.map((o: any) => o.type)).toEqual(["container", "json_parser", "move", "trace_parser", "remove", "remove", "remove"]);
        const json = filelog.operators[1];
        expect(json.timestamp.parse_from).toBe("attributes.timestamp");
        expect(json.severity.parse_from).toBe("attributes.level");
        expect(filelog.operators[3].trace_id.parse_from).toBe("attributes.trace_id");
        expect(filelog.storage).toBe("file_storage/checkpoints");
    });

    it("runs the agent as root with every capability dropped, host paths named, and no host network or PID", () => {
        const ds = renders[stack]!.find("DaemonSet", "otel-collector-agent", "monitoring-agents");
        const pod = ds.spec.template.spec;
        const [c] = containersOf(ds);
        expect(c.securityContext).toMatchObject({ runAsUser: 0, allowPrivilegeEscalation: false, privileged: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
        expect(c.securityContext.capabilities.add).toBeUndefined();
        expect(pod.hostNetwork).toBeUndefined();
        expect(pod.hostPID).toBeUndefined();
        expect(c.ports.every((p: any) => p.hostPort === undefined)).toBe(true);
        expect(pod.volumes.filter((v: any) => v.hostPath).map((v: any) => v.hostPath.path)).toEqual(["/var/log/pods", "/var/lib/otelcol"]);
        expect(c.volumeMounts.find((m: any) => m.mountPath === "/var/log/pods").readOnly).toBe(true);
        const notes = ds.spec.template.metadata.annotations;
        expect(notes[`${SECURITY_EXCEPTION_ANNOTATION_PREFIX}runAsRoot`]).toMatch(/0640/);
        expect(notes[`${SECURITY_EXCEPTION_ANNOTATION_PREFIX}hostPath`]).toMatch(/\/var\/log\/pods read-only/);
    });

    it("labels collector, Loki and Jaeger pods and ports as Prometheus' component jobs expect", () => {
        const port = (kind: string, name: string, ns: string, portName: string) =>
            containersOf(renders[stack]!.find(kind, name, ns)).flatMap((c) => c.ports ?? []).find((p: any) => p.name === portName);
        expect(port("DaemonSet", "otel-collector-agent", "monitoring-agents", "metrics")?.containerPort).toBe(8888);
        expect(port("Deployment", "otel-collector-gateway", "monitoring", "metrics")?.containerPort).toBe(8888);
        expect(port("StatefulSet", "loki", "monitoring", "http-metrics")?.containerPort).toBe(3100);
        expect(port("StatefulSet", "jaeger", "monitoring", "admin")?.containerPort).toBe(8888);
        for (const [kind, name, ns] of [["DaemonSet", "otel-collector-agent", "monitoring-agents"], ["Deployment", "otel-collector-gateway", "monitoring"], ["StatefulSet", "loki", "monitoring"], ["StatefulSet", "jaeger", "monitoring"]] as const) {
            expect(renders[stack]!.find(kind, name, ns).spec.template.metadata.labels["app.kubernetes.io/name"]).toBe(name);
        }
    });

    it("exports the gateway's OTLP endpoints for applications", () => {
        const summary = require(`${renders[stack]!.dir}/summary.json`);
        expect(summary.outputs.otlpGrpcEndpoint).toBe("otel-collector-gateway.monitoring.svc:4317");
        expect(summary.outputs.otlpHttpEndpoint).toBe("http://otel-collector-gateway.monitoring.svc:4318");
    });
});

describe("trace sampling and routing per environment", () => {
    it("keeps every trace in dev: one gateway, no tail sampling, no routing", () => {
        const cfg = gw("dev");
        expect(renders.dev!.find("Deployment", "otel-collector-gateway").spec.replicas).toBe(1);
        expect(cfg.processors.tail_sampling).toBeUndefined();
        expect(cfg.exporters["loadbalancing/traces"]).toBeUndefined();
        expect(agent("dev").service.pipelines.traces.exporters).toEqual(["otlp_grpc/gateway"]);
    });

    it("keeps errors, traces slower than 1 s and 10% of the rest in prod", () => {
        expect(gw("prod").processors.tail_sampling.policies).toEqual([
            { name: "keep-errors", type: "status_code", status_code: { status_codes: ["ERROR"] } },
            { name: "keep-slow", type: "latency", latency: { threshold_ms: 1000 } },
            { name: "keep-share-of-the-rest", type: "probabilistic", probabilistic: { sampling_percentage: 10 } },
        ]);
    });

    it("routes every span of a trace to one of the two prod gateways by trace id, from agents and from the gateway's entry pipeline alike", () => {
        const prod = renders.prod!;
        expect(prod.find("Deployment", "otel-collector-gateway").spec.replicas).toBe(2);
        const gwLb = gw("prod").exporters["loadbalancing/traces"];
        const agentLb = agent("prod").exporters["loadbalancing/traces"];
        expect(gwLb.routing_key).toBe("traceID");
        expect(agentLb).toEqual(gwLb);
        expect(gwLb.resolver.dns).toMatchObject({ hostname: "otel-collector-gateway-headless.monitoring.svc.cluster.local", port: String(LOADBALANCED_OTLP_PORT) });
        expect(gw("prod").receivers["otlp/loadbalanced"].protocols.grpc.endpoint).toBe(`0.0.0.0:${LOADBALANCED_OTLP_PORT}`);
        expect(gw("prod").service.pipelines["traces/route"]).toEqual({
            receivers: ["otlp"],
            processors: ["memory_limiter", "k8s_attributes", "resource/environment", "batch"],
            exporters: ["loadbalancing/traces"],
        });
        expect(agent("prod").service.pipelines.traces.exporters).toEqual(["loadbalancing/traces"]);
        expect(prod.find("PodDisruptionBudget", "otel-collector-gateway").spec.maxUnavailable).toBe(1);
    });
});

const SERVICES: KnownService[] = [
    { name: "jaeger-collector", namespace: "monitoring", ports: [4317, 4318], headless: false },
    { name: "loki", namespace: "monitoring", ports: [3100, 9095], headless: false },
    { name: "prometheus-0", namespace: "monitoring", ports: [9090], headless: false },
    { name: "otel-collector-gateway-headless", namespace: "monitoring", ports: [4319], headless: true },
];
const BASE: GatewayConfigArgs = {
    clusterName: "c1",
    environment: "prod",
    selfServiceName: "otel-collector-gateway",
    replicas: 2,
    headlessHost: "otel-collector-gateway-headless.monitoring.svc.cluster.local",
    jaegerOtlpEndpoint: "jaeger-collector.monitoring.svc:4317",
    metrics: { remoteWriteUrls: ["http://prometheus-0.monitoring.svc:9090/api/v1/write"] },
    logs: { backend: "loki", otlpUrl: "http://loki.monitoring.svc:3100/otlp" },
    sampling: { ratio: 0.25 },
};
const base = () => JSON.parse(JSON.stringify(gatewayConfig(BASE)));

describe("the structural validator rejects a broken config with a message naming the problem", () => {
    it("accepts the generated gateway config it is shown", () => {
        expect(validateCollectorConfig(base(), SERVICES)).toEqual([]);
    });

    it("names a pipeline component that is not defined", () => {
        const c = base();
        c.service.pipelines.logs.processors.splice(1, 0, "attributes/missing");
        expect(validateCollectorConfig(c)).toContain('service.pipelines.logs.processors: "attributes/missing" is not defined under processors');
    });

    it("names a component type the contrib release does not have", () => {
        const c = base();
        c.exporters["jaeger/legacy"] = { endpoint: "jaeger-collector.monitoring.svc:14250" };
        c.service.pipelines.traces.exporters.push("jaeger/legacy");
        expect(validateCollectorConfig(c)).toContain('exporters.jaeger/legacy: type "jaeger" is not a exporter of otelcol-contrib (known: ' + CONTRIB_COMPONENTS.exporters.length + " types)");
    });

    it("requires memory_limiter first and batch last in every pipeline", () => {
        const c = base();
        c.service.pipelines.metrics.processors = ["k8s_attributes", "memory_limiter", "batch", "transform/metric-labels"];
        expect(validateCollectorConfig(c)).toEqual(
            expect.arrayContaining([
                'service.pipelines.metrics.processors: expected memory_limiter first, found "k8s_attributes"',
                'service.pipelines.metrics.processors: expected batch last, found "transform/metric-labels"',
            ]),
        );
    });

    it("requires filters to run before tail sampling", () => {
        const c = base();
        c.service.pipelines.traces.processors = ["memory_limiter", "transform/redact", "tail_sampling", "filter/health-checks", "batch"];
        expect(validateCollectorConfig(c)).toContain("service.pipelines.traces.processors: expected filters before tail_sampling (a dropped span must not decide a trace)");
    });

    it("names an exporter no pipeline uses", () => {
        const c = base();
        c.exporters["otlp_grpc/unused"] = { endpoint: "jaeger-collector.monitoring.svc:4317" };
        expect(validateCollectorConfig(c)).toContain("exporters.otlp_grpc/unused: defined but used by no pipeline");
    });

    it("names an endpoint whose Service the render does not contain, or whose port it does not expose", () => {
        const c = base();
        c.exporters["otlp_grpc/jaeger"].endpoint = "tempo.monitoring.svc:4317";
        c.exporters["otlp_http/loki"].endpoint = "http://loki.monitoring.svc:3101/otlp";
        expect(validateCollectorConfig(c, SERVICES)).toEqual([
            'exporters.otlp_grpc/jaeger.endpoint "tempo.monitoring.svc:4317": no Service monitoring/tempo in the render',
            'exporters.otlp_http/loki.endpoint "http://loki.monitoring.svc:3101/otlp": Service monitoring/loki exposes ports 3100, 9095, not 3101',
        ]);
    });

    it("requires the trace-id router to resolve a headless Service", () => {
        const services = SERVICES.map((s) => (s.headless ? { ...s, headless: false } : s));
        expect(validateCollectorConfig(base(), services)).toEqual([
            'exporters.loadbalancing/traces.resolver.dns "otel-collector-gateway-headless.monitoring.svc.cluster.local:4319": a DNS resolver needs a headless Service (one A record per pod), otel-collector-gateway-headless has a cluster IP',
        ]);
    });

    it("names a sampling percentage outside 0 to 100", () => {
        const c = base();
        c.processors.tail_sampling.policies[2].probabilistic.sampling_percentage = 150;
        expect(validateCollectorConfig(c)).toContain('processors.tail_sampling: policy "keep-share-of-the-rest" sampling_percentage 150: expected 0 to 100');
    });

    it("accepts a StatefulSet pod's own address behind its headless Service and names a pod that does not exist", () => {
        const services: KnownService[] = [...SERVICES, { name: "prometheus-headless", namespace: "monitoring", ports: [9090], headless: true, podNames: ["prometheus-0", "prometheus-1"] }];
        const ok = JSON.parse(JSON.stringify(gatewayConfig({ ...BASE, metrics: { remoteWriteUrls: ["http://prometheus-1.prometheus-headless.monitoring.svc:9090/api/v1/write"] } })));
        expect(validateCollectorConfig(ok, services)).toEqual([]);
        const bad = JSON.parse(JSON.stringify(gatewayConfig({ ...BASE, metrics: { remoteWriteUrls: ["http://prometheus-2.prometheus-headless.monitoring.svc:9090/api/v1/write"] } })));
        expect(validateCollectorConfig(bad, services)).toEqual([
            'exporters.prometheusremotewrite/prometheus-2.endpoint "http://prometheus-2.prometheus-headless.monitoring.svc:9090/api/v1/write": no pod prometheus-2 behind Service monitoring/prometheus-headless (pods: prometheus-0, prometheus-1)',
        ]);
    });

    it("names an address outside the cluster", () => {
        const c = base();
        c.exporters["otlp_grpc/jaeger"].endpoint = "collector.example.com:4317";
        expect(validateCollectorConfig(c, SERVICES)).toEqual(['exporters.otlp_grpc/jaeger.endpoint "collector.example.com:4317": expected an in-cluster Service address <name>.<namespace>.svc']);
    });
});

describe("the collector config generators reject bad input", () => {
    it("rejects a sampling ratio above 1", () => {
        expect(() => gatewayConfig({ ...BASE, sampling: { ratio: 1.5 } })).toThrow("gateway.sampling.ratio 1.5: expected a ratio from 0 to 1");
    });

    it("rejects zero gateway replicas", () => {
        expect(() => gatewayConfig({ ...BASE, replicas: 0 })).toThrow("gateway.replicas 0: expected a whole number of at least 1");
    });

    it("rejects a gateway with nowhere to send metrics", () => {
        expect(() => gatewayConfig({ ...BASE, metrics: { remoteWriteUrls: [] } })).toThrow("gateway.metrics.remoteWriteUrls []: expected at least one Prometheus remote-write URL");
    });

    it("rejects an agent without a cluster name", () => {
        expect(() =>
            agentConfig({ clusterName: "", environment: "dev", selfServiceName: "a", gatewayOtlpEndpoint: "g.m.svc:4317", agentNamespace: "x", agentPodPrefix: "a" }),
        ).toThrow('agent.clusterName "": expected the cluster name');
    });

    it("turns tail sampling off at a ratio of 1 and keeps 0.1% at 0.001", () => {
        expect(gatewayConfig({ ...BASE, sampling: { ratio: 1 } }).processors.tail_sampling).toBeUndefined();
        expect(gatewayConfig({ ...BASE, sampling: { ratio: 0.001 } }).processors.tail_sampling.policies[2].probabilistic.sampling_percentage).toBe(0.1);
    });
});
