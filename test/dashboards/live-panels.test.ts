/**
 * No empty panel, live on 127.0.0.1: a real Prometheus loads the generated recording and alerting
 * rules and scrapes, through the generated prometheus.yml, a synthetic cluster of applications
 * (test/support/synthetic-exporter.ts SyntheticWorld: six services, ten pods, many routes,
 * providers, caches and databases), a real node_exporter, a real redis-server through the real
 * redis_exporter and a real PostgreSQL through the real postgres_exporter. Every query of every
 * panel of every dashboard (allPanelQueries, default `prometheus` preset, as Grafana sends it for
 * a 1,200 px wide panel over the dashboards' default range) must return at least one series with a
 * finite value, twice: with every variable on "All", and with every variable set to concrete
 * values picked from the options its own `label_values()` query lists.
 *
 * Synthetic stand-ins (series that cannot exist on this machine, emitted by the SyntheticWorld
 * with their upstream names and labels; the README lists them):
 * - cAdvisor (kubelet `/metrics/cadvisor`, scraped by the generated `cadvisor` job):
 *   container_cpu_usage_seconds_total, container_memory_working_set_bytes,
 *   container_cpu_cfs_periods_total, container_cpu_cfs_throttled_periods_total,
 *   container_network_receive_bytes_total, container_network_transmit_bytes_total
 *   (labels container, id, image, name, namespace, pod; network ones also interface).
 * - kube-state-metrics (scraped by the generated `kube-state-metrics` job, honor_labels):
 *   kube_pod_status_phase, kube_pod_container_status_restarts_total,
 *   kube_pod_container_resource_limits, kube_deployment_status_replicas_available,
 *   kube_node_status_condition.
 * - The applications themselves: every TELEMETRY-CONTRACT application family (http_*,
 *   active_users, websocket_*, llm_*, cache_*, db_*), scraped by the generated `kubernetes-pods`
 *   job through pod annotations (prometheus.io/scrape, port, path).
 * Real: node_exporter (node_*), redis_exporter → redis-server (redis_*), postgres_exporter →
 * PostgreSQL 15 (pg_*), blackbox_exporter with the generated blackbox.yml probing the services'
 * health endpoints over HTTP and one over HTTPS (probe_*), and Prometheus itself (up, ALERTS,
 * every recording rule).
 *
 * What differs from the generated artifacts, and why:
 * - Discovery is static (local-alerting.ts withStaticDiscovery): each job's targets carry the
 *   `__meta_kubernetes_*` labels discovery would set, so the generated relabeling runs for real.
 *   The `cadvisor` job is scraped over plain HTTP without the service-account token (there is no
 *   kubelet to authenticate to); its relabeling and metric drops are unchanged. Jobs with nothing
 *   to scrape here are dropped (kubelet, kubernetes-services, grafana, loki, jaeger, collectors,
 *   alertmanager); there is no Alertmanager.
 * - redis and postgres exporters are static jobs, as `prometheus.staticTargets` generates them.
 * - The probe jobs (stackProbeJobs) address the local blackbox_exporter instead of its Service;
 *   the annotated Services they discover point at the synthetic services' `/health` on 127.0.0.1
 *   (one over HTTPS with a throwaway certificate that blackbox_exporter trusts through
 *   SSL_CERT_FILE, standing in for the pod's CA bundle).
 * - Scrape and evaluation intervals are 2 s (the generator's own arguments).
 * - History: the SLO panels read the 1h SLI rule at whole hours (`[30d:1h]` subqueries), which a
 *   Prometheus only has once it ran across an hour boundary. So, before the live Prometheus
 *   starts, 80 minutes of the same world's history (60 s apart, with the labels the generated
 *   relabeling gives the live scrapes: a test checks they are the same series) are written with
 *   `promtool tsdb create-blocks-from openmetrics` and the generated recording rules backfilled
 *   over it with `promtool tsdb create-blocks-from rules`, as after a rules rollout.
 *
 * Binaries: .tools/bin/{prometheus,promtool,node_exporter,redis_exporter,postgres_exporter},
 * /usr/bin/redis-server, /usr/lib/postgresql/<version>/bin/{initdb,postgres}; a missing one fails
 * with `bash scripts/install-test-tools.sh --with-system-packages`. PostgreSQL runs as `nobody`
 * (it refuses root). Every wait is bounded; afterAll stops everything.
 */
import * as fs from "fs";
import * as https from "https";
import * as net from "net";
import * as path from "path";
import { prometheusConfig } from "../../components/prometheus/config";
import { componentTargets, stackProbeJobs } from "../../components/stack";
import { annotationMeta, PROBE_ANNOTATIONS, probeAlertRelabelConfigs, renderBlackboxConfig } from "../../components/blackbox/config";
import { stackRuleFiles } from "../../alerts";
import { allPanelQueries, buildDashboards, dashboardConfigOf, dashboardVariables } from "../../dashboards";
import type { DashboardVariable, PanelQuery } from "../../dashboards";
import { freePorts, makeTempDir, ManagedProcess, ProcessRegistry, sleep, waitFor } from "../support/processes";
import { DiscoveredTargets, podMeta, prodStackConfig, withStaticDiscovery, writeYaml } from "../support/local-alerting";
import { HEALTH_PATH, HEALTHY_JSON, SyntheticWorld, SyntheticWorldServer, WorldServiceSpec, writeOpenMetricsHistory, HistoryTarget } from "../support/synthetic-exporter";
import {
    alignedRange, backfillRecordingRules, blocksFromOpenMetrics, getJson, grafanaStep, hasFiniteValue, PanelTiming, panelExpr, postgresBinaries, promQuery,
    QueryData, requireBinary, resolveVariables, runCommand, testTool,
} from "../support/dashboard-data";

jest.setTimeout(600_000);

const NS = "shop";
/** The service in trouble (20 % 5xx): its alerts fire, so "Firing alerts" has rows for it. */
const FAULTY = "assistant";
const NODE = "node-a";
const SCRAPE_SECONDS = 2;
const PANEL_WIDTH_PX = 1200;
const HISTORY_MINUTES = 80;
const HISTORY_STEP_SECONDS = 60;

const r = (method: string, route: string) => ({ method, route });
const SERVICES: WorldServiceSpec[] = [
    {
        name: "assistant", namespace: NS, replicas: 2, requestRate: 12, errorRatio: 0.2, latencySeconds: 0.4,
        routes: [r("GET", "/api/v1/conversations"), r("POST", "/api/v1/conversations"), r("GET", "/api/v1/conversations/{id}"), r("POST", "/api/v1/completions")],
        statuses: ["200", "201", "400", "429", "500", "503"], websocket: true,
        providers: [{ provider: "openai", models: ["gpt-4o", "gpt-4o-mini"] }, { provider: "anthropic", models: ["claude-sonnet-4"] }],
        caches: ["sessions"], databases: ["conversations"],
    },
    { name: "cart", namespace: NS, replicas: 2, routes: [r("GET", "/api/v1/cart"), r("POST", "/api/v1/cart/items"), r("DELETE", "/api/v1/cart/items/{id}")], statuses: ["200", "201", "404", "500"], caches: ["carts"], databases: ["shop"] },
    { name: "catalog", namespace: NS, replicas: 3, requestRate: 60, latencySeconds: 0.02, routes: [r("GET", "/api/v1/products"), r("GET", "/api/v1/products/{id}"), r("GET", "/api/v1/categories")], statuses: ["200", "304", "404", "500"], caches: ["products"], databases: ["shop"] },
    { name: "chat", namespace: NS, routes: [r("GET", "/ws"), r("POST", "/api/v1/messages")], websocket: true, providers: [{ provider: "openai", models: ["gpt-4o-mini"] }], caches: ["presence"], databases: ["conversations"] },
    { name: "checkout", namespace: NS, routes: [r("POST", "/api/v1/checkout"), r("GET", "/api/v1/orders/{id}")], statuses: ["200", "201", "402", "409", "500", "503"], caches: ["idempotency"], databases: ["shop", "payments"] },
    { name: "search", namespace: NS, routes: [r("GET", "/api/v1/search"), r("GET", "/api/v1/suggest")], providers: [{ provider: "cohere", models: ["embed-english-v3"] }], caches: ["results"], databases: ["shop"] },
];

/** Waits (bounded) until a TCP port accepts connections. */
async function waitForTcp(port: number, what: string, proc: ManagedProcess): Promise<void> {
    await waitFor(
        `${what} on 127.0.0.1:${port}`,
        () =>
            new Promise<true | undefined>((resolve) => {
                if (!proc.running) throw new Error(`${what} ${proc.describeExit()}:\n${proc.logTail()}`);
                const s = net.connect(port, "127.0.0.1");
                s.once("connect", () => {
                    s.destroy();
                    resolve(true);
                });
                s.once("error", () => resolve(undefined));
            }),
        120,
        250,
        () => proc.logTail(),
    );
}

interface Failure {
    readonly q: PanelQuery;
    readonly expr: string;
    readonly why: string;
}

describe("every dashboard panel returns data, live on 127.0.0.1", () => {
    const cfg = prodStackConfig();
    const dashCfg = dashboardConfigOf(cfg);
    const queries = allPanelQueries(dashCfg);
    const variables = dashboardVariables(dashCfg);
    const tmp = makeTempDir("obs-live-panels");
    const registry = new ProcessRegistry(tmp);
    const world = new SyntheticWorld({ services: SERVICES, nodes: [NODE], originSeconds: Math.floor(Date.now() / 1000) - 3 * 3600 });
    const server = new SyntheticWorldServer(world);
    let promUrl = "";
    let postgres: ManagedProcess | undefined;
    let historyFrom = 0;
    let historyTo = 0;
    const context = () => registry.logs(15);

    /** The dashboards' default time range in seconds (`now-1h` → 3600). */
    const defaultRangeSeconds = (() => {
        const from = String(buildDashboards(dashCfg)[0]!.time?.from ?? "now-1h");
        const m = /^now-(\d+)([smhd])$/.exec(from);
        if (!m) throw new Error(`unexpected default time range ${from}`);
        return Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[m[2] as "s" | "m" | "h" | "d"];
    })();

    beforeAll(async () => {
        // A missing binary fails here, naming the install command.
        const bin = {
            prometheus: testTool("prometheus"),
            promtool: testTool("promtool"),
            nodeExporter: testTool("node_exporter"),
            redisExporter: testTool("redis_exporter"),
            postgresExporter: testTool("postgres_exporter"),
            blackboxExporter: testTool("blackbox_exporter"),
            openssl: requireBinary("/usr/bin/openssl", "openssl"),
            redis: requireBinary("/usr/bin/redis-server", "redis-server"),
            setpriv: requireBinary("/usr/bin/setpriv", "setpriv (util-linux)"),
            ...postgresBinaries(),
        };
        expect(cfg.metricPreset).toBe("prometheus");
        const [promPort, nodePort, redisPort, redisExporterPort, pgPort, pgExporterPort, blackboxPort] = await freePorts(7);
        await server.start();
        registry.onStop(() => server.stop());

        // --- Target labels as the generated relabeling sets them (checked against live below).
        const appTarget = (p: (typeof world.pods)[number]) => ({ job: "kubernetes-pods", instance: server.address, namespace: p.namespace, pod: p.pod, container: p.container, node: p.node, service: p.service });
        const ksmPod = podMeta({ ns: cfg.namespaces.monitoring, pod: "kube-state-metrics-6d4b7c9f8-q7x2m", container: "kube-state-metrics", app: "kube-state-metrics", extra: { __meta_kubernetes_pod_container_port_name: "http-metrics" } });
        const ksmTarget = { job: "kube-state-metrics", instance: server.address, namespace: cfg.namespaces.monitoring, pod: ksmPod.__meta_kubernetes_pod_name!, container: "kube-state-metrics", node: NODE, service: "kube-state-metrics" };
        const cadvisorTarget = { job: "cadvisor", instance: server.address, node: NODE, service: "kubelet" };

        // --- History: raw series, then the recording rules over them, into the TSDB directory.
        const dataDir = path.join(tmp, "prom-data");
        fs.mkdirSync(dataDir);
        const now = Math.floor(Date.now() / 1000);
        historyTo = Math.floor((now - 60) / HISTORY_STEP_SECONDS) * HISTORY_STEP_SECONDS;
        historyFrom = historyTo - HISTORY_MINUTES * 60;
        const history: HistoryTarget[] = [
            ...world.pods.map((p) => ({ series: world.applicationSeries(p), labels: appTarget(p) })),
            { series: world.cadvisorSeries(NODE), labels: cadvisorTarget },
            { series: world.kubeStateSeries(), labels: ksmTarget, honorLabels: true },
        ];
        const omFile = path.join(tmp, "history.om");
        writeOpenMetricsHistory(omFile, history, { fromSeconds: historyFrom, toSeconds: historyTo, stepSeconds: HISTORY_STEP_SECONDS, originSeconds: world.originSeconds });
        await blocksFromOpenMetrics(bin.promtool, omFile, dataDir);
        fs.rmSync(omFile);
        const ruleFiles = stackRuleFiles(cfg);
        await backfillRecordingRules({ prometheus: bin.prometheus, promtool: bin.promtool, dataDir, workDir: path.join(tmp, "backfill"), registry, ruleFiles, start: historyFrom, end: historyTo, evalInterval: `${HISTORY_STEP_SECONDS}s` });

        // --- Real exporters and the servers behind them.
        await registry.start({
            name: "node-exporter",
            binary: bin.nodeExporter,
            args: [`--web.listen-address=127.0.0.1:${nodePort}`, "--collector.disable-defaults", "--collector.cpu", "--collector.meminfo", "--collector.filesystem", "--collector.diskstats", "--collector.netdev"],
            readyUrl: `http://127.0.0.1:${nodePort}/metrics`,
        });
        const redis = await registry.start({ name: "redis-server", binary: bin.redis, args: ["--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"] });
        await waitForTcp(redisPort!, "redis-server", redis);
        startRedisTraffic(redisPort!);
        await registry.start({ name: "redis-exporter", binary: bin.redisExporter, args: [`--redis.addr=redis://127.0.0.1:${redisPort}`, `--web.listen-address=127.0.0.1:${redisExporterPort}`], readyUrl: `http://127.0.0.1:${redisExporterPort}/metrics` });

        const pgRoot = path.join(tmp, "pg");
        fs.chmodSync(tmp, 0o755);
        fs.mkdirSync(path.join(pgRoot, "sock"), { recursive: true });
        const NOBODY = 65534;
        const asNobody = [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", "--"];
        for (const d of [pgRoot, path.join(pgRoot, "sock")]) fs.chownSync(d, NOBODY, NOBODY);
        await runCommand(bin.setpriv, [...asNobody, bin.initdb, "-D", path.join(pgRoot, "data"), "-U", "postgres", "--auth=trust", "--no-locale", "-E", "UTF8", "--no-sync"], { timeoutMs: 120_000, cwd: pgRoot, logFile: path.join(tmp, "initdb.log") });
        postgres = await registry.start({
            name: "postgres",
            binary: bin.setpriv,
            cwd: pgRoot,
            args: [...asNobody, bin.postgres, "-D", path.join(pgRoot, "data"), "-p", String(pgPort), "-k", path.join(pgRoot, "sock"), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "shared_buffers=16MB", "-c", "max_connections=20"],
        });
        await waitForTcp(pgPort!, "postgres", postgres);
        await registry.start({
            name: "postgres-exporter",
            binary: bin.postgresExporter,
            args: [`--web.listen-address=127.0.0.1:${pgExporterPort}`],
            env: { ...process.env, DATA_SOURCE_NAME: `postgresql://postgres@127.0.0.1:${pgPort}/postgres?sslmode=disable` },
            readyUrl: `http://127.0.0.1:${pgExporterPort}/metrics`,
        });

        // --- Probes: the generated blackbox.yml; the FAULTY service's health over HTTPS.
        const certDir = path.join(tmp, "tls");
        fs.mkdirSync(certDir);
        const [key, cert] = [path.join(certDir, "key.pem"), path.join(certDir, "cert.pem")];
        await runCommand(bin.openssl, ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert, "-days", "60", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"], { timeoutMs: 30_000 });
        const tlsServer = https.createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(cert) }, (req, res) => {
            if (req.url === HEALTH_PATH) res.writeHead(200, { "Content-Type": "application/json" }).end(HEALTHY_JSON);
            else res.writeHead(404).end();
        });
        await new Promise<void>((resolve, reject) => {
            tlsServer.once("error", reject);
            tlsServer.listen(0, "127.0.0.1", () => resolve());
        });
        registry.onStop(
            () =>
                new Promise<void>((resolve) => {
                    tlsServer.closeAllConnections();
                    tlsServer.close(() => resolve());
                }),
        );
        const tlsPort = (tlsServer.address() as net.AddressInfo).port;
        const blackboxFile = path.join(tmp, "blackbox.yml");
        fs.writeFileSync(blackboxFile, renderBlackboxConfig({ targets: cfg.probes.targets }));
        await registry.start({
            name: "blackbox-exporter",
            binary: bin.blackboxExporter,
            args: [`--config.file=${blackboxFile}`, `--web.listen-address=127.0.0.1:${blackboxPort}`],
            env: { ...process.env, SSL_CERT_FILE: cert },
            readyUrl: `http://127.0.0.1:${blackboxPort}/metrics`,
        });
        const probeJobs = stackProbeJobs({ ...cfg, prometheus: { ...cfg.prometheus, scrapeInterval: `${SCRAPE_SECONDS}s` } }) as Record<string, any>[];
        for (const job of probeJobs) {
            for (const rl of job.relabel_configs ?? []) if (rl.target_label === "__address__" && rl.replacement) rl.replacement = `127.0.0.1:${blackboxPort}`;
        }

        // --- Prometheus: the generated config, discovery made static, generated rules.
        const prom = prometheusConfig({
            clusterName: cfg.clusterName,
            environment: cfg.environment,
            scrapeInterval: `${SCRAPE_SECONDS}s`,
            evaluationInterval: `${SCRAPE_SECONDS}s`,
            alertmanagers: [],
            components: componentTargets(cfg),
            staticJobs: [
                ...cfg.prometheus.staticTargets,
                { job: "redis", targets: [`127.0.0.1:${redisExporterPort}`], labels: { namespace: "data" } },
                { job: "postgres", targets: [`127.0.0.1:${pgExporterPort}`], labels: { namespace: "data" } },
            ],
            extraJobs: probeJobs,
            alertRelabelConfigs: probeAlertRelabelConfigs(),
        }) as Record<string, any>;
        const discovered: DiscoveredTargets = {
            "kubernetes-pods": world.pods.map((p) => ({
                // Discovery gives the pod IP; the annotations set the port and path.
                targets: ["127.0.0.1:9"],
                labels: podMeta({
                    ns: p.namespace, pod: p.pod, container: p.container, app: p.service,
                    extra: {
                        __meta_kubernetes_pod_annotation_prometheus_io_scrape: "true",
                        __meta_kubernetes_pod_annotation_prometheus_io_port: String(server.port),
                        __meta_kubernetes_pod_annotation_prometheus_io_path: SyntheticWorldServer.podPath(p),
                    },
                }),
            })),
            "node-exporter": [{ targets: [`127.0.0.1:${nodePort}`], labels: podMeta({ ns: cfg.namespaces.agents, pod: "node-exporter-x2k4q", container: "node-exporter", app: "node-exporter", extra: { __meta_kubernetes_pod_container_port_name: "metrics" } }) }],
            "kube-state-metrics": [{ targets: [server.address], labels: ksmPod }],
            cadvisor: [{ targets: [server.address], labels: { __meta_kubernetes_node_name: NODE } }],
            // Services annotated for probing, as role `service` discovery lists them (one port each).
            "service-probes": [...new Set(world.pods.map((p) => p.service))].map((svc) => {
                const tls = svc === FAULTY;
                const port = tls ? tlsPort : server.port;
                return {
                    targets: [`127.0.0.1:${port}`],
                    labels: {
                        __meta_kubernetes_namespace: NS,
                        __meta_kubernetes_service_name: svc,
                        __meta_kubernetes_service_port_name: "http",
                        __meta_kubernetes_service_port_number: String(port),
                        [annotationMeta(PROBE_ANNOTATIONS.path, true)]: "true",
                        [annotationMeta(PROBE_ANNOTATIONS.path)]: HEALTH_PATH,
                        ...(tls ? { [annotationMeta(PROBE_ANNOTATIONS.scheme, true)]: "true", [annotationMeta(PROBE_ANNOTATIONS.scheme)]: "https" } : {}),
                    },
                };
            }),
            "blackbox-exporter": [{ targets: [`127.0.0.1:${blackboxPort}`], labels: podMeta({ ns: cfg.namespaces.monitoring, pod: "blackbox-exporter-5c9d8b7f6-m4k8w", container: "blackbox-exporter", app: "blackbox-exporter", extra: { __meta_kubernetes_pod_container_port_name: "http" } }) }],
            prometheus: [{ targets: [`127.0.0.1:${promPort}`], labels: podMeta({ ns: cfg.namespaces.monitoring, pod: "prometheus-0", container: "prometheus", app: "prometheus", extra: { __meta_kubernetes_pod_container_port_name: "web" } }) }],
        };
        withStaticDiscovery(prom, discovered);
        const cadvisor = (prom.scrape_configs as Record<string, any>[]).find((j) => j.job_name === "cadvisor")!;
        cadvisor.scheme = "http";
        delete cadvisor.authorization;
        delete cadvisor.tls_config;
        const rulesDir = path.join(tmp, "rules");
        fs.mkdirSync(rulesDir);
        for (const [name, text] of Object.entries(ruleFiles)) fs.writeFileSync(path.join(rulesDir, name), text);
        prom.rule_files = [path.join(rulesDir, "*.yml")];
        const promFile = path.join(tmp, "prometheus.yml");
        writeYaml(promFile, prom);
        promUrl = `http://127.0.0.1:${promPort}`;
        await registry.start({
            name: "prometheus",
            binary: bin.prometheus,
            args: [`--config.file=${promFile}`, `--storage.tsdb.path=${dataDir}`, `--web.listen-address=127.0.0.1:${promPort}`],
            readyUrl: `${promUrl}/-/ready`,
            readyTries: 480,
        });

        // --- Enough live data: every target up, every rule group evaluated twice (the 1m
        // budget group once), and the faulty service's alerts firing.
        const services = new Set(world.pods.map((p) => p.service)).size;
        const expectedUp: Record<string, number> = { "kubernetes-pods": world.pods.length, "node-exporter": 1, "kube-state-metrics": 1, cadvisor: 1, prometheus: 1, redis: 1, postgres: 1, "blackbox-exporter": 1, "service-probes": services };
        await waitFor(
            "every target up",
            async () => {
                const res = (await promQuery(promUrl, "sum by (job) (up == 1)", { time: Date.now() / 1000 })).data.result;
                const up = Object.fromEntries(res.map((s) => [s.metric.job, Number(s.value![1])]));
                return Object.entries(expectedUp).every(([job, n]) => up[job] === n) ? true : undefined;
            },
            120,
            500,
            context,
        );
        const liveStart = Date.now() / 1000;
        await waitFor(
            "every rule group to be evaluated after the live start",
            async () => {
                const res = await getJson<{ groups: { name: string; interval: number; lastEvaluation: string; rules: { health: string; lastError?: string; name: string }[] }[] }>(`${promUrl}/api/v1/rules`);
                const groups = res.data.groups;
                const broken = groups.flatMap((g) => g.rules.filter((x) => x.health === "err").map((x) => `${g.name}/${x.name}: ${x.lastError}`));
                if (broken.length) throw new Error(`rules failing: ${broken.join("; ")}`);
                return groups.length > 0 && groups.every((g) => Date.parse(g.lastEvaluation) / 1000 > liveStart + (g.interval > 10 ? 0 : 2 * SCRAPE_SECONDS)) ? true : undefined;
            },
            180,
            1000,
            context,
        );
        await waitFor(
            `an alert firing for ${NS}/${FAULTY}`,
            async () => ((await promQuery(promUrl, `ALERTS{alertstate="firing",namespace="${NS}",service="${FAULTY}"}`, { time: Date.now() / 1000 })).data.result.length ? true : undefined),
            180,
            1000,
            context,
        );
        // $__rate_interval windows (4 scrapes) full of live samples.
        await sleep(5 * SCRAPE_SECONDS * 1000);
    });

    afterAll(async () => {
        // Fast shutdown (SIGINT) so PostgreSQL does not wait for the exporter's connections.
        if (postgres?.pid && postgres.running) {
            try {
                process.kill(postgres.pid, "SIGINT");
            } catch {
                /* gone */
            }
        }
        await registry.stopAll();
        if (process.env.KEEP_LIVE_PANELS_TMP !== "1") fs.rmSync(tmp, { recursive: true, force: true });
    });

    /** Opens a fresh loopback connection to redis-server and runs lookups (hits and misses) until stopped. */
    function startRedisTraffic(port: number): void {
        const socket = net.connect(port, "127.0.0.1");
        socket.on("data", () => undefined);
        socket.on("error", () => undefined);
        let i = 0;
        const timer = setInterval(() => {
            i++;
            socket.write(`SET cart:${i % 50} ${i}\r\nGET cart:${i % 50}\r\nGET cart:${(i % 50) + 1}\r\nGET missing:${i}\r\n`);
        }, 200);
        registry.onStop(async () => {
            clearInterval(timer);
            socket.destroy();
        });
    }

    /** Runs every panel query with `values` (per dashboard), as Grafana would; returns what came back empty. */
    async function runAll(valuesOf: (uid: string) => Record<string, string | readonly string[]>): Promise<Failure[]> {
        const failures: Failure[] = [];
        const end = Date.now() / 1000;
        for (const q of queries) {
            expect(q.datasourceType).toBe("prometheus");
            const timing: PanelTiming = grafanaStep(defaultRangeSeconds, PANEL_WIDTH_PX, SCRAPE_SECONDS, q.minInterval);
            const range = alignedRange(end, timing);
            const expr = panelExpr(q, valuesOf(q.dashboardUid), timing);
            const left = expr.match(/\$[A-Za-z_{]/);
            if (left) {
                failures.push({ q, expr, why: `variable left unsubstituted (${left[0]})` });
                continue;
            }
            const res = await promQuery(promUrl, expr, q.instant ? { time: range.end } : range);
            if (res.status !== "success") failures.push({ q, expr, why: `error: ${res.error}` });
            else if (res.data.result.length === 0) failures.push({ q, expr, why: "no series" });
            else if (!hasFiniteValue(res.data as QueryData)) failures.push({ q, expr, why: "only NaN/Inf values" });
        }
        return failures;
    }

    const report = (failures: readonly Failure[]) =>
        failures.map((f) => `- ${f.q.dashboardUid} | ${f.q.panelTitle} | ${f.q.refId} (${f.q.instant ? "instant" : "range"}): ${f.why}\n    ${f.expr.replace(/\n/g, " ")}`).join("\n");

    test("the backfilled history and the live scrapes are the same series (the generated relabeling's labels)", async () => {
        const p = world.pods.find((x) => x.service === FAULTY)!;
        const sel = `http_requests_total{pod="${p.pod}",method="POST",route="/api/v1/completions",status="500"}`;
        const res = (await promQuery(promUrl, sel, { start: historyFrom, end: Date.now() / 1000, step: 15 })).data.result;
        expect(res).toHaveLength(1);
        const times = res[0]!.values!.map(([t]) => t);
        expect(Math.min(...times)).toBeLessThan(historyTo);
        expect(Math.max(...times)).toBeGreaterThan(historyTo + 60);
        expect(res[0]!.metric).toEqual({ __name__: "http_requests_total", job: "kubernetes-pods", instance: server.address, namespace: NS, pod: p.pod, container: FAULTY, node: NODE, service: FAULTY, method: "POST", route: "/api/v1/completions", status: "500" });
        // The counter continues across the boundary: no reset between history and live.
        const resets = (await promQuery(promUrl, `resets(${sel}[2h])`, { time: Date.now() / 1000 })).data.result;
        expect(resets.map((s) => s.value![1])).toEqual(["0"]);
    });

    test("with every variable on All (the dashboards' default), every panel query returns data", async () => {
        const values = (): Record<string, string> => Object.fromEntries(variables.filter((v) => v.type === "query").map((v) => [v.name, v.allValue ?? ".*"]));
        const failures = await runAll(values);
        if (failures.length) throw new Error(`${failures.length} of ${queries.length} panel queries returned no data with All selected:\n${report(failures)}`);
    });

    test("with variables set to concrete values from their own options, every panel query returns data", async () => {
        const now = Date.now() / 1000;
        const range = { start: now - defaultRangeSeconds, end: now };
        const picks: Record<string, Record<string, string | readonly string[]>> = {};
        const chosen: string[] = [];
        const choose = (v: DashboardVariable, options: readonly string[]): readonly string[] | "all" => {
            if (options.length === 0) return "all"; // e.g. `cluster`: an external label, absent inside one Prometheus.
            if (v.name === "namespace") return [NS];
            if (v.name === "service") {
                const other = options.find((o) => o !== FAULTY);
                return other ? [FAULTY, other] : [FAULTY];
            }
            if (v.name === "route") return [options.find((o) => o.includes("{")) ?? options[0]!];
            return [options[0]!];
        };
        for (const uid of [...new Set(variables.map((v) => v.dashboardUid))]) {
            const { values, options } = await resolveVariables(promUrl, variables.filter((v) => v.dashboardUid === uid), range, choose);
            picks[uid] = values;
            chosen.push(`${uid}: ${Object.entries(values).map(([k, v]) => `${k}=${typeof v === "string" ? v : v.join("|")} (of ${options[k]!.length})`).join(", ")}`);
        }
        const failures = await runAll((uid) => picks[uid]!);
        if (failures.length) throw new Error(`${failures.length} of ${queries.length} panel queries returned no data with\n${chosen.join("\n")}\n${report(failures)}`);
    });
});
