/**
 * Every query the dashboards and the Grafana datasources hold, checked with the real grammars:
 * PromQL with @prometheus-io/lezer-promql and LogQL with @grafana/lezer-logql (no error node after
 * the template variables are substituted), and every series named is one the stack defines (the
 * metric catalog of the preset, a recording rule, or Prometheus' ALERTS).
 */
import { allPanelQueries, buildDashboards, dashboardVariables, substituteVariables, variablesIn, builtinVariables } from "../../dashboards";
import { datasourceList, unliteral, renderDatasources, TRACE_LOGS_LOGQL } from "../../components/grafana/datasources";
import { config, allowedMetricNames, dataPanels, exploreQueries, parseLogql, parsePromql, PRESETS, substitute } from "./support";

const CASES = PRESETS.flatMap((preset) => [true, false].map((rules) => [preset, rules] as const));

describe.each(CASES)("PromQL of the %s preset (recording rules: %s)", (preset, rules) => {
    const cfg = config(preset, "loki", rules);
    const dashboards = buildDashboards(cfg);
    const known = allowedMetricNames(preset);
    const panelExprs = dashboards.flatMap((d) => dataPanels(d).flatMap((p) => (p.targets ?? []).map((t) => ({ where: `${d.uid} / ${p.title} / ${t.refId}`, expr: t.expr! }))));
    const annotationExprs = dashboards.flatMap((d) =>
        (d.annotations?.list ?? []).flatMap((a) => ((a as { expr?: string }).expr ? [{ where: `${d.uid} / annotation ${a.name}`, expr: (a as { expr: string }).expr }] : [])),
    );
    const variableSelectors = dashboardVariables(cfg)
        .filter((v) => v.type === "query")
        .map((v) => {
            const m = /^label_values\((.*), ([a-z_]+)\)$/s.exec(v.query);
            if (!m) throw new Error(`${v.dashboardUid} $${v.name}: "${v.query}" is not label_values(<selector>, <label>)`);
            return { where: `${v.dashboardUid} $${v.name}`, expr: m[1]! };
        });
    const all = [...panelExprs, ...annotationExprs, ...variableSelectors];

    it("parses every panel query, annotation and variable selector without an error node after variable substitution", () => {
        const failures = all.map(({ where, expr }) => ({ where, expr: substitute(expr), errors: parsePromql(substitute(expr)).errors })).filter((f) => f.errors.length > 0);
        expect(failures).toEqual([]);
    });

    it("leaves no template variable unsubstituted that Grafana would not fill in", () => {
        const left = all.map(({ where, expr }) => ({ where, vars: variablesIn(substitute(expr)) })).filter((x) => x.vars.length > 0);
        expect(left).toEqual([]);
    });

    it("names only series of the metric catalog, the recording rules or ALERTS", () => {
        const unknown = all.flatMap(({ where, expr }) => parsePromql(substitute(expr)).metrics.filter((n) => !known.has(n)).map((n) => `${where}: ${n}`));
        expect(unknown).toEqual([]);
    });

    it("names at least one series in every query (no constant panel)", () => {
        const constant = panelExprs.filter(({ expr }) => parsePromql(substitute(expr)).metrics.length === 0).map((x) => x.where);
        expect(constant).toEqual([]);
    });
});

describe.each(PRESETS)("PromQL inside the dashboards' Explore links (%s preset)", (preset) => {
    const dashboards = buildDashboards(config(preset));
    const known = allowedMetricNames(preset);
    const links = dashboards.flatMap((d) => dataPanels(d).flatMap((p) => (p.fieldConfig?.defaults?.links ?? []).map((l) => ({ where: `${d.uid} / ${p.title} / ${l.title}`, url: l.url }))));
    const promql = links.flatMap((l) => exploreQueries(l.url).filter((q) => q.datasource.type === "prometheus").map((q) => ({ where: l.where, expr: String(q.query.expr), exemplar: q.query.exemplar })));

    it("asks for exemplars on the raw latency histogram of the clicked service, from System Overview and API Performance", () => {
        expect([...new Set(promql.map((q) => q.where.split(" / ")[0]))].sort()).toEqual(["api-performance", "system-overview"]);
        for (const q of promql) expect(q.exemplar).toBe(true);
    });

    it("parses every such query and names only catalog series", () => {
        for (const q of promql) {
            const parsed = parsePromql(q.expr);
            expect([q.where, parsed.errors, parsed.metrics.filter((n) => !known.has(n))]).toEqual([q.where, [], []]);
            expect(q.expr).toContain('service="checkout"');
        }
    });
});

describe("a parse check that can fail", () => {
    it("reports the error node of a query with an unbalanced parenthesis", () => {
        expect(parsePromql('sum(rate(http_requests_total{service="a"}[5m])').errors.length).toBeGreaterThan(0);
        expect(parseLogql('{service="a" | json').length).toBeGreaterThan(0);
    });
});

describe("LogQL of the dashboards' log links and the Jaeger datasource", () => {
    const dashboards = buildDashboards(config("prometheus", "loki"));
    const links = dashboards.flatMap((d) => dataPanels(d).flatMap((p) => (p.fieldConfig?.defaults?.links ?? []).map((l) => ({ where: `${d.uid} / ${p.title} / ${l.title}`, url: l.url }))));
    const logql = links.flatMap((l) => exploreQueries(l.url).filter((q) => q.datasource.type === "loki").map((q) => ({ where: l.where, expr: String(q.query.expr) })));

    it("has log links on the dashboards", () => {
        expect(logql.length).toBeGreaterThan(5);
    });

    it("parses every Loki query of every panel link", () => {
        const failures = logql.map((q) => ({ ...q, errors: parseLogql(q.expr) })).filter((q) => q.errors.length > 0);
        expect(failures).toEqual([]);
    });

    it("parses the traces → logs query Grafana runs for a span, once Grafana fills in the trace id and service", () => {
        const jaeger = datasourceList({ ...datasourceArgs(), logs: { backend: "loki", url: "http://loki.monitoring.svc:3100" } }).find((d) => d.type === "jaeger")!;
        const query = (jaeger.jsonData.tracesToLogsV2 as { query: string }).query;
        expect(query).toBe(TRACE_LOGS_LOGQL);
        const filled = query.replace("${__tags}", 'service="checkout"').replace("${__trace.traceId}", "4bf92f3577b34da6a3ce929d0e0e4736");
        expect(filled).toBe('{service="checkout"} | trace_id="4bf92f3577b34da6a3ce929d0e0e4736"');
        expect(parseLogql(filled)).toEqual([]);
    });
});

describe("PromQL of the Jaeger datasource's traces → metrics queries", () => {
    it.each(PRESETS)("parses and names only catalog series for the %s preset", (preset) => {
        const jaeger = datasourceList({ ...datasourceArgs(), metricPreset: preset }).find((d) => d.type === "jaeger")!;
        const queries = (jaeger.jsonData.tracesToMetrics as { queries: { query: string }[] }).queries;
        expect(queries.map((q) => (q as { name?: string }).name)).toEqual(["Request rate", "Error ratio", "p95 latency"]);
        const known = allowedMetricNames(preset);
        for (const q of queries) {
            const parsed = parsePromql(substitute(q.query));
            expect([q.query, parsed.errors]).toEqual([q.query, []]);
            expect(parsed.metrics.filter((n) => !known.has(n))).toEqual([]);
        }
    });

    it("survive Grafana's environment expansion of datasources.yml: every $ of a template is written as $$", () => {
        const text = renderDatasources(datasourceArgs());
        expect(text).toContain("{$$__tags}");
        expect(text).toContain("$${__trace.traceId}");
        expect(text).toContain("$${__value.raw}");
        expect(unliteral("{$$__tags} $${__value.raw}")).toBe("{$__tags} ${__value.raw}");
        expect(text.replace(/\$\$/g, "")).not.toMatch(/\$/);
    });
});

describe("allPanelQueries, for the live and benchmark checks", () => {
    const cfg = config();
    const queries = allPanelQueries(cfg);
    const dashboards = buildDashboards(cfg);

    it("lists every query of every data panel of every dashboard once", () => {
        const expected = dashboards.flatMap((d) => dataPanels(d).flatMap((p) => (p.targets ?? []).map((t) => `${d.uid}/${p.id}/${t.refId}`)));
        expect(queries.map((q) => `${q.dashboardUid}/${q.panelId}/${q.refId}`)).toEqual(expected);
    });

    it("gives each query its panel, datasource type and the variables it uses", () => {
        const first = queries.find((q) => q.dashboardUid === "system-overview" && q.panelTitle === "Request rate")!;
        expect(first).toMatchObject({ datasourceType: "prometheus", datasourceUid: "${datasource}", instant: false, panelType: "stat" });
        expect(first.variables).toEqual(["cluster", "namespace", "service"]);
        const raw = queries.find((q) => q.panelTitle === "Request payload sizes")!;
        expect(raw.variables).toEqual(["cluster", "namespace", "route", "service"]);
        expect(variablesIn(raw.exprWithoutRecordingRules)).toEqual(["__rate_interval", "cluster", "namespace", "route", "service"]);
    });

    it("pairs every query with its form over raw series, which reads no recording rule", () => {
        for (const q of queries) expect([q.panelTitle, /\b[a-z_]+:[a-z0-9_]+:[a-z0-9_]+\b/.test(q.exprWithoutRecordingRules)]).toEqual([q.panelTitle, false]);
        expect(queries.filter((q) => q.expr !== q.exprWithoutRecordingRules).length).toBeGreaterThan(queries.length / 2);
    });

    it("substitutes variables as Grafana does: multi-values as an escaped alternation, the All value as .*", () => {
        const q = substituteVariables('x{service=~"$service",route=~"$route"}[$__rate_interval]', { service: ["a.b", "c"], route: ".*", __rate_interval: "2m" });
        expect(q).toBe(String.raw`x{service=~"(a\\.b|c)",route=~".*"}[2m]`);
        expect(parsePromql(q).errors).toEqual([]);
        expect(substituteVariables("$__range_s * ${__range}", { __range_s: "3600", __range: "1h" })).toBe("3600 * 1h");
    });

    it("computes Grafana's built-in intervals for a panel width and time range", () => {
        expect(builtinVariables({ rangeSeconds: 21600, stepSeconds: 18, scrapeIntervalSeconds: 15 })).toEqual({ __rate_interval: "60s", __interval: "18s", __range: "21600s", __range_s: "21600" });
    });
});

function datasourceArgs() {
    return {
        prometheusUrl: "http://prometheus.monitoring.svc:9090",
        alertmanagerUrl: "http://alertmanager.monitoring.svc:9093",
        jaegerUrl: "http://jaeger-query.monitoring.svc:16686",
        logs: { backend: "loki" as const, url: "http://loki.monitoring.svc:3100" },
        metricPreset: "prometheus" as const,
        scrapeInterval: "30s",
        prometheusVersion: "2.53.5",
    };
}
