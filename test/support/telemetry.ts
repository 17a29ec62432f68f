/**
 * The real OpenTelemetry Collector and Jaeger of the telemetry tests (`.tools/bin/otelcol`,
 * `.tools/bin/jaeger`, built by scripts/build-go-tools.js), and the rewiring that lets a rendered
 * collector or Jaeger config run on a machine without a cluster.
 *
 * Rewiring changes addresses, file paths and environment only; every receiver, processor,
 * exporter and pipeline of the render is kept as rendered, so what runs is what the pods load.
 * A missing binary is an error that names the build command, never a skip.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import { ROOT } from "./program";
import { toolPath } from "./tools";

/** The command that builds both binaries (cached by version outside the clone). */
export const TELEMETRY_BUILD_COMMAND = "node scripts/build-go-tools.js otelcol jaeger";

export const TELEMETRY_BIN = path.join(ROOT, ".tools", "bin");

export type TelemetryTool = "otelcol" | "jaeger";

/** Absolute path of `.tools/bin/<name>`; throws with the build command when it is missing. */
export function telemetryBinary(name: TelemetryTool): string {
    return toolPath(name, TELEMETRY_BUILD_COMMAND);
}

export interface ToolRun {
    readonly status: number | null;
    /** stdout and stderr together */
    readonly output: string;
}

/** Runs a telemetry binary synchronously (bounded by `timeoutMs`). */
export function runTool(name: TelemetryTool, args: readonly string[], env: Record<string, string> = {}, timeoutMs = 60_000): ToolRun {
    const r = spawnSync(telemetryBinary(name), [...args], {
        cwd: ROOT,
        encoding: "utf8",
        timeout: timeoutMs,
        env: { ...process.env, ...env },
    });
    if (r.error) throw new Error(`${name} ${args.join(" ")}: ${r.error.message}`);
    return { status: r.status, output: `${r.stdout ?? ""}${r.stderr ?? ""}` };
}

export type CollectorKind = "receivers" | "processors" | "exporters" | "extensions" | "connectors";
export const COLLECTOR_KINDS: readonly CollectorKind[] = ["receivers", "processors", "exporters", "extensions", "connectors"];

/**
 * The component types compiled into the built collector: what `otelcol components` lists, plus
 * what the collector names as valid when a config asks for an unknown type of each kind.
 * `otelcol components` of 0.148.0 leaves out every component that was renamed and keeps its old
 * name as an alias (otlp_grpc/otlp, otlp_http/otlphttp, k8s_attributes/k8sattributes), so on its
 * own it would under-report the build; the config loader's list has them (and the aliases).
 */
export function builtComponents(): Record<CollectorKind, string[]> {
    const r = runTool("otelcol", ["components"]);
    if (r.status !== 0) throw new Error(`otelcol components exited ${r.status}:\n${r.output}`);
    const doc = yaml.load(r.output) as Record<string, { name: string }[] | undefined>;
    const out = {} as Record<CollectorKind, string[]>;
    for (const k of COLLECTOR_KINDS) {
        const listed = (doc[k] ?? []).map((c) => String(c.name));
        out[k] = [...new Set([...listed, ...loaderKnownTypes(k)])].sort();
    }
    return out;
}

/** The types `otelcol validate` accepts for a kind, from its "unknown type" error's valid values. */
export function loaderKnownTypes(kind: CollectorKind): string[] {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "otelcol-probe-"));
    try {
        const file = path.join(dir, "probe.yaml");
        writeYamlFile(file, {
            [kind]: { "no_such_component_type": {} },
            receivers: { nop: {}, ...(kind === "receivers" ? { no_such_component_type: {} } : {}) },
            exporters: { nop: {}, ...(kind === "exporters" ? { no_such_component_type: {} } : {}) },
            service: { pipelines: { traces: { receivers: ["nop"], exporters: ["nop"] } } },
        });
        const r = validateCollector(file);
        const m = new RegExp(`'${kind}' unknown type: "no_such_component_type".*?\\(valid values: \\[([^\\]]*)\\]\\)`).exec(r.output);
        if (r.status === 0 || !m) throw new Error(`expected otelcol validate to name the valid ${kind}; it exited ${r.status}:\n${r.output}`);
        return m[1]!.split(/\s+/).filter(Boolean);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/** Every `kind.id` of a collector config whose type is not in `built`. */
export function missingComponents(config: any, built: Record<CollectorKind, readonly string[]>): string[] {
    const out: string[] = [];
    for (const k of COLLECTOR_KINDS) {
        for (const id of Object.keys(config?.[k] ?? {})) {
            const type = id.split("/")[0]!;
            if (!built[k].includes(type)) out.push(`${k}.${id}`);
        }
    }
    return out;
}

/** `otelcol validate --config=FILE` with the environment the pod would have. */
export function validateCollector(file: string, env: Record<string, string> = {}): ToolRun {
    return runTool("otelcol", ["validate", `--config=file:${file}`], env);
}

/**
 * Environment a collector pod gets from its manifest that a config references with `${env:X}`
 * (the downward API's node name, the Elasticsearch password from a Secret): stand-in values.
 */
export const POD_ENV: Readonly<Record<string, string>> = {
    K8S_NODE_NAME: "node-a",
    K8S_POD_NAME: "otel-collector-0",
    K8S_POD_IP: "127.0.0.1",
    K8S_NAMESPACE: "monitoring",
    ELASTICSEARCH_PASSWORD: "test-password",
};

/** Every `${env:NAME}` a config text references. */
export function envReferences(text: string): string[] {
    return [...new Set([...text.matchAll(/\$\{env:([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]!))].sort();
}

export function writeYamlFile(file: string, doc: unknown): void {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, yaml.dump(doc, { lineWidth: -1, noRefs: true, sortKeys: false }));
}

export function readYamlFile(file: string): any {
    return yaml.load(fs.readFileSync(file, "utf8"));
}

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

/** Where a localized collector listens and sends. */
export interface CollectorWiring {
    /** Port of the OTLP gRPC receiver `otlp` (applications, agents). */
    readonly otlpGrpc: number;
    /** Port of the OTLP HTTP receiver `otlp`. */
    readonly otlpHttp: number;
    /** Port of the gateway's `otlp/loadbalanced` receiver, when it has one. */
    readonly loadbalanced?: number;
    readonly health: number;
    /** Port of the collector's own Prometheus metrics (service.telemetry). */
    readonly metrics: number;
    /** Folder for the agent's checkpoints and the files the filelog receiver tails. */
    readonly dataDir: string;
    /** The gateway's address for the agent's `otlp/gateway` exporter (host:port). */
    readonly gateway?: string;
    /** Targets of the trace-id `loadbalancing` exporter (host:port each; static resolver). */
    readonly loadbalancedTargets?: readonly string[];
    /** Jaeger's OTLP gRPC address (host:port). */
    readonly jaeger?: string;
    /** Remote-write URL per Prometheus replica, in the order the render lists them. */
    readonly remoteWrite?: readonly string[];
    /** Base URL the log exporter sends to (Loki's `/otlp`, or Elasticsearch's root). */
    readonly logs?: string;
}

/**
 * A rendered collector config rewired for 127.0.0.1. What changes and why:
 * - listening addresses `0.0.0.0:<port>` → `127.0.0.1:<free port>`: tests bind loopback only,
 *   and two collectors share the machine;
 * - the agent's filelog include/exclude globs and file_storage directory → under `dataDir`:
 *   there is no /var/log/pods or /var/lib/otelcol here;
 * - exporter endpoints (cluster DNS names) → the local stand-ins; the loadbalancing exporter's
 *   DNS resolver (a headless Service) → a static resolver over the local gateway(s);
 * - k8sattributes is kept, with `passthrough: true` and no node filter only where `noKubeApi`:
 *   the processor watches the API server when it starts, and there is none; in passthrough it
 *   keeps only the pod association (the role it plays in each agent is unchanged).
 */
export function localizeCollector(config: any, w: CollectorWiring, opts: { noKubeApi?: boolean; kubeconfig?: boolean } = {}): any {
    const c = clone(config);
    const rec = c.receivers ?? {};
    if (rec.otlp?.protocols?.grpc) rec.otlp.protocols.grpc.endpoint = `127.0.0.1:${w.otlpGrpc}`;
    if (rec.otlp?.protocols?.http) rec.otlp.protocols.http.endpoint = `127.0.0.1:${w.otlpHttp}`;
    if (rec["otlp/loadbalanced"]) {
        if (w.loadbalanced === undefined) throw new Error("the config has otlp/loadbalanced: give a port for it");
        rec["otlp/loadbalanced"].protocols.grpc.endpoint = `127.0.0.1:${w.loadbalanced}`;
    }
    if (rec.filelog) {
        const logs = path.join(w.dataDir, "pods");
        fs.mkdirSync(logs, { recursive: true });
        rec.filelog.include = (rec.filelog.include as string[]).map((g) => g.replace(/^\/var\/log\/pods/, logs));
        rec.filelog.exclude = ((rec.filelog.exclude ?? []) as string[]).map((g) => g.replace(/^\/var\/log\/pods/, logs));
    }
    const ext = c.extensions ?? {};
    for (const [id, e] of Object.entries<any>(ext)) {
        if (id === "health_check" || id.startsWith("health_check/")) e.endpoint = `127.0.0.1:${w.health}`;
        if (id.startsWith("file_storage")) {
            e.directory = path.join(w.dataDir, "file_storage");
            fs.mkdirSync(e.directory, { recursive: true });
        }
    }
    const proc = c.processors ?? {};
    if (opts.kubeconfig) {
        // In a pod the k8s_attributes processor and the k8snode detector read the service
        // account's token and KUBERNETES_SERVICE_HOST; here a kubeconfig file (pointing at a
        // closed port) stands in, so they can be created (`validate` creates every component).
        for (const [id, p] of Object.entries<any>(proc)) {
            if (p?.auth_type === "serviceAccount") p.auth_type = "kubeConfig";
            if (id.startsWith("resourcedetection") && p.k8snode?.auth_type === "serviceAccount") p.k8snode.auth_type = "kubeConfig";
        }
    }
    if (opts.noKubeApi) {
        for (const [id, p] of Object.entries<any>(proc)) {
            if (id === "k8s_attributes" || id.startsWith("k8s_attributes/")) {
                p.passthrough = true;
                delete p.filter;
            }
            if (id === "resourcedetection" || id.startsWith("resourcedetection/")) {
                // The k8snode detector asks the API server for the node; env needs nothing.
                p.detectors = (p.detectors as string[]).filter((d) => d !== "k8snode");
                delete p.k8snode;
            }
        }
    }
    const exp = c.exporters ?? {};
    let rw = 0;
    for (const [id, e] of Object.entries<any>(exp)) {
        if (id === "otlp_grpc/gateway") e.endpoint = need(w.gateway, id);
        else if (id === "otlp_grpc/jaeger") e.endpoint = need(w.jaeger, id);
        else if (id.startsWith("prometheusremotewrite")) e.endpoint = need(w.remoteWrite?.[rw++], id);
        else if (id.startsWith("otlp_http")) e.endpoint = need(w.logs, id);
        else if (id.startsWith("elasticsearch")) e.endpoints = [need(w.logs, id)];
        else if (id.startsWith("loadbalancing")) {
            e.resolver = { static: { hostnames: [...need(w.loadbalancedTargets, id)] } };
        }
    }
    const tel = c.service?.telemetry;
    for (const r of tel?.metrics?.readers ?? []) {
        const prom = r.pull?.exporter?.prometheus;
        if (prom) {
            prom.host = "127.0.0.1";
            prom.port = w.metrics;
        }
    }
    return c;
}

function need<T>(v: T | undefined, id: string): T {
    if (v === undefined) throw new Error(`exporter ${id}: no local address given for it`);
    return v;
}

/** Jaeger's rendered config on 127.0.0.1: listening ports, storage folders under `dataDir`. */
export function localizeJaeger(config: any, p: { otlpGrpc: number; otlpHttp: number; query: number; queryGrpc: number; health: number; metrics: number; dataDir: string }): any {
    const c = clone(config);
    c.receivers.otlp.protocols.grpc.endpoint = `127.0.0.1:${p.otlpGrpc}`;
    c.receivers.otlp.protocols.http.endpoint = `127.0.0.1:${p.otlpHttp}`;
    c.extensions.jaeger_query.http.endpoint = `127.0.0.1:${p.query}`;
    c.extensions.jaeger_query.grpc.endpoint = `127.0.0.1:${p.queryGrpc}`;
    c.extensions.healthcheckv2.http.endpoint = `127.0.0.1:${p.health}`;
    for (const r of c.service?.telemetry?.metrics?.readers ?? []) {
        const prom = r.pull?.exporter?.prometheus;
        if (prom) {
            prom.host = "127.0.0.1";
            prom.port = p.metrics;
        }
    }
    for (const b of Object.values<any>(c.extensions.jaeger_storage.backends)) {
        if (b.badger) {
            b.badger.directories = { keys: path.join(p.dataDir, "keys"), values: path.join(p.dataDir, "values") };
        }
    }
    return c;
}

/** A kubeconfig for a cluster that is not there (a closed port on 127.0.0.1); see localizeCollector. */
export function deadKubeconfig(dir: string): string {
    const file = path.join(dir, "kubeconfig.yaml");
    writeYamlFile(file, {
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: "none", cluster: { server: "https://127.0.0.1:9" } }],
        users: [{ name: "none", user: { token: "none" } }],
        contexts: [{ name: "none", context: { cluster: "none", user: "none" } }],
        "current-context": "none",
    });
    return file;
}
