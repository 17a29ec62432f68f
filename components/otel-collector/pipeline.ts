/**
 * Logs and traces end to end: the log backend (Loki or Elasticsearch + Kibana), Jaeger, and the
 * collector gateway and agents, wired to each other through the components' own addresses. The
 * root stack calls {@link createLogsAndTraces} once; nothing here reads Pulumi config.
 */
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../../config";
import { selectorLabels, type FlowPeer } from "../kube";
import { Elasticsearch, Loki } from "../logs";
import { Jaeger } from "../jaeger";
import { GATEWAY_APP, AGENT_APP, GatewayLogsTarget, OtelCollectorAgent, OtelCollectorGateway } from "./index";

/** Pulumi names (and so Kubernetes names) of the components. */
export const PIPELINE_NAMES = {
    gateway: GATEWAY_APP,
    agent: AGENT_APP,
    loki: "loki",
    elasticsearch: "elasticsearch",
    jaeger: "jaeger",
} as const;

/** Selector labels of the gateway pods, known before the gateway exists (Prometheus admits them). */
export const GATEWAY_POD_LABELS = selectorLabels({ name: GATEWAY_APP, instance: PIPELINE_NAMES.gateway });
/** Selector labels of the agent pods. */
export const AGENT_POD_LABELS = selectorLabels({ name: AGENT_APP, instance: PIPELINE_NAMES.agent });

export interface LogsAndTracesArgs {
    readonly config: StackConfig;
    /** Remote-write URLs of every Prometheus replica. */
    readonly remoteWriteUrls: pulumi.Input<pulumi.Input<string>[]>;
    /** Selector labels of the Prometheus pods (in the monitoring namespace). */
    readonly prometheusPodLabels: Record<string, string>;
    /** Selector labels of the Grafana pods (in the monitoring namespace), which query the backends. */
    readonly grafanaPodLabels: Record<string, string>;
    /** Resources created first (the namespaces). */
    readonly dependsOn: pulumi.Input<pulumi.Resource>[];
}

export interface LogsAndTraces {
    readonly gateway: OtelCollectorGateway;
    readonly agent: OtelCollectorAgent;
    readonly jaeger: Jaeger;
    readonly loki?: Loki;
    readonly elasticsearch?: Elasticsearch;
    /** Grafana's log datasource URL (Loki or Elasticsearch). */
    readonly logsUrl: string;
}

export function createLogsAndTraces(parent: pulumi.Resource, a: LogsAndTracesArgs): LogsAndTraces {
    const cfg = a.config;
    const ns = cfg.namespaces.monitoring;
    const opts = { parent, dependsOn: a.dependsOn };
    const gatewayPeer: FlowPeer = { podLabels: GATEWAY_POD_LABELS };
    const grafanaPeer: FlowPeer = { podLabels: a.grafanaPodLabels };
    const prometheusPeer: FlowPeer = { podLabels: a.prometheusPodLabels };
    const jaegerPeer: FlowPeer = { podLabels: selectorLabels({ name: "jaeger", instance: PIPELINE_NAMES.jaeger }) };
    const storageClass = cfg.storageClass ? { storageClass: cfg.storageClass } : {};
    const jaegerCfg = cfg.tracing.jaeger;

    let loki: Loki | undefined;
    let elasticsearch: Elasticsearch | undefined;
    let logsTarget: GatewayLogsTarget;
    if (cfg.logs.backend === "loki") {
        const l = cfg.logs;
        loki = new Loki(
            PIPELINE_NAMES.loki,
            {
                namespace: ns,
                retention: l.retention,
                storage: l.storage,
                ...storageClass,
                ...(l.objectStorage ? { objectStorage: l.objectStorage } : {}),
                limits: l.limits,
                resources: l.resources,
                ...(l.image ? { image: l.image } : {}),
                writers: [gatewayPeer],
                readers: [grafanaPeer],
                prometheus: prometheusPeer,
            },
            opts,
        );
        logsTarget = { backend: "loki", otlpUrl: loki.otlpUrl };
    } else {
        const e = cfg.logs;
        elasticsearch = new Elasticsearch(
            PIPELINE_NAMES.elasticsearch,
            {
                namespace: ns,
                replicas: e.replicas,
                retention: e.retention,
                storage: e.storage,
                ...storageClass,
                resources: e.resources,
                ...(e.image ? { image: e.image } : {}),
                allowMmap: e.allowMmap,
                kibana: e.kibana,
                ...(jaegerCfg.storageBackend === "elasticsearch" ? { jaegerRetention: jaegerCfg.retention } : {}),
                clients: [gatewayPeer, jaegerPeer, grafanaPeer],
                // No Ingress routes to Kibana, so the ingress controller is not admitted to it
                // (users reach it with kubectl port-forward; Grafana is the logs UI).
                clusterName: cfg.clusterName,
            },
            opts,
        );
        logsTarget = { backend: "elasticsearch", endpoints: [elasticsearch.url], user: elasticsearch.users.collector.username };
    }

    const jaeger = new Jaeger(
        PIPELINE_NAMES.jaeger,
        {
            namespace: ns,
            storageBackend: jaegerCfg.storageBackend,
            storage: jaegerCfg.storage,
            ...storageClass,
            retention: jaegerCfg.retention,
            resources: jaegerCfg.resources,
            ...(jaegerCfg.image ? { image: jaegerCfg.image } : {}),
            ...(elasticsearch && jaegerCfg.storageBackend === "elasticsearch"
                ? {
                      elasticsearch: {
                          urls: [elasticsearch.url],
                          username: elasticsearch.users.jaeger.username,
                          password: elasticsearch.users.jaeger.password,
                          indexReplicas: cfg.logs.replicas > 1 ? 1 : 0,
                      },
                  }
                : {}),
            writers: [gatewayPeer],
            readers: [grafanaPeer],
            prometheus: prometheusPeer,
            ...(cfg.ingress ? { ingress: cfg.ingress } : {}),
            ingressControllerNamespace: cfg.namespaces.ingressController,
        },
        // On Elasticsearch, Jaeger logs in as a user the setup job creates: start it after.
        elasticsearch && jaegerCfg.storageBackend === "elasticsearch" ? { ...opts, dependsOn: [...a.dependsOn, elasticsearch.setupJob] } : opts,
    );

    const common = {
        clusterName: cfg.clusterName,
        environment: cfg.environment,
        prometheus: { namespace: ns, podLabels: a.prometheusPodLabels },
        applicationNamespaceLabels: { ...cfg.namespaces.applicationSelector },
    };
    const gateway = new OtelCollectorGateway(
        PIPELINE_NAMES.gateway,
        {
            ...common,
            namespace: ns,
            replicas: cfg.collector.gateway.replicas,
            resources: cfg.collector.gateway.resources,
            ...(cfg.collector.gateway.image ? { image: cfg.collector.gateway.image } : {}),
            jaegerOtlpEndpoint: jaeger.otlpGrpcEndpoint,
            remoteWriteUrls: a.remoteWriteUrls,
            logs: logsTarget,
            ...(elasticsearch ? { elasticsearchPassword: elasticsearch.users.collector.password } : {}),
            sampling: { ratio: cfg.tracing.samplingRatio },
            agents: { namespace: cfg.namespaces.agents, podLabels: AGENT_POD_LABELS },
        },
        opts,
    );
    const agent = new OtelCollectorAgent(
        PIPELINE_NAMES.agent,
        {
            ...common,
            namespace: cfg.namespaces.agents,
            resources: cfg.collector.agent.resources,
            ...(cfg.collector.agent.image ? { image: cfg.collector.agent.image } : {}),
            gatewayOtlpEndpoint: gateway.otlpGrpcEndpoint,
            ...(gateway.headlessHost ? { gatewayHeadlessHost: gateway.headlessHost } : {}),
        },
        opts,
    );
    return {
        gateway,
        agent,
        jaeger,
        ...(loki ? { loki } : {}),
        ...(elasticsearch ? { elasticsearch } : {}),
        logsUrl: loki ? loki.url : elasticsearch!.url,
    };
}
