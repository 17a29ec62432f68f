/**
 * Synthetic monitoring live on 127.0.0.1: the real blackbox_exporter (Debian's 0.28) runs the
 * generated blackbox.yml, and a real Prometheus runs the generated probe scrape jobs, the
 * generated probe rules and the generated alert relabeling, sending alerts to a local stand-in
 * for Alertmanager's API that records what Alertmanager would receive.
 *
 * What is changed from the generated artifacts, and only this:
 * - the stack config is the committed dev stack with short windows and 1 s intervals set through
 *   the config itself (`prometheus.scrapeInterval`, `alerting.probes.*`), and probe targets on
 *   127.0.0.1;
 * - the probe jobs address the local exporter instead of its in-cluster Service;
 * - kubernetes_sd jobs get static targets carrying the `__meta_kubernetes_*` labels discovery
 *   would set (the annotated-Service probe job and the exporter's own metrics job), their
 *   relabeling untouched; the other discovery jobs are dropped (nothing to discover here);
 * - the exporter trusts the test's self-signed certificates through SSL_CERT_FILE (in a pod,
 *   the image's CA bundle); its modules still verify every certificate.
 */
import * as fs from "fs";
import * as path from "path";
import { stackRuleFiles } from "../../alerts";
import { blackboxConfig, BLACKBOX_APP, probeAlertRelabelConfigs, probeScrapeJobs, PROBE_ANNOTATIONS, PROBE_JOBS, annotationMeta } from "../../components/blackbox/config";
import { prometheusConfig } from "../../components/prometheus/config";
import { componentTargets } from "../../components/stack";
import type { StackConfig } from "../../config";
import { durationSeconds } from "../../config/resolve";
import { podMeta, startWebhookSink, SinkRecord, withStaticDiscovery, writeYaml } from "../support/local-alerting";
import { freePorts, httpGet, makeTempDir, ManagedProcess, ProcessRegistry, sleep, toolBinary, waitFor } from "../support/processes";
import { stackConfig } from "./support/config";
import { HealthServer, selfSignedCertificate, startHealthServer, startTlsHealthServer } from "./support/endpoints";

jest.setTimeout(180_000);

type Sample = { metric: Record<string, string>; value: [number, string] };
type SentAlert = { labels: Record<string, string>; annotations: Record<string, string>; startsAt: string; endsAt: string };

describe("synthetic probes live (blackbox_exporter + Prometheus on loopback)", () => {
    const tmp = makeTempDir("obs-e2e-probes");
    const registry = new ProcessRegistry(tmp);
    let cfg: StackConfig;
    let checkout: HealthServer;
    let payments: HealthServer;
    let records: SinkRecord[] = [];
    let promUrl = "";
    let blackbox: ManagedProcess;
    const urls = { certSoon: "", certExpiring: "", nowhere: "http://probe-target.invalid/health", payments: "" };
    let paymentsGrpcAddress = "";

    async function query(q: string): Promise<Sample[]> {
        const r = await httpGet(`${promUrl}/api/v1/query?query=${encodeURIComponent(q)}`);
        if (r.status !== 200) throw new Error(`query ${q}: HTTP ${r.status} ${r.body}`);
        return JSON.parse(r.body).data.result;
    }

    /** Every alert Prometheus has sent to the Alertmanager API, newest last. */
    const sent = (): SentAlert[] => records.filter((r) => r.path === "/api/v2/alerts").flatMap((r) => JSON.parse(r.body) as SentAlert[]);
    const sentMatching = (labels: Record<string, string>) => sent().filter((a) => Object.entries(labels).every(([k, v]) => a.labels[k] === v));
    const firing = (alertname: string, labels: Record<string, string> = {}) =>
        query(`ALERTS{alertname="${alertname}",alertstate="firing",${Object.entries(labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(",")}}`);
    const context = () => `alerts sent: ${JSON.stringify(sent().map((a) => a.labels))}\n${registry.logs(15)}`;
    const forSeconds = (d: string) => durationSeconds(d);

    beforeAll(async () => {
        const bin = { prometheus: toolBinary("prometheus"), blackbox: toolBinary("blackbox_exporter") };
        const [promPort, blackboxPort, grpcPort] = await freePorts(3);

        // --- endpoints: a switchable /health, an always-healthy one, two short-lived certificates.
        checkout = await startHealthServer();
        registry.onStop(() => checkout.stop());
        payments = await startHealthServer();
        registry.onStop(() => payments.stop());
        urls.payments = payments.url;
        paymentsGrpcAddress = `127.0.0.1:${grpcPort}`;
        const soon = selfSignedCertificate(tmp, "soon", 10);
        const expiring = selfSignedCertificate(tmp, "expiring", 2);
        const tlsSoon = await startTlsHealthServer(soon);
        registry.onStop(() => tlsSoon.close());
        const tlsExpiring = await startTlsHealthServer(expiring);
        registry.onStop(() => tlsExpiring.close());
        urls.certSoon = `https://127.0.0.1:${tlsSoon.port}/health`;
        urls.certExpiring = `https://localhost:${tlsExpiring.port}/health`;

        // --- the stack config: dev, with short windows and these targets.
        cfg = stackConfig("dev", {
            prometheus: { scrapeInterval: "1s", evaluationInterval: "1s" },
            alerting: {
                teams: { application: "shop-team" },
                infrastructure: { targetDown: { for: "2s" } },
                probes: {
                    failing: { for: "3s" },
                    dnsFailing: { for: "3s" },
                    certExpiryWarning: { for: "2s" },
                    certExpiryCritical: { for: "2s" },
                },
            },
            probes: {
                targets: [
                    { name: "checkout", url: checkout.url, module: "http_2xx", service: "checkout", namespace: "shop" },
                    { name: "checkout-body", url: checkout.url, expectBody: '"status":\\s*"ok"', severity: "warning", team: "checkout-team", service: "checkout", namespace: "shop" },
                    { name: "checkout-port", url: `tcp://127.0.0.1:${checkout.port}`, service: "checkout", namespace: "shop" },
                    { name: "storefront-tls", url: urls.certSoon, interval: "2s", service: "storefront", namespace: "shop" },
                    { name: "admin-tls", url: urls.certExpiring, interval: "2s", service: "admin", namespace: "shop", team: "admin-team" },
                    { name: "legacy", url: urls.nowhere, severity: "info", service: "legacy" },
                ],
            },
        });

        // --- blackbox_exporter with the generated modules.
        const bbFile = path.join(tmp, "blackbox.yml");
        writeYaml(bbFile, blackboxConfig({ targets: cfg.probes.targets }));
        const bundle = path.join(tmp, "trusted.pem");
        fs.writeFileSync(bundle, fs.readFileSync(soon.certFile, "utf8") + fs.readFileSync(expiring.certFile, "utf8"));
        blackbox = await registry.start({
            name: "blackbox-exporter",
            binary: bin.blackbox,
            args: [`--config.file=${bbFile}`, `--web.listen-address=127.0.0.1:${blackboxPort}`, "--log.prober=debug"],
            env: { ...process.env, SSL_CERT_FILE: bundle },
            readyUrl: `http://127.0.0.1:${blackboxPort}/-/healthy`,
        });

        // --- Alertmanager's API, recorded.
        const sink = await startWebhookSink();
        records = sink.records;
        registry.onStop(() => sink.close());

        // --- Prometheus: the generated config with the local exporter as the probe address.
        const prom = prometheusConfig({
            clusterName: cfg.clusterName,
            environment: cfg.environment,
            scrapeInterval: cfg.prometheus.scrapeInterval,
            evaluationInterval: cfg.prometheus.evaluationInterval,
            alertmanagers: [`127.0.0.1:${sink.port}`],
            components: componentTargets(cfg),
            scrapeKubelet: false,
            extraJobs: probeScrapeJobs({
                exporterAddress: `127.0.0.1:${blackboxPort}`,
                targets: cfg.probes.targets,
                serviceDiscovery: cfg.probes.serviceDiscovery,
                scrapeInterval: cfg.prometheus.scrapeInterval,
                defaultTeam: cfg.alerting.teams.application,
            }),
            alertRelabelConfigs: probeAlertRelabelConfigs(),
        }) as Record<string, any>;
        /** What role service discovers for one port of an annotated Service. */
        const service = (name: string, address: string, portName: string, portNumber: string, annotations: Partial<Record<keyof typeof PROBE_ANNOTATIONS, string>>) => ({
            targets: [address],
            labels: {
                __meta_kubernetes_namespace: "shop",
                __meta_kubernetes_service_name: name,
                __meta_kubernetes_service_port_name: portName,
                __meta_kubernetes_service_port_number: portNumber,
                ...Object.fromEntries(
                    Object.entries(annotations).flatMap(([k, v]) => [
                        [annotationMeta(PROBE_ANNOTATIONS[k as keyof typeof PROBE_ANNOTATIONS], true), "true"],
                        [annotationMeta(PROBE_ANNOTATIONS[k as keyof typeof PROBE_ANNOTATIONS]), v],
                    ]),
                ),
            },
        });
        withStaticDiscovery(prom, {
            // Role service: one target per Service port, `<service>.<namespace>.svc:<port>` (here loopback).
            [PROBE_JOBS.services]: [
                // payments: two ports, the annotation names the one to probe.
                service("payments", `127.0.0.1:${payments.port}`, "http", String(payments.port), { path: "/health", port: "http" }),
                service("payments", paymentsGrpcAddress, "grpc", String(grpcPort), { path: "/health", port: "http" }),
                // inventory: one port, no port annotation; module, severity and team from annotations.
                service("inventory", `127.0.0.1:${payments.port}`, "web", String(payments.port), { path: "health", module: "http_body", severity: "warning", team: "inventory-team" }),
                // An unannotated Service is not probed.
                { targets: [`127.0.0.1:${payments.port}`], labels: { __meta_kubernetes_namespace: "shop", __meta_kubernetes_service_name: "orders", __meta_kubernetes_service_port_name: "http", __meta_kubernetes_service_port_number: String(payments.port) } },
            ],
            [BLACKBOX_APP]: [
                {
                    targets: [`127.0.0.1:${blackboxPort}`],
                    labels: podMeta({ ns: cfg.namespaces.monitoring, pod: "blackbox-exporter-5d8f7-x2k4q", container: BLACKBOX_APP, app: BLACKBOX_APP, extra: { __meta_kubernetes_pod_container_port_name: "http" } }),
                },
            ],
        });
        const rulesDir = path.join(tmp, "rules");
        fs.mkdirSync(rulesDir);
        const rules = stackRuleFiles(cfg);
        for (const file of ["probes-alerts.yml", "infrastructure-alerts.yml"]) fs.writeFileSync(path.join(rulesDir, file), rules[file]!);
        prom.rule_files = [path.join(rulesDir, "*.yml")];
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
            ],
            readyUrl: `${promUrl}/-/ready`,
        });
    });

    afterAll(async () => {
        await registry.stopAll();
        if (process.env.KEEP_E2E_TMP !== "1") fs.rmSync(tmp, { recursive: true, force: true });
    });

    test("the generated probe jobs label every probe series with its target, service, namespace, module and owner", async () => {
        const series = await waitFor(
            "probe_success of every target",
            async () => {
                const r = await query("probe_success");
                return r.length === 8 ? r : undefined;
            },
            60,
            500,
            context,
        );
        const byTarget = (job: string, target: string, module: string) => series.find((s) => s.metric.job === job && s.metric.target === target && s.metric.module === module)?.metric;
        expect(byTarget(PROBE_JOBS.static, checkout.url, "http_body")).toEqual({
            __name__: "probe_success",
            job: PROBE_JOBS.static,
            instance: checkout.url,
            target: checkout.url,
            module: "http_body",
            service: "checkout",
            namespace: "shop",
            probe_severity: "warning",
            probe_team: "checkout-team",
        });
        expect(byTarget(PROBE_JOBS.static, `127.0.0.1:${checkout.port}`, "tcp_connect")).toMatchObject({ service: "checkout", namespace: "shop", probe_severity: "critical", probe_team: "shop-team" });
        expect(byTarget(PROBE_JOBS.static, urls.nowhere, "http_2xx")).toMatchObject({ service: "legacy", namespace: "external", probe_severity: "info" });
        // The annotated Service: the port the annotation names is probed at the annotated path; its other port is not.
        expect(byTarget(PROBE_JOBS.services, urls.payments, "http_2xx")).toEqual({
            __name__: "probe_success",
            job: PROBE_JOBS.services,
            instance: urls.payments,
            target: urls.payments,
            module: "http_2xx",
            service: "payments",
            namespace: "shop",
            probe_severity: "critical",
            probe_team: "shop-team",
        });
        expect(series.filter((s) => s.metric.target?.includes(paymentsGrpcAddress))).toEqual([]);
        // A single-port Service without a port annotation is probed on its port, with the module,
        // severity and team its annotations name (the generic healthy-body pattern matches).
        expect(byTarget(PROBE_JOBS.services, urls.payments, "http_body")).toMatchObject({ service: "inventory", namespace: "shop", probe_severity: "warning", probe_team: "inventory-team" });
        expect(series.filter((s) => s.metric.service === "orders")).toEqual([]);
        expect(series.filter((s) => s.metric.job === PROBE_JOBS.services).map((s) => s.value[1])).toEqual(["1", "1"]);
        expect(payments.hits()).toBeGreaterThan(0);
        // Targets probed at their own interval say so to Prometheus.
        const targets = JSON.parse((await httpGet(`${promUrl}/api/v1/targets?state=active`)).body).data.activeTargets as { labels: Record<string, string>; scrapeInterval: string }[];
        expect(targets.find((t) => t.labels.target === urls.certSoon)?.scrapeInterval).toBe("2s");
        expect(targets.find((t) => t.labels.target === checkout.url)?.scrapeInterval).toBe("1s");
        // The exporter's own metrics come through its component job.
        const self = await waitFor("the exporter's own metrics job", async () => ((await query(`up{job="${BLACKBOX_APP}",service="${BLACKBOX_APP}"}`))[0]), 40, 250, context);
        expect(self.value[1]).toBe("1");
    });

    test("while /health answers 200 every checkout probe succeeds and no probe-failure alert fires", async () => {
        await sleep((forSeconds(cfg.alerting.probes.failing.for) + 3) * 1000);
        const ok = await query(`probe_success{service="checkout"}`);
        expect(ok.map((s) => [s.metric.module, s.value[1]]).sort()).toEqual([
            ["http_2xx", "1"],
            ["http_body", "1"],
            ["tcp_connect", "1"],
        ]);
        expect((await query(`probe_http_status_code{target="${checkout.url}"}`)).map((s) => s.value[1])).toEqual(["200", "200"]);
        expect(await query('ALERTS{alertname="ProbeFailing"}')).toEqual([]);
        expect(sentMatching({ alertname: "ProbeFailing" })).toEqual([]);
    });

    test("when /health answers 503, ProbeFailing fires within its window and reaches Alertmanager with each target's severity and team", async () => {
        const window = forSeconds(cfg.alerting.probes.failing.for);
        const start = Date.now();
        checkout.setStatus(503);
        await waitFor("ProbeFailing for both HTTP probes of checkout", async () => ((await firing("ProbeFailing", { target: checkout.url })).length === 2 ? true : undefined), 60, 250, context);
        const elapsed = (Date.now() - start) / 1000;
        // Not before the failures have lasted the configured window, and within it plus a few
        // probe and evaluation intervals.
        expect(elapsed).toBeGreaterThanOrEqual(window);
        expect(elapsed).toBeLessThan(window + 10);
        expect((await query(`probe_http_status_code{target="${checkout.url}"}`)).map((s) => s.value[1])).toEqual(["503", "503"]);
        // The TCP port still accepts connections: its probe keeps succeeding.
        expect(await firing("ProbeFailing", { module: "tcp_connect" })).toEqual([]);

        const plain = await waitFor("ProbeFailing(http_2xx) at Alertmanager", async () => sentMatching({ alertname: "ProbeFailing", module: "http_2xx", target: checkout.url })[0], 40, 250, context);
        const body = await waitFor("ProbeFailing(http_body) at Alertmanager", async () => sentMatching({ alertname: "ProbeFailing", module: "http_body", target: checkout.url })[0], 40, 250, context);
        expect(plain.labels).toMatchObject({ severity: "critical", team: "shop-team", service: "checkout", namespace: "shop", cluster: cfg.clusterName });
        expect(body.labels).toMatchObject({ severity: "warning", team: "checkout-team", service: "checkout", namespace: "shop" });
        expect(plain.annotations.runbook_url).toBe(`${cfg.runbookBaseUrl}/ProbeFailing.md`);
        // Inside Prometheus the rule's defaults stand; the target's owner is applied as alerts leave.
        expect((await firing("ProbeFailing", { module: "http_body" }))[0]!.metric).toMatchObject({ severity: "critical", team: "shop-team", probe_severity: "warning", probe_team: "checkout-team" });
    });

    test("when /health answers 200 again, ProbeFailing resolves", async () => {
        checkout.setStatus(200);
        await waitFor("ProbeFailing of checkout to resolve", async () => ((await query(`ALERTS{alertname="ProbeFailing",target="${checkout.url}"}`)).length === 0 ? true : undefined), 60, 250, context);
        expect((await query(`probe_success{target="${checkout.url}"}`)).map((s) => s.value[1])).toEqual(["1", "1"]);
    });

    test("when the checkout server is stopped, ProbeFailing fires within its window for its HTTP and TCP probes", async () => {
        const window = forSeconds(cfg.alerting.probes.failing.for);
        const start = Date.now();
        await checkout.stop();
        await waitFor(
            "ProbeFailing for the three probes of checkout",
            async () => ((await firing("ProbeFailing", { service: "checkout" })).length === 3 ? true : undefined),
            60,
            250,
            context,
        );
        const elapsed = (Date.now() - start) / 1000;
        expect(elapsed).toBeGreaterThanOrEqual(window);
        expect(elapsed).toBeLessThan(window + 10);
        // No HTTP answer at all, and the failure is not a name-resolution one.
        expect((await query(`probe_http_status_code{target="${checkout.url}"}`)).map((s) => s.value[1])).toEqual(["0", "0"]);
        expect(await firing("ProbeDnsResolutionFailing", { service: "checkout" })).toEqual([]);
        await checkout.start();
    });

    test("a certificate expiring in 10 days raises the warning, one expiring in 2 days pages, and both endpoints stay up", async () => {
        await waitFor("ProbeTlsCertificateExpiringSoon(storefront)", async () => ((await firing("ProbeTlsCertificateExpiringSoon", { target: urls.certSoon })).length ? true : undefined), 60, 250, context);
        await waitFor("ProbeTlsCertificateExpiryCritical(admin)", async () => ((await firing("ProbeTlsCertificateExpiryCritical", { target: urls.certExpiring })).length ? true : undefined), 60, 250, context);
        const days = async (target: string) => Number((await query(`(probe_ssl_earliest_cert_expiry{target="${target}"} - time()) / 86400`))[0]!.value[1]);
        expect(await days(urls.certSoon)).toBeGreaterThan(9.9);
        expect(await days(urls.certSoon)).toBeLessThanOrEqual(10);
        expect(await days(urls.certExpiring)).toBeGreaterThan(1.9);
        expect(await days(urls.certExpiring)).toBeLessThanOrEqual(2);
        // One alert per certificate: the warning gives way to the critical one below 3 days.
        expect(await firing("ProbeTlsCertificateExpiringSoon", { target: urls.certExpiring })).toEqual([]);
        expect(await firing("ProbeTlsCertificateExpiryCritical", { target: urls.certSoon })).toEqual([]);
        // The certificates verify (the modules never skip verification), so the probes succeed.
        expect((await query(`probe_success{target=~"${urls.certSoon}|${urls.certExpiring}"}`)).map((s) => s.value[1])).toEqual(["1", "1"]);

        const critical = await waitFor("the critical certificate alert at Alertmanager", async () => sentMatching({ alertname: "ProbeTlsCertificateExpiryCritical", target: urls.certExpiring })[0], 40, 250, context);
        expect(critical.labels).toMatchObject({ severity: "critical", team: "admin-team", service: "admin" });
        const warning = await waitFor("the certificate warning at Alertmanager", async () => sentMatching({ alertname: "ProbeTlsCertificateExpiringSoon", target: urls.certSoon })[0], 40, 250, context);
        expect(warning.labels).toMatchObject({ severity: "warning", team: "shop-team", service: "storefront" });
    });

    test("a host name that does not resolve raises ProbeDnsResolutionFailing with the target's severity, not ProbeFailing", async () => {
        await waitFor("ProbeDnsResolutionFailing(legacy)", async () => ((await firing("ProbeDnsResolutionFailing", { target: urls.nowhere })).length ? true : undefined), 60, 250, context);
        expect((await query(`probe_ip_protocol{target="${urls.nowhere}"}`)).map((s) => s.value[1])).toEqual(["0"]);
        expect(await query(`ALERTS{alertname="ProbeFailing",target="${urls.nowhere}"}`)).toEqual([]);
        const dns = await waitFor("ProbeDnsResolutionFailing at Alertmanager", async () => sentMatching({ alertname: "ProbeDnsResolutionFailing", target: urls.nowhere })[0], 40, 250, context);
        expect(dns.labels).toMatchObject({ severity: "info", team: "shop-team", service: "legacy", namespace: "external" });
    });

    test("when the exporter stops answering, TargetDown of the probe jobs reaches Alertmanager as the exporter's, not the probed services'", async () => {
        await blackbox.stop();
        const probe = { job: PROBE_JOBS.static, instance: checkout.url, module: "http_2xx" };
        const inPrometheus = await waitFor("TargetDown of checkout's probe in Prometheus", async () => (await firing("TargetDown", probe))[0], 60, 250, context);
        const down = await waitFor("TargetDown of checkout's probe at Alertmanager", async () => sentMatching({ alertname: "TargetDown", ...probe })[0], 60, 250, context);
        expect(down.labels.service).toBe(BLACKBOX_APP);
        // Prometheus itself still names the probed service; only what Alertmanager groups and inhibits by changes.
        expect(inPrometheus.metric.service).toBe("checkout");
        expect(sentMatching({ alertname: "TargetDown", job: PROBE_JOBS.services }).every((a) => a.labels.service === BLACKBOX_APP)).toBe(true);
    });
});
