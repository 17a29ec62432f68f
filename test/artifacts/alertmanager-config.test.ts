/**
 * alertmanager.yml checked by the real amtool: the rendered dev and prod configs with their
 * templates and credential files in place (temp stand-ins for /etc/alertmanager/config and
 * /etc/alertmanager/secrets), and the routing matrix of alerts/routing.ts as a table of label sets
 * and the exact receivers `amtool config routes test` says they reach.
 */
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import type { ReceiverKind } from "../../config";
import { alertmanagerConfig, credentialFile, notificationTemplates, ReceiverSpec, renderAlertmanagerConfig, SEVERITIES } from "../../alerts/routing";
import { readStackConfig } from "../../scripts/lib/stack-files";
import { deprecatedKeys } from "../support/alertmanager-deprecations";
import { ROOT } from "../support/program";
import { makeTempDir, readManifests } from "../support/render";
import { renderStack, run, toolPath } from "../support/tools";

/** Where the Alertmanager pod mounts its config (with the templates) and its receivers' Secret. */
const AM_CONFIG_DIR = "/etc/alertmanager/config";
const AM_SECRETS_DIR = "/etc/alertmanager/secrets";
const GRAFANA_URL = "https://grafana.example.com";

interface Route {
    receiver?: string;
    matchers?: string[];
    continue?: boolean;
    routes?: Route[];
    group_by?: string[];
    group_wait?: string;
    group_interval?: string;
    repeat_interval?: string;
    mute_time_intervals?: string[];
}

interface AmConfig {
    global?: Record<string, unknown>;
    templates: string[];
    route: Route;
    inhibit_rules: Record<string, unknown>[];
    time_intervals?: { name: string; time_intervals: unknown[] }[];
    receivers: ({ name: string } & Record<string, unknown>)[];
}

/** Per integration: its kind, the `*_file` field carrying its credential and the inline fields it must never use. */
const CREDENTIALS: Record<string, { kind: ReceiverKind; file: string; inline: string[] }> = {
    pagerduty_configs: { kind: "pagerduty", file: "routing_key_file", inline: ["routing_key", "service_key"] },
    slack_configs: { kind: "slack", file: "api_url_file", inline: ["api_url"] },
    email_configs: { kind: "email", file: "auth_password_file", inline: ["auth_password", "auth_secret"] },
    msteamsv2_configs: { kind: "msteams", file: "webhook_url_file", inline: ["webhook_url"] },
    webhook_configs: { kind: "webhook", file: "url_file", inline: ["url"] },
};

/** Global settings that would carry a credential for every receiver. */
const GLOBAL_SECRETS = ["slack_api_url", "smtp_auth_password", "smtp_auth_secret", "opsgenie_api_key", "victorops_api_key", "wechat_api_secret", "webex_api_url"];

/** The richer receiver set of the routing table: every kind, plus a team with its own Slack. */
const RECEIVERS: ReceiverSpec[] = [
    { kind: "pagerduty", name: "pagerduty-oncall", sendResolved: true, routes: ["critical"], routingKeySecret: "pagerdutyRoutingKey" },
    { kind: "slack", name: "slack-alerts", sendResolved: true, routes: ["critical", "high"], channel: "#alerts", webhookUrlSecret: "slackWebhookUrl" },
    {
        kind: "email",
        name: "email-oncall",
        sendResolved: true,
        routes: ["high", "warning", "low"],
        to: "oncall@example.com",
        from: "alertmanager@example.com",
        smarthost: "smtp.example.com:587",
        authUsername: "alertmanager@example.com",
        authPasswordSecret: "smtpPassword",
        requireTls: true,
    },
    { kind: "msteams", name: "teams-stakeholders", sendResolved: false, routes: ["stakeholders"], webhookUrlSecret: "teamsWebhookUrl" },
    { kind: "webhook", name: "heartbeat", sendResolved: false, routes: ["heartbeat"], urlSecret: "heartbeatUrl" },
    {
        kind: "slack",
        name: "slack-payments",
        team: "payments",
        sendResolved: true,
        routes: ["critical", "high"],
        channel: "#payments-alerts",
        webhookUrlSecret: "paymentsSlackWebhookUrl",
    },
];

const richArgs = { receivers: RECEIVERS, secretsDir: AM_SECRETS_DIR, templatesDir: AM_CONFIG_DIR, grafanaUrl: GRAFANA_URL };

interface RoutingCase {
    readonly case: string;
    readonly labels: Readonly<Record<string, string>>;
    readonly receivers: readonly string[];
}

const TABLE: readonly RoutingCase[] = [
    { case: "a critical alert", labels: { alertname: "KubeNodeNotReady", severity: "critical" }, receivers: ["pagerduty-oncall", "slack-alerts"] },
    { case: "a high alert", labels: { alertname: "ErrorBudgetBurn", severity: "high" }, receivers: ["slack-alerts", "email-oncall"] },
    { case: "a warning", labels: { alertname: "TargetDown", severity: "warning" }, receivers: ["email-oncall"] },
    { case: "a low alert (the daily digest)", labels: { alertname: "CertificateExpiresSoon", severity: "low" }, receivers: ["email-oncall"] },
    { case: "an info alert", labels: { alertname: "ConfigReloaded", severity: "info" }, receivers: ["null"] },
    { case: "the Watchdog", labels: { alertname: "Watchdog", severity: "info" }, receivers: ["heartbeat"] },
    { case: "a Watchdog labelled critical", labels: { alertname: "Watchdog", severity: "critical" }, receivers: ["heartbeat"] },
    { case: "an alert of unknown severity", labels: { alertname: "Odd", severity: "page" }, receivers: ["pagerduty-oncall"] },
    { case: "an alert without severity", labels: { alertname: "Unlabelled" }, receivers: ["pagerduty-oncall"] },
    { case: "a critical alert of team payments", labels: { alertname: "PaymentsDown", severity: "critical", team: "payments" }, receivers: ["slack-payments"] },
    { case: "a high alert of team payments", labels: { alertname: "PaymentsSlow", severity: "high", team: "payments" }, receivers: ["slack-payments"] },
    { case: "a warning of team payments (shared fallback)", labels: { alertname: "PaymentsQueue", severity: "warning", team: "payments" }, receivers: ["email-oncall"] },
    { case: "a low alert of team payments (shared fallback)", labels: { alertname: "PaymentsCert", severity: "low", team: "payments" }, receivers: ["email-oncall"] },
    { case: "an info alert of team payments", labels: { alertname: "PaymentsInfo", severity: "info", team: "payments" }, receivers: ["null"] },
    { case: "an alert of team payments with unknown severity", labels: { alertname: "PaymentsOdd", severity: "page", team: "payments" }, receivers: ["slack-payments"] },
    { case: "the Watchdog of team payments", labels: { alertname: "Watchdog", severity: "info", team: "payments" }, receivers: ["heartbeat"] },
    { case: "a critical alert of a team without receivers", labels: { alertname: "SearchDown", severity: "critical", team: "search" }, receivers: ["pagerduty-oncall", "slack-alerts"] },
    {
        case: "a high alert for stakeholders",
        labels: { alertname: "SloAtRisk", severity: "high", audience: "stakeholders" },
        receivers: ["teams-stakeholders", "slack-alerts", "email-oncall"],
    },
    {
        case: "a critical alert of team payments for stakeholders",
        labels: { alertname: "PaymentsDown", severity: "critical", team: "payments", audience: "stakeholders" },
        receivers: ["teams-stakeholders", "slack-payments"],
    },
];

interface Materialised {
    /** The config as generated (in-cluster paths). */
    config: AmConfig;
    text: string;
    /** alertmanager.yml rewritten to the temp stand-ins. */
    configFile: string;
    templatesDir: string;
    secretsDir: string;
    /** Every `*_file` path of the generated config (in-cluster). */
    credentialFiles: string[];
}

/** Every `*_file` value anywhere under `node`. */
function fileFields(node: unknown): string[] {
    if (Array.isArray(node)) return node.flatMap(fileFields);
    if (node && typeof node === "object") {
        return Object.entries(node).flatMap(([k, v]) => (k.endsWith("_file") && typeof v === "string" ? [v] : fileFields(v)));
    }
    return [];
}

/** Every string containing a Go template action under `node`. */
function templateStrings(node: unknown): string[] {
    if (typeof node === "string") return node.includes("{{") ? [node] : [];
    if (Array.isArray(node)) return node.flatMap(templateStrings);
    if (node && typeof node === "object") return Object.values(node).flatMap(templateStrings);
    return [];
}

/** Every route of the tree below `r`, depth first. */
function allRoutes(r: Route): Route[] {
    return (r.routes ?? []).flatMap((c) => [c, ...allRoutes(c)]);
}

/** Lays alertmanager.yml out the way the pod mounts it: templates and credential files present. */
function materialise(text: string, templates: string, root: string): Materialised {
    const config = yaml.load(text) as AmConfig;
    const templatesDir = path.join(root, "config");
    const secretsDir = path.join(root, "secrets");
    fs.mkdirSync(templatesDir, { recursive: true });
    fs.mkdirSync(secretsDir, { recursive: true });
    fs.writeFileSync(path.join(templatesDir, "notifications.tmpl"), templates);
    const credentialFiles = fileFields(config.receivers);
    for (const f of credentialFiles) {
        if (!f.startsWith(`${AM_SECRETS_DIR}/`)) throw new Error(`credential file ${f} is outside ${AM_SECRETS_DIR}`);
        fs.writeFileSync(path.join(secretsDir, path.relative(AM_SECRETS_DIR, f)), "https://credential.example.invalid/test\n");
    }
    const configFile = path.join(root, "alertmanager.yml");
    fs.writeFileSync(configFile, text.split(AM_CONFIG_DIR).join(templatesDir).split(AM_SECRETS_DIR).join(secretsDir));
    return { config, text, configFile, templatesDir, secretsDir, credentialFiles };
}

/** The receivers `amtool config routes test` reports for an alert with `labels`, in order. */
function routeOf(configFile: string, labels: Readonly<Record<string, string>>): string[] {
    const args = ["config", "routes", "test", `--config.file=${configFile}`, ...Object.entries(labels).map(([k, v]) => `${k}=${v}`)];
    const r = run("amtool", args);
    if (r.status !== 0) throw new Error(`amtool ${args.join(" ")} exited ${r.status}:\n${r.stdout}${r.stderr}`);
    const out = r.stdout.trim();
    return out === "" ? [] : out.split(",");
}

type Stack = "dev" | "prod";
const STACKS: readonly Stack[] = ["dev", "prod"];

let tmp: string;
const rendered = {} as Record<Stack, Materialised & { out: string }>;
let rich: Materialised;

beforeAll(() => {
    toolPath("amtool");
    tmp = makeTempDir("alertmanager-config-test");
    for (const stack of STACKS) {
        const out = renderStack(stack, path.join(tmp, stack, "render"));
        const files = path.join(out, "files", "alertmanager");
        const m = materialise(
            fs.readFileSync(path.join(files, "alertmanager.yml"), "utf8"),
            fs.readFileSync(path.join(files, "notifications.tmpl"), "utf8"),
            path.join(tmp, stack, "pod"),
        );
        rendered[stack] = { ...m, out };
    }
    rich = materialise(renderAlertmanagerConfig(richArgs), notificationTemplates(GRAFANA_URL), path.join(tmp, "routing"));
});

afterAll(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe.each(STACKS)("the rendered %s alertmanager.yml", (stack) => {
    const m = () => rendered[stack];

    it("points templates at the config directory, where notifications.tmpl is rendered", () => {
        expect(m().config.templates).toEqual([`${AM_CONFIG_DIR}/*.tmpl`]);
        expect(fs.existsSync(path.join(m().templatesDir, "notifications.tmpl"))).toBe(true);
    });

    it("passes amtool check-config with its templates and credential files in place, with nothing on stderr", () => {
        const r = run("amtool", ["check-config", m().configFile]);
        expect(r).toMatchObject({ status: 0, stderr: "" });
        expect(r.stdout).toContain(`${m().config.receivers.length} receivers`);
        expect(r.stdout).toContain("1 templates");
        expect(r.stdout).not.toContain("FAILED");
    });

    it("uses no deprecated key (match, match_re, source_/target_match*, top-level mute_time_intervals) and no retired msteams_configs", () => {
        expect(deprecatedKeys(m().config)).toEqual([]);
        // Quiet hours are a top-level time_intervals entry that the low routes mute by name.
        expect(m().config.time_intervals?.map((t) => t.name)).toEqual(["quiet-hours"]);
    });

    it("uses only templates that notifications.tmpl defines and that execute", () => {
        const texts = [...new Set(templateStrings(m().config.receivers))];
        expect(texts.length).toBeGreaterThan(0);
        const failures: Record<string, string> = {};
        for (const text of texts) {
            const r = run("amtool", ["template", "render", `--template.glob=${path.join(m().templatesDir, "*.tmpl")}`, `--template.text=${text}`]);
            if (r.status !== 0) failures[text] = r.stderr.trim();
        }
        expect(failures).toEqual({});
    });

    it("contains no secret value", () => {
        const placeholders = readStackConfig(ROOT, stack).secretPlaceholders;
        expect(placeholders.length).toBeGreaterThan(0);
        const dir = path.join(m().out, "files", "alertmanager");
        for (const f of fs.readdirSync(dir)) {
            const text = fs.readFileSync(path.join(dir, f), "utf8");
            expect(text).not.toContain("MOCK-SECRET");
            for (const p of placeholders) expect(text).not.toContain(p);
        }
    });

    it("references every receiver credential through a *_file field under the secrets mount, never inline", () => {
        const problems: string[] = [];
        for (const r of m().config.receivers) {
            for (const [key, entries] of Object.entries(r)) {
                if (key === "name") continue;
                const spec = CREDENTIALS[key];
                if (!spec) {
                    problems.push(`${r.name}: unexpected integration ${key}`);
                    continue;
                }
                for (const e of entries as Record<string, unknown>[]) {
                    for (const inline of spec.inline) if (inline in e) problems.push(`${r.name}: inline ${inline}`);
                    const needsFile = spec.kind !== "email" || "auth_username" in e;
                    const want = `${AM_SECRETS_DIR}/${credentialFile({ name: r.name, kind: spec.kind })}`;
                    if (needsFile && e[spec.file] !== want) problems.push(`${r.name}: ${spec.file} is ${String(e[spec.file])}, expected ${want}`);
                }
            }
        }
        for (const key of GLOBAL_SECRETS) if (m().config.global && key in m().config.global!) problems.push(`global: inline ${key}`);
        expect(problems).toEqual([]);
        // Every receiver but the null one carries a credential.
        expect(m().credentialFiles).toHaveLength(m().config.receivers.filter((r) => r.name !== "null").length);
    });

    it("reads every credential file from the Secret the Alertmanager StatefulSet mounts at the secrets directory", () => {
        type Pod = {
            containers: { name: string; volumeMounts?: { name: string; mountPath: string }[] }[];
            volumes?: { name: string; secret?: { secretName: string } }[];
        };
        const docs = readManifests(m().out);
        const sts = docs.find((o) => o.kind === "StatefulSet" && o.metadata?.name === "alertmanager") as unknown as { spec: { template: { spec: Pod } } } | undefined;
        expect(sts).toBeDefined();
        const pod = sts!.spec.template.spec;
        const mount = pod.containers.find((c) => c.name === "alertmanager")?.volumeMounts?.find((v) => v.mountPath === AM_SECRETS_DIR);
        expect(mount).toBeDefined();
        const secretName = pod.volumes?.find((v) => v.name === mount!.name)?.secret?.secretName;
        expect(secretName).toEqual(expect.any(String));
        const secret = docs.find((o) => o.kind === "Secret" && o.metadata?.name === secretName) as unknown as
            | { data?: Record<string, string>; stringData?: Record<string, string> }
            | undefined;
        expect(secret).toBeDefined();
        const keys = Object.keys({ ...(secret!.data ?? {}), ...(secret!.stringData ?? {}) });
        const referenced = m().credentialFiles.map((f) => path.relative(AM_SECRETS_DIR, f));
        expect(keys).toEqual(expect.arrayContaining(referenced));
    });

    it("routes every severity the rendered rule files use to a receiver", () => {
        const severities = ruleSeverities(m().out);
        expect(severities.length).toBeGreaterThan(0);
        const unrouted = severities.filter((s) => routeOf(m().configFile, { alertname: "RuleSeverityCheck", severity: s }).length === 0);
        expect(unrouted).toEqual([]);
    });
});

/** Distinct `labels.severity` of every alerting rule in a render's rules/*.yml. */
function ruleSeverities(out: string): string[] {
    const dir = path.join(out, "files", "prometheus", "rules");
    const found = new Set<string>();
    for (const f of fs.readdirSync(dir).filter((n) => n.endsWith(".yml"))) {
        const doc = yaml.load(fs.readFileSync(path.join(dir, f), "utf8")) as { groups: { rules: { alert?: string; labels?: Record<string, string> }[] }[] };
        for (const g of doc.groups) for (const r of g.rules) if (r.alert) found.add(r.labels?.severity ?? "<none>");
    }
    return [...found].sort();
}

describe("the routing matrix (alertmanagerConfig with pagerduty, slack, email, msteams, heartbeat and a payments team)", () => {
    it("passes amtool check-config", () => {
        const r = run("amtool", ["check-config", rich.configFile]);
        expect(r).toMatchObject({ status: 0 });
        expect(r.stdout).toContain(`${RECEIVERS.length + 1} receivers`);
    });

    for (const t of TABLE) {
        it(`routes ${t.case} to ${t.receivers.join(", ")}`, () => {
            expect(routeOf(rich.configFile, t.labels)).toEqual(t.receivers);
        });
    }

    it("routes every severity the rendered rule files use, and only known severities, to a non-empty receiver list", () => {
        const severities = [...new Set(STACKS.flatMap((s) => ruleSeverities(rendered[s].out)))].sort();
        expect(severities.length).toBeGreaterThan(0);
        expect(severities.filter((s) => !(SEVERITIES as readonly string[]).includes(s))).toEqual([]);
        const routed = Object.fromEntries(severities.map((s) => [s, routeOf(rich.configFile, { alertname: "RuleSeverityCheck", severity: s })]));
        for (const s of severities) {
            expect(routed[s].length).toBeGreaterThan(0);
            // Only info is deliberately silent; everything else must reach a human.
            if (s !== "info") expect(routed[s]).not.toContain("null");
        }
    });

    it("sends the Watchdog first, to the heartbeat, repeating every minute", () => {
        const first = rich.config.route.routes![0];
        expect(first).toMatchObject({ receiver: "heartbeat", matchers: ['alertname="Watchdog"'], repeat_interval: "1m" });
        expect(first.continue).toBeUndefined();
    });

    it("mutes the low routes in quiet hours and sends them as a daily digest", () => {
        const low = allRoutes(rich.config.route).filter((r) => r.matchers?.includes('severity="low"'));
        // The shared low route and the payments team's.
        expect(low).toHaveLength(2);
        for (const r of low) expect(r).toMatchObject({ mute_time_intervals: ["quiet-hours"], group_interval: "24h" });
        expect(rich.config.time_intervals?.map((t) => t.name)).toEqual(["quiet-hours"]);
    });

    it("lets a critical alert mute lesser ones of the same alert, and ClusterDown and TargetDown mute their consequences", () => {
        expect(rich.config.inhibit_rules).toEqual([
            { source_matchers: ['severity="critical"'], target_matchers: ['severity=~"high|warning|low|info"'], equal: ["alertname", "service", "cluster"] },
            { source_matchers: ['alertname="ClusterDown"'], target_matchers: ['alertname!~"ClusterDown|Watchdog"'], equal: ["cluster"] },
            { source_matchers: ['alertname="TargetDown"'], target_matchers: ['alertname!~"TargetDown|ClusterDown|Watchdog"'], equal: ["cluster", "service"] },
        ]);
        expect(rendered.prod.config.inhibit_rules).toEqual(rich.config.inhibit_rules);
    });

    it("refuses two receivers with the same name", () => {
        const twice = [...RECEIVERS, { ...RECEIVERS[1] }];
        expect(() => alertmanagerConfig({ ...richArgs, receivers: twice })).toThrow('receiver name "slack-alerts" is used twice');
    });

    it('refuses a receiver named "null", the name of the built-in silent receiver', () => {
        const nullNamed: ReceiverSpec = { ...RECEIVERS[0], name: "null" };
        expect(() => alertmanagerConfig({ ...richArgs, receivers: [nullNamed] })).toThrow(/"null" is reserved/);
    });
});

describe("the Microsoft Teams receiver (kind msteams)", () => {
    it("posts through msteamsv2_configs (Workflows, Adaptive Cards) with the URL from the Secret, the title and the text templates", () => {
        const teams = rich.config.receivers.find((r) => r.name === "teams-stakeholders");
        expect(teams).toEqual({
            name: "teams-stakeholders",
            msteamsv2_configs: [
                {
                    send_resolved: false,
                    webhook_url_file: `${AM_SECRETS_DIR}/teams-stakeholders-url`,
                    title: '{{ template "obs.title" . }}',
                    text: '{{ template "obs.text" . }}',
                },
            ],
        });
    });

    it("is the prod stack's teams-stakeholders receiver, rendered the same way", () => {
        const teams = rendered.prod.config.receivers.find((r) => r.name === "teams-stakeholders");
        expect(Object.keys(teams ?? {}).sort()).toEqual(["msteamsv2_configs", "name"]);
    });
});

describe("the deprecated-key check on a config written the old way", () => {
    // Every deprecated form once valid, which amtool still accepts: so the check above is what
    // keeps them out, and it must find each one.
    const old = {
        route: {
            receiver: "teams",
            routes: [
                { receiver: "teams", match: { severity: "critical" } },
                { receiver: "teams", match_re: { service: "api|web" }, mute_time_intervals: ["nights"] },
            ],
        },
        inhibit_rules: [{ source_match: { severity: "critical" }, target_match_re: { severity: "warning|info" }, equal: ["alertname"] }],
        mute_time_intervals: [{ name: "nights", time_intervals: [{ times: [{ start_time: "00:00", end_time: "06:00" }] }] }],
        receivers: [{ name: "teams", msteams_configs: [{ webhook_url: "https://example.invalid/webhook" }] }],
    };

    it("is accepted by amtool check-config", () => {
        const file = path.join(tmp, "old-style.yml");
        fs.writeFileSync(file, yaml.dump(old));
        const r = run("amtool", ["check-config", file]);
        expect(r.stdout + r.stderr).toContain("SUCCESS");
        expect(r.status).toBe(0);
    });

    it("names every deprecated key, and not the route-level mute_time_intervals", () => {
        expect(deprecatedKeys(old)).toEqual([
            "mute_time_intervals",
            "route.routes[0].match",
            "route.routes[1].match_re",
            "inhibit_rules[0].source_match",
            "inhibit_rules[0].target_match_re",
            "receivers[0].msteams_configs",
        ]);
    });
});

describe("amtool on deliberately broken input", () => {
    it("rejects a config whose route names an undefined receiver", () => {
        const broken = yaml.load(fs.readFileSync(rich.configFile, "utf8")) as AmConfig;
        broken.route.receiver = "does-not-exist";
        const file = path.join(tmp, "broken-receiver.yml");
        fs.writeFileSync(file, yaml.dump(broken));
        const r = run("amtool", ["check-config", file]);
        expect(r.status).not.toBe(0);
        expect(r.stdout + r.stderr).toContain('undefined receiver "does-not-exist"');
    });

    it("rejects a config whose templates do not parse, so the template check is real", () => {
        const root = path.join(tmp, "broken-template");
        const m = materialise(rich.text, `${notificationTemplates(GRAFANA_URL)}{{ define "obs.broken" }}{{ if }}{{ end }}\n`, root);
        const r = run("amtool", ["check-config", m.configFile]);
        expect(r.status).not.toBe(0);
        expect(r.stdout + r.stderr).toContain("notifications.tmpl");
    });
});

describe("a stack whose only receiver serves critical and high (like dev)", () => {
    it("still delivers warning and low alerts to that receiver instead of dropping them", () => {
        const only: ReceiverSpec[] = [
            { kind: "slack", name: "slack-dev", sendResolved: true, routes: ["critical", "high"], channel: "#dev", webhookUrlSecret: "slackWebhookUrl" },
        ];
        const m = materialise(
            renderAlertmanagerConfig({ ...richArgs, receivers: only }),
            notificationTemplates(GRAFANA_URL),
            path.join(tmp, "only-slack"),
        );
        for (const severity of ["critical", "high", "warning", "low"]) expect(routeOf(m.configFile, { severity })).toEqual(["slack-dev"]);
        expect(routeOf(m.configFile, { severity: "info" })).toEqual(["null"]);
    });
});
