/**
 * Loki, single binary: one StatefulSet pod running every Loki role, fed by the collector gateway
 * over OTLP and queried by Grafana. Scale path: object storage (`logs.objectStorage`) first, then
 * Loki's simple-scalable mode (separate read, write and backend targets) on the same bucket.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as crypto from "crypto";
import type { LokiLimitsConfig, ObjectStorageConfig, Resources, StorageConfig } from "../../config";
import { childName, FlowPeer, imageFor, RENDER_DIR_ANNOTATION, secureContainer, securePodSpec, selectorLabels, standardLabels, versionOf, workloadNetworkPolicy, statefulData, STATEFUL_SET_OPTIONS } from "../kube";
import { BACKEND_SERVICES } from "../kube/constants";
import { LOKI_DATA_DIR, LOKI_GRPC_PORT, LOKI_HTTP_PORT, renderLokiConfig } from "./loki-config";

export const LOKI_APP = "loki";
/** Loki's HTTP port name: Prometheus' loki job scrapes /metrics on it. */
export const LOKI_METRICS_PORT_NAME = "http-metrics";
const LOKI_UID = 10001;

export interface LokiArgs {
    /** Namespace to run in; a plain string because the in-cluster URL is built from it. */
    readonly namespace: string;
    /** Log retention, e.g. `30d`; enforced by the compactor. */
    readonly retention: string;
    /** A PersistentVolumeClaim when enabled, an emptyDir otherwise (dev). */
    readonly storage: StorageConfig;
    readonly storageClass?: string;
    /** Chunks and index in s3 or gcs instead of the volume (the scale path). */
    readonly objectStorage?: ObjectStorageConfig;
    readonly limits: LokiLimitsConfig;
    readonly resources: Resources;
    readonly image?: string;
    /** Pods that push logs (the collector gateway). */
    readonly writers: readonly FlowPeer[];
    /** Pods that query (Grafana). */
    readonly readers: readonly FlowPeer[];
    /** Prometheus, which scrapes /metrics. */
    readonly prometheus: FlowPeer;
}

export class Loki extends pulumi.ComponentResource {
    /** Base URL of the HTTP API, e.g. `http://loki.monitoring.svc:3100` (Grafana's datasource URL). */
    public readonly url: string;
    /** OTLP ingestion base URL for the collector's otlp_http exporter (it appends /v1/logs). */
    public readonly otlpUrl: string;
    public readonly podLabels: Record<string, string>;
    public readonly configText: string;

    constructor(name: string, args: LokiArgs, opts?: pulumi.ComponentResourceOptions) {
        super("observability:index:Loki", name, {}, opts);
        if (childName(name) !== BACKEND_SERVICES.loki.name) {
            // Grafana's datasource and the collector find Loki by this shared name.
            throw new Error(`loki component name "${name}": expected "${BACKEND_SERVICES.loki.name}" (components/kube/constants.ts BACKEND_SERVICES.loki)`);
        }
        const ns = args.namespace;
        const image = imageFor("loki", args.image);
        const ids = { name: LOKI_APP, instance: name };
        const labels = standardLabels({ ...ids, component: "logs", version: versionOf(image) });
        const podLabels = selectorLabels(ids);
        const childOpts = { parent: this };
        this.configText = renderLokiConfig({ retention: args.retention, limits: args.limits, ...(args.objectStorage ? { objectStorage: args.objectStorage } : {}) });

        const sa = new k8s.core.v1.ServiceAccount(childName(name), { metadata: { name: childName(name), namespace: ns, labels }, automountServiceAccountToken: false }, childOpts);
        const configMap = new k8s.core.v1.ConfigMap(
            childName(name, "config"),
            { metadata: { name: childName(name, "config"), namespace: ns, labels, annotations: { [RENDER_DIR_ANNOTATION]: "loki" } }, data: { "loki.yaml": this.configText } },
            childOpts,
        );
        const headless = new k8s.core.v1.Service(
            childName(name, "headless"),
            {
                metadata: { name: childName(name, "headless"), namespace: ns, labels },
                spec: { clusterIP: "None", selector: podLabels, ports: [{ name: LOKI_METRICS_PORT_NAME, port: LOKI_HTTP_PORT, targetPort: LOKI_METRICS_PORT_NAME }] },
            },
            childOpts,
        );
        new k8s.core.v1.Service(
            childName(name),
            {
                metadata: { name: childName(name), namespace: ns, labels },
                spec: {
                    selector: podLabels,
                    ports: [
                        { name: LOKI_METRICS_PORT_NAME, port: LOKI_HTTP_PORT, targetPort: LOKI_METRICS_PORT_NAME },
                        { name: "grpc", port: LOKI_GRPC_PORT, targetPort: "grpc" },
                    ],
                },
            },
            childOpts,
        );

        const container = secureContainer({
            name: "loki",
            image,
            args: ["-config.file=/etc/loki/loki.yaml", "-target=all"],
            ports: [
                { name: LOKI_METRICS_PORT_NAME, containerPort: LOKI_HTTP_PORT },
                { name: "grpc", containerPort: LOKI_GRPC_PORT },
            ],
            resources: args.resources,
            // /ready turns false while the ingester joins its ring; liveness only asks whether
            // the process still serves HTTP, so a slow WAL replay is not killed.
            readinessProbe: { httpGet: { path: "/ready", port: LOKI_METRICS_PORT_NAME }, periodSeconds: 10, timeoutSeconds: 3 },
            livenessProbe: { tcpSocket: { port: LOKI_METRICS_PORT_NAME }, initialDelaySeconds: 30, periodSeconds: 20, failureThreshold: 6 },
            startupProbe: { tcpSocket: { port: LOKI_METRICS_PORT_NAME }, periodSeconds: 10, failureThreshold: 60 },
            volumeMounts: [
                { name: "config", mountPath: "/etc/loki", readOnly: true },
                { name: "data", mountPath: LOKI_DATA_DIR },
                { name: "tmp", mountPath: "/tmp" },
            ],
        });
        const storage = args.storage;
        const data = statefulData({ storage, podLabels, ...(args.storageClass ? { storageClass: args.storageClass } : {}) });
        new k8s.apps.v1.StatefulSet(
            childName(name),
            {
                metadata: { name: childName(name), namespace: ns, labels },
                spec: {
                    replicas: 1,
                    serviceName: headless.metadata.name,
                    selector: { matchLabels: podLabels },
                    updateStrategy: { type: "RollingUpdate" },
                    template: {
                        metadata: { labels, annotations: { "observability.pulumi.com/config-checksum": crypto.createHash("sha256").update(this.configText).digest("hex") } },
                        spec: securePodSpec({
                            serviceAccountName: sa.metadata.name,
                            uid: LOKI_UID,
                            // Time to flush in-memory chunks on shutdown.
                            terminationGracePeriodSeconds: 300,
                            containers: [container],
                            volumes: [
                                { name: "config", configMap: { name: configMap.metadata.name } },
                                { name: "tmp", emptyDir: { sizeLimit: "1Gi" } },
                                ...data.volumes,
                            ],
                        }),
                    },
                    ...data.claims,
                },
            },
            { ...childOpts, ...STATEFUL_SET_OPTIONS },
        );
        workloadNetworkPolicy(
            childName(name),
            {
                namespace: ns,
                podLabels,
                labels,
                ingress: [
                    { description: "collector gateway pushes OTLP logs, Grafana queries → 3100", from: [...args.writers, ...args.readers], ports: [{ port: LOKI_HTTP_PORT }] },
                    { description: "prometheus scrapes Loki's metrics on 3100", from: [args.prometheus], ports: [{ port: LOKI_HTTP_PORT }] },
                ],
            },
            childOpts,
        );

        this.podLabels = podLabels;
        this.url = `http://${childName(name)}.${ns}.svc:${LOKI_HTTP_PORT}`;
        this.otlpUrl = `${this.url}/otlp`;
        this.registerOutputs({ url: this.url, otlpUrl: this.otlpUrl });
    }
}
