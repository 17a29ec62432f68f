/**
 * No empty panel on the OTel path, live on 127.0.0.1: an application instrumented with the
 * OpenTelemetry JS SDK (test/telemetry/client-service.ts) sends its metrics over OTLP/HTTP to the
 * rendered prod agent, which forwards them to the rendered prod gateway, which remote-writes them
 * into a real Prometheus (its write endpoint, as rendered; see pipeline-live.test.ts for the
 * wiring). That Prometheus evaluates the rules generated for `metricPreset: otel`, and every query
 * of every panel of the dashboards generated for `metricPreset: otel` is run against it as
 * Grafana sends it (test/support/dashboard-data.ts: a 1,200 px wide panel over the dashboards'
 * default range, the datasource's scrape interval as its minimum step), twice: with every
 * variable on "All", and with every variable set to values from its own `label_values()` options
 * (the client's namespace, service, route and provider). Each must return a series with a finite
 * value, except the panels {@link NO_DATA_ON_THIS_PATH} lists with the reason: that list is
 * compared with what came back empty, exactly, so it can neither grow silently nor keep a panel
 * that has started to return data.
 *
 * What the application states itself: the pod's namespace, name and node on its resource
 * (k8s.namespace.name, k8s.pod.name, k8s.node.name), which in a cluster the agent's
 * k8s_attributes processor and k8snode detector add (there is no Kubernetes API here). Everything
 * else on the series (the `service`, `namespace`, `pod` and `node` labels, metric names and
 * suffixes, `le`) is what the collectors and Prometheus make of it.
 *
 * Traffic: while the test runs, the client serves orders (one in five failing with a 500),
 * WebSocket sessions and provider calls, so the error-ratio alert fires for its service (the
 * "Firing alerts" panel) and every recorded series exists. Rules are evaluated every 2 s (the
 * generated groups with their own interval, once a minute, keep it). Tables and totals read
 * recorded rates at whole 5 minutes (`[$__range:5m]`), so the queries run once a whole 5 minutes
 * has passed after the per-route rules first recorded (at most 5 minutes of waiting).
 *
 * History: the SLO compliance and budget panels read the 1h SLI rules at whole hours
 * (`[30d:1h]` subqueries), which a Prometheus only has once it ran across an hour boundary. As in
 * test/dashboards/live-panels.test.ts, history is backfilled: once the client's request series
 * have arrived, Prometheus is stopped, 70 minutes of history before the client started are
 * written for exactly those series (the label sets read back from Prometheus, so history and live
 * data are the same series; a test checks it) with `promtool tsdb create-blocks-from
 * openmetrics`, the generated SLI rules are backfilled over it with `promtool tsdb
 * create-blocks-from rules`, and Prometheus starts again on the same data and address with every
 * generated rule (the gateway's remote write retries meanwhile).
 */
import * as fs from "fs";
import * as path from "path";
import { stackRuleFiles } from "../../alerts";
import { durationSeconds } from "../../config/resolve";
import { allPanelQueries, buildDashboards, dashboardConfigOf, dashboardVariables } from "../../dashboards";
import type { DashboardVariable, PanelQuery } from "../../dashboards";
import { render } from "../security/support";
import {
    alignedRange, backfillRecordingRules, blocksFromOpenMetrics, getJson, grafanaStep, hasFiniteValue, panelExpr, promQuery, QueryData, resolveVariables, testTool,
} from "../support/dashboard-data";
import { prodStackConfig } from "../support/local-alerting";
import { makeTempDir, ProcessRegistry, sleep, waitFor } from "../support/processes";
import { Pipeline, request, startPipeline, startPrometheus } from "../support/telemetry-live";

jest.setTimeout(900_000);

const SERVICE = "checkout-api";
const NAMESPACE = "shop";
const EVALUATION_SECONDS = 2;
const PANEL_WIDTH_PX = 1200;
const HISTORY_MINUTES = 70;
const HISTORY_STEP_SECONDS = 60;
/** The series the SLI rules read: the HTTP server duration histogram's count and buckets. */
const REQUEST_SERIES = "http_server_request_duration_seconds_(count|bucket|sum)";

/**
 * OpenMetrics history for the given series (label sets as Prometheus lists them, `__name__`
 * included): every counter grows by one per second; a histogram bucket by the share of requests
 * under its bound (90 % under 0.5 s, all under 1 s), the sum by 0.1 s per request.
 */
function writeHistory(file: string, series: readonly Record<string, string>[], from: number, to: number, step: number): number {
    const esc = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
    const share = (le: string | undefined) => (le === undefined ? 1 : le === "+Inf" ? 1 : Math.min(1, 0.8 + 0.2 * Number(le)));
    const lines: string[] = [];
    for (let t = from; t <= to; t += step) {
        const elapsed = t - from + step;
        for (const s of series) {
            const { __name__: name, ...labels } = s;
            const value = name!.endsWith("_bucket") ? elapsed * share(labels.le) : name!.endsWith("_sum") ? elapsed * 0.1 : elapsed;
            lines.push(`${name}{${Object.entries(labels).map(([k, v]) => `${k}="${esc(v)}"`).join(",")}} ${value} ${t}`);
        }
    }
    fs.writeFileSync(file, `${lines.join("\n")}\n# EOF\n`);
    return lines.length;
}

/**
 * Panels with no data source on the OTLP path, `dashboard uid | panel title | refId` → why. Their
 * series come from scrapes of exporters and of the kubelet, which this path does not have.
 */
const NO_DATA_ON_THIS_PATH: Readonly<Record<string, string>> = {
    ...Object.fromEntries(
        [
            "system-overview | CPU by pod | A",
            "system-overview | Memory by pod | A",
            "infrastructure | Container CPU | A",
            "infrastructure | CPU throttling | A",
            "infrastructure | Container memory | A",
            "infrastructure | Memory of limit | A",
            "infrastructure | Pod network I/O | A",
            "infrastructure | Pod network I/O | B",
        ].map((k) => [k, "cAdvisor (the kubelet's container metrics, scraped)"]),
    ),
    ...Object.fromEntries(
        ["infrastructure | Container restarts | A", "infrastructure | Pods not running | A"].map((k) => [k, "kube-state-metrics (scraped)"]),
    ),
    ...Object.fromEntries(
        [
            "system-overview | Disk usage by node | A",
            "infrastructure | Node CPU | A",
            "infrastructure | Node memory | A",
            "infrastructure | Node disk usage | A",
            "infrastructure | Node disk I/O | A",
            "infrastructure | Node disk I/O | B",
            "infrastructure | Node network I/O | A",
            "infrastructure | Node network I/O | B",
        ].map((k) => [k, "node-exporter (scraped)"]),
    ),
    ...Object.fromEntries(
        [
            "system-overview | Endpoint up / down | A",
            "system-overview | Probe latency p95 | A",
            "system-overview | TLS certificate days left | A",
            "system-overview | HTTP status by endpoint | A",
            "system-overview | DNS lookup time | A",
        ].map((k) => [k, "blackbox exporter probes (scraped)"]),
    ),
    ...Object.fromEntries(
        [
            "infrastructure | Exporters up | A",
            "infrastructure | PostgreSQL transactions | A",
            "infrastructure | PostgreSQL cache hit ratio | A",
            "infrastructure | PostgreSQL backends | A",
            "infrastructure | PostgreSQL deadlocks | A",
        ].map((k) => [k, "postgres_exporter (scraped)"]),
    ),
    ...Object.fromEntries(
        ["infrastructure | Exporters up | B", "infrastructure | Redis hit rate | A", "infrastructure | Redis memory | A", "infrastructure | Redis clients | A", "infrastructure | Redis commands | A"].map((k) => [
            k,
            "redis_exporter (scraped)",
        ]),
    ),
};

const keyOf = (q: PanelQuery) => `${q.dashboardUid} | ${q.panelTitle} | ${q.refId}`;

interface Failure {
    readonly q: PanelQuery;
    readonly expr: string;
    readonly why: string;
}

describe("every dashboard panel of the otel preset returns data for an OTel application's series", () => {
    const cfg = { ...prodStackConfig(), metricPreset: "otel" as const };
    const dashCfg = dashboardConfigOf(cfg);
    const queries = allPanelQueries(dashCfg);
    const variables = dashboardVariables(dashCfg);
    const scrapeSeconds = durationSeconds(cfg.prometheus.scrapeInterval);
    const reg = new ProcessRegistry(makeTempDir("telemetry-otel-panels"));
    let p: Pipeline;
    let traffic: { stop: () => Promise<number> } | undefined;
    let historyFrom = 0;
    let historyTo = 0;
    const context = () => reg.logs(15);

    const defaultRangeSeconds = (() => {
        const from = String(buildDashboards(dashCfg)[0]!.time?.from ?? "now-1h");
        const m = /^now-(\d+)([smhd])$/.exec(from);
        if (!m) throw new Error(`unexpected default time range ${from}`);
        return Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[m[2] as "s" | "m" | "h" | "d"];
    })();

    /** Requests to the client until stopped: orders (one in five a 500), WebSocket sessions, provider calls. */
    function startTraffic(url: string): { stop: () => Promise<number> } {
        let running = true;
        let sent = 0;
        const loop = (async () => {
            for (let i = 0; running; i++) {
                await Promise.all([
                    request("GET", `${url}/orders/ok-${i}`),
                    request("GET", `${url}/orders/ok-${i}-b`),
                    request("GET", `${url}/orders/ok-${i}-c`),
                    request("GET", `${url}/orders/${i % 5 === 0 ? "err" : "ok"}-${i}-d`),
                    request("GET", `${url}/orders/err-${i}`),
                    request("GET", `${url}/ws`),
                    request("POST", `${url}/completions?provider=${i % 2 ? "openai" : "anthropic"}`, { "content-type": "application/json" }, JSON.stringify({ prompt: "x".repeat(100 + (i % 400)) })),
                ]).catch(() => undefined);
                sent += 7;
                await sleep(250);
            }
        })();
        return {
            stop: async () => {
                running = false;
                await loop;
                return sent;
            },
        };
    }

    const instant = async (expr: string) => (await promQuery(p.prom.url, expr, { time: Date.now() / 1000 })).data.result;

    beforeAll(async () => {
        expect(cfg.metricPreset).toBe("otel");
        const promtool = testTool("promtool");
        const prometheus = testTool("prometheus");
        const ruleFiles = stackRuleFiles(cfg);
        const clientStart = Math.floor(Date.now() / 1000);
        p = await startPipeline(reg, path.join(render("prod").dir, "files"), { SERVICE_NAME: SERVICE, APP_NAMESPACE: NAMESPACE });
        traffic = startTraffic(p.client.url);

        // --- History for the client's request series, then the SLI rules over it.
        const requestSeries = async () =>
            (await getJson<Record<string, string>[]>(`${p.prom.url}/api/v1/series?${new URLSearchParams({ "match[]": `{__name__=~"${REQUEST_SERIES}",service="${SERVICE}"}` })}`)).data;
        let last = -1;
        const series = await waitFor(
            "the client's request series, all routes and statuses (the same count three times 2 s apart)",
            async () => {
                const now = await requestSeries();
                const statuses = new Set(now.map((x) => x.http_response_status_code));
                const stable = now.length === last && ["200", "500", "502"].every((c) => statuses.has(c));
                last = now.length;
                return stable ? now : undefined;
            },
            60,
            2000,
            context,
        );
        await p.prom.proc.stop();
        historyTo = Math.floor(clientStart / HISTORY_STEP_SECONDS) * HISTORY_STEP_SECONDS - HISTORY_STEP_SECONDS;
        historyFrom = historyTo - HISTORY_MINUTES * 60;
        const omFile = path.join(reg.logDir, "history.om");
        const samples = writeHistory(omFile, series, historyFrom, historyTo, HISTORY_STEP_SECONDS);
        await blocksFromOpenMetrics(promtool, omFile, p.prom.dataDir);
        const levels = await backfillRecordingRules({
            prometheus, promtool, dataDir: p.prom.dataDir, workDir: path.join(reg.logDir, "backfill"), registry: reg,
            ruleFiles: { "slo-sli.yml": ruleFiles["slo-sli.yml"]! }, start: historyFrom, end: historyTo, evalInterval: `${HISTORY_STEP_SECONDS}s`,
        });
        process.stdout.write(`otel panels: history of ${series.length} series (${samples} samples), SLI rules backfilled in ${levels.length} levels (${levels.map((l) => `${(l.ms / 1000).toFixed(1)} s`).join(", ")})\n`);
        p.prom = await startPrometheus(reg, reg.logDir, { rules: ruleFiles, evaluationInterval: `${EVALUATION_SECONDS}s`, port: p.prom.port });

        await waitFor(
            "the client's request series in Prometheus, with its namespace",
            async () => ((await instant(`http_server_request_duration_seconds_count{service="${SERVICE}",namespace="${NAMESPACE}"}`)).length ? true : undefined),
            120,
            500,
            context,
        );
        const liveStart = Date.now() / 1000;
        await waitFor(
            "every rule group evaluated after the first series arrived, none failing",
            async () => {
                const res = await getJson<{ groups: { name: string; interval: number; lastEvaluation: string; rules: { health: string; lastError?: string; name: string }[] }[] }>(`${p.prom.url}/api/v1/rules`);
                const broken = res.data.groups.flatMap((g) => g.rules.filter((x) => x.health === "err").map((x) => `${g.name}/${x.name}: ${x.lastError}`));
                if (broken.length) throw new Error(`rules failing: ${broken.join("; ")}`);
                return res.data.groups.length > 0 && res.data.groups.every((g) => Date.parse(g.lastEvaluation) / 1000 > liveStart + (g.interval > 10 ? 0 : 2 * EVALUATION_SECONDS)) ? true : undefined;
            },
            180,
            1000,
            context,
        );
        await waitFor(
            `an alert firing for ${NAMESPACE}/${SERVICE}`,
            async () => ((await instant(`ALERTS{alertstate="firing",namespace="${NAMESPACE}",service="${SERVICE}"}`)).length ? true : undefined),
            240,
            1000,
            context,
        );
        // The per-route rules' first sample, then the next whole 5 minutes.
        const first = await waitFor(
            "the per-route rules' first recorded sample",
            async () => ((await instant(`service_route:http_requests:rate5m{service="${SERVICE}"}`)).length ? Date.now() / 1000 : undefined),
            120,
            1000,
            context,
        );
        const boundary = Math.ceil(first / 300) * 300;
        await sleep(Math.max(0, (boundary - Date.now() / 1000 + 2 * EVALUATION_SECONDS) * 1000));
    });

    afterAll(async () => {
        const sent = await traffic?.stop();
        if (sent !== undefined) process.stdout.write(`otel panels: the client served ${sent} requests\n`);
        await reg.stopAll();
        if (process.env.KEEP_E2E_TMP !== "1") fs.rmSync(reg.logDir, { recursive: true, force: true });
    });

    async function runAll(valuesOf: (uid: string) => Record<string, string | readonly string[]>): Promise<Failure[]> {
        const failures: Failure[] = [];
        const end = Date.now() / 1000;
        for (const q of queries) {
            expect(q.datasourceType).toBe("prometheus");
            const timing = grafanaStep(defaultRangeSeconds, PANEL_WIDTH_PX, scrapeSeconds, q.minInterval);
            const range = alignedRange(end, timing);
            const expr = panelExpr(q, valuesOf(q.dashboardUid), timing);
            const left = expr.match(/\$[A-Za-z_{]/);
            if (left) {
                failures.push({ q, expr, why: `variable left unsubstituted (${left[0]})` });
                continue;
            }
            const res = await promQuery(p.prom.url, expr, q.instant ? { time: range.end } : range);
            if (res.status !== "success") failures.push({ q, expr, why: `error: ${res.error}` });
            else if (res.data.result.length === 0) failures.push({ q, expr, why: "no series" });
            else if (!hasFiniteValue(res.data as QueryData)) failures.push({ q, expr, why: "only NaN/Inf values" });
        }
        return failures;
    }

    /** The failures against the list of panels without a source here: both ways, with the queries. */
    function expectOnlyListed(failures: readonly Failure[], what: string): void {
        const unexpected = failures.filter((f) => !(keyOf(f.q) in NO_DATA_ON_THIS_PATH));
        const failed = new Set(failures.map((f) => keyOf(f.q)));
        const nowWithData = Object.keys(NO_DATA_ON_THIS_PATH).filter((k) => !failed.has(k));
        const report = unexpected.map((f) => `- ${keyOf(f.q)} (${f.q.instant ? "instant" : "range"}): ${f.why}\n    ${f.expr.replace(/\n/g, " ")}`).join("\n");
        if (unexpected.length || nowWithData.length) {
            throw new Error(
                `${what}:\n${unexpected.length} panel queries returned no data on the OTel path:\n${report}\n` +
                    `${nowWithData.length} listed as without a source here returned data (remove them from the list): ${nowWithData.join("; ")}`,
            );
        }
    }

    test("history and live data are the same series: the client's request counter and its SLI run across the restart", async () => {
        const now = Date.now() / 1000;
        for (const sel of [`http_server_request_duration_seconds_count{service="${SERVICE}",namespace="${NAMESPACE}",http_route="/orders/:id",http_response_status_code="200"}`, `slo:sli_requests:rate1h{slo="availability",service="${SERVICE}",namespace="${NAMESPACE}"}`]) {
            const res = (await promQuery(p.prom.url, sel, { start: historyFrom, end: now, step: 30 })).data.result;
            expect({ sel, series: res.length }).toEqual({ sel, series: 1 });
            const times = res[0]!.values!.map(([t]) => t);
            expect(Math.min(...times)).toBeLessThanOrEqual(historyTo);
            expect(Math.max(...times)).toBeGreaterThan(now - 60);
        }
    });

    test("the list of panels without a source on this path names real panel queries", () => {
        const keys = new Set(queries.map(keyOf));
        expect(Object.keys(NO_DATA_ON_THIS_PATH).filter((k) => !keys.has(k))).toEqual([]);
    });

    test("with every variable on All (the dashboards' default), every panel query returns data", async () => {
        const values = (): Record<string, string> => Object.fromEntries(variables.filter((v) => v.type === "query").map((v) => [v.name, v.allValue ?? ".*"]));
        expectOnlyListed(await runAll(values), "All selected");
    });

    test("with variables set to the client's namespace, service, route and provider from their own options, every panel query returns data", async () => {
        const now = Date.now() / 1000;
        const range = { start: now - defaultRangeSeconds, end: now };
        const picks: Record<string, Record<string, string | readonly string[]>> = {};
        const chosen: string[] = [];
        const choose = (v: DashboardVariable, options: readonly string[]): readonly string[] | "all" => {
            // `cluster` is an external label and `up`, `node_*` come from scrapes: no options here.
            if (options.length === 0) return "all";
            if (v.name === "namespace") return [NAMESPACE];
            if (v.name === "service") return [SERVICE];
            if (v.name === "route") return ["/orders/:id"];
            return [options[0]!];
        };
        for (const uid of [...new Set(variables.map((v) => v.dashboardUid))]) {
            const { values, options } = await resolveVariables(p.prom.url, variables.filter((v) => v.dashboardUid === uid), range, choose);
            picks[uid] = values;
            chosen.push(`${uid}: ${Object.entries(values).map(([k, v]) => `${k}=${typeof v === "string" ? v : v.join("|")} (of ${options[k]!.length})`).join(", ")}`);
        }
        // The application's own dashboards list its namespace and service as options.
        for (const uid of ["system-overview", "api-performance", "provider-monitoring", "websocket", "slo"]) {
            expect({ uid, namespace: picks[uid]!.namespace, service: picks[uid]!.service }).toEqual({ uid, namespace: [NAMESPACE], service: [SERVICE] });
        }
        expectOnlyListed(await runAll((uid) => picks[uid]!), `variables set:\n${chosen.join("\n")}`);
    });
});
