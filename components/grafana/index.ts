/**
 * Grafana: a Deployment with a hardened grafana.ini, its admin password and `secret_key`
 * generated with @pulumi/random and mounted from a Secret (read through `__FILE` variables),
 * datasources and the generated dashboards provisioned from ConfigMaps, sqlite on a volume (a
 * single replica) or an external database (any number), a NetworkPolicy admitting only the
 * ingress controller and Prometheus, and an optional Ingress.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import * as crypto from "crypto";
import type { GrafanaDatabaseConfig, IngressConfig, MetricPreset, Resources, StorageConfig } from "../../config";
import {
    childName, imageFor, podDisruptionBudget, RENDER_DIR_ANNOTATION, secureContainer, securePodSpec, selectorLabels, spreadAcrossNodes,
    standardLabels, versionOf, workloadNetworkPolicy, IngressFlow,
} from "../kube";
import { GRAFANA_PATHS, GRAFANA_PORT, renderGrafanaIni, SECRET_KEYS } from "./config";
import { renderDashboardProvider, renderDatasources } from "./datasources";

export { GRAFANA_PORT } from "./config";
export { DATASOURCE_UIDS } from "./datasources";

export const GRAFANA_APP = "grafana";

/** The UID and GID of the Grafana image's user. */
export const GRAFANA_UID = 472;

/**
 * Selector labels of the pods of the Grafana component named `instance`: Prometheus and
 * Alertmanager admit them in their NetworkPolicies before the Grafana component exists.
 */
export function grafanaPodLabels(instance: string): Record<string, string> {
    return selectorLabels({ name: GRAFANA_APP, instance });
}

/** The log backend Grafana queries; URLs are in-cluster Service addresses. */
export type GrafanaLogsArgs =
    | { readonly backend: "loki"; readonly url: pulumi.Input<string> }
    | {
          readonly backend: "elasticsearch";
          readonly url: pulumi.Input<string>;
          /** Index pattern. @default "logs-*" */
          readonly index?: string;
          /** Basic-auth user and password (a secret), when security is on. */
          readonly credentials?: { readonly username: string; readonly password: pulumi.Input<string> };
      };

export interface GrafanaArgs {
    /** Namespace to run in (the monitoring namespace). */
    readonly namespace: pulumi.Input<string>;
    /** More than one needs {@link database}: sqlite cannot be shared. @default 1 */
    readonly replicas?: number;
    /** The sqlite volume (a PersistentVolumeClaim when enabled); unused with {@link database}. */
    readonly storage: StorageConfig;
    /** StorageClass of the claim; undefined uses the cluster default. */
    readonly storageClass?: string;
    /** External PostgreSQL or MySQL database (its password is a Pulumi secret). */
    readonly database?: GrafanaDatabaseConfig;
    readonly resources: Resources;
    /** Image override; the pinned default otherwise. */
    readonly image?: string;
    /** In-cluster URL of Prometheus (the default datasource). */
    readonly prometheusUrl: pulumi.Input<string>;
    /** In-cluster URL of Alertmanager. */
    readonly alertmanagerUrl: pulumi.Input<string>;
    /** In-cluster URL of the Jaeger query service. */
    readonly jaegerUrl: pulumi.Input<string>;
    readonly logs: GrafanaLogsArgs;
    /** Metric naming preset (the traces → metrics queries use it). */
    readonly metricPreset: MetricPreset;
    /** Prometheus' scrape interval: Grafana's minimum query step. */
    readonly scrapeInterval: string;
    /** Prometheus version the datasource declares. */
    readonly prometheusVersion: string;
    /** Generated dashboards: `<uid>.json` → dashboard JSON. */
    readonly dashboards: Readonly<Record<string, string>>;
    /** Publish Grafana through an Ingress. */
    readonly ingress?: IngressConfig;
    /** Namespace of the ingress controller, admitted on 3000 when {@link ingress} is set. */
    readonly ingressControllerNamespace?: string;
    /** Pods that scrape Grafana's /metrics on 3000 (Prometheus). */
    readonly scrapers: IngressFlow["from"];
}

/** Environment variable holding the Elasticsearch password (datasources.yml references it). */
export const ELASTICSEARCH_PASSWORD_ENV = "ELASTICSEARCH_PASSWORD";

/** The URL Grafana is reached at: the Ingress host, or `kubectl port-forward` to localhost without one. */
export function grafanaRootUrl(ingress?: Pick<IngressConfig, "grafanaHost" | "tlsSecretName">): string {
    if (!ingress) return `http://localhost:${GRAFANA_PORT}/`;
    return `${ingress.tlsSecretName ? "https" : "http"}://${ingress.grafanaHost}/`;
}

const DASHBOARD_FILE = /^[a-z0-9][a-z0-9-]{0,38}\.json$/;

export class Grafana extends pulumi.ComponentResource {
    /** In-cluster URL, e.g. `http://grafana.monitoring.svc:3000`. */
    public readonly url: pulumi.Output<string>;
    /** Where users reach Grafana (`root_url`). */
    public readonly rootUrl: string;
    /** The generated admin password (a secret). */
    public readonly adminPassword: pulumi.Output<string>;
    public readonly serviceName: pulumi.Output<string>;
    /** Selector labels of the Grafana pods. */
    public readonly podLabels: Record<string, string>;

    constructor(name: string, args: GrafanaArgs, opts?: pulumi.ComponentResourceOptions) {
        super("observability:index:Grafana", name, {}, opts);
        const replicas = args.replicas ?? 1;
        if (!Number.isInteger(replicas) || replicas < 1) throw new Error(`grafana.replicas ${replicas}: expected a whole number of at least 1`);
        if (replicas > 1 && !args.database) {
            throw new Error(`grafana.replicas ${replicas}: expected 1 without grafana.database (sqlite on a ReadWriteOnce volume cannot be shared)`);
        }
        const dashboardFiles = Object.keys(args.dashboards).sort();
        if (dashboardFiles.length === 0) throw new Error("grafana.dashboards: expected at least one dashboard");
        for (const f of dashboardFiles) {
            if (!DASHBOARD_FILE.test(f)) throw new Error(`grafana dashboard file "${f}": expected <uid>.json with a lowercase uid of at most 39 characters`);
        }
        if (args.ingress && !args.ingressControllerNamespace) throw new Error("grafana.ingressControllerNamespace: expected the ingress controller's namespace when an Ingress is set");

        const image = imageFor("grafana", args.image);
        const ids = { name: GRAFANA_APP, instance: name, component: "dashboards", version: versionOf(image) };
        const labels = standardLabels(ids);
        const podLabels = grafanaPodLabels(name);
        const ns = args.namespace;
        const childOpts = { parent: this };
        const tls = Boolean(args.ingress?.tlsSecretName);
        this.rootUrl = grafanaRootUrl(args.ingress);
        const useVolume = !args.database && args.storage.enabled;

        const esCredentials = args.logs.backend === "elasticsearch" ? args.logs.credentials : undefined;
        // Secrets: generated once and kept in state; Grafana reads them from files.
        const adminPassword = new random.RandomPassword(childName(name, "admin-password"), { length: 32, special: false }, childOpts);
        const secretKey = new random.RandomPassword(childName(name, "secret-key"), { length: 48, special: false }, childOpts);
        const secret = new k8s.core.v1.Secret(
            childName(name),
            {
                metadata: { name: childName(name), namespace: ns, labels },
                type: "Opaque",
                stringData: {
                    [SECRET_KEYS.adminUser]: "admin",
                    [SECRET_KEYS.adminPassword]: adminPassword.result,
                    [SECRET_KEYS.secretKey]: secretKey.result,
                    ...(args.database ? { [SECRET_KEYS.databasePassword]: args.database.password } : {}),
                    ...(esCredentials ? { [SECRET_KEYS.elasticsearchPassword]: esCredentials.password } : {}),
                },
            },
            childOpts,
        );

        const iniText = renderGrafanaIni({
            rootUrl: this.rootUrl,
            tls,
            ...(args.database ? { database: { kind: args.database.kind, host: args.database.host, name: args.database.name, user: args.database.user } } : {}),
        });
        const providerText = renderDashboardProvider(GRAFANA_PATHS.dashboards);
        const configMap = new k8s.core.v1.ConfigMap(
            childName(name, "config"),
            {
                metadata: { name: childName(name, "config"), namespace: ns, labels, annotations: { [RENDER_DIR_ANNOTATION]: "grafana" } },
                data: { "grafana.ini": iniText, "dashboard-providers.yml": providerText },
            },
            childOpts,
        );

        const datasourcesText = pulumi
            .all([args.prometheusUrl, args.alertmanagerUrl, args.jaegerUrl, args.logs.url])
            .apply(([prometheusUrl, alertmanagerUrl, jaegerUrl, logsUrl]) =>
                renderDatasources({
                    prometheusUrl,
                    alertmanagerUrl,
                    jaegerUrl,
                    logs:
                        args.logs.backend === "loki"
                            ? { backend: "loki", url: logsUrl }
                            : {
                                  backend: "elasticsearch",
                                  url: logsUrl,
                                  ...(args.logs.index ? { index: args.logs.index } : {}),
                                  ...(esCredentials ? { username: esCredentials.username, passwordEnv: ELASTICSEARCH_PASSWORD_ENV } : {}),
                              },
                    metricPreset: args.metricPreset,
                    scrapeInterval: args.scrapeInterval,
                    prometheusVersion: args.prometheusVersion,
                }),
            );
        const datasources = new k8s.core.v1.ConfigMap(
            childName(name, "datasources"),
            {
                metadata: { name: childName(name, "datasources"), namespace: ns, labels, annotations: { [RENDER_DIR_ANNOTATION]: "grafana" } },
                data: { "datasources.yml": datasourcesText },
            },
            childOpts,
        );
        // One ConfigMap per dashboard: each stays far below the 256 KiB that client-side
        // `kubectl apply` can record, and a change rolls out one dashboard.
        const dashboardMaps = dashboardFiles.map((file) => {
            const cmName = childName(name, `dashboard-${file.replace(/\.json$/, "")}`);
            return new k8s.core.v1.ConfigMap(
                cmName,
                {
                    metadata: { name: cmName, namespace: ns, labels, annotations: { [RENDER_DIR_ANNOTATION]: "grafana/dashboards" } },
                    data: { [file]: args.dashboards[file]! },
                },
                childOpts,
            );
        });

        const sa = new k8s.core.v1.ServiceAccount(
            childName(name),
            { metadata: { name: childName(name), namespace: ns, labels }, automountServiceAccountToken: false },
            childOpts,
        );
        const claim = useVolume
            ? new k8s.core.v1.PersistentVolumeClaim(
                  childName(name, "data"),
                  {
                      metadata: { name: childName(name, "data"), namespace: ns, labels },
                      spec: {
                          accessModes: ["ReadWriteOnce"],
                          ...(args.storageClass ? { storageClassName: args.storageClass } : {}),
                          resources: { requests: { storage: args.storage.size } },
                      },
                  },
                  // The claim holds users, preferences and annotations: deleting the stack keeps it.
                  { ...childOpts, retainOnDelete: true },
              )
            : undefined;
        const service = new k8s.core.v1.Service(
            childName(name),
            {
                metadata: { name: childName(name), namespace: ns, labels },
                spec: { selector: podLabels, ports: [{ name: "http", port: GRAFANA_PORT, targetPort: "http" }] },
            },
            childOpts,
        );

        const file = (key: string) => `${GRAFANA_PATHS.secrets}/${key}`;
        const grafana = secureContainer({
            name: "grafana",
            image,
            ports: [{ name: "http", containerPort: GRAFANA_PORT }],
            env: [
                // The image's entrypoint passes these paths to grafana-server; they match grafana.ini.
                { name: "GF_PATHS_CONFIG", value: `${GRAFANA_PATHS.config}/grafana.ini` },
                { name: "GF_PATHS_DATA", value: GRAFANA_PATHS.data },
                { name: "GF_PATHS_LOGS", value: `${GRAFANA_PATHS.data}/log` },
                { name: "GF_PATHS_PLUGINS", value: `${GRAFANA_PATHS.data}/plugins` },
                { name: "GF_PATHS_PROVISIONING", value: GRAFANA_PATHS.provisioning },
                { name: "GF_SECURITY_ADMIN_USER__FILE", value: file(SECRET_KEYS.adminUser) },
                { name: "GF_SECURITY_ADMIN_PASSWORD__FILE", value: file(SECRET_KEYS.adminPassword) },
                { name: "GF_SECURITY_SECRET_KEY__FILE", value: file(SECRET_KEYS.secretKey) },
                ...(args.database ? [{ name: "GF_DATABASE_PASSWORD__FILE", value: file(SECRET_KEYS.databasePassword) }] : []),
                // Datasource provisioning expands environment variables only (no files).
                ...(esCredentials ? [{ name: ELASTICSEARCH_PASSWORD_ENV, valueFrom: { secretKeyRef: { name: secret.metadata.name, key: SECRET_KEYS.elasticsearchPassword } } }] : []),
            ],
            resources: args.resources,
            readinessProbe: { httpGet: { path: "/api/health", port: "http" }, periodSeconds: 10, timeoutSeconds: 3, failureThreshold: 3 },
            livenessProbe: { httpGet: { path: "/api/health", port: "http" }, periodSeconds: 15, timeoutSeconds: 5, failureThreshold: 6 },
            // Database migrations on first start or upgrade take a while: don't kill it meanwhile.
            startupProbe: { httpGet: { path: "/api/health", port: "http" }, periodSeconds: 10, failureThreshold: 30 },
            volumeMounts: [
                { name: "config", mountPath: GRAFANA_PATHS.config, readOnly: true },
                { name: "datasources", mountPath: `${GRAFANA_PATHS.provisioning}/datasources`, readOnly: true },
                { name: "dashboard-providers", mountPath: `${GRAFANA_PATHS.provisioning}/dashboards`, readOnly: true },
                { name: "dashboards", mountPath: GRAFANA_PATHS.dashboards, readOnly: true },
                { name: "secrets", mountPath: GRAFANA_PATHS.secrets, readOnly: true },
                { name: "data", mountPath: GRAFANA_PATHS.data },
                { name: "tmp", mountPath: GRAFANA_PATHS.tmp },
            ],
        });

        // Datasources are read at start-up only: a change must roll the pods (dashboards are
        // re-read every 30 s by the provider, so they are left out).
        const checksum = datasourcesText.apply((ds) => crypto.createHash("sha256").update(iniText).update(providerText).update(ds).digest("hex"));
        const deployment = new k8s.apps.v1.Deployment(
            childName(name),
            {
                metadata: { name: childName(name), namespace: ns, labels },
                spec: {
                    replicas,
                    selector: { matchLabels: podLabels },
                    // A ReadWriteOnce volume attaches to one node: the old pod must go first.
                    strategy: useVolume ? { type: "Recreate" } : { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
                    template: {
                        metadata: { labels, annotations: { "observability.pulumi.com/config-checksum": checksum } },
                        spec: securePodSpec({
                            serviceAccountName: sa.metadata.name,
                            uid: GRAFANA_UID,
                            fsGroup: GRAFANA_UID,
                            terminationGracePeriodSeconds: 30,
                            ...(replicas > 1 ? spreadAcrossNodes(podLabels) : {}),
                            containers: [grafana],
                            volumes: [
                                { name: "config", configMap: { name: configMap.metadata.name, items: [{ key: "grafana.ini", path: "grafana.ini" }] } },
                                { name: "dashboard-providers", configMap: { name: configMap.metadata.name, items: [{ key: "dashboard-providers.yml", path: "dashboard-providers.yml" }] } },
                                { name: "datasources", configMap: { name: datasources.metadata.name } },
                                { name: "dashboards", projected: { sources: dashboardMaps.map((cm) => ({ configMap: { name: cm.metadata.name } })) } },
                                { name: "secrets", secret: { secretName: secret.metadata.name, defaultMode: 0o440 } },
                                claim ? { name: "data", persistentVolumeClaim: { claimName: claim.metadata.name } } : { name: "data", emptyDir: { sizeLimit: "1Gi" } },
                                { name: "tmp", emptyDir: { sizeLimit: "256Mi" } },
                            ],
                        }),
                    },
                },
            },
            childOpts,
        );

        podDisruptionBudget(childName(name), { namespace: ns, podLabels, labels, replicas }, childOpts);
        workloadNetworkPolicy(
            childName(name),
            {
                namespace: ns,
                podLabels,
                labels,
                ingress: [
                    ...(args.ingress ? [{ description: "ingress controller → 3000 (UI)", from: [{ namespace: args.ingressControllerNamespace! }], ports: [{ port: GRAFANA_PORT }] }] : []),
                    { description: "Prometheus → 3000 (/metrics)", from: args.scrapers, ports: [{ port: GRAFANA_PORT }] },
                ],
            },
            childOpts,
        );
        if (args.ingress) {
            const ing = args.ingress;
            new k8s.networking.v1.Ingress(
                childName(name),
                {
                    metadata: { name: childName(name), namespace: ns, labels, annotations: { ...ing.annotations } },
                    spec: {
                        ingressClassName: ing.className,
                        ...(ing.tlsSecretName ? { tls: [{ hosts: [ing.grafanaHost], secretName: ing.tlsSecretName }] } : {}),
                        rules: [
                            {
                                host: ing.grafanaHost,
                                http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: service.metadata.name, port: { name: "http" } } } }] },
                            },
                        ],
                    },
                },
                childOpts,
            );
        }

        this.podLabels = podLabels;
        this.serviceName = service.metadata.name;
        this.url = pulumi.interpolate`http://${service.metadata.name}.${ns}.svc:${GRAFANA_PORT}`;
        this.adminPassword = pulumi.secret(adminPassword.result);
        this.registerOutputs({ url: this.url, rootUrl: this.rootUrl, deployment: deployment.metadata.name, adminPassword: this.adminPassword });
    }
}
