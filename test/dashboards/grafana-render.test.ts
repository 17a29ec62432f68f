/**
 * The Grafana part of the offline render, run as users run it (`node scripts/render.js --stack
 * prod --out <tmp>`): the ConfigMaps carry exactly the six dashboards, the datasources and the
 * provisioning config, the files land where the render layout says, and no secret is in them.
 */
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import type { K8sObject } from "../../scripts/lib/manifests";
import { RENDER_DIR_ANNOTATION } from "../../components/kube/render";
import { mockRandomValue } from "../../scripts/lib/mock-runtime";
import { DATASOURCE_UIDS } from "../../components/kube/constants";
import { listFiles, makeTempDir, readManifests, runRender } from "../support/render";

const DASHBOARD_FILES = ["api-performance.json", "infrastructure.json", "provider-monitoring.json", "slo.json", "system-overview.json", "websocket.json"];

describe.each(["prod", "dev"] as const)("the rendered %s stack's Grafana", (stack) => {
    let out: string;
    let objects: K8sObject[];
    let grafanaMaps: K8sObject[];
    beforeAll(() => {
        out = makeTempDir(`grafana-render-${stack}`);
        const run = runRender(["--stack", stack, "--out", out]);
        if (run.status !== 0) throw new Error(`render failed (${run.status}):\n${run.stderr}`);
        objects = readManifests(out).filter(Boolean);
        grafanaMaps = objects.filter((o) => o.kind === "ConfigMap" && o.metadata.labels?.["app.kubernetes.io/name"] === "grafana");
    });
    afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

    it("writes exactly the six dashboards under files/grafana/dashboards/<uid>.json, plus datasources, provider and grafana.ini", () => {
        const files = listFiles(path.join(out, "files", "grafana"));
        expect(files).toEqual(["dashboard-providers.yml", ...DASHBOARD_FILES.map((f) => `dashboards/${f}`), "datasources.yml", "grafana.ini"].sort());
        for (const f of DASHBOARD_FILES) {
            const d = JSON.parse(fs.readFileSync(path.join(out, "files", "grafana", "dashboards", f), "utf8"));
            expect(d.uid).toBe(f.replace(/\.json$/, ""));
            expect(d.tags).toContain("generated");
        }
    });

    it("carries the dashboards in one annotated ConfigMap each, and the datasources and config in two more", () => {
        const byDir = (dir: string) => grafanaMaps.filter((o) => o.metadata.annotations?.[RENDER_DIR_ANNOTATION] === dir);
        const dashboards = byDir("grafana/dashboards");
        expect(dashboards.map((o) => Object.keys(o.data)).flat().sort()).toEqual(DASHBOARD_FILES);
        expect(dashboards.every((o) => Object.keys(o.data).length === 1)).toBe(true);
        expect(byDir("grafana").map((o) => [o.metadata.name, Object.keys(o.data).sort()]).sort()).toEqual([
            ["grafana-config", ["dashboard-providers.yml", "grafana.ini"]],
            ["grafana-datasources", ["datasources.yml"]],
        ]);
        expect(grafanaMaps).toHaveLength(dashboards.length + 2);
    });

    it("provisions exactly Prometheus (default), Alertmanager, Loki and Jaeger with their fixed UIDs and in-cluster URLs", () => {
        const doc = yaml.load(fs.readFileSync(path.join(out, "files", "grafana", "datasources.yml"), "utf8")) as { prune: boolean; datasources: { name: string; uid: string; type: string; url: string; isDefault: boolean }[] };
        expect(doc.prune).toBe(true);
        expect(doc.datasources.map((d) => [d.name, d.type, d.uid, d.isDefault])).toEqual([
            ["Prometheus", "prometheus", DATASOURCE_UIDS.prometheus, true],
            ["Alertmanager", "alertmanager", DATASOURCE_UIDS.alertmanager, false],
            ["Loki", "loki", DATASOURCE_UIDS.loki, false],
            ["Jaeger", "jaeger", DATASOURCE_UIDS.jaeger, false],
        ]);
        for (const d of doc.datasources) expect(d.url).toMatch(/^http:\/\/[a-z0-9-]+\.monitoring\.svc:\d+$/);
        const services = new Set(objects.filter((o) => o.kind === "Service").map((o) => `http://${o.metadata.name}.${o.metadata.namespace}.svc:${o.spec.ports[0].port}`));
        for (const d of doc.datasources) expect([d.name, services.has(d.url)]).toEqual([d.name, true]);
    });

    it("provisions the dashboards into the Observability folder with UI edits not saved", () => {
        const doc = yaml.load(fs.readFileSync(path.join(out, "files", "grafana", "dashboard-providers.yml"), "utf8")) as { providers: Record<string, unknown>[] };
        expect(doc.providers).toHaveLength(1);
        expect(doc.providers[0]).toMatchObject({ folder: "Observability", type: "file", allowUiUpdates: false, disableDeletion: true, options: { path: "/etc/grafana/dashboards" } });
    });

    it("keeps every secret out of the ConfigMaps: no generated password, no password or secret_key setting", () => {
        const generated = ["grafana-admin-password", "grafana-secret-key"].map((n) => mockRandomValue(`random:index/randomPassword:RandomPassword/${n}`));
        const text = JSON.stringify(grafanaMaps);
        for (const g of generated) expect(text).not.toContain(g);
        const ini = fs.readFileSync(path.join(out, "files", "grafana", "grafana.ini"), "utf8");
        expect(ini).not.toMatch(/^\s*(admin_password|secret_key|password)\s*=/m);
        const secret = objects.find((o) => o.kind === "Secret" && o.metadata.name === "grafana")!;
        expect(Object.keys(secret.stringData).sort()).toEqual(["admin-password", "admin-user", "secret-key"]);
        expect(Object.values(secret.stringData).every((v) => String(v).startsWith("<redacted:"))).toBe(true);
    });

    it("exports the admin password only as a redacted secret output", () => {
        const summary = JSON.parse(fs.readFileSync(path.join(out, "summary.json"), "utf8"));
        expect(summary.outputs.grafanaAdminPassword).toBe("<redacted:grafanaAdminPassword>");
        expect(summary.outputs.grafanaUrl).toBe(stack === "prod" ? "https://grafana.example.com/" : "http://localhost:3000/");
    });
});
