/**
 * The rendered prometheus.yml and rule files, checked by the real promtool "as the pod sees them":
 * the rule files sit where rule_files points and the service account token and CA exist, at temp
 * paths standing in for /etc/prometheus/rules and /var/run/secrets/kubernetes.io/serviceaccount.
 * Structural facts the tool cannot know (targets, jobs, labels per stack) are asserted on the
 * parsed YAML.
 */
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { RULES_DIR, SA_CA_FILE, SA_TOKEN_FILE } from "../../components/prometheus/config";
import { probeAlertRelabelConfigs } from "../../components/blackbox/config";
import { ROOT } from "../support/program";
import { makeTempDir, readManifests } from "../support/render";
import { INSTALL_COMMAND, renderStack, run, toolPath } from "../support/tools";
import { freePort, httpGet, ProcessRegistry } from "../support/processes";

interface ScrapeJob {
    job_name: string;
    scheme?: string;
    metrics_path?: string;
    authorization?: { credentials_file?: string; credentials?: string };
    tls_config?: { ca_file?: string };
    kubernetes_sd_configs?: { role: string }[];
    static_configs?: { targets: string[] }[];
}

interface PromConfig {
    global: { scrape_interval: string; evaluation_interval: string; external_labels: Record<string, string> };
    rule_files: string[];
    alerting: {
        alert_relabel_configs?: Record<string, unknown>[];
        alertmanagers: { api_version?: string; static_configs: { targets: string[] }[] }[];
    };
    scrape_configs: ScrapeJob[];
    storage?: { tsdb?: { retention?: { time?: string; size?: string } } };
}

const EXPECTED = {
    dev: { cluster: "dev", environment: "dev", alertmanagerReplicas: 1, scrapeInterval: "30s", ha: false, retention: { time: "3d", size: "4GB" }, runtimeRetention: "3d or 4GiB" },
    prod: { cluster: "prod", environment: "prod", alertmanagerReplicas: 3, scrapeInterval: "15s", ha: true, retention: { time: "30d", size: "90GB" }, runtimeRetention: "30d or 90GiB" },
} as const;
type Stack = keyof typeof EXPECTED;

const REQUIRED_JOBS = [
    "prometheus",
    "alertmanager",
    "node-exporter",
    "kube-state-metrics",
    "kubelet",
    "cadvisor",
    "kubernetes-pods",
    "kubernetes-services",
    "grafana",
    "jaeger",
    "otel-collector-agent",
    "otel-collector-gateway",
    "loki",
];

const SA_DIR = path.dirname(SA_TOKEN_FILE);

interface Materialised {
    /** The render's output directory. */
    out: string;
    /** The config as rendered (in-cluster paths). */
    config: PromConfig;
    /** The rendered rule files (absolute paths in the render output). */
    ruleFiles: string[];
    /** prometheus.yml rewritten to the temp stand-ins. */
    configFile: string;
    rulesDir: string;
    saDir: string;
}

let tmp: string;
const stacks = {} as Record<Stack, Materialised>;

/** Lays the render out the way the Prometheus pod mounts it, under `root`. */
function materialise(out: string, root: string): Materialised {
    const files = path.join(out, "files", "prometheus");
    const text = fs.readFileSync(path.join(files, "prometheus.yml"), "utf8");
    const renderedRules = path.join(files, "rules");
    const ruleFiles = fs
        .readdirSync(renderedRules)
        .filter((f) => f.endsWith(".yml"))
        .sort()
        .map((f) => path.join(renderedRules, f));

    const rulesDir = path.join(root, "etc-prometheus-rules");
    const saDir = path.join(root, "serviceaccount");
    fs.mkdirSync(rulesDir, { recursive: true });
    fs.mkdirSync(saDir, { recursive: true });
    for (const f of ruleFiles) fs.copyFileSync(f, path.join(rulesDir, path.basename(f)));
    fs.writeFileSync(path.join(saDir, path.basename(SA_TOKEN_FILE)), "test-service-account-token\n");
    fs.writeFileSync(path.join(saDir, path.basename(SA_CA_FILE)), "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n");

    const rewritten = text.split(RULES_DIR).join(rulesDir).split(SA_DIR).join(saDir);
    const configFile = path.join(root, "prometheus.yml");
    fs.writeFileSync(configFile, rewritten);
    return { out, config: yaml.load(text) as PromConfig, ruleFiles, configFile, rulesDir, saDir };
}

function job(config: PromConfig, name: string): ScrapeJob {
    const found = config.scrape_configs.find((j) => j.job_name === name);
    if (!found) throw new Error(`scrape job "${name}" not found; jobs: ${config.scrape_configs.map((j) => j.job_name).join(", ")}`);
    return found;
}

interface PodSpec {
    automountServiceAccountToken?: boolean;
    containers: { name: string; args?: string[]; env?: { name: string }[]; volumeMounts?: { mountPath: string }[] }[];
}

/** The pod template of the rendered Prometheus StatefulSet. */
function prometheusPod(out: string): PodSpec {
    const sts = readManifests(out).find((o) => o.kind === "StatefulSet" && o.metadata?.name === "prometheus") as unknown as
        | { spec: { template: { spec: PodSpec } } }
        | undefined;
    if (!sts) throw new Error("no StatefulSet prometheus in manifests.yaml");
    return sts.spec.template.spec;
}

beforeAll(() => {
    // Resolve the tool first: a missing promtool fails every test here with the install command.
    toolPath("promtool");
    tmp = makeTempDir("prometheus-config-test");
    for (const stack of Object.keys(EXPECTED) as Stack[]) {
        const out = renderStack(stack, path.join(tmp, stack, "render"));
        stacks[stack] = materialise(out, path.join(tmp, stack, "pod"));
    }
});

afterAll(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe("the test tool lookup", () => {
    it("returns the absolute path of an installed tool", () => {
        expect(toolPath("promtool")).toBe(path.join(ROOT, ".tools", "bin", "promtool"));
    });

    it("throws an error naming the install command when a tool is missing", () => {
        expect(() => toolPath("no-such-tool")).toThrow(/missing/);
        expect(() => toolPath("no-such-tool")).toThrow(INSTALL_COMMAND);
        expect(INSTALL_COMMAND).toBe("bash scripts/install-test-tools.sh");
    });
});

describe.each(Object.keys(EXPECTED) as Stack[])("the %s stack's Prometheus config", (stack) => {
    const m = () => stacks[stack];
    const want = EXPECTED[stack];

    it("renders at least one rule file, all under the directory rule_files points at", () => {
        expect(m().ruleFiles.length).toBeGreaterThanOrEqual(1);
        expect(m().config.rule_files).toEqual([`${RULES_DIR}/*.yml`]);
    });

    it("leaves no in-cluster path behind once materialised for the pod", () => {
        const text = fs.readFileSync(m().configFile, "utf8");
        expect(text).not.toContain(RULES_DIR);
        expect(text).not.toContain(SA_DIR);
    });

    it("passes promtool check config with every rule file found", () => {
        const r = run("promtool", ["check", "config", m().configFile]);
        expect(r).toMatchObject({ status: 0 });
        expect(r.stdout).toContain(`SUCCESS: ${m().ruleFiles.length} rule files found`);
        expect(r.stdout).toContain(`SUCCESS: ${m().configFile} is valid prometheus config file syntax`);
        for (const f of m().ruleFiles) expect(r.stdout).toContain(`Checking ${path.join(m().rulesDir, path.basename(f))}`);
    });

    it("passes promtool check rules with every lint enabled and fatal, on every rule file", () => {
        const failures: Record<string, string> = {};
        for (const f of m().ruleFiles) {
            const r = run("promtool", ["check", "rules", "--lint=all", "--lint-fatal", f]);
            if (r.status !== 0 || !/SUCCESS: [1-9]\d* rules found/.test(r.stdout)) {
                failures[path.basename(f)] = `exit ${r.status}\n${r.stdout}${r.stderr}`;
            }
        }
        expect(failures).toEqual({});
    });

    it(`labels every series with cluster "${want.cluster}" and environment "${want.environment}" from the stack config`, () => {
        const labels = m().config.global.external_labels;
        expect(labels.cluster).toBe(want.cluster);
        expect(labels.environment).toBe(want.environment);
        const stackFile = yaml.load(fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> };
        expect(stackFile.config["observability:clusterName"]).toBe(labels.cluster);
    });

    it(`scrapes every ${want.scrapeInterval}`, () => {
        expect(m().config.global.scrape_interval).toBe(want.scrapeInterval);
    });

    it(`sends alerts to every Alertmanager replica (${want.alertmanagerReplicas}) by its per-pod DNS name`, () => {
        const ams = m().config.alerting.alertmanagers;
        expect(ams).toHaveLength(1);
        const targets = ams.flatMap((a) => a.static_configs.flatMap((s) => s.targets));
        const perPod = Array.from({ length: want.alertmanagerReplicas }, (_, i) => `alertmanager-${i}.alertmanager-headless.monitoring.svc:9093`);
        expect(targets).toEqual(perPod);
        // The load-balanced Service would hand each alert to one replica only.
        expect(targets.filter((t) => /^alertmanager(\.monitoring(\.svc(\.cluster\.local)?)?)?:\d+$/.test(t))).toEqual([]);
    });

    it("lists as many Alertmanager targets as the rendered Alertmanager StatefulSet has replicas", () => {
        const sts = readManifests(m().out).find((o) => o.kind === "StatefulSet" && o.metadata?.name === "alertmanager") as
            | { spec: { replicas: number; serviceName: string } }
            | undefined;
        expect(sts).toBeDefined();
        expect(sts!.spec.serviceName).toBe("alertmanager-headless");
        const targets = m().config.alerting.alertmanagers.flatMap((a) => a.static_configs.flatMap((s) => s.targets));
        expect(targets).toHaveLength(sts!.spec.replicas);
    });

    it("is materialised as the rendered Prometheus pod sees it: rules mounted at the rule_files directory, token automounted", () => {
        const pod = prometheusPod(m().out);
        expect(pod.automountServiceAccountToken).toBe(true);
        const prom = pod.containers.find((c) => c.name === "prometheus");
        expect(prom?.volumeMounts?.map((v) => v.mountPath)).toContain(RULES_DIR);
    });

    it("gives the Prometheus container POD_NAME when an external label reads ${POD_NAME}, and no feature flag (Prometheus 3 expands it by default)", () => {
        const prom = prometheusPod(m().out).containers.find((c) => c.name === "prometheus");
        const usesEnv = Object.values(m().config.global.external_labels).some((v) => v.includes("${POD_NAME}"));
        expect(usesEnv).toBe(want.ha);
        expect((prom?.args ?? []).filter((a) => a.startsWith("--enable-feature"))).toEqual([]);
        if (usesEnv) expect(prom?.env?.map((e) => e.name)).toContain("POD_NAME");
    });

    it(`keeps retention (${want.retention.time}, ${want.retention.size}) in prometheus.yml, not in the deprecated flags`, () => {
        expect(m().config.storage?.tsdb?.retention).toEqual(want.retention);
        const prom = prometheusPod(m().out).containers.find((c) => c.name === "prometheus");
        expect((prom?.args ?? []).filter((a) => a.startsWith("--storage.tsdb.retention"))).toEqual([]);
    });

    it("has a scrape job for every component of the stack, each defined once", () => {
        const names = m().config.scrape_configs.map((j) => j.job_name);
        expect(names).toEqual(expect.arrayContaining(REQUIRED_JOBS));
        expect(new Set(names).size).toBe(names.length);
    });

    it.each(["kubelet", "cadvisor"])("scrapes %s over https with the service account token file, never an inline token", (name) => {
        const j = job(m().config, name);
        expect(j.scheme).toBe("https");
        expect(j.authorization).toEqual({ credentials_file: SA_TOKEN_FILE });
        expect(j.tls_config?.ca_file).toBe(SA_CA_FILE);
        expect(j.kubernetes_sd_configs).toEqual([{ role: "node" }]);
    });

    if (want.ha) {
        it("adds the prometheus_replica external label and drops it from alerts so both replicas' alerts merge", () => {
            expect(m().config.global.external_labels.prometheus_replica).toBe("${POD_NAME}");
            expect(m().config.alerting.alert_relabel_configs).toEqual([{ regex: "prometheus_replica", action: "labeldrop" }, ...probeAlertRelabelConfigs()]);
        });
    } else {
        it("has no prometheus_replica external label with a single replica, and relabels only the probe alerts", () => {
            expect(m().config.global.external_labels).not.toHaveProperty("prometheus_replica");
            expect(m().config.alerting.alert_relabel_configs).toEqual(probeAlertRelabelConfigs());
        });
    }
});

describe.each(Object.keys(EXPECTED) as Stack[])("the real Prometheus running the %s pod's config and flags", (stack) => {
    const want = EXPECTED[stack];
    let registry: ProcessRegistry;
    let url: string;

    beforeAll(async () => {
        const m = stacks[stack];
        const dir = path.join(tmp, stack, "live");
        fs.mkdirSync(dir, { recursive: true });
        registry = new ProcessRegistry(dir);
        const port = await freePort();
        url = `http://127.0.0.1:${port}`;
        const container = prometheusPod(m.out).containers.find((c) => c.name === "prometheus")!;
        // The pod's own arguments, at the temp stand-ins of its mounts, listening on loopback.
        const args = (container.args ?? []).map((a) =>
            a === "--config.file=/etc/prometheus/config/prometheus.yml" ? `--config.file=${m.configFile}` : a === "--storage.tsdb.path=/prometheus" ? `--storage.tsdb.path=${path.join(dir, "data")}` : a,
        );
        expect(args).toEqual(expect.arrayContaining([`--config.file=${m.configFile}`, `--storage.tsdb.path=${path.join(dir, "data")}`]));
        await registry.start({
            name: `prometheus-${stack}`,
            binary: toolPath("prometheus"),
            args: [...args, `--web.listen-address=127.0.0.1:${port}`],
            env: { ...process.env, POD_NAME: "prometheus-1" },
            readyUrl: `${url}/-/ready`,
            readyTries: 240,
        });
    });

    afterAll(async () => {
        await registry?.stopAll();
    });

    const api = async (p: string) => {
        const r = await httpGet(`${url}${p}`);
        expect(r.status).toBe(200);
        return (JSON.parse(r.body) as { data: Record<string, unknown> }).data;
    };

    it(`loads the config and enforces its retention (${want.runtimeRetention})`, async () => {
        const info = await api("/api/v1/status/runtimeinfo");
        expect(info).toMatchObject({ reloadConfigSuccess: true, storageRetention: want.runtimeRetention });
    });

    it(want.ha ? "expands ${POD_NAME} into the prometheus_replica external label" : "has no prometheus_replica external label", async () => {
        const loaded = yaml.load((await api("/api/v1/status/config")).yaml as string) as PromConfig;
        expect(loaded.global.external_labels).toEqual({ cluster: want.cluster, environment: want.environment, ...(want.ha ? { prometheus_replica: "prometheus-1" } : {}) });
    });

    it("logs no warning about its flags", () => {
        const log = registry.logs(400);
        expect(log).toMatch(/msg="Server is ready to receive web requests."/);
        expect(log.split("\n").filter((l) => /level=WARN/.test(l) && /flag|feature|deprecat/i.test(l))).toEqual([]);
    });
});

describe("promtool on deliberately broken input", () => {
    it("rejects a config whose scrape_interval is not a duration", () => {
        const m = stacks.prod;
        const broken = yaml.load(fs.readFileSync(m.configFile, "utf8")) as PromConfig;
        broken.global.scrape_interval = "10x";
        const file = path.join(tmp, "broken-interval.yml");
        fs.writeFileSync(file, yaml.dump(broken));
        const r = run("promtool", ["check", "config", file]);
        expect(r.status).not.toBe(0);
        expect(r.stdout + r.stderr).toContain('"10x"');
    });

    it("rejects the rendered config when the service account token file the kubelet job reads is absent", () => {
        const m = stacks.dev;
        const root = path.join(tmp, "no-token");
        fs.mkdirSync(root);
        const file = path.join(root, "prometheus.yml");
        const missingSa = path.join(root, "no-such-serviceaccount");
        fs.writeFileSync(file, fs.readFileSync(m.configFile, "utf8").split(m.saDir).join(missingSa));
        const r = run("promtool", ["check", "config", file]);
        expect(r.status).not.toBe(0);
        expect(r.stdout + r.stderr).toContain(path.join(missingSa, path.basename(SA_TOKEN_FILE)));
    });

    it("fails the rules lint on a file that defines the same rule twice", () => {
        const rule = { record: "job:up:sum", expr: "sum by (job) (up)" };
        const file = path.join(tmp, "duplicate-rules.yml");
        fs.writeFileSync(file, yaml.dump({ groups: [{ name: "dup", rules: [rule, rule] }] }));
        const r = run("promtool", ["check", "rules", "--lint=all", "--lint-fatal", file]);
        // 3 is promtool's exit code for a fatal lint finding (1 would be a parse error).
        expect(r.status).toBe(3);
        expect(r.stdout + r.stderr).toMatch(/duplicate/i);
    });
});
