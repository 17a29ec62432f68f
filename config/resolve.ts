/**
 * Pure config resolution: raw stack values in, a frozen {@link StackConfig} or a
 * {@link ConfigError} listing every problem out. No Pulumi runtime is needed except to wrap
 * secrets, which the caller supplies through `getSecret`.
 */
import type * as pulumi from "@pulumi/pulumi";
import { RunError } from "@pulumi/pulumi/errors";
import type { z } from "zod";
import { CONFIG_NAMESPACE, DEFAULT_SECRET_KEYS, SCALAR_KEYS, STRUCTURED_KEYS } from "./keys";
import { DURATION_RE, stackInput, StackInput } from "./schema";
import { environmentDefaults, DEFAULT_ALERTING, DEFAULT_SLOS, LATENCY_BUCKETS } from "./defaults";
import type {
    AlertingConfig,
    Environment,
    LogsConfig,
    ReceiverConfig,
    Resources,
    RouteRole,
    StackConfig,
    StorageConfig,
    SloConfig,
    RemoteWriteConfig,
    GrafanaDatabaseConfig,
    ProbeModule,
    ProbesConfig,
    ProbeTargetConfig,
} from "./types";

/** What `loadConfig()` read from the stack, before validation. */
export interface RawStackConfig {
    readonly project: string;
    readonly stack: string;
    /** Values by key without the namespace prefix; structured keys already parsed from JSON. */
    readonly values: Record<string, unknown>;
    /** Every `observability:*` key present in the stack, secrets included (for unknown-key checks). */
    readonly presentKeys?: ReadonlySet<string>;
}

/**
 * Thrown by `loadConfig()`: one message per problem, all found at once. A RunError, so `pulumi up`
 * and `preview` print its message alone, without the "Running program ... failed with an
 * unhandled exception" preamble or a stack trace.
 */
export class ConfigError extends RunError {
    constructor(
        readonly stackName: string,
        readonly problems: readonly string[],
    ) {
        super(
            `invalid configuration for stack "${stackName}" (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
                problems.map((p) => `  - ${p}`).join("\n"),
        );
        this.name = "ConfigError";
        // Pulumi prints the message of an uncaught error; the stack trace would only bury it.
        this.stack = this.message;
    }
}

export const DEFAULT_RUNBOOK_BASE_URL = "https://github.com/your-org/observability/blob/main/docs/runbooks";

type Path = readonly (string | number)[];

export function keyPath(path: Path): string {
    let out = `${CONFIG_NAMESPACE}:`;
    path.forEach((p, i) => {
        if (typeof p === "number") out += `[${p}]`;
        else out += i === 0 ? p : `.${p}`;
    });
    return out;
}

function valueAt(root: unknown, path: Path): unknown {
    let cur: unknown = root;
    for (const p of path) {
        if (cur === null || typeof cur !== "object") return undefined;
        cur = (cur as Record<string | number, unknown>)[p];
    }
    return cur;
}

function show(value: unknown): string {
    const text = JSON.stringify(value);
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** The keys a strict object in the schema accepts at `path`, to suggest the right spelling. */
function knownKeysAt(schema: z.ZodType, path: Path, root: unknown): string[] {
    let cur: any = schema;
    const unwrap = (s: any, value: unknown): any => {
        for (;;) {
            const def = s?._zod?.def;
            if (!def) return s;
            if (def.type === "optional" || def.type === "nullable" || def.type === "default") s = def.innerType;
            else if (def.type === "pipe") s = def.in;
            else if (def.type === "union" && def.discriminator && value && typeof value === "object") {
                const d = (value as Record<string, unknown>)[def.discriminator];
                s = def.options.find((o: any) => o._zod.def.shape[def.discriminator]._zod.def.values?.includes(d)) ?? def.options[0];
            } else return s;
        }
    };
    for (let i = 0; i <= path.length; i++) {
        cur = unwrap(cur, valueAt(root, path.slice(0, i)));
        if (i === path.length) break;
        const def = cur?._zod?.def;
        if (def?.type === "object") cur = def.shape[path[i] as string];
        else if (def?.type === "array") cur = def.element;
        else return [];
    }
    const def = cur?._zod?.def;
    return def?.type === "object" ? Object.keys(def.shape) : [];
}

function formatIssue(issue: z.core.$ZodIssue, root: unknown): string[] {
    const path = issue.path as Path;
    if (issue.code === "unrecognized_keys") {
        const known = knownKeysAt(stackInput, path, root);
        return issue.keys.map(
            (k) =>
                `${keyPath([...path, k])}: unknown key; expected one of: ${known.join(", ")}` +
                (path.length === 0 ? " (or a secret key a receiver names)" : ""),
        );
    }
    const value = valueAt(root, path);
    if (value === undefined) return [`${keyPath(path)} is required: ${issue.message}`];
    return [`${keyPath(path)} = ${show(value)}: ${issue.message}`];
}

/** Secret config keys the given (already schema-valid) input refers to. */
export function secretKeysOf(input: StackInput): string[] {
    const keys = new Set<string>();
    for (const r of input.receivers ?? []) {
        if (r.kind === "pagerduty") keys.add(r.routingKeySecret ?? DEFAULT_SECRET_KEYS.pagerduty);
        if (r.kind === "slack") keys.add(r.webhookUrlSecret ?? DEFAULT_SECRET_KEYS.slack);
        if (r.kind === "msteams") keys.add(r.webhookUrlSecret ?? DEFAULT_SECRET_KEYS.msteams);
        if (r.kind === "webhook") keys.add(r.urlSecret ?? DEFAULT_SECRET_KEYS.webhook);
        if (r.kind === "email" && r.authPasswordSecret) keys.add(r.authPasswordSecret);
    }
    for (const rw of input.prometheus?.remoteWrite ?? []) if (rw.bearerTokenSecret) keys.add(rw.bearerTokenSecret);
    if (input.grafana?.database) keys.add(input.grafana.database.passwordSecret);
    return [...keys].sort();
}

/** Parses a CPU or memory quantity into a plain number (cores or bytes) for comparisons. */
export function parseQuantity(q: string): number {
    const m = /^(\d+(?:\.\d+)?)(m|Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?$/.exec(q);
    if (!m) return NaN;
    const factors: Record<string, number> = {
        m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15,
        Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4, Pi: 1024 ** 5,
    };
    return parseFloat(m[1]!) * (m[2] ? factors[m[2]]! : 1);
}

function promSizeBytes(s: string): number {
    const m = /^(\d+)(B|KB|MB|GB|TB|PB)$/.exec(s)!;
    const f: Record<string, number> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4, PB: 1024 ** 5 };
    return parseInt(m[1]!, 10) * f[m[2]!]!;
}

function mergeResources(base: Resources, over: { requests?: { cpu?: string; memory?: string }; limits?: { cpu?: string; memory?: string } } | undefined): Resources {
    return {
        requests: { cpu: over?.requests?.cpu ?? base.requests.cpu, memory: over?.requests?.memory ?? base.requests.memory },
        limits: { cpu: over?.limits?.cpu ?? base.limits.cpu, memory: over?.limits?.memory ?? base.limits.memory },
    };
}

function mergeStorage(base: StorageConfig, over: { enabled?: boolean; size?: string } | undefined): StorageConfig {
    return { enabled: over?.enabled ?? base.enabled, size: over?.size ?? base.size };
}

function deepFreeze<T>(o: T): T {
    if (o && typeof o === "object" && !Object.isFrozen(o) && !isOutput(o)) {
        Object.freeze(o);
        for (const v of Object.values(o)) deepFreeze(v);
    }
    return o;
}

function isOutput(o: unknown): boolean {
    return typeof o === "object" && o !== null && (o as { __pulumiOutput?: boolean }).__pulumiOutput === true;
}

/** Routes a receiver serves when its config names none. */
export const DEFAULT_ROUTES: Record<ReceiverConfig["kind"], readonly RouteRole[]> = {
    pagerduty: ["critical"],
    slack: ["critical", "high"],
    email: ["high", "warning", "low"],
    msteams: ["stakeholders"],
    webhook: ["heartbeat"],
};

const ENVIRONMENTS: readonly Environment[] = ["dev", "staging", "prod"];

/**
 * Validates raw stack values, applies the environment's defaults and reads the secrets the
 * config refers to. Throws a {@link ConfigError} with every problem found.
 */
export function resolveConfig(raw: RawStackConfig, getSecret: (key: string) => pulumi.Output<string> | undefined): StackConfig {
    const problems: string[] = [];
    const parsed = stackInput.safeParse(raw.values);
    if (!parsed.success) {
        for (const issue of parsed.error.issues) problems.push(...formatIssue(issue, raw.values));
        throw new ConfigError(raw.stack, problems);
    }
    const input = parsed.data;

    const environment: Environment | undefined =
        input.environment ?? (ENVIRONMENTS.includes(raw.stack as Environment) ? (raw.stack as Environment) : undefined);
    if (!environment) {
        problems.push(
            `${keyPath(["environment"])} is required: expected dev, staging or prod (stack "${raw.stack}" is not named after one); set it with ` +
                `\`pulumi config set environment <dev|staging|prod> --stack ${raw.stack}\``,
        );
        throw new ConfigError(raw.stack, problems);
    }
    const d = environmentDefaults(environment);
    const secretKeys = secretKeysOf(input);

    if (raw.presentKeys) {
        const known = new Set<string>([...SCALAR_KEYS, ...STRUCTURED_KEYS, ...Object.values(DEFAULT_SECRET_KEYS), ...secretKeys]);
        for (const key of [...raw.presentKeys].sort()) {
            if (!known.has(key))
                problems.push(`${keyPath([key])}: unknown key; expected one of: ${[...SCALAR_KEYS, ...STRUCTURED_KEYS].join(", ")} (or a secret key a receiver names)`);
        }
    }

    const missingReported = new Set<string>();
    const secret = (key: string, path: Path): pulumi.Output<string> => {
        const value = getSecret(key);
        if (value === undefined && !missingReported.has(key)) {
            missingReported.add(key);
            problems.push(
                `${keyPath([key])} is not set but ${keyPath(path)} needs it: run ` +
                    `\`pulumi config set --secret ${key} <value> --stack ${raw.stack}\``,
            );
        }
        return value as pulumi.Output<string>;
    };

    const receivers: ReceiverConfig[] = (input.receivers ?? []).map((r, i): ReceiverConfig => {
        const common = {
            name: r.name,
            sendResolved: r.sendResolved ?? true,
            routes: [...(r.routes ?? DEFAULT_ROUTES[r.kind])],
            ...(r.team ? { team: r.team } : {}),
        };
        switch (r.kind) {
            case "pagerduty": {
                const key = r.routingKeySecret ?? DEFAULT_SECRET_KEYS.pagerduty;
                return { kind: r.kind, ...common, routingKeySecret: key, credential: secret(key, ["receivers", i, "routingKeySecret"]) };
            }
            case "slack": {
                const key = r.webhookUrlSecret ?? DEFAULT_SECRET_KEYS.slack;
                return { kind: r.kind, ...common, channel: r.channel, webhookUrlSecret: key, credential: secret(key, ["receivers", i, "webhookUrlSecret"]) };
            }
            case "msteams": {
                const key = r.webhookUrlSecret ?? DEFAULT_SECRET_KEYS.msteams;
                return { kind: r.kind, ...common, webhookUrlSecret: key, credential: secret(key, ["receivers", i, "webhookUrlSecret"]) };
            }
            case "webhook": {
                const key = r.urlSecret ?? DEFAULT_SECRET_KEYS.webhook;
                return { kind: r.kind, ...common, urlSecret: key, credential: secret(key, ["receivers", i, "urlSecret"]) };
            }
            case "email":
                return {
                    kind: r.kind,
                    ...common,
                    to: r.to,
                    from: r.from,
                    smarthost: r.smarthost,
                    requireTls: r.requireTls ?? true,
                    ...(r.authUsername !== undefined ? { authUsername: r.authUsername } : {}),
                    ...(r.authPasswordSecret !== undefined
                        ? { authPasswordSecret: r.authPasswordSecret, credential: secret(r.authPasswordSecret, ["receivers", i, "authPasswordSecret"]) }
                        : {}),
                };
        }
    });

    const seenReceivers = new Map<string, number>();
    receivers.forEach((r, i) => {
        const first = seenReceivers.get(r.name);
        if (first !== undefined)
            problems.push(`${keyPath(["receivers", i, "name"])} = ${show(r.name)}: expected a unique receiver name (receivers[${first}] has it too)`);
        else seenReceivers.set(r.name, i);
    });
    if (environment !== "dev" && receivers.length === 0) {
        problems.push(
            `${keyPath(["receivers"])} = []: expected at least one receiver in ${environment}, so that alerts reach a human ` +
                `(see the README's "Receivers" section)`,
        );
    }

    const slos: SloConfig[] = (input.slos ?? DEFAULT_SLOS).map((s) => ({ ...s }));
    const seenSlos = new Map<string, number>();
    slos.forEach((s, i) => {
        const first = seenSlos.get(s.name);
        if (first !== undefined) problems.push(`${keyPath(["slos", i, "name"])} = ${show(s.name)}: expected a unique SLO name (slos[${first}] has it too)`);
        else seenSlos.set(s.name, i);
        if (s.kind === "latency" && !LATENCY_BUCKETS.includes(s.latencyThreshold as (typeof LATENCY_BUCKETS)[number])) {
            problems.push(
                `${keyPath(["slos", i, "latencyThreshold"])}${s.latencyThreshold === undefined ? " is required" : ` = ${show(s.latencyThreshold)}`}: ` +
                    `expected one of the request histogram buckets ${LATENCY_BUCKETS.join(", ")} (seconds)`,
            );
        }
        if (s.kind === "availability" && s.latencyThreshold !== undefined)
            problems.push(`${keyPath(["slos", i, "latencyThreshold"])} = ${show(s.latencyThreshold)}: expected no latencyThreshold on an availability SLO`);
    });

    const ip = input.prometheus ?? {};
    const remoteWrite: RemoteWriteConfig[] = (ip.remoteWrite ?? []).map((rw, i) => ({
        name: rw.name,
        url: rw.url,
        ...(rw.bearerTokenSecret ? { bearerTokenSecret: rw.bearerTokenSecret, bearerToken: secret(rw.bearerTokenSecret, ["prometheus", "remoteWrite", i, "bearerTokenSecret"]) } : {}),
    }));

    const ig = input.grafana ?? {};
    let database: GrafanaDatabaseConfig | undefined;
    if (ig.database) database = { ...ig.database, password: secret(ig.database.passwordSecret, ["grafana", "database", "passwordSecret"]) };

    const il = input.logs ?? { backend: "loki" as const };
    let logs: LogsConfig;
    if (il.backend === "loki") {
        logs = {
            backend: "loki",
            replicas: il.replicas ?? d.loki.replicas,
            retention: il.retention ?? d.loki.retention,
            storage: mergeStorage(d.loki.storage, il.storage),
            resources: mergeResources(d.loki.resources, il.resources),
            ...(il.image ? { image: il.image } : {}),
            ...(il.objectStorage ? { objectStorage: il.objectStorage } : {}),
            limits: { ...d.loki.limits, ...(il.limits ?? {}) },
        };
    } else {
        logs = {
            backend: "elasticsearch",
            replicas: il.replicas ?? d.elasticsearch.replicas,
            retention: il.retention ?? d.elasticsearch.retention,
            storage: mergeStorage(d.elasticsearch.storage, il.storage),
            resources: mergeResources(d.elasticsearch.resources, il.resources),
            ...(il.image ? { image: il.image } : {}),
            kibana: {
                resources: mergeResources(d.elasticsearch.kibana, il.kibana?.resources),
                ...(il.kibana?.image ? { image: il.kibana.image } : {}),
            },
            allowMmap: il.allowMmap ?? true,
        };
    }

    const ij = input.tracing?.jaeger ?? {};
    const image = (i: string | undefined) => (i ? { image: i } : {});
    const config: StackConfig = {
        project: raw.project,
        stack: raw.stack,
        environment,
        clusterName: input.clusterName ?? defaultClusterName(raw.project, raw.stack),
        namespaces: {
            monitoring: input.namespaces?.monitoring ?? "monitoring",
            agents: input.namespaces?.agents ?? "monitoring-agents",
            ingressController: input.namespaces?.ingressController ?? "ingress-nginx",
            applicationSelector: { ...(input.namespaces?.applicationSelector ?? {}) },
        },
        ...(input.storageClass ? { storageClass: input.storageClass } : {}),
        metricPreset: input.metricPreset ?? "prometheus",
        runbookBaseUrl: (input.runbookBaseUrl ?? DEFAULT_RUNBOOK_BASE_URL).replace(/\/+$/, ""),
        prometheus: {
            replicas: ip.replicas ?? d.prometheus.replicas,
            retention: ip.retention ?? d.prometheus.retention,
            retentionSize: ip.retentionSize ?? d.prometheus.retentionSize,
            storage: mergeStorage(d.prometheus.storage, ip.storage),
            resources: mergeResources(d.prometheus.resources, ip.resources),
            ...image(ip.image),
            scrapeInterval: ip.scrapeInterval ?? d.scrapeInterval,
            evaluationInterval: ip.evaluationInterval ?? d.evaluationInterval,
            remoteWrite,
            staticTargets: (ip.staticTargets ?? []).map((t) => ({ job: t.job, targets: [...t.targets], labels: { ...(t.labels ?? {}) } })),
        },
        alertmanager: {
            replicas: input.alertmanager?.replicas ?? d.alertmanager.replicas,
            storage: mergeStorage(d.alertmanager.storage, input.alertmanager?.storage),
            resources: mergeResources(d.alertmanager.resources, input.alertmanager?.resources),
            ...image(input.alertmanager?.image),
        },
        grafana: {
            replicas: ig.replicas ?? d.grafana.replicas,
            storage: mergeStorage(d.grafana.storage, ig.storage),
            resources: mergeResources(d.grafana.resources, ig.resources),
            ...image(ig.image),
            ...(database ? { database } : {}),
        },
        logs,
        tracing: {
            samplingRatio: input.tracing?.samplingRatio ?? d.tracing.samplingRatio,
            jaeger: {
                storageBackend: ij.storageBackend ?? d.tracing.storageBackend,
                storage: mergeStorage(d.tracing.storage, ij.storage),
                retention: ij.retention ?? d.tracing.retention,
                resources: mergeResources(d.tracing.resources, ij.resources),
                ...image(ij.image),
            },
        },
        collector: {
            agent: { resources: mergeResources(d.collector.agent, input.collector?.agent?.resources), ...image(input.collector?.agent?.image) },
            gateway: {
                replicas: input.collector?.gateway?.replicas ?? d.collector.gatewayReplicas,
                resources: mergeResources(d.collector.gateway, input.collector?.gateway?.resources),
                ...image(input.collector?.gateway?.image),
            },
        },
        nodeExporter: { resources: mergeResources(d.nodeExporter, input.nodeExporter?.resources), ...image(input.nodeExporter?.image) },
        kubeStateMetrics: { resources: mergeResources(d.kubeStateMetrics, input.kubeStateMetrics?.resources), ...image(input.kubeStateMetrics?.image) },
        receivers,
        slos,
        alerting: resolveAlerting(input.alerting, problems),
        probes: resolveProbes(
            input.probes,
            {
                scrapeInterval: ip.scrapeInterval ?? d.scrapeInterval,
                defaultTeam: input.alerting?.teams?.application ?? DEFAULT_ALERTING.teams.application,
                defaults: d.blackboxExporter,
            },
            problems,
        ),
        ...(input.ingress
            ? {
                  ingress: {
                      className: input.ingress.className,
                      grafanaHost: input.ingress.grafanaHost,
                      ...(input.ingress.jaegerHost ? { jaegerHost: input.ingress.jaegerHost } : {}),
                      ...(input.ingress.tlsSecretName ? { tlsSecretName: input.ingress.tlsSecretName } : {}),
                      annotations: { ...(input.ingress.annotations ?? {}) },
                  },
              }
            : {}),
    };

    checkResources(config, problems);
    checkCrossField(config, problems);
    if (problems.length > 0) throw new ConfigError(raw.stack, problems);
    return deepFreeze(config);
}

/**
 * The alerting defaults overlaid by the stack's `alerting` key, field by field (a threshold
 * object may set only `threshold` or only `for`; lists replace the default list). Always builds
 * fresh objects, so freezing the config never freezes the defaults.
 */
function resolveAlerting(input: StackInput["alerting"], problems: string[]): AlertingConfig {
    const overlay = (base: unknown, over: unknown): unknown => {
        if (Array.isArray(over)) return over.map((v) => overlay(undefined, v));
        if (over === undefined) return base === undefined || base === null || typeof base !== "object" ? base : overlay(undefined, base);
        if (over !== null && typeof over === "object") {
            const b = (base ?? {}) as Record<string, unknown>;
            const o = over as Record<string, unknown>;
            return Object.fromEntries([...new Set([...Object.keys(b), ...Object.keys(o)])].map((k) => [k, overlay(b[k], o[k])]));
        }
        return over;
    };
    const a = overlay(DEFAULT_ALERTING, input ?? {}) as AlertingConfig;

    const warn = a.api.errorRatioWarning.threshold;
    if (a.api.errorRatioCritical.threshold <= warn) {
        problems.push(
            `${keyPath(["alerting", "api", "errorRatioCritical", "threshold"])} = ${show(a.api.errorRatioCritical.threshold)}: ` +
                `expected more than alerting.api.errorRatioWarning.threshold (${warn})`,
        );
    }
    for (const kind of ["page", "ticket"] as const) {
        a.slo[kind].forEach((w, i) => {
            if (durationSeconds(w.short) >= durationSeconds(w.long)) {
                problems.push(
                    `${keyPath(["alerting", "slo", kind, i, "short"])} = ${show(w.short)}: expected a window shorter than ` +
                        `alerting.slo.${kind}[${i}].long (${w.long})`,
                );
            }
        });
    }
    return a;
}

/** What probe targets default to, from the rest of the stack config. */
interface ProbeDefaults {
    readonly scrapeInterval: string;
    readonly defaultTeam: string;
    readonly defaults: { readonly replicas: number; readonly resources: Resources };
}

const HTTP_PROBE_URL = /^https?:\/\/[^\s/?#@]+([/?#]\S*)?$/;
const TCP_PROBE_URL = /^tcp:\/\/([^\s/?#@:]+|\[[0-9A-Fa-f:.]+\]):(\d{1,5})\/?$/;
const DNS_PROBE_URL = /^dns:\/\/([^\s/?#@:]+|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?\/([A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.?)$/;
/** `<service>.<namespace>.svc[.<cluster domain>]`: an in-cluster Service name. */
const CLUSTER_SERVICE_HOST = /^([a-z0-9-]+)\.([a-z0-9-]+)\.svc(\.[a-z0-9.-]+)?$/;

/** The URL each probe module expects, for messages. */
const PROBE_URL_TEXT: Readonly<Record<ProbeModule, string>> = {
    http_2xx: "an http(s) URL with a host and no credentials, such as https://shop.example.com/health",
    http_body: "an http(s) URL with a host and no credentials, such as https://shop.example.com/health",
    tcp_connect: "tcp://host:port, such as tcp://db.example.com:5432",
    dns: "dns://resolver[:port]/name.to.resolve, such as dns://kube-dns.kube-system.svc:53/kubernetes.default.svc.cluster.local",
};

/** Whether `url` has the form `module` probes; ports must be 1-65535. */
function probeUrlFits(url: string, module: ProbeModule): boolean {
    const port = (p: string | undefined) => p === undefined || (Number(p) >= 1 && Number(p) <= 65535);
    if (module === "tcp_connect") {
        const m = TCP_PROBE_URL.exec(url);
        return !!m && port(m[2]);
    }
    if (module === "dns") {
        const m = DNS_PROBE_URL.exec(url);
        return !!m && port(m[2]);
    }
    if (!HTTP_PROBE_URL.test(url)) return false;
    try {
        const u = new URL(url);
        return u.hostname !== "" && u.username === "" && u.password === "";
    } catch {
        return false;
    }
}

/** The module a URL's scheme implies when a target names none. */
function moduleOfUrl(url: string, expectBody: string | undefined): ProbeModule | undefined {
    if (/^https?:\/\//.test(url)) return expectBody !== undefined ? "http_body" : "http_2xx";
    if (url.startsWith("tcp://")) return "tcp_connect";
    if (url.startsWith("dns://")) return "dns";
    return undefined;
}

/**
 * Whether `pattern` is a regular expression the blackbox exporter (Go's RE2) accepts, as far as
 * JavaScript can tell: RE2-only syntax (flag groups, `(?P<name>`, `\A`, `\z`, `\Q...\E`, POSIX
 * classes) is translated first, and what RE2 refuses but JavaScript allows (lookaround,
 * backreferences, repeats over 1000) is refused. test/probes/ holds this to the exporter's own
 * `--config.check` on a table of patterns.
 */
export function isRe2Pattern(pattern: string): boolean {
    if (/\(\?<?[=!]|\\[1-9]|\\k</.test(pattern)) return false;
    if ([...pattern.matchAll(/\{(\d+)(?:,(\d*))?\}/g)].some((m) => Number(m[1]) > 1000 || Number(m[2] || 0) > 1000)) return false;
    const js = pattern
        .replace(/\\Q(.*?)(?:\\E|$)/g, (_, lit: string) => lit.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&"))
        .replace(/\[:\^?(alnum|alpha|ascii|blank|cntrl|digit|graph|lower|print|punct|space|upper|word|xdigit):\]/g, "a")
        .replace(/\\A/g, "^")
        .replace(/\\z/g, "$")
        .replace(/\(\?[imsU]+\)/g, "")
        .replace(/\(\?[imsU]+:/g, "(?:")
        .replace(/\(\?P</g, "(?<");
    try {
        new RegExp(js, "u");
        return true;
    } catch {
        return false;
    }
}

/**
 * The `probes` key with its defaults: each target's module (from its URL's scheme when unset),
 * interval, team, severity, service and namespace. Problems: a URL the module cannot probe, a
 * body pattern on a module that reads no body or that RE2 rejects, an interval shorter than the
 * scrape interval, and a name used twice.
 */
function resolveProbes(input: StackInput["probes"], o: ProbeDefaults, problems: string[]): ProbesConfig {
    const i = input ?? {};
    const seen = new Map<string, number>();
    const targets = (i.targets ?? []).map((t, n): ProbeTargetConfig => {
        const at = (field: string) => keyPath(["probes", "targets", n, field]);
        const module = t.module ?? moduleOfUrl(t.url, t.expectBody);
        if (module === undefined) {
            problems.push(`${at("url")} = ${show(t.url)}: expected an http://, https://, tcp:// or dns:// URL, such as https://shop.example.com/health`);
        } else if (!probeUrlFits(t.url, module)) {
            problems.push(`${at("url")} = ${show(t.url)}: expected ${PROBE_URL_TEXT[module]} (module ${module})`);
        }
        if (t.expectBody !== undefined && module !== undefined && module !== "http_body") {
            problems.push(`${at("expectBody")} = ${show(t.expectBody)}: expected no expectBody with module ${module} (only http_body reads the body)`);
        } else if (t.expectBody !== undefined && !isRe2Pattern(t.expectBody)) {
            problems.push(`${at("expectBody")} = ${show(t.expectBody)}: expected a regular expression in RE2 syntax (no lookaround or backreferences)`);
        }
        const interval = t.interval ?? o.scrapeInterval;
        if (durationSeconds(interval) < durationSeconds(o.scrapeInterval)) {
            problems.push(`${at("interval")} = ${show(interval)}: expected at least prometheus.scrapeInterval (${o.scrapeInterval})`);
        }
        const first = seen.get(t.name);
        if (first !== undefined) problems.push(`${at("name")} = ${show(t.name)}: expected a unique probe name (probes.targets[${first}] has it too)`);
        else seen.set(t.name, n);
        let host = "";
        try {
            host = new URL(t.url.replace(/^(tcp|dns):/, "http:")).hostname;
        } catch {
            /* reported above */
        }
        const inCluster = CLUSTER_SERVICE_HOST.exec(host);
        return {
            name: t.name,
            url: t.url,
            module: module ?? "http_2xx",
            interval,
            team: t.team ?? o.defaultTeam,
            severity: t.severity ?? "critical",
            ...(t.expectBody !== undefined ? { expectBody: t.expectBody } : {}),
            service: t.service ?? t.name,
            namespace: t.namespace ?? inCluster?.[2] ?? "external",
        };
    });
    return {
        replicas: i.replicas ?? o.defaults.replicas,
        resources: mergeResources(o.defaults.resources, i.resources),
        ...(i.image ? { image: i.image } : {}),
        serviceDiscovery: i.serviceDiscovery ?? true,
        targets,
    };
}

/** Seconds of a schema-valid Prometheus duration. */
export function durationSeconds(d: string): number {
    const m = DURATION_RE.exec(d);
    if (!m) return NaN;
    const unit = [365 * 86400, 7 * 86400, 86400, 3600, 60, 1, 0.001];
    return unit.reduce((sum, f, i) => sum + (m[i + 1] ? parseInt(m[i + 1]!, 10) * f : 0), 0);
}

/** `<project>-<stack>` made into a DNS label (the `cluster` label must be one). */
export function defaultClusterName(project: string, stack: string): string {
    return `${project}-${stack}`.toLowerCase().replace(/[^a-z0-9-]+/g, "-").slice(0, 63).replace(/^-+|-+$/g, "") || "cluster";
}

/** Every workload's limits must be at least its requests, or the API server rejects the pod. */
function checkResources(c: StackConfig, problems: string[]): void {
    const workloads: [Path, Resources][] = [
        [["prometheus"], c.prometheus.resources],
        [["alertmanager"], c.alertmanager.resources],
        [["grafana"], c.grafana.resources],
        [["logs"], c.logs.resources],
        [["tracing", "jaeger"], c.tracing.jaeger.resources],
        [["collector", "agent"], c.collector.agent.resources],
        [["collector", "gateway"], c.collector.gateway.resources],
        [["nodeExporter"], c.nodeExporter.resources],
        [["kubeStateMetrics"], c.kubeStateMetrics.resources],
        [["probes"], c.probes.resources],
    ];
    if (c.logs.backend === "elasticsearch") workloads.push([["logs", "kibana"], c.logs.kibana.resources]);
    for (const [path, r] of workloads) {
        for (const kind of ["cpu", "memory"] as const) {
            if (parseQuantity(r.limits[kind]) < parseQuantity(r.requests[kind])) {
                problems.push(
                    `${keyPath([...path, "resources", "limits", kind])} = ${show(r.limits[kind])}: expected at least ` +
                        `${path.join(".")}.resources.requests.${kind} (${r.requests[kind]})`,
                );
            }
        }
    }
}

function checkCrossField(c: StackConfig, problems: string[]): void {
    const certs = c.alerting.probes;
    if (certs.certExpiryCritical.threshold >= certs.certExpiryWarning.threshold) {
        problems.push(
            `${keyPath(["alerting", "probes", "certExpiryCritical", "threshold"])} = ${show(certs.certExpiryCritical.threshold)}: ` +
                `expected fewer days than alerting.probes.certExpiryWarning.threshold (${certs.certExpiryWarning.threshold})`,
        );
    }
    if (c.grafana.replicas > 1 && !c.grafana.database) {
        problems.push(
            `${keyPath(["grafana", "replicas"])} = ${c.grafana.replicas}: expected 1 unless grafana.database is set ` +
                `(replicas cannot share a sqlite file)`,
        );
    }
    if (c.tracing.jaeger.storageBackend === "elasticsearch" && c.logs.backend !== "elasticsearch") {
        problems.push(
            `${keyPath(["tracing", "jaeger", "storageBackend"])} = "elasticsearch": expected logs.backend "elasticsearch" ` +
                `(Jaeger shares the log cluster); use "badger" with Loki`,
        );
    }
    if (c.environment !== "dev" && c.tracing.jaeger.storageBackend === "memory") {
        problems.push(`${keyPath(["tracing", "jaeger", "storageBackend"])} = "memory": expected "badger" or "elasticsearch" in ${c.environment} (memory loses every trace on restart)`);
    }
    if (c.prometheus.storage.enabled && promSizeBytes(c.prometheus.retentionSize) >= parseQuantity(c.prometheus.storage.size)) {
        problems.push(
            `${keyPath(["prometheus", "retentionSize"])} = ${show(c.prometheus.retentionSize)}: expected less than ` +
                `prometheus.storage.size (${c.prometheus.storage.size}), or the volume fills before retention deletes anything`,
        );
    }
    const seenJobs = new Set<string>();
    c.prometheus.staticTargets.forEach((t, i) => {
        if (seenJobs.has(t.job)) problems.push(`${keyPath(["prometheus", "staticTargets", i, "job"])} = ${show(t.job)}: expected a unique job name`);
        seenJobs.add(t.job);
    });
    const logRetention = durationSeconds(c.logs.retention);
    if (logRetention < 86400 || logRetention % 86400 !== 0) {
        problems.push(
            `${keyPath(["logs", "retention"])} = ${show(c.logs.retention)}: expected whole days, at least 1d ` +
                `(Loki deletes by daily index period, Elasticsearch's lifecycle counts days)`,
        );
    }
    const traceRetention = durationSeconds(c.tracing.jaeger.retention);
    if (traceRetention < 3600 || traceRetention % 3600 !== 0) {
        problems.push(`${keyPath(["tracing", "jaeger", "retention"])} = ${show(c.tracing.jaeger.retention)}: expected whole hours, at least 1h`);
    }
    if (c.logs.backend === "loki") {
        const l = c.logs.limits;
        if (l.ingestionBurstSizeMb < l.ingestionRateMb) {
            problems.push(`${keyPath(["logs", "limits", "ingestionBurstSizeMb"])} = ${show(l.ingestionBurstSizeMb)}: expected at least logs.limits.ingestionRateMb (${l.ingestionRateMb})`);
        }
        if (l.perStreamRateLimitBurstMb < l.perStreamRateLimitMb) {
            problems.push(
                `${keyPath(["logs", "limits", "perStreamRateLimitBurstMb"])} = ${show(l.perStreamRateLimitBurstMb)}: expected at least logs.limits.perStreamRateLimitMb (${l.perStreamRateLimitMb})`,
            );
        }
    }
    if (c.namespaces.monitoring === c.namespaces.agents) {
        problems.push(
            `${keyPath(["namespaces", "agents"])} = ${show(c.namespaces.agents)}: expected a namespace other than namespaces.monitoring ` +
                `(agents need the privileged Pod Security level, the monitoring namespace enforces restricted)`,
        );
    }
}
