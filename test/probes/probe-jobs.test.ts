/**
 * The probe scrape jobs and alert relabeling in prometheus.yml: their shape for config targets
 * and annotated Services, promtool's acceptance of the whole generated config, the rendered
 * stacks wiring the exporter, its jobs and the probe rules together, and the real amtool routing
 * probe alerts, with their target's severity and team, through the existing matrix. (What the
 * relabeling does to real scrapes and alerts is proven live in probes-live.test.ts.)
 */
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import {
    annotationMeta, BLACKBOX_APP, PROBE_ANNOTATIONS, PROBE_JOBS, probeAlertRelabelConfigs, probeScrapeJobs, renderBlackboxConfig, TARGET_SEVERITY_ALERTS,
} from "../../components/blackbox/config";
import { prometheusConfig } from "../../components/prometheus/config";
import { componentTargets, stackProbeJobs } from "../../components/stack";
import { alertRules, ruleGroups, ruleContext } from "../../alerts";
import { alertmanagerConfig, credentialFile, notificationTemplates, ReceiverSpec } from "../../alerts/routing";
import { makeTempDir, readManifests } from "../support/render";
import { renderStack, run, toolPath } from "../support/tools";
import { stackConfig } from "./support/config";

let tmp: string;
beforeAll(() => {
    toolPath("promtool");
    toolPath("amtool");
    toolPath("blackbox_exporter");
    tmp = makeTempDir("probe-jobs");
});
afterAll(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

type Job = { job_name: string; metrics_path?: string; static_configs?: { targets: string[]; labels: Record<string, string> }[]; kubernetes_sd_configs?: { role: string }[]; relabel_configs: Record<string, unknown>[] };

const WITH_TARGETS = {
    probes: {
        targets: [
            { name: "checkout", url: "https://checkout.shop.svc.cluster.local:8443/health", severity: "warning", team: "checkout-team" },
            { name: "status-page", url: "https://status.example.com/", expectBody: "All systems operational", interval: "1m" },
            { name: "db", url: "tcp://db.shop.svc:5432" },
            { name: "cluster-dns", url: "dns://kube-dns.kube-system.svc:53/kubernetes.default.svc.cluster.local", team: "platform" },
        ],
    },
};

describe("the probe jobs of a stack with config targets", () => {
    const cfg = stackConfig("dev", WITH_TARGETS);
    const jobs = stackProbeJobs(cfg) as Job[];
    const staticJob = jobs.find((j) => j.job_name === PROBE_JOBS.static)!;

    it("are one static job for the config targets and one discovering annotated Services, both asking the exporter's Service for /probe", () => {
        expect(jobs.map((j) => j.job_name)).toEqual([PROBE_JOBS.static, PROBE_JOBS.services]);
        for (const j of jobs) {
            expect(j.metrics_path).toBe("/probe");
            expect(j.relabel_configs.at(-1)).toEqual({ target_label: "__address__", replacement: "blackbox-exporter.monitoring.svc:9115" });
        }
        expect(jobs[1]!.kubernetes_sd_configs).toEqual([{ role: "service" }]);
    });

    it("give each config target its module, owner and labels, and its own interval only where it differs from the scrape interval", () => {
        expect(staticJob.static_configs).toEqual([
            {
                targets: ["https://checkout.shop.svc.cluster.local:8443/health"],
                labels: { __param_module: "http_2xx", module: "http_2xx", service: "checkout", namespace: "shop", probe_severity: "warning", probe_team: "checkout-team" },
            },
            {
                targets: ["https://status.example.com/"],
                labels: { __param_module: "http_body_status-page", __scrape_interval__: "1m", module: "http_body", service: "status-page", namespace: "external", probe_severity: "critical", probe_team: "backend" },
            },
            { targets: ["db.shop.svc:5432"], labels: { __param_module: "tcp_connect", module: "tcp_connect", service: "db", namespace: "shop", probe_severity: "critical", probe_team: "backend" } },
            {
                targets: ["kube-dns.kube-system.svc:53"],
                labels: { __param_module: "dns_cluster-dns", module: "dns", service: "cluster-dns", namespace: "kube-system", probe_severity: "critical", probe_team: "platform" },
            },
        ]);
    });

    it("relabel each static target into the probe's target parameter, and the target and instance labels", () => {
        expect(staticJob.relabel_configs).toEqual([
            { source_labels: ["__address__"], target_label: "__param_target" },
            { source_labels: ["__param_target"], target_label: "target" },
            { source_labels: ["__param_target"], target_label: "instance" },
            { target_label: "__address__", replacement: "blackbox-exporter.monitoring.svc:9115" },
        ]);
    });

    it("keep only Services annotated with a probe path and read the port, module, scheme, severity and team annotations", () => {
        const relabels = JSON.stringify(jobs[1]!.relabel_configs);
        expect(jobs[1]!.relabel_configs[0]).toEqual({ source_labels: [annotationMeta(PROBE_ANNOTATIONS.path, true)], regex: "true", action: "keep" });
        for (const a of Object.values(PROBE_ANNOTATIONS)) expect(relabels).toContain(annotationMeta(a));
        expect(relabels).toContain('"action":"keepequal"');
        // Unannotated Services default to http_2xx, http, critical and the application team.
        expect(jobs[1]!.relabel_configs).toEqual(
            expect.arrayContaining([
                { target_label: "__param_module", replacement: "http_2xx" },
                { target_label: "__tmp_probe_scheme", replacement: "http" },
                { target_label: "probe_severity", replacement: "critical" },
                { target_label: "probe_team", replacement: cfg.alerting.teams.application },
            ]),
        );
    });

    it("pass promtool check config inside the stack's whole prometheus.yml, alert relabeling included", () => {
        const file = path.join(tmp, "prometheus.yml");
        const prom = prometheusConfig({
            clusterName: cfg.clusterName,
            environment: cfg.environment,
            scrapeInterval: cfg.prometheus.scrapeInterval,
            evaluationInterval: cfg.prometheus.evaluationInterval,
            alertmanagers: ["alertmanager-0.alertmanager-headless.monitoring.svc:9093"],
            components: componentTargets(cfg),
            extraJobs: jobs,
            alertRelabelConfigs: probeAlertRelabelConfigs(),
        });
        fs.writeFileSync(file, yaml.dump(prom, { lineWidth: -1, noRefs: true }));
        const r = run("promtool", ["check", "config", "--syntax-only", file]);
        expect({ status: r.status, out: r.stdout + r.stderr }).toEqual({ status: 0, out: expect.stringContaining("SUCCESS") });
    });
});

describe("the probe jobs without config targets or discovery", () => {
    it("are only the discovery job when the stack declares no target, and none when discovery is off too", () => {
        const base = { exporterAddress: "bb:9115", targets: [], scrapeInterval: "30s", defaultTeam: "backend" };
        expect(probeScrapeJobs({ ...base, serviceDiscovery: true }).map((j) => j.job_name)).toEqual([PROBE_JOBS.services]);
        expect(probeScrapeJobs({ ...base, serviceDiscovery: false })).toEqual([]);
    });
});

describe("the alert relabeling", () => {
    const relabels = probeAlertRelabelConfigs();

    it("takes the target's severity only for the failure and DNS alerts, whose severity the issue ties to the target", () => {
        expect(relabels[0]).toEqual({ source_labels: ["alertname", "probe_severity"], regex: "(ProbeFailing|ProbeDnsResolutionFailing);(critical|warning|info)", replacement: "$2", target_label: "severity" });
        const probeAlerts = alertRules(ruleGroups(ruleContext())).filter((a) => a.alert.startsWith("Probe")).map((a) => a.alert);
        expect([...TARGET_SEVERITY_ALERTS].every((a) => probeAlerts.includes(a))).toBe(true);
    });

    it("takes the target's team for every probe alert, and only for those", () => {
        expect(relabels[1]).toEqual({ source_labels: ["alertname", "probe_team"], regex: "(Probe[A-Za-z]+);(.+)", replacement: "$2", target_label: "team" });
        const others = alertRules(ruleGroups(ruleContext())).filter((a) => !a.alert.startsWith("Probe")).map((a) => a.alert);
        expect(others.filter((a) => new RegExp("^Probe[A-Za-z]+$").test(a))).toEqual([]);
    });

    it("attributes TargetDown of the probe jobs to the exporter", () => {
        expect(relabels[2]).toEqual({ source_labels: ["alertname", "job"], regex: "TargetDown;(probes|service-probes)", replacement: BLACKBOX_APP, target_label: "service" });
    });
});

describe("the rendered stacks", () => {
    it.each([
        ["dev", 1],
        ["prod", 2],
    ] as const)("wire %s's exporter (%i replicas), its checked blackbox.yml, its scrape jobs and the probe rules together", (stack, replicas) => {
        const out = renderStack(stack, path.join(tmp, `render-${stack}`));
        const blackboxFile = path.join(out, "files", "blackbox-exporter", "blackbox.yml");
        expect(fs.readFileSync(blackboxFile, "utf8")).toBe(renderBlackboxConfig({ targets: stackConfig(stack).probes.targets }));
        const check = run("blackbox_exporter", ["--config.check", `--config.file=${blackboxFile}`]);
        expect({ status: check.status, output: check.stdout + check.stderr }).toEqual({ status: 0, output: expect.stringContaining("Config file is ok") });
        const prom = yaml.load(fs.readFileSync(path.join(out, "files", "prometheus", "prometheus.yml"), "utf8")) as { scrape_configs: Job[]; alerting: { alert_relabel_configs: unknown[] } };
        const names = prom.scrape_configs.map((j) => j.job_name);
        expect(names).toEqual(expect.arrayContaining([BLACKBOX_APP, PROBE_JOBS.services]));
        expect(prom.scrape_configs.find((j) => j.job_name === PROBE_JOBS.services)!.relabel_configs.at(-1)).toEqual({ target_label: "__address__", replacement: "blackbox-exporter.monitoring.svc:9115" });
        expect(prom.alerting.alert_relabel_configs).toEqual(expect.arrayContaining(probeAlertRelabelConfigs()));
        expect(fs.readdirSync(path.join(out, "files", "prometheus", "rules"))).toContain("probes-alerts.yml");
        const deployment = readManifests(out).find((o) => o.kind === "Deployment" && o.metadata?.name === BLACKBOX_APP) as { spec: { replicas: number; template: { spec: { containers: { image: string }[] } } } } | undefined;
        expect(deployment?.spec.replicas).toBe(replicas);
        expect(deployment?.spec.template.spec.containers[0]!.image).toBe("quay.io/prometheus/blackbox-exporter:v0.28.0");
    });
});

describe("routing of probe alerts (amtool config routes test)", () => {
    const RECEIVERS: ReceiverSpec[] = [
        { kind: "pagerduty", name: "pager", sendResolved: true, routes: ["critical"], routingKeySecret: "pagerdutyRoutingKey" },
        { kind: "slack", name: "slack", sendResolved: true, routes: ["critical", "high"], channel: "#alerts", webhookUrlSecret: "slackWebhookUrl" },
        { kind: "email", name: "mail", sendResolved: true, routes: ["high", "warning", "low"], to: "oncall@example.com", from: "am@example.com", smarthost: "smtp.example.com:587", requireTls: true },
        { kind: "slack", name: "checkout-slack", sendResolved: true, routes: ["critical", "warning"], channel: "#checkout", webhookUrlSecret: "checkoutSlack", team: "checkout-team" },
    ];
    let configFile = "";
    beforeAll(() => {
        const dir = path.join(tmp, "am");
        fs.mkdirSync(path.join(dir, "secrets"), { recursive: true });
        for (const r of RECEIVERS) fs.writeFileSync(path.join(dir, "secrets", credentialFile(r)), "https://credential.example.invalid/x\n");
        fs.writeFileSync(path.join(dir, "notifications.tmpl"), notificationTemplates("https://grafana.example.com"));
        configFile = path.join(dir, "alertmanager.yml");
        fs.writeFileSync(configFile, yaml.dump(alertmanagerConfig({ receivers: RECEIVERS, secretsDir: path.join(dir, "secrets"), templatesDir: dir, grafanaUrl: "https://grafana.example.com" }), { lineWidth: -1 }));
    });
    const routeOf = (labels: Record<string, string>): string[] => {
        const r = run("amtool", ["config", "routes", "test", `--config.file=${configFile}`, ...Object.entries(labels).map(([k, v]) => `${k}=${v}`)]);
        if (r.status !== 0) throw new Error(`amtool exited ${r.status}: ${r.stdout}${r.stderr}`);
        return r.stdout.trim().split(",");
    };

    it.each([
        ["critical", "shop-team", ["pager", "slack"]],
        ["warning", "shop-team", ["mail"]],
        ["info", "shop-team", ["null"]],
        ["critical", "checkout-team", ["checkout-slack"]],
        ["warning", "checkout-team", ["checkout-slack"]],
    ] as const)("sends ProbeFailing of a %s target owned by %s where any alert of that severity and team goes", (severity, team, expected) => {
        const probe = routeOf({ alertname: "ProbeFailing", severity, team, service: "checkout", cluster: "prod" });
        expect(probe).toEqual(expected);
        expect(probe).toEqual(routeOf({ alertname: "ApiErrorRateHigh", severity, team, service: "checkout", cluster: "prod" }));
    });
});
