/**
 * Live alerting: the generated prometheus.yml, rule files and alertmanager.yml run in real
 * Prometheus and Alertmanager binaries on 127.0.0.1, scraping a synthetic application and a
 * real node_exporter, and delivering to a local webhook sink.
 *
 * What is changed from the generated artifacts, and only this:
 * - prometheus.yml: jobs using kubernetes_sd_configs get static_configs targets on 127.0.0.1
 *   that carry the `__meta_kubernetes_*` labels discovery would set; their relabel_configs are
 *   untouched, so the generated relabeling runs for real. Jobs whose targets cannot exist here
 *   are dropped: kubelet and cadvisor (no kubelet), kubernetes-services (no Services/
 *   EndpointSlices), and the components not running in this test (grafana, kube-state-metrics,
 *   loki, jaeger, the OTel collectors). rule_files point at the temp dir; alerting targets are
 *   the 3 local Alertmanagers. Intervals are short through the generator's own args.
 * - rules: the generated self-monitoring files plus a test-only HighErrorRate group (the real
 *   API rules come later).
 * - alertmanager.yml: only receiver URLs are swapped for the local sink, through the credential
 *   files the config reads (credentialFile()) plus a `url:` on the PagerDuty config (its events
 *   API URL is not a credential); the route cadence (group_wait/group_interval) is shortened so
 *   notifications arrive in seconds. The email receiver is left out (it needs SMTP).
 * - Alertmanager CLI: --cluster.peer-timeout=2s (default 15s) so the HA replicas' staggered
 *   sends (position × peer timeout) fit the test's waits.
 */
import * as fs from "fs";
import * as path from "path";
import { prometheusConfig } from "../../components/prometheus/config";
import { componentTargets } from "../../components/stack";
import { renderRuleFiles, selfMonitoringGroups, RuleGroup } from "../../alerts";
import { freePorts, httpGet, makeTempDir, ManagedProcess, ProcessRegistry, sleep, toolBinary, waitFor } from "../support/processes";
import { SyntheticExporter, startSyntheticExporter } from "../support/synthetic-exporter";
import {
    DiscoveredTargets,
    Delivery,
    localAlertmanagerConfig,
    parseDelivery,
    podMeta,
    prodStackConfig,
    SinkRecord,
    startAlertmanagerCluster,
    startWebhookSink,
    withStaticDiscovery,
    writeYaml,
} from "../support/local-alerting";

jest.setTimeout(240_000);

// ---------------------------------------------------------------------------------------------

describe("alerting pipeline live (Prometheus + 3 clustered Alertmanagers on loopback)", () => {
    const cfg = prodStackConfig();
    const tmp = makeTempDir("obs-e2e-alerting");
    const registry = new ProcessRegistry(tmp);
    let records: SinkRecord[] = [];
    let app: SyntheticExporter;
    let promUrl = "";
    const alertmanagers: ManagedProcess[] = [];
    const amWebPorts: number[] = [];
    const appsByService: Record<string, SyntheticExporter> = {};

    const monitoringNs = cfg.namespaces.monitoring;
    const agentsNs = cfg.namespaces.agents;

    const deliveries = (p: string, match: Partial<Delivery>) =>
        records
            .filter((r) => r.path === p)
            .map((r) => ({ r, d: parseDelivery(r) }))
            .filter(({ d }) => d !== undefined && Object.entries(match).every(([k, v]) => (d as any)[k] === v));

    const context = () => `sink received: ${JSON.stringify(records.map((r) => ({ path: r.path, d: parseDelivery(r) })))}\n${registry.logs(15)}`;

    async function query(q: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
        const r = await httpGet(`${promUrl}/api/v1/query?query=${encodeURIComponent(q)}`);
        if (r.status !== 200) throw new Error(`query ${q}: HTTP ${r.status} ${r.body}`);
        return JSON.parse(r.body).data.result;
    }

    beforeAll(async () => {
        // Fails the test (not skips) with the install hint when a binary is missing.
        const bin = {
            prometheus: toolBinary("prometheus"),
            alertmanager: toolBinary("alertmanager"),
            nodeExporter: toolBinary("node_exporter"),
        };
        const [promPort, nodePort, ...amPorts] = await freePorts(2 + 6);
        const amWeb = amPorts.slice(0, 3);
        const amCluster = amPorts.slice(3, 6);
        amWebPorts.push(...amWeb);

        // Sink and synthetic application (two services, one target each, like two Deployments).
        const sink = await startWebhookSink();
        records = sink.records;
        registry.onStop(() => sink.close());
        app = await startSyntheticExporter({ services: [{ name: "checkout" }] });
        registry.onStop(() => app.stop());
        const payments = await startSyntheticExporter({ services: [{ name: "payments" }] });
        registry.onStop(() => payments.stop());
        // One exporter per service: keep `checkout` on `app`, `payments` on its own target.
        appsByService.checkout = app;
        appsByService.payments = payments;

        // --- Alertmanager: generated config, receiver URLs swapped for the sink.
        const am = localAlertmanagerConfig(cfg, tmp, sink.url);
        // Shorter cadence only (the matchers, receivers and repeat intervals stay as generated).
        const shorten = (route: Record<string, any>) => {
            if ("group_wait" in route) route.group_wait = "1s";
            if ("group_interval" in route) route.group_interval = "2s";
            for (const child of route.routes ?? []) shorten(child);
        };
        shorten(am.route as Record<string, any>);
        const amFile = path.join(tmp, "alertmanager.yml");
        writeYaml(amFile, am);
        alertmanagers.push(
            ...(await startAlertmanagerCluster(registry, {
                binary: bin.alertmanager,
                configFile: amFile,
                dir: tmp,
                webPorts: amWeb,
                clusterPorts: amCluster,
                extraArgs: ["--cluster.peer-timeout=2s", "--cluster.gossip-interval=100ms", "--cluster.pushpull-interval=2s", "--log.level=debug"],
                context,
            })),
        );

        // --- node_exporter, a few collectors only (fast, and all work unprivileged).
        await registry.start({
            name: "node-exporter",
            binary: bin.nodeExporter,
            args: [`--web.listen-address=127.0.0.1:${nodePort}`, "--collector.disable-defaults", "--collector.cpu", "--collector.meminfo", "--collector.loadavg"],
            readyUrl: `http://127.0.0.1:${nodePort}/metrics`,
        });

        // --- Prometheus: the generated config for this stack, with discovery made static.
        const prom = prometheusConfig({
            clusterName: cfg.clusterName,
            environment: cfg.environment,
            scrapeInterval: "1s",
            evaluationInterval: "1s",
            alertmanagers: amWeb.map((p) => `127.0.0.1:${p}`),
            components: componentTargets(cfg),
            staticJobs: cfg.prometheus.staticTargets,
        }) as Record<string, any>;

        // What pod discovery would produce per job, as `address → meta labels`.
        const discovered: DiscoveredTargets = {
            "kubernetes-pods": (
                [
                    ["checkout", app],
                    ["payments", payments],
                ] as const
            ).map(([svc, e]) => ({
                // Discovery gives the pod IP with the container port; the annotation port replaces it.
                targets: [`127.0.0.1:9`],
                labels: podMeta({
                    ns: "shop",
                    pod: `${svc}-7d9f8-abcde`,
                    container: svc,
                    app: svc,
                    extra: {
                        __meta_kubernetes_pod_annotation_prometheus_io_scrape: "true",
                        __meta_kubernetes_pod_annotation_prometheus_io_port: String(e.port),
                    },
                }),
            })),
            "node-exporter": [
                {
                    targets: [`127.0.0.1:${nodePort}`],
                    labels: podMeta({ ns: agentsNs, pod: "node-exporter-x2k4q", container: "node-exporter", app: "node-exporter", extra: { __meta_kubernetes_pod_container_port_name: "metrics" } }),
                },
            ],
            prometheus: [
                {
                    targets: [`127.0.0.1:${promPort}`],
                    labels: podMeta({ ns: monitoringNs, pod: "prometheus-0", container: "prometheus", app: "prometheus", extra: { __meta_kubernetes_pod_container_port_name: "web" } }),
                },
            ],
            alertmanager: amWeb.map((p, i) => ({
                targets: [`127.0.0.1:${p}`],
                labels: podMeta({ ns: monitoringNs, pod: `alertmanager-${i}`, container: "alertmanager", app: "alertmanager", extra: { __meta_kubernetes_pod_container_port_name: "web" } }),
            })),
        };
        withStaticDiscovery(prom, discovered);
        const rulesDir = path.join(tmp, "rules");
        fs.mkdirSync(rulesDir);
        prom.rule_files = [path.join(rulesDir, "*.yml")];
        const testGroups: RuleGroup[] = [
            {
                name: "e2e.test-only",
                rules: [
                    {
                        alert: "HighErrorRate",
                        expr:
                            'sum by (namespace, service) (rate(http_requests_total{status=~"5.."}[10s])) / ' +
                            "sum by (namespace, service) (rate(http_requests_total[10s])) > 0.15",
                        labels: { severity: "critical", team: "platform" },
                        annotations: { summary: "{{ $labels.service }}: {{ $value | humanizePercentage }} of requests fail.", description: "Test-only rule." },
                    },
                ],
            },
        ];
        const ruleFiles = { ...renderRuleFiles(selfMonitoringGroups(), { runbookBaseUrl: cfg.runbookBaseUrl }), ...renderRuleFiles(testGroups, { runbookBaseUrl: cfg.runbookBaseUrl }) };
        for (const [name, text] of Object.entries(ruleFiles)) fs.writeFileSync(path.join(rulesDir, name), text);
        const promFile = path.join(tmp, "prometheus.yml");
        writeYaml(promFile, prom);

        promUrl = `http://127.0.0.1:${promPort}`;
        await registry.start({
            name: "prometheus",
            binary: bin.prometheus,
            args: [
                `--config.file=${promFile}`,
                `--storage.tsdb.path=${path.join(tmp, "prom-data")}`,
                `--web.listen-address=127.0.0.1:${promPort}`,
                "--rules.alert.resend-delay=1s",
                "--log.level=debug",
            ],
            readyUrl: `${promUrl}/-/ready`,
        });
    });

    afterAll(async () => {
        await registry.stopAll();
        if (process.env.KEEP_E2E_TMP !== "1") fs.rmSync(tmp, { recursive: true, force: true });
    });

    test("the generated relabeling sets the contract's target labels on real scrapes", async () => {
        const up = await waitFor(
            "every static target to be scraped up",
            async () => {
                const r = await query("up == 1");
                const jobs = r.map((s) => s.metric.job);
                const count = (j: string) => jobs.filter((x) => x === j).length;
                return count("kubernetes-pods") === 2 && count("node-exporter") === 1 && count("prometheus") === 1 && count("alertmanager") === 3 ? r : undefined;
            },
            60,
            500,
            context,
        );
        const checkout = up.find((s) => s.metric.job === "kubernetes-pods" && s.metric.service === "checkout");
        expect(checkout?.metric).toEqual({
            __name__: "up",
            job: "kubernetes-pods",
            instance: `127.0.0.1:${appsByService.checkout!.port}`,
            service: "checkout",
            namespace: "shop",
            pod: "checkout-7d9f8-abcde",
            container: "checkout",
            node: "node-a",
        });
        const node = up.find((s) => s.metric.job === "node-exporter");
        expect(node?.metric).toMatchObject({ service: "node-exporter", namespace: agentsNs, pod: "node-exporter-x2k4q", container: "node-exporter", node: "node-a" });
        // node_exporter really scraped through the job.
        const cpu = await waitFor("node_cpu_seconds_total", async () => {
            const r = await query('count(node_cpu_seconds_total{job="node-exporter",service="node-exporter"})');
            return r.length ? r : undefined;
        });
        expect(Number(cpu[0]!.value[1])).toBeGreaterThan(0);
        // Application series carry the target labels too; the scraped copy of `service` (which
        // Prometheus would keep as `exported_service`) is dropped by the job's metric relabeling.
        const reqs = await waitFor("http_requests_total of checkout", async () => {
            const r = await query('http_requests_total{service="checkout",status="200"}');
            return r.length ? r : undefined;
        });
        expect(reqs[0]!.metric).toMatchObject({ service: "checkout", namespace: "shop", pod: "checkout-7d9f8-abcde", container: "checkout", node: "node-a", method: expect.any(String), route: expect.any(String) });
        expect(reqs[0]!.metric).not.toHaveProperty("exported_service");
        // cluster and environment are external labels: visible wherever series leave Prometheus.
        const fed = await httpGet(`${promUrl}/federate?match[]=${encodeURIComponent('up{job="kubernetes-pods",service="checkout"}')}`);
        expect(fed.body).toMatch(new RegExp(`up\\{[^}]*cluster="${cfg.clusterName}"[^}]*\\}`));
        expect(fed.body).toMatch(new RegExp(`up\\{[^}]*environment="${cfg.environment}"[^}]*\\}`));
    });

    test("Watchdog reaches the heartbeat receiver", async () => {
        const hb = await waitFor("Watchdog at /heartbeat", async () => (deliveries("/heartbeat", { alertname: "Watchdog", status: "firing" }).length ? true : undefined), 60, 500, context);
        expect(hb).toBe(true);
        const body = JSON.parse(deliveries("/heartbeat", { alertname: "Watchdog" })[0]!.r.body);
        expect(body.commonLabels).toMatchObject({ cluster: cfg.clusterName, environment: cfg.environment, severity: "info" });
        // Nothing else has paged so far.
        expect(records.filter((r) => r.path === "/pagerduty" || r.path === "/slack")).toEqual([]);
    });

    test("a critical error-rate fault pages PagerDuty and Slack exactly once, then resolves", async () => {
        app.setErrorRatio("checkout", 0.5);
        await waitFor(
            "HighErrorRate(checkout) at /pagerduty and /slack",
            async () =>
                deliveries("/pagerduty", { alertname: "HighErrorRate", service: "checkout", status: "firing" }).length &&
                deliveries("/slack", { alertname: "HighErrorRate", service: "checkout", status: "firing" }).length
                    ? true
                    : undefined,
            90,
            500,
            context,
        );
        // Long enough for the other replicas (position × 2s peer timeout) to send a duplicate.
        await sleep(8000);
        expect(deliveries("/pagerduty", { alertname: "HighErrorRate", service: "checkout", status: "firing" })).toHaveLength(1);
        expect(deliveries("/slack", { alertname: "HighErrorRate", service: "checkout", status: "firing" })).toHaveLength(1);
        const pd = JSON.parse(deliveries("/pagerduty", { alertname: "HighErrorRate", service: "checkout" })[0]!.r.body);
        expect(pd).toMatchObject({ routing_key: "test-routing-key", event_action: "trigger", payload: { severity: "critical" } });
        expect(pd.payload.custom_details.runbook_url).toBe(`${cfg.runbookBaseUrl}/HighErrorRate.md`);
        // No other receiver got it.
        expect(records.filter((r) => r.path === "/teams")).toEqual([]);

        app.setErrorRatio("checkout", 0);
        await waitFor(
            "resolved HighErrorRate(checkout) at /pagerduty and /slack",
            async () =>
                deliveries("/pagerduty", { alertname: "HighErrorRate", service: "checkout", status: "resolved" }).length &&
                deliveries("/slack", { alertname: "HighErrorRate", service: "checkout", status: "resolved" }).length
                    ? true
                    : undefined,
            120,
            500,
            context,
        );
    });

    test("a stakeholder alert reaches Teams as an Adaptive Card (msteamsv2) and Slack, each exactly once, then resolves", async () => {
        // Posted to every replica, as Prometheus does; no rule of the stack sets `audience`.
        const labels = { alertname: "StakeholderUpdate", severity: "high", audience: "stakeholders", service: "checkout", cluster: cfg.clusterName };
        const annotations = { summary: "Checkout is degraded for customers.", description: "Test-only alert.", runbook_url: `${cfg.runbookBaseUrl}/StakeholderUpdate.md` };
        const post = async (endsAt: Date) => {
            for (const port of amWebPorts) {
                const res = await fetch(`http://127.0.0.1:${port}/api/v2/alerts`, {
                    method: "POST",
                    headers: { "Content-Type": "application/json" },
                    body: JSON.stringify([{ labels, annotations, startsAt: new Date(Date.now() - 1000).toISOString(), endsAt: endsAt.toISOString() }]),
                    signal: AbortSignal.timeout(3000),
                });
                expect(res.status).toBe(200);
            }
        };
        await post(new Date(Date.now() + 10 * 60_000));
        const firing = { alertname: "StakeholderUpdate", service: "checkout", status: "firing" } as const;
        await waitFor(
            "StakeholderUpdate at /teams and /slack",
            async () => (deliveries("/teams", firing).length && deliveries("/slack", firing).length ? true : undefined),
            60,
            500,
            context,
        );
        // Long enough for the other replicas (position × 2s peer timeout) to send a duplicate.
        await sleep(8000);
        expect(deliveries("/teams", firing)).toHaveLength(1);
        expect(deliveries("/slack", firing)).toHaveLength(1);
        expect(deliveries("/pagerduty", { alertname: "StakeholderUpdate" })).toEqual([]);
        // Every POST to the Teams webhook was a Workflows message: no legacy MessageCard.
        const teams = records.filter((r) => r.path === "/teams").map((r) => JSON.parse(r.body));
        for (const t of teams) expect(t).toMatchObject({ type: "message", attachments: [{ contentType: "application/vnd.microsoft.card.adaptive" }] });
        const card = JSON.parse(deliveries("/teams", firing)[0]!.r.body).attachments[0].content;
        expect(card).toMatchObject({ type: "AdaptiveCard", body: [{ type: "TextBlock" }, { type: "TextBlock" }] });
        expect(card.body[0].text).toBe(`[FIRING:1] StakeholderUpdate · checkout (${cfg.clusterName})`);
        expect(card.body[1].text).toContain(annotations.summary);
        expect(card.body[1].text).toContain(`Runbook: ${annotations.runbook_url}`);

        await post(new Date());
        await waitFor(
            "resolved StakeholderUpdate at /teams",
            async () => (deliveries("/teams", { alertname: "StakeholderUpdate", status: "resolved" }).length ? true : undefined),
            60,
            500,
            context,
        );
    });

    test("with one Alertmanager killed, a new alert is still delivered exactly once", async () => {
        await alertmanagers[0]!.stop();
        expect(alertmanagers[0]!.running).toBe(false);
        appsByService.payments!.setErrorRatio("payments", 0.6);
        await waitFor(
            "HighErrorRate(payments) at /pagerduty and /slack",
            async () =>
                deliveries("/pagerduty", { alertname: "HighErrorRate", service: "payments", status: "firing" }).length &&
                deliveries("/slack", { alertname: "HighErrorRate", service: "payments", status: "firing" }).length
                    ? true
                    : undefined,
            120,
            500,
            context,
        );
        await sleep(8000);
        expect(deliveries("/pagerduty", { alertname: "HighErrorRate", service: "payments", status: "firing" })).toHaveLength(1);
        expect(deliveries("/slack", { alertname: "HighErrorRate", service: "payments", status: "firing" })).toHaveLength(1);
    });
});
