/**
 * Jaeger v2 (pinned image): one pod receiving OTLP from the collector gateway only, storing traces
 * in memory (dev), Badger on a volume, or the Elasticsearch log cluster (the scale path), and
 * serving the UI on 16686 for Grafana and, optionally, an Ingress.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as crypto from "crypto";
import type { IngressConfig, Resources, StorageConfig } from "../../config";
import { childName, FlowPeer, imageFor, RENDER_DIR_ANNOTATION, secureContainer, securePodSpec, selectorLabels, standardLabels, versionOf, workloadNetworkPolicy, statefulData, STATEFUL_SET_OPTIONS } from "../kube";
import { BACKEND_SERVICES } from "../kube/constants";
import {
    BADGER_DIR, JAEGER_ADMIN_PORT, JAEGER_HEALTH_PORT, JAEGER_OTLP_GRPC_PORT, JAEGER_OTLP_HTTP_PORT, JAEGER_QUERY_GRPC_PORT, JAEGER_UI_PORT,
    JaegerStorage, renderJaegerConfig,
} from "./config";

export * from "./config";

export const JAEGER_APP = "jaeger";
/** Port name of Jaeger's own metrics: Prometheus' jaeger job keeps it. */
export const JAEGER_ADMIN_PORT_NAME = "admin";
const JAEGER_UID = 10001;
const ES_SECRET_DIR = "/etc/jaeger/elasticsearch";

export interface JaegerArgs {
    /** Namespace to run in; a plain string because in-cluster addresses are built from it. */
    readonly namespace: string;
    /** Trace storage; `elasticsearch` connects with {@link elasticsearch}. */
    readonly storageBackend: "memory" | "badger" | "elasticsearch";
    /** Volume of the Badger store; an emptyDir when disabled. Unused by the other backends. */
    readonly storage: StorageConfig;
    readonly storageClass?: string;
    /** How long traces are kept. */
    readonly retention: string;
    readonly resources: Resources;
    readonly image?: string;
    /** The Elasticsearch cluster to share, when storageBackend is `elasticsearch`. */
    readonly elasticsearch?: {
        readonly urls: readonly string[];
        readonly username: string;
        readonly password: pulumi.Input<string>;
        /** Replicas of each Jaeger index (0 on a one-node cluster). */
        readonly indexReplicas: number;
    };
    /** Pods that send OTLP (the collector gateway only: ingest is internal). */
    readonly writers: readonly FlowPeer[];
    /** Pods that query the API/UI on 16686 (Grafana). */
    readonly readers: readonly FlowPeer[];
    readonly prometheus: FlowPeer;
    /** Publishes the UI on `ingress.jaegerHost` when set (put authentication in `ingress.annotations`). */
    readonly ingress?: IngressConfig;
    /** Namespace of the ingress controller, admitted to the UI when the Ingress exists. */
    readonly ingressControllerNamespace?: string;
}

export class Jaeger extends pulumi.ComponentResource {
    /** `host:port` of the OTLP gRPC receiver, for the collector's exporter. */
    public readonly otlpGrpcEndpoint: string;
    /** Query/UI base URL (Grafana's Jaeger datasource). */
    public readonly queryUrl: string;
    public readonly podLabels: Record<string, string>;
    public readonly configText: pulumi.Output<string>;

    constructor(name: string, args: JaegerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("observability:index:Jaeger", name, {}, opts);
        if (childName(name, "query") !== BACKEND_SERVICES.jaegerQuery.name) {
            throw new Error(`jaeger component name "${name}": expected its query Service to be "${BACKEND_SERVICES.jaegerQuery.name}" (components/kube/constants.ts)`);
        }
        if (args.storageBackend === "elasticsearch" && !args.elasticsearch) {
            throw new Error('tracing.jaeger.storageBackend "elasticsearch": expected the Elasticsearch cluster (logs.backend "elasticsearch")');
        }
        const ns = args.namespace;
        const image = imageFor("jaeger", args.image);
        const ids = { name: JAEGER_APP, instance: name };
        const labels = standardLabels({ ...ids, component: "tracing", version: versionOf(image) });
        const podLabels = selectorLabels(ids);
        const childOpts = { parent: this };

        const es = args.storageBackend === "elasticsearch" ? args.elasticsearch : undefined;
        const storage: JaegerStorage = es
            ? { kind: "elasticsearch", serverUrls: es.urls, username: es.username, passwordFile: `${ES_SECRET_DIR}/password`, indexReplicas: es.indexReplicas }
            : args.storageBackend === "badger"
              ? { kind: "badger" }
              : { kind: "memory" };
        const text = renderJaegerConfig({ storage, retention: args.retention });
        this.configText = pulumi.output(text);

        const sa = new k8s.core.v1.ServiceAccount(childName(name), { metadata: { name: childName(name), namespace: ns, labels }, automountServiceAccountToken: false }, childOpts);
        const configMap = new k8s.core.v1.ConfigMap(
            childName(name, "config"),
            { metadata: { name: childName(name, "config"), namespace: ns, labels, annotations: { [RENDER_DIR_ANNOTATION]: "jaeger" } }, data: { "config.yaml": text } },
            childOpts,
        );
        const secret = es
            ? new k8s.core.v1.Secret(
                  childName(name, "elasticsearch"),
                  { metadata: { name: childName(name, "elasticsearch"), namespace: ns, labels }, type: "Opaque", stringData: { password: es.password } },
                  childOpts,
              )
            : undefined;

        const headless = new k8s.core.v1.Service(
            childName(name, "headless"),
            { metadata: { name: childName(name, "headless"), namespace: ns, labels }, spec: { clusterIP: "None", selector: podLabels, ports: [{ name: "http-ui", port: JAEGER_UI_PORT, targetPort: "http-ui" }] } },
            childOpts,
        );
        new k8s.core.v1.Service(
            childName(name, "collector"),
            {
                metadata: { name: childName(name, "collector"), namespace: ns, labels },
                spec: {
                    selector: podLabels,
                    ports: [
                        { name: "otlp-grpc", port: JAEGER_OTLP_GRPC_PORT, targetPort: "otlp-grpc", appProtocol: "grpc" },
                        { name: "otlp-http", port: JAEGER_OTLP_HTTP_PORT, targetPort: "otlp-http" },
                    ],
                },
            },
            childOpts,
        );
        const query = new k8s.core.v1.Service(
            childName(name, "query"),
            {
                metadata: { name: childName(name, "query"), namespace: ns, labels },
                spec: {
                    selector: podLabels,
                    ports: [
                        { name: "http-ui", port: JAEGER_UI_PORT, targetPort: "http-ui" },
                        { name: "grpc-query", port: JAEGER_QUERY_GRPC_PORT, targetPort: "grpc-query", appProtocol: "grpc" },
                    ],
                },
            },
            childOpts,
        );

        const badgerVolume = args.storageBackend === "badger";
        const container = secureContainer({
            name: "jaeger",
            image,
            args: ["--config=/etc/jaeger/config.yaml"],
            ports: [
                { name: "otlp-grpc", containerPort: JAEGER_OTLP_GRPC_PORT },
                { name: "otlp-http", containerPort: JAEGER_OTLP_HTTP_PORT },
                { name: "http-ui", containerPort: JAEGER_UI_PORT },
                { name: "grpc-query", containerPort: JAEGER_QUERY_GRPC_PORT },
                { name: JAEGER_ADMIN_PORT_NAME, containerPort: JAEGER_ADMIN_PORT },
                { name: "health", containerPort: JAEGER_HEALTH_PORT },
            ],
            resources: args.resources,
            livenessProbe: { httpGet: { path: "/status", port: "health" }, periodSeconds: 15, failureThreshold: 4 },
            readinessProbe: { httpGet: { path: "/status", port: "health" }, periodSeconds: 5, failureThreshold: 3 },
            volumeMounts: [
                { name: "config", mountPath: "/etc/jaeger", readOnly: true },
                { name: "tmp", mountPath: "/tmp" },
                ...(badgerVolume ? [{ name: "data", mountPath: BADGER_DIR }] : []),
                ...(secret ? [{ name: "elasticsearch", mountPath: ES_SECRET_DIR, readOnly: true }] : []),
            ],
        });
        const data = statefulData({ storage: args.storage, podLabels, ...(args.storageClass ? { storageClass: args.storageClass } : {}) });
        new k8s.apps.v1.StatefulSet(
            childName(name),
            {
                metadata: { name: childName(name), namespace: ns, labels },
                spec: {
                    // One writer: Badger is an embedded single-process store.
                    replicas: 1,
                    serviceName: headless.metadata.name,
                    selector: { matchLabels: podLabels },
                    template: {
                        metadata: { labels, annotations: { "observability.pulumi.com/config-checksum": crypto.createHash("sha256").update(text).digest("hex") } },
                        spec: securePodSpec({
                            serviceAccountName: sa.metadata.name,
                            uid: JAEGER_UID,
                            containers: [container],
                            volumes: [
                                { name: "config", configMap: { name: configMap.metadata.name } },
                                { name: "tmp", emptyDir: { sizeLimit: "256Mi" } },
                                ...(badgerVolume ? data.volumes : []),
                                ...(secret ? [{ name: "elasticsearch", secret: { secretName: secret.metadata.name, defaultMode: 0o440 } }] : []),
                            ],
                        }),
                    },
                    ...(badgerVolume ? data.claims : {}),
                },
            },
            { ...childOpts, ...STATEFUL_SET_OPTIONS },
        );
        const ingressPeers: FlowPeer[] = args.ingress?.jaegerHost && args.ingressControllerNamespace ? [{ namespace: args.ingressControllerNamespace }] : [];
        workloadNetworkPolicy(
            childName(name),
            {
                namespace: ns,
                podLabels,
                labels,
                ingress: [
                    { description: "collector gateway → OTLP 4317/4318 (ingest is internal only)", from: [...args.writers], ports: [{ port: JAEGER_OTLP_GRPC_PORT }, { port: JAEGER_OTLP_HTTP_PORT }] },
                    { description: "Grafana and the ingress controller → UI/API 16686", from: [...args.readers, ...ingressPeers], ports: [{ port: JAEGER_UI_PORT }] },
                    { description: "prometheus scrapes Jaeger's metrics on 8888", from: [args.prometheus], ports: [{ port: JAEGER_ADMIN_PORT }] },
                ],
            },
            childOpts,
        );
        if (args.ingress?.jaegerHost) {
            const ing = args.ingress;
            new k8s.networking.v1.Ingress(
                childName(name),
                {
                    metadata: { name: childName(name), namespace: ns, labels, annotations: { ...ing.annotations } },
                    spec: {
                        ingressClassName: ing.className,
                        ...(ing.tlsSecretName ? { tls: [{ hosts: [ing.jaegerHost!], secretName: ing.tlsSecretName }] } : {}),
                        rules: [
                            {
                                host: ing.jaegerHost,
                                http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: query.metadata.name, port: { name: "http-ui" } } } }] },
                            },
                        ],
                    },
                },
                childOpts,
            );
        }

        this.podLabels = podLabels;
        this.otlpGrpcEndpoint = `${childName(name, "collector")}.${ns}.svc:${JAEGER_OTLP_GRPC_PORT}`;
        this.queryUrl = `http://${childName(name, "query")}.${ns}.svc:${JAEGER_UI_PORT}`;
        this.registerOutputs({ otlpGrpcEndpoint: this.otlpGrpcEndpoint, queryUrl: this.queryUrl });
    }
}
