/**
 * Every alert the rules can raise reaches a receiver: the routing of alerts/routing.ts, built
 * with a receiver of every kind, asked through the real `amtool config routes test` with each
 * alert's own labels (alertname, severity, team). The expected receivers come from this test's
 * receiver list and the routing matrix of the README, not from the generated config.
 */
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { alertRules, ruleContext, ruleGroups } from "../../alerts";
import { alertmanagerConfig, credentialFile, notificationTemplates, ReceiverSpec } from "../../alerts/routing";
import { deprecatedKeys } from "../support/alertmanager-deprecations";
import { run, toolPath } from "../support/tools";
import { tempDir } from "./support/promtool";

const SECRETS = "/etc/alertmanager/secrets";
const TEMPLATES = "/etc/alertmanager/config";

/** One receiver of every kind, each serving the routes its kind serves by default. */
const RECEIVERS: ReceiverSpec[] = [
    { kind: "pagerduty", name: "pager", sendResolved: true, routes: ["critical"], routingKeySecret: "pagerdutyRoutingKey" },
    { kind: "slack", name: "slack", sendResolved: true, routes: ["critical", "high"], channel: "#alerts", webhookUrlSecret: "slackWebhookUrl" },
    {
        kind: "email",
        name: "mail",
        sendResolved: true,
        routes: ["high", "warning", "low"],
        to: "oncall@example.com",
        from: "alertmanager@example.com",
        smarthost: "smtp.example.com:587",
        requireTls: true,
    },
    { kind: "msteams", name: "teams", sendResolved: false, routes: ["stakeholders"], webhookUrlSecret: "teamsWebhookUrl" },
    { kind: "webhook", name: "heartbeat", sendResolved: false, routes: ["heartbeat"], urlSecret: "heartbeatUrl" },
];

/** The routing matrix (README, "Receivers and routing"): which receivers a severity reaches. */
const MATRIX: Record<string, string[]> = { critical: ["pager", "slack"], warning: ["mail"], info: ["null"] };

let tmp: string;
let configFile: string;
let generated: Record<string, unknown>;

beforeAll(() => {
    toolPath("amtool");
    tmp = tempDir("alerts-routing");
    const secrets = path.join(tmp, "secrets");
    const templates = path.join(tmp, "config");
    fs.mkdirSync(secrets, { recursive: true });
    fs.mkdirSync(templates, { recursive: true });
    for (const r of RECEIVERS) fs.writeFileSync(path.join(secrets, credentialFile(r)), "https://credential.example.invalid/x\n");
    fs.writeFileSync(path.join(templates, "notifications.tmpl"), notificationTemplates("https://grafana.example.com"));
    generated = alertmanagerConfig({ receivers: RECEIVERS, secretsDir: SECRETS, templatesDir: TEMPLATES, grafanaUrl: "https://grafana.example.com" });
    const text = yaml.dump(generated, { lineWidth: -1 });
    configFile = path.join(tmp, "alertmanager.yml");
    fs.writeFileSync(configFile, text.split(SECRETS).join(secrets).split(TEMPLATES).join(templates));
});

afterAll(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

function routeOf(labels: Readonly<Record<string, string>>): string[] {
    const args = ["config", "routes", "test", `--config.file=${configFile}`, ...Object.entries(labels).map(([k, v]) => `${k}=${v}`)];
    const r = run("amtool", args);
    if (r.status !== 0) throw new Error(`amtool ${args.join(" ")} exited ${r.status}:\n${r.stdout}${r.stderr}`);
    return r.stdout.trim() === "" ? [] : r.stdout.trim().split(",");
}

const alerts = alertRules(ruleGroups(ruleContext()));

describe("the routing of the rules' alerts (amtool config routes test, every receiver kind)", () => {
    it("accepts the config with every receiver kind (amtool check-config), with nothing on stderr", () => {
        const r = run("amtool", ["check-config", configFile]);
        expect(r.status).toBe(0);
        expect(r.stderr).toBe("");
        expect(r.stdout).toContain(`${RECEIVERS.length + 1} receivers`);
    });

    it("uses no deprecated key, and sends the msteams kind through msteamsv2_configs (Teams Workflows)", () => {
        expect(deprecatedKeys(generated)).toEqual([]);
        const teams = (generated.receivers as Record<string, unknown>[]).find((r) => r.name === "teams");
        expect(Object.keys(teams ?? {}).sort()).toEqual(["msteamsv2_configs", "name"]);
    });

    it("is asked about every severity the rules use, and the rules use only critical, warning and info", () => {
        const used = [...new Set(alerts.map((a) => a.labels.severity))].sort();
        expect(used).toEqual(["critical", "info", "warning"]);
        expect(Object.keys(MATRIX).sort()).toEqual(used);
    });

    it.each(alerts.map((a) => [a.alert, a.labels.severity, a.labels.team] as const))("routes %s (%s, team %s) to its receivers", (alertname, severity, team) => {
        const expected = alertname === "Watchdog" ? ["heartbeat"] : MATRIX[severity]!;
        expect(routeOf({ alertname, severity, team, service: "checkout", cluster: "prod" })).toEqual(expected);
    });

    it("routes every severity the rules use to a real receiver, not only the null one, except info (UI only by design)", () => {
        for (const severity of ["critical", "warning"]) expect(routeOf({ alertname: "Probe", severity }).filter((r) => r !== "null").length).toBeGreaterThan(0);
        expect(routeOf({ alertname: "Probe", severity: "info" })).toEqual(["null"]);
    });
});
