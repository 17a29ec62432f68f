/**
 * Alert delivery latency with the PROD timings: from the moment Prometheus marks a critical alert
 * firing to the moment the webhook sink receives the notification, median of several runs.
 *
 *     npm run bench -- delivery                                   (5 runs)
 *     npx ts-node --transpile-only scripts/bench-delivery.ts [--runs N]
 *
 * What runs, all on 127.0.0.1 (the building blocks of test/e2e/alerting-live.test.ts):
 * - Prometheus with the generated prometheus.yml of the prod stack: prod scrape and evaluation
 *   intervals (config/defaults.ts, 15 s), the prod replica external label, the alerting block
 *   listing every Alertmanager; pod discovery made static so the generated relabeling runs.
 *   Rules: the generated self-monitoring rules plus one bench-only critical alert with `for: 0s`
 *   on the error ratio of a synthetic application (test/support/synthetic-exporter.ts).
 * - Three clustered Alertmanagers with the generated alertmanager.yml, unshortened: the critical
 *   route's group_wait / group_interval come from alerts/routing.ts CADENCE.critical, and the
 *   command line is the StatefulSet's (default peer timeout 15 s, gossip defaults). Only the
 *   receiver URLs point at a local webhook sink, through the credential files.
 *
 * One run: switch the fault on, read the moment the alert became firing from Prometheus, wait for
 * the firing notification at both receivers of the critical route (PagerDuty and Slack), switch
 * the fault off, wait for the resolved notification. Latency of the run = the later of the two
 * receipts − firing moment (every paging channel has the page).
 *
 * Each run measures a FIRST notification (group_wait, not group_interval): each run uses its own
 * service, i.e. its own alert group key (alertname, service, cluster), checked absent from every
 * Alertmanager before the fault is switched on. Reusing one service and waiting until its group is
 * gone does not work with the prod timings: Prometheus re-sends a resolved alert every
 * resend-delay (1 m) for 15 minutes, and each re-send can open a fresh, resolved-only aggregation
 * group in the Alertmanagers (invisible in the API, which lists active alerts only). A new firing
 * alert landing in such a group waits for its group_interval (1 m) instead of group_wait, so the
 * run would measure a follow-up notification; waiting the re-sends out would cost 15 min per run.
 *
 * Everything is bounded (each wait has a try count and an interval) and every process is stopped
 * at the end, also on error or Ctrl-C. A missing binary fails with the install command.
 */
import * as fs from "fs";
import * as path from "path";
import { CADENCE } from "../alerts/routing";
import { renderRuleFiles, selfMonitoringGroups, RuleGroup } from "../alerts";
import { prometheusConfig } from "../components/prometheus/config";
import { componentTargets } from "../components/stack";
import { freePorts, httpGet, makeTempDir, ProcessRegistry, toolBinary, waitFor } from "../test/support/processes";
import { SyntheticExporter, startSyntheticExporter } from "../test/support/synthetic-exporter";
import {
    DiscoveredTargets,
    localAlertmanagerConfig,
    parseDelivery,
    podMeta,
    prodStackConfig,
    SinkRecord,
    startAlertmanagerCluster,
    startWebhookSink,
    withStaticDiscovery,
    writeYaml,
} from "../test/support/local-alerting";

const ALERT = "BenchDeliveryErrorRate";
const TARGET_SECONDS = 15;
const MIN_RUNS = 5;
/** Share of failing requests while the fault is on (the alert fires above 15 %). */
const FAULT_ERROR_RATIO = 1;
/** The paging receivers of the critical route, by sink path. */
const CRITICAL_PATHS = ["/pagerduty", "/slack"] as const;
const NAMESPACE = "bench";

interface RunResult {
    readonly run: number;
    readonly service: string;
    /** Fault switched on → activeAt (informational: depends on scrape/eval phase and rate window). */
    readonly faultToFiringMs: number;
    /** Firing → receipt, per sink path. */
    readonly receiptMs: Record<(typeof CRITICAL_PATHS)[number], number>;
    /** Firing → the later receipt: the run's latency. */
    readonly latencyMs: number;
    /** Firing notifications per path for this run (1 each = deduplicated across the cluster). */
    readonly copies: Record<(typeof CRITICAL_PATHS)[number], number>;
    /** Fault switched off → resolved notification at every critical receiver. */
    readonly resolvedAfterClearMs: number;
}

function parseRuns(argv: readonly string[]): number {
    const i = argv.indexOf("--runs");
    const raw = i >= 0 ? argv[i + 1] : process.env.BENCH_DELIVERY_RUNS;
    if (raw === undefined) return MIN_RUNS;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > 50) throw new Error(`--runs must be an integer within 1..50, got "${raw}"`);
    return n;
}

function median(xs: readonly number[]): number {
    const s = [...xs].sort((a, b) => a - b);
    const m = Math.floor(s.length / 2);
    return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const sec = (ms: number, digits = 2) => `${(ms / 1000).toFixed(digits)} s`;

/** Duration string of Prometheus/Alertmanager ("15s", "1m", "1h30m") in milliseconds. */
function durationMs(d: string): number {
    const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
    let total = 0;
    const re = /(\d+)(ms|s|m|h|d)/g;
    let consumed = "";
    for (let m = re.exec(d); m; m = re.exec(d)) {
        total += Number(m[1]) * units[m[2]!]!;
        consumed += m[0];
    }
    if (consumed !== d) throw new Error(`cannot parse duration "${d}"`);
    return total;
}

async function main(argv: readonly string[]): Promise<number> {
    const runs = parseRuns(argv);
    // Fail first, with the install command, when a binary is missing.
    const bin = { prometheus: toolBinary("prometheus"), alertmanager: toolBinary("alertmanager") };

    const cfg = prodStackConfig();
    const tmp = makeTempDir("bench-delivery");
    // In-process servers (sink, synthetic applications); the binaries get a registry per attempt.
    const registry = new ProcessRegistry(tmp);
    let procs: ProcessRegistry | undefined;
    let stopping = false;
    const stop = async () => {
        if (stopping) return;
        stopping = true;
        await procs?.stopAll();
        await registry.stopAll();
    };
    const onSignal = (sig: NodeJS.Signals) => {
        console.error(`\n${sig}: stopping every process the bench started`);
        void stop().finally(() => process.exit(130));
    };
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);

    let ok = false;
    try {
        const sink = await startWebhookSink();
        registry.onStop(() => sink.close());
        const records: SinkRecord[] = sink.records;

        // One synthetic application per run: each run's alert is a new group key (see the header).
        const services = Array.from({ length: runs }, (_, i) => `bench-${i + 1}`);
        const exporters: SyntheticExporter[] = [];
        for (const name of services) {
            const e = await startSyntheticExporter({ services: [{ name }] });
            registry.onStop(() => e.stop());
            exporters.push(e);
        }

        // The real binaries on free loopback ports. A port is free when picked but only bound when
        // the binary starts: when another process takes it in between, start again on fresh ports.
        const startBinaries = async (dir: string, binaries: ProcessRegistry) => {
            const [promPort, ...amPorts] = await freePorts(1 + 6);
            const amWeb = amPorts.slice(0, 3);
            const amCluster = amPorts.slice(3, 6);

            // --- Alertmanager: generated config with the prod cadence, receiver URLs → the sink.
            const am = localAlertmanagerConfig(cfg, dir, sink.url);
            const criticalRoutes = (am.route.routes as Record<string, any>[]).filter((r) => (r.matchers ?? []).includes('severity="critical"'));
            if (criticalRoutes.length === 0) throw new Error('generated alertmanager.yml has no severity="critical" route');
            for (const r of criticalRoutes) {
                if (r.group_wait !== CADENCE.critical.groupWait || r.group_interval !== CADENCE.critical.groupInterval) {
                    throw new Error(`critical route of ${r.receiver} has group_wait ${r.group_wait} / group_interval ${r.group_interval}, expected CADENCE.critical`);
                }
            }
            const amFile = path.join(dir, "alertmanager.yml");
            writeYaml(amFile, am);
            // The StatefulSet's flags (components/alertmanager), loopback addresses instead of pod DNS.
            await startAlertmanagerCluster(binaries, {
                binary: bin.alertmanager,
                configFile: amFile,
                dir,
                webPorts: amWeb,
                clusterPorts: amCluster,
                extraArgs: ["--data.retention=120h", "--cluster.reconnect-timeout=5m"],
            });

            // --- Prometheus: the generated prod prometheus.yml with discovery made static.
            const prom = prometheusConfig({
                clusterName: cfg.clusterName,
                environment: cfg.environment,
                scrapeInterval: cfg.prometheus.scrapeInterval,
                evaluationInterval: cfg.prometheus.evaluationInterval,
                alertmanagers: amWeb.map((p) => `127.0.0.1:${p}`),
                components: componentTargets(cfg),
                staticJobs: cfg.prometheus.staticTargets,
                // What components/prometheus sets for prod's 2 replicas.
                replicaExternalLabel: cfg.prometheus.replicas > 1,
            }) as Record<string, any>;
            const monitoringNs = cfg.namespaces.monitoring;
            const discovered: DiscoveredTargets = {
                "kubernetes-pods": services.map((svc, i) => ({
                    targets: ["127.0.0.1:9"], // the pod IP with its container port; the annotation port replaces it
                    labels: podMeta({
                        ns: NAMESPACE,
                        pod: `${svc}-7d9f8-abcde`,
                        container: svc,
                        app: svc,
                        extra: {
                            __meta_kubernetes_pod_annotation_prometheus_io_scrape: "true",
                            __meta_kubernetes_pod_annotation_prometheus_io_port: String(exporters[i]!.port),
                        },
                    }),
                })),
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
            const rulesDir = path.join(dir, "rules");
            fs.mkdirSync(rulesDir);
            prom.rule_files = [path.join(rulesDir, "*.yml")];
            // The rate window spans 4 scrapes at the prod interval (a shorter one would often hold a
            // single sample and give no rate at all).
            const window = `${4 * (durationMs(cfg.prometheus.scrapeInterval) / 1000)}s`;
            const benchGroups: RuleGroup[] = [
                {
                    name: "bench.delivery",
                    rules: [
                        {
                            alert: ALERT,
                            expr:
                                `sum by (namespace, service) (rate(http_requests_total{status=~"5.."}[${window}])) / ` +
                                `sum by (namespace, service) (rate(http_requests_total[${window}])) > 0.15`,
                            // Fires on the first evaluation that sees the condition: activeAt is the firing moment.
                            for: "0s",
                            labels: { severity: "critical", team: "platform" },
                            annotations: { summary: "{{ $labels.service }}: {{ $value | humanizePercentage }} of requests fail.", description: "Bench-only rule (scripts/bench-delivery.ts)." },
                        },
                    ],
                },
            ];
            const ruleFiles = { ...renderRuleFiles(selfMonitoringGroups(), { runbookBaseUrl: cfg.runbookBaseUrl }), ...renderRuleFiles(benchGroups, { runbookBaseUrl: cfg.runbookBaseUrl }) };
            for (const [name, text] of Object.entries(ruleFiles)) fs.writeFileSync(path.join(rulesDir, name), text);
            const promFile = path.join(dir, "prometheus.yml");
            writeYaml(promFile, prom);

            const promUrl = `http://127.0.0.1:${promPort}`;
            await binaries.start({
                name: "prometheus",
                binary: bin.prometheus,
                args: [
                    `--config.file=${promFile}`,
                    `--storage.tsdb.path=${path.join(dir, "prom-data")}`,
                    `--web.listen-address=127.0.0.1:${promPort}`,
                    "--web.enable-lifecycle",
                ],
                env: { ...process.env, POD_NAME: "prometheus-0" },
                readyUrl: `${promUrl}/-/ready`,
            });
            return { promUrl, amWeb, criticalRoutes, window };
        };
        let stack: Awaited<ReturnType<typeof startBinaries>> | undefined;
        for (let attempt = 1; stack === undefined; attempt++) {
            const dir = path.join(tmp, `attempt-${attempt}`);
            fs.mkdirSync(dir);
            procs = new ProcessRegistry(dir);
            try {
                stack = await startBinaries(dir, procs);
            } catch (e) {
                const portTaken = /address already in use/.test(`${(e as Error).message}\n${procs.logs(50)}`);
                await procs.stopAll();
                if (!portTaken || attempt >= 3) throw e;
                console.log(`  a port was taken by another process before the binary bound it; starting again on fresh ports (attempt ${attempt + 1}/3)`);
            }
        }
        const { promUrl, amWeb, criticalRoutes, window } = stack;

        const context = () => `sink received: ${JSON.stringify(records.map((r) => ({ path: r.path, at: r.at, d: parseDelivery(r) })))}\n${procs!.logs(15)}`;
        const apiGet = async (p: string): Promise<any> => {
            const r = await httpGet(`${promUrl}${p}`);
            if (r.status !== 200) throw new Error(`GET ${p}: HTTP ${r.status} ${r.body.slice(0, 300)}`);
            return JSON.parse(r.body).data;
        };

        const scrapeMs = durationMs(cfg.prometheus.scrapeInterval);
        console.log(
            `setup: Prometheus scrape ${cfg.prometheus.scrapeInterval} / evaluation ${cfg.prometheus.evaluationInterval} (${cfg.environment} defaults), ` +
                `rule ${ALERT} for: 0s on rate[${window}]; 3 clustered Alertmanagers, critical route group_wait ${criticalRoutes[0]!.group_wait} / ` +
                `group_interval ${criticalRoutes[0]!.group_interval} / repeat_interval ${criticalRoutes[0]!.repeat_interval} → ${criticalRoutes.map((r) => r.receiver).join(" + ")}`,
        );

        // Ready to measure: Prometheus knows the 3 Alertmanagers and has a rate for every service.
        await waitFor(
            "Prometheus to discover the 3 Alertmanagers",
            async () => ((await apiGet("/api/v1/alertmanagers")).activeAlertmanagers.length === 3 ? true : undefined),
            60,
            1000,
            context,
        );
        await waitFor(
            `a request rate for every bench service (needs 2 scrapes, ${cfg.prometheus.scrapeInterval} apart)`,
            async () => {
                const r = await apiGet(`/api/v1/query?query=${encodeURIComponent(`count by (service) (rate(http_requests_total{namespace="${NAMESPACE}"}[${window}]))`)}`);
                return (r.result as unknown[]).length === runs ? true : undefined;
            },
            Math.ceil((6 * scrapeMs) / 1000),
            1000,
            context,
        );

        const receipts = (p: string, service: string, status: "firing" | "resolved", after: number) =>
            records.filter((r) => r.path === p && r.at >= after).filter((r) => {
                const d = parseDelivery(r);
                return d?.alertname === ALERT && d.service === service && d.status === status;
            });

        const results: RunResult[] = [];
        for (let i = 0; i < runs; i++) {
            const service = services[i]!;
            const exporter = exporters[i]!;

            // A fresh group key: no Alertmanager holds an active group for it.
            for (const port of amWeb) {
                const filter = [`alertname="${ALERT}"`, `service="${service}"`].map((f) => `filter=${encodeURIComponent(f)}`).join("&");
                const r = await httpGet(`http://127.0.0.1:${port}/api/v2/alerts/groups?${filter}`);
                const groups = JSON.parse(r.body) as unknown[];
                if (groups.length !== 0) throw new Error(`run ${i + 1}: alertmanager :${port} already has a group for ${ALERT}/${service}: ${r.body}`);
            }

            const faultAt = Date.now();
            exporter.setErrorRatio(service, FAULT_ERROR_RATIO);

            // The firing moment. With `for: 0s` the rule goes inactive → firing in one evaluation,
            // and Prometheus sets the alert's activeAt to that evaluation's timestamp (nanosecond
            // precision in /api/v1/alerts); the alert is sent to the Alertmanagers right after that
            // evaluation. So activeAt is exactly "the moment Prometheus marks it firing",
            // independent of how often this loop polls. ALERTS_FOR_STATE carries the same instant
            // but only in whole seconds, and the sample timestamp of ALERTS{alertstate="firing"}
            // equals it too; the poll time itself would add up to one poll interval of error.
            const firing = await waitFor(
                `${ALERT}(${service}) to be firing in Prometheus`,
                async () => {
                    const alerts = (await apiGet("/api/v1/alerts")).alerts as { labels: Record<string, string>; state: string; activeAt: string }[];
                    const a = alerts.find((x) => x.labels.alertname === ALERT && x.labels.service === service && x.state === "firing");
                    if (!a) return undefined;
                    const activeAt = Date.parse(a.activeAt);
                    if (!Number.isFinite(activeAt)) throw new Error(`unparsable activeAt "${a.activeAt}"`);
                    return activeAt;
                },
                // Fault → firing takes up to ~2 scrapes + 1 evaluation; allow 6 scrape intervals.
                Math.ceil((6 * scrapeMs) / 500),
                500,
                context,
            );
            if (firing < faultAt - 1000) throw new Error(`run ${i + 1}: ${ALERT}(${service}) activeAt ${new Date(firing).toISOString()} precedes the fault`);

            const groupWaitMs = durationMs(CADENCE.critical.groupWait);
            const received = await waitFor(
                `the firing ${ALERT}(${service}) notification at ${CRITICAL_PATHS.join(" and ")}`,
                async () => {
                    const firsts = CRITICAL_PATHS.map((p) => receipts(p, service, "firing", faultAt)[0]?.at);
                    return firsts.every((t) => t !== undefined) ? (firsts as number[]) : undefined;
                },
                Math.ceil((groupWaitMs + 60_000) / 250),
                250,
                context,
            );

            const clearAt = Date.now();
            exporter.setErrorRatio(service, 0);
            // Resolution: the rate window drains (~1 window), then the group's next group_interval tick.
            const resolvedAt = await waitFor(
                `the resolved ${ALERT}(${service}) notification at ${CRITICAL_PATHS.join(" and ")}`,
                async () => {
                    const firsts = CRITICAL_PATHS.map((p) => receipts(p, service, "resolved", clearAt)[0]?.at);
                    return firsts.every((t) => t !== undefined) ? Math.max(...(firsts as number[])) : undefined;
                },
                Math.ceil((4 * scrapeMs + 2 * durationMs(CADENCE.critical.groupInterval) + 60_000) / 1000),
                1000,
                context,
            );

            const [pd, slack] = received as [number, number];
            const result: RunResult = {
                run: i + 1,
                service,
                faultToFiringMs: firing - faultAt,
                receiptMs: { "/pagerduty": pd - firing, "/slack": slack - firing },
                latencyMs: Math.max(pd, slack) - firing,
                // Counted after the resolve (≥ 1 group_interval later): the other replicas' sends,
                // had deduplication failed, would have arrived by then (position × 15 s peer timeout).
                copies: { "/pagerduty": receipts("/pagerduty", service, "firing", faultAt).length, "/slack": receipts("/slack", service, "firing", faultAt).length },
                resolvedAfterClearMs: resolvedAt - clearAt,
            };
            results.push(result);
            console.log(
                `  run ${result.run}/${runs} (${service}): firing→PagerDuty ${sec(result.receiptMs["/pagerduty"], 3)}, firing→Slack ${sec(result.receiptMs["/slack"], 3)}, ` +
                    `latency ${sec(result.latencyMs, 3)}; fault→firing ${sec(result.faultToFiringMs, 1)}, copies ${result.copies["/pagerduty"]}/${result.copies["/slack"]}, ` +
                    `resolved ${sec(result.resolvedAfterClearMs, 0)} after the fault cleared`,
            );
        }

        // --- Report.
        const pad = (s: string, n: number) => s.padEnd(n);
        console.log("");
        console.log(`${pad("run", 4)}${pad("service", 10)}${pad("fault→firing", 14)}${pad("→PagerDuty", 12)}${pad("→Slack", 12)}${pad("latency", 11)}${pad("copies", 8)}resolved after clear`);
        for (const r of results) {
            console.log(
                `${pad(String(r.run), 4)}${pad(r.service, 10)}${pad(sec(r.faultToFiringMs, 1), 14)}${pad(sec(r.receiptMs["/pagerduty"], 3), 12)}` +
                    `${pad(sec(r.receiptMs["/slack"], 3), 12)}${pad(sec(r.latencyMs, 3), 11)}${pad(`${r.copies["/pagerduty"]}/${r.copies["/slack"]}`, 8)}${sec(r.resolvedAfterClearMs, 0)}`,
            );
        }
        const lat = results.map((r) => r.latencyMs);
        const med = median(lat);
        const met = med <= TARGET_SECONDS * 1000;
        console.log(
            `delivery latency (firing → PagerDuty and Slack) over ${runs} runs: median ${sec(med, 3)}, min ${sec(Math.min(...lat), 3)}, max ${sec(Math.max(...lat), 3)}` +
                ` (target: at most ${TARGET_SECONDS} s: ${met ? "met" : "NOT met"})`,
        );
        if (runs < MIN_RUNS) console.log(`note: ${runs} runs, fewer than the ${MIN_RUNS} the benchmark asks for`);
        const dup = results.filter((r) => r.copies["/pagerduty"] !== 1 || r.copies["/slack"] !== 1);
        if (dup.length) console.log(`note: runs ${dup.map((r) => r.run).join(", ")} were not delivered exactly once per receiver across the cluster`);
        ok = true;
        return 0;
    } finally {
        await stop();
        if (ok && process.env.KEEP_BENCH_TMP !== "1") fs.rmSync(tmp, { recursive: true, force: true });
        else if (!ok) console.error(`process logs and configs kept in ${tmp}`);
    }
}

main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: Error) => {
        console.error(`bench delivery failed: ${e.message}`);
        process.exit(1);
    },
);
