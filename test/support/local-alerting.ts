/**
 * Building blocks for running the generated alerting configuration on 127.0.0.1: the prod stack
 * config, a webhook sink that records every notification, the generated alertmanager.yml with only
 * the receiver URLs swapped for the sink, a clustered set of real Alertmanagers, and the
 * static-discovery rewrite that lets the generated prometheus.yml scrape local targets with its
 * relabeling unchanged. Shared by test/e2e/alerting-live.test.ts and scripts/bench-delivery.ts.
 */
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import * as yaml from "js-yaml";
import * as pulumi from "@pulumi/pulumi";
import { alertmanagerConfig, credentialFile, notificationTemplates, ReceiverSpec } from "../../alerts/routing";
import { resolveConfig } from "../../config/resolve";
import type { StackConfig } from "../../config/types";
import { httpGet, ManagedProcess, ProcessRegistry, REPO_ROOT, waitFor } from "./processes";

// ---------------------------------------------------------------------------------------------
// Prod-like stack config: the committed Pulumi.prod.yaml (minus the email receiver, which needs SMTP).

export function prodStackConfig(): StackConfig {
    const doc = yaml.load(fs.readFileSync(path.join(REPO_ROOT, "Pulumi.prod.yaml"), "utf8")) as { config: Record<string, unknown> };
    const values: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(doc.config)) values[k.replace(/^observability:/, "")] = v;
    values.receivers = (values.receivers as { kind: string }[]).filter((r) => r.kind !== "email");
    return resolveConfig({ project: "observability", stack: "prod", values }, (key) => pulumi.secret(`unused-${key}`));
}

export function writeYaml(file: string, doc: unknown): void {
    fs.writeFileSync(file, yaml.dump(doc, { lineWidth: -1, noRefs: true }));
}

// ---------------------------------------------------------------------------------------------
// Webhook sink: records every POST with its path and the moment it arrived.

export interface SinkRecord {
    readonly path: string;
    readonly body: string;
    /** Date.now() when the request arrived (before its body was read). */
    readonly at: number;
}

export interface WebhookSink {
    readonly port: number;
    /** `http://127.0.0.1:<port>` */
    readonly url: string;
    /** Every POST received so far, in arrival order (appended when the body is complete). */
    readonly records: SinkRecord[];
    close(): Promise<void>;
}

export async function startWebhookSink(): Promise<WebhookSink> {
    const records: SinkRecord[] = [];
    const server = http.createServer((req, res) => {
        const at = Date.now();
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
            if (req.method === "POST") records.push({ path: req.url ?? "", body: Buffer.concat(chunks).toString("utf8"), at });
            // Slack checks a text/plain body equals "ok"; the others need only a 2xx.
            res.writeHead(200, { "Content-Type": "text/plain" }).end("ok");
        });
    });
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => resolve());
    });
    const port = (server.address() as { port: number }).port;
    return {
        port,
        url: `http://127.0.0.1:${port}`,
        records,
        close: () =>
            new Promise<void>((resolve) => {
                server.closeAllConnections();
                server.close(() => resolve());
            }),
    };
}

// ---------------------------------------------------------------------------------------------
// Notification parsing per receiver kind.

/** Sink path each receiver kind posts to. */
export const SINK_PATHS: Readonly<Record<string, string>> = { pagerduty: "/pagerduty", slack: "/slack", msteams: "/teams", webhook: "/heartbeat" };

export interface Delivery {
    readonly status: "firing" | "resolved";
    readonly alertname: string;
    readonly service: string;
}

export function parseDelivery(r: SinkRecord): Delivery | undefined {
    let body: any;
    try {
        body = JSON.parse(r.body);
    } catch {
        return undefined;
    }
    if (r.path === "/pagerduty") {
        // PagerDuty Events v2: the title template "[FIRING:1] Alert · service (cluster)" is the summary.
        const summary: string = body.payload?.summary ?? "";
        const m = /\] (\S+)(?: · (\S+))?/.exec(summary);
        return { status: body.event_action === "resolve" ? "resolved" : "firing", alertname: m?.[1] ?? "", service: m?.[2] ?? "" };
    }
    if (r.path === "/slack") {
        const title: string = body.attachments?.[0]?.title ?? "";
        const m = /^\[(\w+)[^\]]*\] (\S+)(?: · (\S+))?/.exec(title);
        return { status: m?.[1] === "RESOLVED" ? "resolved" : "firing", alertname: m?.[2] ?? "", service: m?.[3] ?? "" };
    }
    if (r.path === "/teams") {
        // msteamsv2: a message with one Adaptive Card whose first TextBlock is the title template.
        const card = body.attachments?.[0];
        if (card?.contentType !== "application/vnd.microsoft.card.adaptive") return undefined;
        const title: string = card.content?.body?.[0]?.text ?? "";
        const m = /^\[(\w+)[^\]]*\] (\S+)(?: · (\S+))?/.exec(title);
        return { status: m?.[1] === "RESOLVED" ? "resolved" : "firing", alertname: m?.[2] ?? "", service: m?.[3] ?? "" };
    }
    if (r.path === "/heartbeat") {
        return { status: body.status, alertname: body.commonLabels?.alertname ?? "", service: body.commonLabels?.service ?? "" };
    }
    return undefined;
}

// ---------------------------------------------------------------------------------------------
// Alertmanager.

/**
 * The generated alertmanager.yml for `cfg`'s receivers, runnable locally: receiver credentials
 * (the `*_file` fields) are files under `<dir>/secrets` that point at the sink, templates are
 * written to `<dir>/templates`, and PagerDuty's events API URL (not a credential) is the sink.
 * Everything else (routes, cadence, inhibition) is exactly as generated.
 */
export function localAlertmanagerConfig(cfg: StackConfig, dir: string, sinkUrl: string): Record<string, any> {
    const secretsDir = path.join(dir, "secrets");
    const templatesDir = path.join(dir, "templates");
    fs.mkdirSync(secretsDir, { recursive: true });
    fs.mkdirSync(templatesDir, { recursive: true });
    const receivers = cfg.receivers.map(({ credential: _c, ...r }) => r as ReceiverSpec);
    for (const r of receivers) {
        const value = r.kind === "pagerduty" ? "test-routing-key" : `${sinkUrl}${SINK_PATHS[r.kind]}`;
        fs.writeFileSync(path.join(secretsDir, credentialFile(r)), value);
    }
    const grafanaUrl = `https://${cfg.ingress?.grafanaHost ?? "grafana.example.com"}`;
    fs.writeFileSync(path.join(templatesDir, "obs.tmpl"), notificationTemplates(grafanaUrl));
    const am = alertmanagerConfig({ receivers, secretsDir, templatesDir, grafanaUrl }) as Record<string, any>;
    for (const rc of am.receivers as Record<string, any>[]) {
        for (const pd of rc.pagerduty_configs ?? []) pd.url = `${sinkUrl}/pagerduty`;
    }
    return am;
}

export interface AlertmanagerClusterOptions {
    readonly binary: string;
    readonly configFile: string;
    /** Parent of each replica's storage directory (`am-<i>`). */
    readonly dir: string;
    /** One web port and one cluster (gossip) port per replica. */
    readonly webPorts: readonly number[];
    readonly clusterPorts: readonly number[];
    /** Flags appended to every replica's command line. */
    readonly extraArgs?: readonly string[];
    /** Extra text for timeout messages. */
    readonly context?: () => string;
}

/**
 * Starts one Alertmanager per web port, clustered on loopback (each peers with the others), and
 * waits, bounded, until each is ready and sees every replica as a cluster member.
 */
export async function startAlertmanagerCluster(registry: ProcessRegistry, o: AlertmanagerClusterOptions): Promise<ManagedProcess[]> {
    const n = o.webPorts.length;
    if (o.clusterPorts.length !== n) throw new Error(`startAlertmanagerCluster: ${n} web ports but ${o.clusterPorts.length} cluster ports`);
    const replicas: ManagedProcess[] = [];
    for (let i = 0; i < n; i++) {
        const peers = o.clusterPorts.filter((_, j) => j !== i).map((p) => `--cluster.peer=127.0.0.1:${p}`);
        const dataDir = path.join(o.dir, `am-${i}`);
        fs.mkdirSync(dataDir, { recursive: true });
        replicas.push(
            await registry.start({
                name: `alertmanager-${i}`,
                binary: o.binary,
                args: [
                    `--config.file=${o.configFile}`,
                    `--storage.path=${dataDir}`,
                    `--web.listen-address=127.0.0.1:${o.webPorts[i]}`,
                    `--cluster.listen-address=127.0.0.1:${o.clusterPorts[i]}`,
                    `--cluster.advertise-address=127.0.0.1:${o.clusterPorts[i]}`,
                    ...peers,
                    ...(o.extraArgs ?? []),
                ],
            }),
        );
    }
    for (let i = 0; i < n; i++) await replicas[i]!.waitReady(`http://127.0.0.1:${o.webPorts[i]}/-/ready`);
    // The cluster is formed when every replica sees all members.
    for (let i = 0; i < n; i++) {
        await waitFor(
            `alertmanager-${i} to see ${n} cluster peers`,
            async () => {
                const r = await httpGet(`http://127.0.0.1:${o.webPorts[i]}/api/v2/status`);
                const s = JSON.parse(r.body);
                return s.cluster?.peers?.length === n && s.cluster?.status === "ready" ? true : undefined;
            },
            80,
            250,
            o.context ?? (() => registry.logs(15)),
        );
    }
    return replicas;
}

// ---------------------------------------------------------------------------------------------
// Prometheus: kubernetes_sd_configs made static.

/** The `__meta_kubernetes_*` labels pod discovery sets for a pod. */
export function podMeta(o: { ns: string; pod: string; container: string; app: string; extra?: Record<string, string> }): Record<string, string> {
    return {
        __meta_kubernetes_namespace: o.ns,
        __meta_kubernetes_pod_name: o.pod,
        __meta_kubernetes_pod_container_name: o.container,
        __meta_kubernetes_pod_node_name: "node-a",
        __meta_kubernetes_pod_phase: "Running",
        __meta_kubernetes_pod_label_app_kubernetes_io_name: o.app,
        ...o.extra,
    };
}

/** What discovery would produce per job: static_configs entries (`targets` + meta labels). */
export type DiscoveredTargets = Record<string, { targets: string[]; labels: Record<string, string> }[]>;

/**
 * Rewrites a generated prometheus.yml object in place: jobs using kubernetes_sd_configs get
 * `discovered[job]` as static_configs (their relabel_configs untouched, so the generated relabeling
 * runs for real); such jobs missing from `discovered` are dropped; other jobs stay as they are.
 */
export function withStaticDiscovery(prom: Record<string, any>, discovered: DiscoveredTargets): void {
    const jobs = prom.scrape_configs as Record<string, any>[];
    prom.scrape_configs = jobs
        .filter((j) => !j.kubernetes_sd_configs || j.job_name in discovered)
        .map((j) => {
            if (!j.kubernetes_sd_configs) return j;
            const { kubernetes_sd_configs: _sd, ...rest } = j;
            return { ...rest, static_configs: discovered[j.job_name] };
        });
}
