/**
 * The Grafana component under Pulumi mocks, constructed directly with typed arguments, and its
 * place in the stack (the real index.ts with the dev and prod stack files). Every registration is
 * recorded; the tests pin types and names, the hardening, where each secret goes (and where it
 * must not), storage per mode, the network flows and the Ingress.
 */
import type { RecordedResource } from "../../scripts/lib/mock-runtime";
import type * as GrafanaModule from "../../components/grafana";
import type { Resources } from "../../config";
import { grafanaIniSections, renderGrafanaIni } from "../../components/grafana/config";
import { readStackConfig } from "../../scripts/lib/stack-files";
import { kubernetesRecords, ROOT, runProgram } from "../support/program";

const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const SERVICE = "kubernetes:core/v1:Service";
const SECRET = "kubernetes:core/v1:Secret";
const CONFIG_MAP = "kubernetes:core/v1:ConfigMap";
const PVC = "kubernetes:core/v1:PersistentVolumeClaim";
const SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount";
const NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
const INGRESS = "kubernetes:networking.k8s.io/v1:Ingress";
const PDB = "kubernetes:policy/v1:PodDisruptionBudget";
const RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword";

const RESOURCES: Resources = { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } };
const PROMETHEUS_LABELS = { "app.kubernetes.io/name": "prometheus", "app.kubernetes.io/instance": "prometheus" };
const DASHBOARDS = { "system-overview.json": '{"uid":"system-overview"}', "slo.json": '{"uid":"slo"}' };
const DB_PASSWORD = "db-password-value-7f3a";
const ES_PASSWORD = "es-password-value-91c2";

interface Registered {
    readonly resources: RecordedResource[];
    readonly generated: string[];
    readonly outputs: Record<string, { value: unknown; secret: boolean }>;
    readonly error?: unknown;
}

/** Installs recording mocks, imports the component in a fresh registry and builds it. */
async function register(build: (m: typeof GrafanaModule, pulumi: typeof import("@pulumi/pulumi")) => GrafanaModule.Grafana | void): Promise<Registered> {
    let result: Registered | undefined;
    await jest.isolateModulesAsync(async () => {
        const pulumi: typeof import("@pulumi/pulumi") = require("@pulumi/pulumi");
        const { installMocks }: typeof import("../../scripts/lib/mock-runtime") = require("../../scripts/lib/mock-runtime");
        const run = installMocks("observability", "test");
        const m: typeof GrafanaModule = require("../../components/grafana");
        let error: unknown;
        let g: GrafanaModule.Grafana | void = undefined;
        try {
            g = build(m, pulumi);
        } catch (e) {
            error = e;
        }
        const outputs: Registered["outputs"] = {};
        if (g) {
            const value = await new Promise((resolve) => g!.adminPassword.apply((v) => resolve(v)));
            outputs.adminPassword = { value, secret: await pulumi.isSecret(g.adminPassword) };
            outputs.url = { value: await new Promise((resolve) => g!.url.apply((v) => resolve(v))), secret: false };
        }
        await pulumi.runtime.disconnect();
        result = { resources: run.resources, generated: run.generatedSecrets, outputs, ...(error !== undefined ? { error } : {}) };
    });
    return result!;
}

function args(pulumi: typeof import("@pulumi/pulumi"), over: Partial<GrafanaModule.GrafanaArgs> = {}): GrafanaModule.GrafanaArgs {
    return {
        namespace: "monitoring",
        storage: { enabled: true, size: "5Gi" },
        resources: RESOURCES,
        prometheusUrl: pulumi.output("http://prometheus.monitoring.svc:9090"),
        alertmanagerUrl: "http://alertmanager.monitoring.svc:9093",
        jaegerUrl: "http://jaeger-query.monitoring.svc:16686",
        logs: { backend: "loki", url: "http://loki.monitoring.svc:3100" },
        metricPreset: "prometheus",
        scrapeInterval: "15s",
        prometheusVersion: "2.53.5",
        dashboards: DASHBOARDS,
        scrapers: [{ podLabels: PROMETHEUS_LABELS }],
        ...over,
    };
}

const ofType = (rs: readonly RecordedResource[], type: string) => rs.filter((r) => r.type === type);
const only = (rs: readonly RecordedResource[], type: string): RecordedResource => {
    const found = ofType(rs, type);
    expect(found).toHaveLength(1);
    return found[0]!;
};
const typesAndNames = (rs: readonly RecordedResource[]) => rs.map((r) => [r.type, r.name]).sort();
const envOf = (c: any): Record<string, any> => Object.fromEntries((c.env ?? []).map((e: any) => [e.name, e.value ?? e.valueFrom]));

describe("Grafana with sqlite on a volume (one replica, the prod default)", () => {
    let run: Registered;
    let pod: any;
    let container: any;
    beforeAll(async () => {
        run = await register((m, pulumi) => new m.Grafana("grafana", args(pulumi)));
        expect(run.error).toBeUndefined();
        pod = only(run.resources, DEPLOYMENT).inputs.spec.template;
        container = pod.spec.containers[0];
    });

    it("registers exactly its component, two generated passwords, a Secret, the ConfigMaps, a ServiceAccount, a claim, a Service, a Deployment and a NetworkPolicy", () => {
        expect(typesAndNames(run.resources)).toEqual(
            [
                ["observability:index:Grafana", "grafana"],
                [RANDOM_PASSWORD, "grafana-admin-password"],
                [RANDOM_PASSWORD, "grafana-secret-key"],
                [SECRET, "grafana"],
                [CONFIG_MAP, "grafana-config"],
                [CONFIG_MAP, "grafana-datasources"],
                [CONFIG_MAP, "grafana-dashboard-slo"],
                [CONFIG_MAP, "grafana-dashboard-system-overview"],
                [SERVICE_ACCOUNT, "grafana"],
                [PVC, "grafana-data"],
                [SERVICE, "grafana"],
                [DEPLOYMENT, "grafana"],
                [NETWORK_POLICY, "grafana"],
            ].sort(),
        );
        for (const r of kubernetesRecords(run.resources)) {
            expect(r.inputs.metadata.name).toBe(r.name);
            expect(r.inputs.metadata.namespace).toBe("monitoring");
        }
    });

    it("keeps the generated admin password and secret_key in the Secret and in no ConfigMap", () => {
        const secret = only(run.resources, SECRET).inputs.stringData;
        expect(run.generated).toHaveLength(2);
        expect(Object.values(secret)).toEqual(expect.arrayContaining(run.generated));
        expect(secret["admin-user"]).toBe("admin");
        const maps = JSON.stringify(ofType(run.resources, CONFIG_MAP).map((r) => r.inputs));
        for (const g of run.generated) expect(maps).not.toContain(g);
    });

    it("returns the admin password as a secret output, and the in-cluster URL", () => {
        expect(run.outputs.adminPassword!.secret).toBe(true);
        expect(run.generated).toContain(run.outputs.adminPassword!.value);
        expect(run.outputs.url!.value).toBe("http://grafana.monitoring.svc:3000");
    });

    it("reads the admin user, password and secret_key from the mounted Secret through __FILE variables", () => {
        expect(envOf(container)).toMatchObject({
            GF_SECURITY_ADMIN_USER__FILE: "/etc/grafana/secrets/admin-user",
            GF_SECURITY_ADMIN_PASSWORD__FILE: "/etc/grafana/secrets/admin-password",
            GF_SECURITY_SECRET_KEY__FILE: "/etc/grafana/secrets/secret-key",
            GF_PATHS_CONFIG: "/etc/grafana/config/grafana.ini",
        });
        expect(container.env.filter((e: any) => e.valueFrom)).toEqual([]);
        expect(pod.spec.volumes).toContainEqual({ name: "secrets", secret: { secretName: "grafana", defaultMode: 0o440 } });
    });

    it("runs as Grafana's non-root user with a read-only root filesystem, no init container and no service account token", () => {
        expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });
        expect(pod.spec.securityContext).toMatchObject({ runAsUser: 472, runAsGroup: 472, fsGroup: 472, runAsNonRoot: true });
        expect(pod.spec).not.toHaveProperty("initContainers");
        expect(pod.spec.automountServiceAccountToken).toBe(false);
        expect(pod.spec.serviceAccountName).toBe("grafana");
    });

    it("writes only to the data volume (the claim) and an emptyDir /tmp; config, provisioning and dashboards are read-only", () => {
        const mounts = Object.fromEntries(container.volumeMounts.map((v: any) => [v.mountPath, v.readOnly === true]));
        expect(mounts).toEqual({
            "/etc/grafana/config": true,
            "/etc/grafana/provisioning/datasources": true,
            "/etc/grafana/provisioning/dashboards": true,
            "/etc/grafana/dashboards": true,
            "/etc/grafana/secrets": true,
            "/var/lib/grafana": false,
            "/tmp": false,
        });
        const volumes = Object.fromEntries(pod.spec.volumes.map((v: any) => [v.name, v]));
        expect(volumes.data).toEqual({ name: "data", persistentVolumeClaim: { claimName: "grafana-data" } });
        expect(volumes.tmp).toEqual({ name: "tmp", emptyDir: { sizeLimit: "256Mi" } });
        expect(volumes.dashboards.projected.sources).toEqual([{ configMap: { name: "grafana-dashboard-slo" } }, { configMap: { name: "grafana-dashboard-system-overview" } }]);
    });

    it("recreates the pod on update, since the ReadWriteOnce claim attaches to one node", () => {
        const spec = only(run.resources, DEPLOYMENT).inputs.spec;
        expect(spec.replicas).toBe(1);
        expect(spec.strategy).toEqual({ type: "Recreate" });
        expect(only(run.resources, PVC).inputs.spec).toEqual({ accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "5Gi" } } });
        expect(ofType(run.resources, PDB)).toEqual([]);
    });

    it("probes /api/health and names its port http, as the Prometheus grafana job selects it", () => {
        expect(container.ports).toEqual([{ name: "http", containerPort: 3000 }]);
        for (const probe of ["readinessProbe", "livenessProbe", "startupProbe"]) expect(container[probe].httpGet).toEqual({ path: "/api/health", port: "http" });
        expect(pod.metadata.labels).toMatchObject({ "app.kubernetes.io/name": "grafana", "app.kubernetes.io/instance": "grafana" });
    });

    it("admits only Prometheus on 3000 without an Ingress", () => {
        const np = only(run.resources, NETWORK_POLICY).inputs.spec;
        expect(np.podSelector).toEqual({ matchLabels: { "app.kubernetes.io/name": "grafana", "app.kubernetes.io/instance": "grafana" } });
        expect(np.ingress).toEqual([{ from: [{ podSelector: { matchLabels: PROMETHEUS_LABELS } }], ports: [{ port: 3000, protocol: "TCP" }] }]);
        expect(ofType(run.resources, INGRESS)).toEqual([]);
    });

    it("renders the ConfigMaps into files/grafana and files/grafana/dashboards", () => {
        const dirs = Object.fromEntries(ofType(run.resources, CONFIG_MAP).map((r) => [r.name, [r.inputs.metadata.annotations["observability.pulumi.com/render-dir"], Object.keys(r.inputs.data).sort()]]));
        expect(dirs).toEqual({
            "grafana-config": ["grafana", ["dashboard-providers.yml", "grafana.ini"]],
            "grafana-datasources": ["grafana", ["datasources.yml"]],
            "grafana-dashboard-slo": ["grafana/dashboards", ["slo.json"]],
            "grafana-dashboard-system-overview": ["grafana/dashboards", ["system-overview.json"]],
        });
    });

    it("resolves the datasource URLs from their outputs and rolls the pods when the datasources change", () => {
        const ds = ofType(run.resources, CONFIG_MAP).find((r) => r.name === "grafana-datasources")!.inputs.data["datasources.yml"];
        expect(ds).toContain("url: http://prometheus.monitoring.svc:9090");
        expect(pod.metadata.annotations["observability.pulumi.com/config-checksum"]).toMatch(/^[0-9a-f]{64}$/);
    });
});

describe("Grafana with an external database (several replicas)", () => {
    let run: Registered;
    beforeAll(async () => {
        run = await register((m, pulumi) =>
            new m.Grafana(
                "grafana",
                args(pulumi, {
                    replicas: 2,
                    database: { kind: "postgres", host: "pg.example.com:5432", name: "grafana", user: "grafana", passwordSecret: "grafanaDbPassword", password: pulumi.secret(DB_PASSWORD) },
                }),
            ),
        );
        expect(run.error).toBeUndefined();
    });

    it("needs no claim, rolls updates one pod at a time and gets a PodDisruptionBudget", () => {
        expect(ofType(run.resources, PVC)).toEqual([]);
        const spec = only(run.resources, DEPLOYMENT).inputs.spec;
        expect(spec.replicas).toBe(2);
        expect(spec.strategy).toEqual({ type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
        expect(spec.template.spec.volumes).toContainEqual({ name: "data", emptyDir: { sizeLimit: "1Gi" } });
        expect(only(run.resources, PDB).inputs.spec).toEqual({ maxUnavailable: 1, selector: { matchLabels: { "app.kubernetes.io/name": "grafana", "app.kubernetes.io/instance": "grafana" } } });
    });

    it("puts the database password in the Secret, read through GF_DATABASE_PASSWORD__FILE, and never in grafana.ini", () => {
        expect(only(run.resources, SECRET).inputs.stringData["database-password"]).toBe(DB_PASSWORD);
        const c = only(run.resources, DEPLOYMENT).inputs.spec.template.spec.containers[0];
        expect(envOf(c).GF_DATABASE_PASSWORD__FILE).toBe("/etc/grafana/secrets/database-password");
        const ini = ofType(run.resources, CONFIG_MAP).find((r) => r.name === "grafana-config")!.inputs.data["grafana.ini"];
        expect(ini).toContain("[database]\ntype = postgres\nhost = pg.example.com:5432\nname = grafana\nuser = grafana\nssl_mode = require");
        expect(JSON.stringify(ofType(run.resources, CONFIG_MAP))).not.toContain(DB_PASSWORD);
    });
});

describe("Grafana behind an Ingress with TLS, reading Elasticsearch logs", () => {
    let run: Registered;
    beforeAll(async () => {
        run = await register((m, pulumi) =>
            new m.Grafana(
                "grafana",
                args(pulumi, {
                    ingress: { className: "nginx", grafanaHost: "grafana.example.com", tlsSecretName: "observability-tls", annotations: { "nginx.ingress.kubernetes.io/proxy-body-size": "1m" } },
                    ingressControllerNamespace: "ingress-nginx",
                    logs: { backend: "elasticsearch", url: "http://elasticsearch.monitoring.svc:9200", credentials: { username: "grafana", password: pulumi.secret(ES_PASSWORD) } },
                }),
            ),
        );
        expect(run.error).toBeUndefined();
    });

    it("publishes the Service on the host with the TLS Secret and the configured annotations", () => {
        const ing = only(run.resources, INGRESS).inputs;
        expect(ing.metadata.annotations).toEqual({ "nginx.ingress.kubernetes.io/proxy-body-size": "1m" });
        expect(ing.spec).toEqual({
            ingressClassName: "nginx",
            tls: [{ hosts: ["grafana.example.com"], secretName: "observability-tls" }],
            rules: [{ host: "grafana.example.com", http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "grafana", port: { name: "http" } } } }] } }],
        });
    });

    it("admits the ingress controller's namespace and Prometheus on 3000, nothing else", () => {
        expect(only(run.resources, NETWORK_POLICY).inputs.spec.ingress).toEqual([
            { from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ingress-nginx" } } }], ports: [{ port: 3000, protocol: "TCP" }] },
            { from: [{ podSelector: { matchLabels: PROMETHEUS_LABELS } }], ports: [{ port: 3000, protocol: "TCP" }] },
        ]);
    });

    it("sets the root URL to the host and turns on secure cookies and HSTS", () => {
        const ini = ofType(run.resources, CONFIG_MAP).find((r) => r.name === "grafana-config")!.inputs.data["grafana.ini"];
        expect(ini).toContain("root_url = https://grafana.example.com/");
        expect(ini).toContain("cookie_secure = true");
        expect(ini).toContain("strict_transport_security = true");
    });

    it("provisions the Elasticsearch datasource with basic auth whose password comes from the Secret through an environment variable", () => {
        const ds = ofType(run.resources, CONFIG_MAP).find((r) => r.name === "grafana-datasources")!.inputs.data["datasources.yml"];
        expect(ds).toContain("type: elasticsearch");
        expect(ds).toContain("basicAuthUser: grafana");
        expect(ds).toContain("basicAuthPassword: ${ELASTICSEARCH_PASSWORD}");
        expect(ds).not.toContain(ES_PASSWORD);
        expect(only(run.resources, SECRET).inputs.stringData["elasticsearch-password"]).toBe(ES_PASSWORD);
        const c = only(run.resources, DEPLOYMENT).inputs.spec.template.spec.containers[0];
        expect(envOf(c).ELASTICSEARCH_PASSWORD).toEqual({ secretKeyRef: { name: "grafana", key: "elasticsearch-password" } });
    });
});

describe("Grafana's argument checks", () => {
    it.each([
        ["two replicas without a database", { replicas: 2 }, "grafana.replicas 2: expected 1 without grafana.database (sqlite on a ReadWriteOnce volume cannot be shared)"],
        ["zero replicas", { replicas: 0 }, "grafana.replicas 0: expected a whole number of at least 1"],
        ["no dashboards", { dashboards: {} }, "grafana.dashboards: expected at least one dashboard"],
        ["a dashboard file that is not <uid>.json", { dashboards: { "Overview.JSON": "{}" } }, 'grafana dashboard file "Overview.JSON": expected <uid>.json with a lowercase uid of at most 39 characters'],
        ["an Ingress without the controller's namespace", { ingress: { className: "nginx", grafanaHost: "g.example.com", annotations: {} } }, "grafana.ingressControllerNamespace: expected the ingress controller's namespace when an Ingress is set"],
    ])("rejects %s before creating anything", async (_title, over, message) => {
        const run = await register((m, pulumi) => new m.Grafana("grafana", args(pulumi, over as Partial<GrafanaModule.GrafanaArgs>)));
        expect((run.error as Error).message).toBe(message);
        expect(run.resources.filter((r) => r.custom)).toEqual([]);
    });
});

describe("grafana.ini", () => {
    const sections = grafanaIniSections({ rootUrl: "http://localhost:3000/", tls: false });

    it("turns off anonymous access, sign-up, gravatar, analytics, update checks and external snapshots", () => {
        expect(sections["auth.anonymous"]).toEqual({ enabled: false });
        expect(sections.users).toMatchObject({ allow_sign_up: false, allow_org_create: false });
        expect(sections.security).toMatchObject({ disable_gravatar: true, cookie_secure: false, strict_transport_security: false });
        expect(sections.analytics).toEqual({ reporting_enabled: false, check_for_updates: false, check_for_plugin_updates: false, feedback_links_enabled: false });
        expect(sections.snapshots).toMatchObject({ external_enabled: false });
        expect(sections.plugins).toMatchObject({ plugin_admin_enabled: false });
    });

    it("uses sqlite under the data volume without a database, and logs to the console only", () => {
        expect(sections.database).toEqual({ type: "sqlite3", path: "grafana.db", wal: true });
        expect(sections.paths).toMatchObject({ data: "/var/lib/grafana" });
        expect(sections.log).toEqual({ mode: "console", level: "info" });
    });

    it("holds no secret and says where they come from", () => {
        const text = renderGrafanaIni({ rootUrl: "http://localhost:3000/", tls: false });
        expect(text).not.toMatch(/password|secret_key/);
        expect(text.split("\n")[1]).toBe("; Secrets come from files: see GF_*__FILE in the Deployment.");
    });
});

describe.each(["dev", "prod"])("Grafana in the %s stack", (stack) => {
    let resources: RecordedResource[];
    beforeAll(async () => {
        const cfg = readStackConfig(ROOT, stack);
        const run = await runProgram(cfg.project, cfg.stack, cfg.config, cfg.secretKeys);
        expect(run.error).toBeUndefined();
        resources = run.resources;
    });

    const grafanaLabels = { "app.kubernetes.io/name": "grafana", "app.kubernetes.io/instance": "grafana" };
    const policy = (name: string) => resources.find((r) => r.type === NETWORK_POLICY && r.name === name)!.inputs.spec;

    it("is one Grafana component whose Deployment selects the labels Prometheus and Alertmanager admit", () => {
        expect(ofType(resources, "observability:index:Grafana").map((r) => r.name)).toEqual(["grafana"]);
        const dep = resources.find((r) => r.type === DEPLOYMENT && r.name === "grafana")!;
        expect(dep.inputs.spec.selector.matchLabels).toEqual(grafanaLabels);
        const same = (a: Record<string, string> | undefined) => a !== undefined && Object.keys(a).length === 2 && Object.entries(grafanaLabels).every(([k, v]) => a[k] === v);
        const admits = (spec: any) => spec.ingress.some((rule: any) => rule.from.some((f: any) => same(f.podSelector?.matchLabels)));
        expect(admits(policy("prometheus"))).toBe(true);
        expect(admits(policy("alertmanager"))).toBe(true);
    });

    it("provisions the six generated dashboards", () => {
        const files = ofType(resources, CONFIG_MAP)
            .filter((r) => r.inputs.metadata.annotations?.["observability.pulumi.com/render-dir"] === "grafana/dashboards")
            .flatMap((r) => Object.keys(r.inputs.data))
            .sort();
        expect(files).toEqual(["api-performance.json", "infrastructure.json", "provider-monitoring.json", "slo.json", "system-overview.json", "websocket.json"]);
    });

    it(stack === "prod" ? "keeps sqlite on a 5Gi claim and is published through the Ingress" : "keeps sqlite in an emptyDir and has no Ingress", () => {
        const claims = ofType(resources, PVC).filter((r) => r.name === "grafana-data");
        const ingresses = ofType(resources, INGRESS).filter((r) => r.name === "grafana");
        expect(claims.map((c) => c.inputs.spec.resources.requests.storage)).toEqual(stack === "prod" ? ["5Gi"] : []);
        expect(ingresses.map((i) => i.inputs.spec.rules[0].host)).toEqual(stack === "prod" ? ["grafana.example.com"] : []);
    });
});
