/**
 * The generated dashboards as Grafana would load them: identity (uids, ids, tags, refresh, time
 * range, variables), every panel complete (title, description, unit, thresholds, queries on the
 * `$datasource` variable), a grid that stays usable on a phone, alert annotations, thresholds
 * taken from the alerting config, drill-down and trace/log links, and the recording-rule switch.
 */
import { allPanelQueries, buildDashboards, DASHBOARDS, DASHBOARD_UIDS, renderDashboards } from "../../dashboards";
import { catalog, INFRA } from "../../telemetry";
import type { DashboardJson } from "../../dashboards";
import { DEFAULT_ALERTING } from "../../config/defaults";
import type { AlertingConfig } from "../../config";
import { RECORDING, ROUTE_RULES_INTERVAL } from "../../alerts/recording";
import { DATASOURCE_UIDS } from "../../components/kube/constants";
import { config, dataPanels, exploreQueries, Panel, panelsOf, parsePromql, PRESETS, substitute } from "./support";

const UIDS = ["system-overview", "api-performance", "provider-monitoring", "websocket", "infrastructure", "slo"];

const byUid = (ds: DashboardJson[], uid: string) => ds.find((d) => d.uid === uid)!;
const byTitle = (d: DashboardJson, title: string) => {
    const p = dataPanels(d).find((x) => x.title === title);
    if (!p) throw new Error(`no panel "${title}" on ${d.uid}`);
    return p;
};
const steps = (p: Panel) => p.fieldConfig?.defaults?.thresholds?.steps ?? [];
const stepValues = (p: Panel) => steps(p).map((s) => s.value);
const exprs = (ds: DashboardJson[]) => ds.flatMap((d) => dataPanels(d).flatMap((p) => (p.targets ?? []).map((t) => t.expr ?? "")));

describe.each(PRESETS.flatMap((p) => (["loki", "elasticsearch"] as const).map((l) => [p, l] as const)))("dashboards of the %s preset with %s logs", (preset, logs) => {
    const dashboards = buildDashboards(config(preset, logs));

    it("are exactly the six dashboards, each with its fixed uid", () => {
        expect(dashboards.map((d) => d.uid)).toEqual(UIDS);
        expect(DASHBOARDS.map((d) => d.uid)).toEqual(UIDS);
        expect(Object.values(DASHBOARD_UIDS).sort()).toEqual([...UIDS].sort());
    });

    it("carry the generated tag, refresh every 30 s and open on the last hour", () => {
        for (const d of dashboards) {
            expect(d.tags).toContain("generated");
            expect(d.refresh).toBe("30s");
            expect(d.time).toEqual({ from: "now-1h", to: "now" });
            expect(d.title).toBeTruthy();
            expect(d.description).toBeTruthy();
        }
    });

    it("give every panel (row headers included) an id unique within its dashboard", () => {
        for (const d of dashboards) {
            const ids = panelsOf(d).map((p) => p.id);
            expect(ids.every((id) => Number.isInteger(id) && id > 0)).toBe(true);
            expect(new Set(ids).size).toBe(ids.length);
        }
    });

    it("declare $datasource, $cluster, $namespace and $service on every dashboard, plus $route, $provider and $node where they filter", () => {
        const names = (d: DashboardJson) => (d.templating?.list ?? []).map((v) => v.name);
        for (const d of dashboards) expect(names(d).slice(0, 4)).toEqual(["datasource", "cluster", "namespace", "service"]);
        expect(names(byUid(dashboards, "api-performance"))).toContain("route");
        expect(names(byUid(dashboards, "provider-monitoring"))).toContain("provider");
        expect(names(byUid(dashboards, "infrastructure"))).toContain("node");
        for (const d of dashboards) {
            const ds = d.templating!.list![0]!;
            expect(ds).toMatchObject({ type: "datasource", query: "prometheus", current: { value: DATASOURCE_UIDS.prometheus } });
            for (const v of d.templating!.list!.slice(1)) {
                expect(v).toMatchObject({ type: "query", datasource: { type: "prometheus", uid: "${datasource}" }, includeAll: true, multi: true, allValue: ".*" });
            }
        }
    });

    it("give every data panel a title, a description, a unit and thresholds", () => {
        for (const d of dashboards) {
            for (const p of dataPanels(d)) {
                const where = `${d.uid} / ${p.title}`;
                expect([where, p.title.trim().length > 0]).toEqual([where, true]);
                expect([where, (p.description ?? "").trim().length > 10]).toEqual([where, true]);
                expect([where, typeof p.fieldConfig?.defaults?.unit === "string" && p.fieldConfig.defaults.unit.length > 0]).toEqual([where, true]);
                expect([where, steps(p).length > 0 && steps(p)[0]!.value === null]).toEqual([where, true]);
            }
        }
    });

    it("give every data panel at least one query, each on the $datasource variable with a unique refId", () => {
        for (const d of dashboards) {
            for (const p of dataPanels(d)) {
                const where = `${d.uid} / ${p.title}`;
                expect([where, p.datasource]).toEqual([where, { type: "prometheus", uid: "${datasource}" }]);
                const targets = p.targets ?? [];
                expect([where, targets.length > 0]).toEqual([where, true]);
                for (const t of targets) {
                    expect([where, t.datasource]).toEqual([where, { type: "prometheus", uid: "${datasource}" }]);
                    expect([where, (t.expr ?? "").length > 0]).toEqual([where, true]);
                }
                const refIds = targets.map((t) => t.refId);
                expect([where, new Set(refIds).size]).toEqual([where, targets.length]);
            }
        }
    });

    it("lay panels out in full, half, third or quarter widths that fill every line of the grid, without overlaps", () => {
        for (const d of dashboards) {
            const panels = panelsOf(d);
            const cells = new Set<string>();
            for (const p of panels) {
                const { x, y, w, h } = p.gridPos;
                const where = `${d.uid} / ${p.title}`;
                if (p.type === "row") expect([where, w, x]).toEqual([where, 24, 0]);
                else expect([where, [6, 8, 12, 24].includes(w)]).toEqual([where, true]);
                expect([where, x >= 0 && x + w <= 24 && h > 0]).toEqual([where, true]);
                for (let i = x; i < x + w; i++) {
                    for (let j = y; j < y + h; j++) {
                        const cell = `${i},${j}`;
                        expect([where, cells.has(cell)]).toEqual([where, false]);
                        cells.add(cell);
                    }
                }
            }
            const lines = new Map<number, number>();
            for (const p of panels) lines.set(p.gridPos.y, (lines.get(p.gridPos.y) ?? 0) + p.gridPos.w);
            for (const [y, width] of lines) expect([d.uid, y, width]).toEqual([d.uid, y, 24]);
        }
    });

    it("annotate firing critical and warning alerts from the ALERTS series on the $datasource variable", () => {
        for (const d of dashboards) {
            const alerts = (d.annotations?.list ?? []).filter((a) => (a as { expr?: string }).expr?.startsWith("ALERTS{"));
            expect(alerts.map((a) => a.name)).toEqual(["Firing critical alerts", "Firing warning alerts"]);
            for (const a of alerts) expect(a.datasource).toEqual({ type: "prometheus", uid: "${datasource}" });
        }
    });

    it("keep links and alert annotation toggles in the dashboard bar, not folded into a controls menu", () => {
        expect(JSON.stringify(dashboards)).not.toContain("inControlsMenu");
        for (const d of dashboards) expect(d.links?.[0]).toMatchObject({ type: "dashboards", tags: ["generated"], asDropdown: true, includeVars: true, keepTime: true });
    });

    it("link System Overview's per-service series to API Performance for the clicked service, keeping scope and time", () => {
        const overview = byUid(dashboards, "system-overview");
        for (const title of ["Request rate by service", "Error rate by service", "p95 latency by service"]) {
            const links = byTitle(overview, title).fieldConfig?.defaults?.links ?? [];
            const drill = links.find((l) => l.url.startsWith("/d/api-performance?"));
            expect(drill?.url).toContain("var-service=${__field.labels.service}");
            expect(drill?.url).toContain("${__url_time_range}");
            expect(drill?.url).toContain("${datasource:queryparam}");
        }
    });

    it(`link per-service series to the service's traces in Jaeger and its logs in ${logs}`, () => {
        const links = byTitle(byUid(dashboards, "system-overview"), "Error rate by service").fieldConfig!.defaults!.links!;
        const queries = links.flatMap((l) => exploreQueries(l.url));
        const jaeger = queries.find((q) => q.datasource.type === "jaeger");
        expect(jaeger).toMatchObject({ datasource: { uid: DATASOURCE_UIDS.jaeger }, query: { queryType: "search", service: "checkout" } });
        const log = queries.find((q) => q.datasource.type === logs);
        expect(log?.datasource.uid).toBe(logs === "loki" ? DATASOURCE_UIDS.loki : DATASOURCE_UIDS.elasticsearch);
        if (logs === "loki") expect(log?.query.expr).toBe('{service="checkout", level=~"error|fatal"}');
        else expect(log?.query.query).toBe('service:"checkout" AND level:(error OR fatal)');
    });

    it("show the SLO dashboard one section per configured SLO with compliance, budget and the four burn-rate windows", () => {
        const slo = byUid(dashboards, "slo");
        const rows = panelsOf(slo).filter((p) => p.type === "row").map((p) => p.title);
        expect(rows).toEqual(["availability: 99.9% of requests not answered with a 5xx status over 30d", "latency: 95% of requests served in under 0.5 s over 7d"]);
        const burn = byTitle(slo, "availability: burn rates");
        expect((burn.targets ?? []).map((t) => (t as { legendFormat?: string }).legendFormat)).toEqual(["3d", "1d", "6h", "1h"]);
        expect(stepValues(burn)).toEqual([null, 1, 3, 6, 14.4]);
    });
});

describe("thresholds come from the alerting config", () => {
    const dashboards = buildDashboards(config());
    const api = DEFAULT_ALERTING.api;

    it("draws the error-rate alert levels (5% warning, 15% critical by default) on every error-rate panel", () => {
        for (const [uid, title] of [["system-overview", "Error rate"], ["system-overview", "Error rate by service"], ["api-performance", "Error rate"], ["api-performance", "Error rate by route"]] as const) {
            expect([uid, title, stepValues(byTitle(byUid(dashboards, uid), title))]).toEqual([uid, title, [null, api.errorRatioWarning.threshold, api.errorRatioCritical.threshold]]);
        }
    });

    it("draws the latency, cache, pool, container-memory, throttling and provider alert levels where those alerts watch", () => {
        const a = DEFAULT_ALERTING;
        const cases: [string, string, (number | null)[]][] = [
            ["system-overview", "p95 latency by service", [null, a.api.latencyP95.threshold]],
            ["infrastructure", "Cache hit rate", [null, a.cacheDb.cacheHitRatio.threshold]],
            ["infrastructure", "Pool saturation", [null, a.cacheDb.dbPoolUtilisation.threshold]],
            ["infrastructure", "Query latency", [null, a.cacheDb.dbQueryP95.threshold]],
            ["infrastructure", "Memory of limit", [null, a.infrastructure.containerMemory.threshold]],
            ["infrastructure", "CPU throttling", [null, a.infrastructure.cpuThrottling.threshold]],
            ["provider-monitoring", "Error rate by provider", [null, a.providers.errorRatio.threshold]],
            ["provider-monitoring", "Response time by provider", [null, a.providers.latencyP95.threshold]],
            ["provider-monitoring", "Rate limit remaining", [null, a.providers.rateLimitRemaining.threshold]],
            ["websocket", "Message error ratio", [null, a.websocket.messageErrors.threshold]],
            ["websocket", "Abnormal disconnections", [null, a.websocket.abnormalDisconnects.threshold]],
        ];
        for (const [uid, title, expected] of cases) expect([uid, title, stepValues(byTitle(byUid(dashboards, uid), title))]).toEqual([uid, title, expected]);
    });

    it("moves the lines when the stack's alerting config changes a threshold", () => {
        const alerting: AlertingConfig = {
            ...DEFAULT_ALERTING,
            api: { ...DEFAULT_ALERTING.api, errorRatioWarning: { threshold: 0.02, for: "5m" }, errorRatioCritical: { threshold: 0.1, for: "1m" }, latencyP95: { threshold: 0.3, for: "5m" } },
            slo: { page: [{ factor: 10, long: "2h", short: "10m" }], ticket: [{ factor: 2, long: "12h", short: "1h" }] },
        };
        const custom = buildDashboards({ ...config(), alerting });
        expect(stepValues(byTitle(byUid(custom, "system-overview"), "Error rate by service"))).toEqual([null, 0.02, 0.1]);
        expect(stepValues(byTitle(byUid(custom, "api-performance"), "p95 latency"))).toEqual([null, 0.3]);
        const burn = byTitle(byUid(custom, "slo"), "availability: burn rates");
        expect((burn.targets ?? []).map((t) => (t as { legendFormat?: string }).legendFormat)).toEqual(["12h", "2h"]);
        expect(stepValues(burn)).toEqual([null, 2, 10]);
    });
});

describe("recording rules", () => {
    const recorded = new Set(Object.values(RECORDING).map((r) => r.record));
    const usesRecording = (e: string) => /\b[a-z_]+:[a-z0-9_]+:[a-z0-9_]+\b/.test(e);

    it("serve the expensive fleet-wide queries: request, error and latency panels read recorded series", () => {
        const overview = byUid(buildDashboards(config()), "system-overview");
        for (const title of ["Request rate", "Error rate by service", "p95 latency by service", "Latency p50 / p95 / p99"]) {
            const e = byTitle(overview, title).targets![0]!.expr!;
            expect([title, [...recorded].some((r) => e.includes(r))]).toEqual([title, true]);
        }
    });

    it("are read by at least half of all queries", () => {
        const all = exprs(buildDashboards(config()));
        expect(all.filter(usesRecording).length / all.length).toBeGreaterThanOrEqual(0.5);
    });

    it("can be switched off: every query then reads raw series only", () => {
        for (const preset of PRESETS) {
            const raw = exprs(buildDashboards(config(preset, "loki", false)));
            expect(raw.filter(usesRecording)).toEqual([]);
        }
    });

    it("leave raw only the queries no rule could shrink: exporter and probe series, per-pod series, ALERTS", () => {
        const m = catalog("prometheus");
        const cheap = new Set<string>([
            "ALERTS",
            INFRA.node.fsAvail,
            INFRA.node.fsSize,
            INFRA.kube.podPhase,
            ...Object.values(INFRA.probe),
            ...Object.values(INFRA.postgres),
            ...Object.values(INFRA.redis),
            // Per pod is the gauge's own granularity ("In-flight requests by pod").
            m.http.inFlight.name,
        ]);
        const raw = allPanelQueries(config()).filter((q) => q.expr === q.exprWithoutRecordingRules);
        const costly = raw.flatMap((q) => parsePromql(substitute(q.expr)).metrics.filter((n) => !cheap.has(n)).map((n) => `${q.dashboardUid} / ${q.panelTitle}: ${n}`));
        expect(costly).toEqual([]);
        // Every application family but the per-pod in-flight panel goes through a rule.
        expect(raw.filter((q) => q.expr.includes(m.http.inFlight.name)).map((q) => q.panelTitle)).toEqual(["In-flight requests by pod"]);
    });

    it("step every query over the per-route rules by their resolution (1m), and no other query", () => {
        const perRoute = Object.values(RECORDING).filter((r) => r.interval).map((r) => r.record);
        expect(perRoute.length).toBeGreaterThanOrEqual(6);
        for (const rules of [true, false]) {
            const targets = buildDashboards(config("prometheus", "loki", rules)).flatMap((d) => dataPanels(d).flatMap((p) => (p.targets ?? []).map((t) => ({ where: `${d.uid} / ${p.title}`, expr: t.expr ?? "", interval: (t as { interval?: string }).interval }))));
            const reading = targets.filter((t) => perRoute.some((r) => new RegExp(`${r}[{)\\s]`).test(t.expr)));
            // API Performance: three summary stats (all but in-flight), latency (3), traffic by route (3), payloads (3).
            expect(reading.length).toBe(rules ? 12 : 0);
            for (const t of targets) expect([t.where, t.interval]).toEqual([t.where, reading.includes(t) ? ROUTE_RULES_INTERVAL : undefined]);
        }
    });
});

describe("the metric preset", () => {
    it("switches every HTTP query to the OpenTelemetry names with no edit to the dashboards", () => {
        const otel = exprs(buildDashboards(config("otel", "loki", false))).join("\n");
        expect(otel).toContain("http_server_request_duration_seconds_bucket");
        expect(otel).toContain("http_route");
        expect(otel).not.toContain("http_requests_total");
        expect(otel).not.toContain("http_request_duration_seconds_bucket");
    });
});

describe("the rendered dashboard files", () => {
    it("are one <uid>.json per dashboard, each the JSON of the builder's model", () => {
        const files = renderDashboards(config());
        expect(Object.keys(files).sort()).toEqual(UIDS.map((u) => `${u}.json`).sort());
        for (const [file, text] of Object.entries(files)) expect(JSON.parse(text).uid).toBe(file.replace(/\.json$/, ""));
    });

    it("are deterministic: the same config renders byte-identical files", () => {
        expect(renderDashboards(config())).toEqual(renderDashboards(config()));
    });

    it("stay far below the ConfigMap size limit, one dashboard each", () => {
        for (const text of Object.values(renderDashboards(config()))) expect(Buffer.byteLength(text)).toBeLessThan(200 * 1024);
    });

    it("still render a useful SLO dashboard and overview when the stack declares no SLO", () => {
        const ds = buildDashboards({ ...config(), slos: [] });
        expect(dataPanels(byUid(ds, "slo")).map((p) => p.title)).toEqual(["Availability by service"]);
        expect(byTitle(byUid(ds, "system-overview"), "SLO error budget remaining").targets).toHaveLength(1);
    });
});
