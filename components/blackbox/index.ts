/**
 * BlackboxExporter: the prober of the stack's synthetic monitoring. Prometheus asks it, one
 * scrape per target, to probe an endpoint from inside the cluster (HTTP, TCP or DNS) and reads
 * the result as `probe_*` series. Its modules come from a generated `blackbox.yml`
 * (./config.ts); a config change rolls the pods (the exporter is stateless, so a rolling restart
 * is the simplest reload).
 *
 * Network: the NetworkPolicy admits only Prometheus, on 9115. It is ingress-only, like every
 * policy of the stack: the namespaces deny ingress by default and leave egress open, so probes
 * reach any Service, node or external host the cluster's network allows. A probed workload whose
 * own policy denies ingress must admit the exporter's pods ({@link BlackboxExporter.podLabels},
 * in the monitoring namespace) on the probed port.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as crypto from "crypto";
import type { ProbeTargetConfig } from "../../config";
import { validateExporterArgs, type ExporterArgs } from "../exporters/node-exporter";
import {
    childName, imageFor, podDisruptionBudget, secureContainer, securePodSpec, selectorLabels, spreadAcrossNodes, standardLabels, versionOf,
    workloadNetworkPolicy,
} from "../kube";
import { RENDER_DIR_ANNOTATION } from "../kube/render";
import { BLACKBOX_APP, BLACKBOX_PORT, BLACKBOX_PORT_NAME, renderBlackboxConfig } from "./config";

export * from "./config";

/** Where the generated blackbox.yml is mounted. */
export const BLACKBOX_CONFIG_DIR = "/etc/blackbox";

/** Arguments of {@link BlackboxExporter}. */
export interface BlackboxExporterArgs extends ExporterArgs {
    /** The monitoring namespace (Pod Security `restricted`). */
    readonly namespace: string;
    /** Pods; more than one spreads them over nodes and adds a PodDisruptionBudget. @default 1 */
    readonly replicas?: number;
    /** Config targets: those with their own body pattern or DNS name get a module of their own. */
    readonly targets: readonly ProbeTargetConfig[];
}

/** Selector labels of the exporter pods of the component named `instance` (for other workloads' policies). */
export function blackboxPodLabels(instance: string): Record<string, string> {
    return selectorLabels({ name: BLACKBOX_APP, instance });
}

/** `host:port` of the exporter's Service for the component named `name` in `namespace`. */
export function blackboxAddress(name: string, namespace: string): string {
    return `${childName(name)}.${namespace}.svc:${BLACKBOX_PORT}`;
}

/**
 * blackbox_exporter as a Deployment with its generated config, a ClusterIP Service that
 * Prometheus' probe jobs address, and a NetworkPolicy admitting only Prometheus.
 */
export class BlackboxExporter extends pulumi.ComponentResource {
    /** `host:port` of the Service: the `__address__` of every probe scrape. */
    public readonly address: string;
    public readonly serviceName: pulumi.Output<string>;
    /** Selector labels of the exporter pods: what probed workloads' NetworkPolicies admit. */
    public readonly podLabels: Record<string, string>;
    /** Value of `app.kubernetes.io/name` on the pods, for Prometheus' scrape job of the exporter itself. */
    public readonly appName: string;
    /** Name of the container port serving the probes and the exporter's own metrics. */
    public readonly portName: string;

    constructor(name: string, args: BlackboxExporterArgs, opts?: pulumi.ComponentResourceOptions) {
        validateExporterArgs("probes", args);
        const replicas = args.replicas ?? 1;
        if (!Number.isInteger(replicas) || replicas < 1) throw new Error(`probes.replicas ${JSON.stringify(replicas)}: expected a whole number of at least 1`);
        const resourceName = childName(name);
        super("observability:index:BlackboxExporter", name, {}, opts);

        const image = imageFor("blackboxExporter", args.image);
        const namespace = args.namespace;
        const ids = { name: BLACKBOX_APP, instance: name };
        const labels = standardLabels({ ...ids, component: "exporter", version: versionOf(image) });
        const podLabels = blackboxPodLabels(name);
        const childOpts = { parent: this };

        const configText = renderBlackboxConfig({ targets: args.targets });
        const configMap = new k8s.core.v1.ConfigMap(
            childName(name, "config"),
            {
                metadata: { name: childName(name, "config"), namespace, labels, annotations: { [RENDER_DIR_ANNOTATION]: "blackbox-exporter" } },
                data: { "blackbox.yml": configText },
            },
            childOpts,
        );

        const serviceAccount = new k8s.core.v1.ServiceAccount(
            resourceName,
            // The exporter never calls the Kubernetes API.
            { metadata: { name: resourceName, namespace, labels }, automountServiceAccountToken: false },
            childOpts,
        );

        const health = { httpGet: { path: "/-/healthy", port: BLACKBOX_PORT_NAME }, periodSeconds: 10, timeoutSeconds: 5 };
        const container = secureContainer({
            name: BLACKBOX_APP,
            image,
            resources: args.resources,
            args: [`--config.file=${BLACKBOX_CONFIG_DIR}/blackbox.yml`, `--web.listen-address=:${BLACKBOX_PORT}`],
            ports: [{ name: BLACKBOX_PORT_NAME, containerPort: BLACKBOX_PORT, protocol: "TCP" }],
            volumeMounts: [{ name: "config", mountPath: BLACKBOX_CONFIG_DIR, readOnly: true }],
            livenessProbe: health,
            readinessProbe: health,
        });

        new k8s.apps.v1.Deployment(
            resourceName,
            {
                metadata: { name: resourceName, namespace, labels },
                spec: {
                    replicas,
                    selector: { matchLabels: podLabels },
                    template: {
                        metadata: {
                            labels,
                            // A new blackbox.yml rolls the pods: stateless, so a restart is the reload.
                            annotations: { "observability.pulumi.com/config-checksum": crypto.createHash("sha256").update(configText).digest("hex") },
                        },
                        spec: securePodSpec({
                            serviceAccountName: serviceAccount.metadata.name,
                            containers: [container],
                            volumes: [{ name: "config", configMap: { name: configMap.metadata.name } }],
                            nodeSelector: { "kubernetes.io/os": "linux" },
                            ...(replicas > 1 ? spreadAcrossNodes(podLabels) : {}),
                        }),
                    },
                },
            },
            childOpts,
        );

        const service = new k8s.core.v1.Service(
            resourceName,
            {
                metadata: { name: resourceName, namespace, labels },
                spec: {
                    type: "ClusterIP",
                    selector: podLabels,
                    ports: [{ name: BLACKBOX_PORT_NAME, port: BLACKBOX_PORT, targetPort: BLACKBOX_PORT_NAME, protocol: "TCP" }],
                },
            },
            childOpts,
        );

        podDisruptionBudget(resourceName, { namespace, podLabels, labels, replicas }, childOpts);
        workloadNetworkPolicy(
            resourceName,
            {
                namespace,
                podLabels,
                labels,
                ingress: [
                    {
                        description: `prometheus asks blackbox-exporter for probes and its metrics on ${BLACKBOX_PORT}`,
                        from: [{ namespace: args.prometheusNamespace, podLabels: { ...args.prometheusPodLabels } }],
                        ports: [{ port: BLACKBOX_PORT }],
                    },
                ],
            },
            childOpts,
        );

        this.address = blackboxAddress(name, namespace);
        this.serviceName = service.metadata.name;
        this.podLabels = podLabels;
        this.appName = BLACKBOX_APP;
        this.portName = BLACKBOX_PORT_NAME;
        this.registerOutputs({ address: this.address, serviceName: this.serviceName, appName: this.appName, portName: this.portName });
    }
}
