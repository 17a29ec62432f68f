/**
 * Structural validation of a collector config, beyond what `otelcol validate` checks (the real
 * binary validates and runs the rendered configs in test/telemetry/). It checks what makes a
 * collector refuse to start or quietly lose data:
 * - every component a pipeline names is defined, and every defined one is used;
 * - every component type exists in our collector build (./contrib-components.ts);
 * - each pipeline's processors start with memory_limiter and end with batch;
 * - every endpoint names a Service that exists (when the rendered Services are given), on a port
 *   that Service exposes; a DNS resolver's host must be a headless Service.
 * It returns one message per problem; an empty list means the config passed.
 */
import { CONTRIB_COMPONENTS, ComponentKind, componentType, isContribComponent } from "./contrib-components";

/** A Service the render contains. */
export interface KnownService {
    readonly name: string;
    readonly namespace: string;
    readonly ports: readonly number[];
    /** True for a headless Service (clusterIP None). */
    readonly headless: boolean;
    /** For a StatefulSet's governing headless Service: the pod names it gives DNS records. */
    readonly podNames?: readonly string[];
}

const PIPELINE_KINDS = ["receivers", "processors", "exporters"] as const;
const SIGNALS = ["traces", "metrics", "logs"];

/** Every endpoint string in an exporter's config, with where it was found. */
export function exporterEndpoints(id: string, cfg: any): { where: string; value: string; dns?: boolean }[] {
    const out: { where: string; value: string; dns?: boolean }[] = [];
    if (!cfg || typeof cfg !== "object") return out;
    if (typeof cfg.endpoint === "string") out.push({ where: `exporters.${id}.endpoint`, value: cfg.endpoint });
    if (Array.isArray(cfg.endpoints)) cfg.endpoints.forEach((e: unknown, i: number) => typeof e === "string" && out.push({ where: `exporters.${id}.endpoints[${i}]`, value: e }));
    const dns = cfg.resolver?.dns;
    if (dns && typeof dns.hostname === "string") out.push({ where: `exporters.${id}.resolver.dns`, value: `${dns.hostname}:${dns.port ?? "4317"}`, dns: true });
    for (const [i, e] of (cfg.resolver?.static?.hostnames ?? []).entries()) out.push({ where: `exporters.${id}.resolver.static.hostnames[${i}]`, value: String(e) });
    return out;
}

/** `http://a.b.svc:80/x`, `a.b.svc.cluster.local:4317` → `{ host, port }`. */
export function parseEndpoint(value: string): { host: string; port?: number } | undefined {
    const m = /^(?:([a-z][a-z0-9+.-]*):\/\/)?([^/:?#]+)(?::(\d+))?(?:[/?#].*)?$/i.exec(value);
    if (!m) return undefined;
    const scheme = m[1]?.toLowerCase();
    const port = m[3] ? Number(m[3]) : scheme === "https" ? 443 : scheme === "http" ? 80 : undefined;
    return { host: m[2]!.toLowerCase(), ...(port !== undefined ? { port } : {}) };
}

/**
 * `<svc>.<ns>.svc[.cluster.local]` → `{ name, namespace }`, and a StatefulSet pod's own record
 * `<pod>.<svc>.<ns>.svc[.cluster.local]` → `{ pod, name, namespace }`; undefined for anything else.
 */
export function serviceOfHost(host: string): { name: string; namespace: string; pod?: string } | undefined {
    const m = /^(?:([a-z0-9-]+)\.)?([a-z0-9-]+)\.([a-z0-9-]+)\.svc(?:\.cluster\.local)?\.?$/.exec(host);
    return m ? { name: m[2]!, namespace: m[3]!, ...(m[1] ? { pod: m[1] } : {}) } : undefined;
}

export function validateCollectorConfig(config: any, services?: readonly KnownService[]): string[] {
    const problems: string[] = [];
    if (!config || typeof config !== "object") return ["config: expected a mapping"];
    const pipelines = config.service?.pipelines;
    if (!pipelines || typeof pipelines !== "object" || Object.keys(pipelines).length === 0) problems.push("service.pipelines: expected at least one pipeline");

    for (const kind of [...PIPELINE_KINDS, "extensions", "connectors"] as ComponentKind[]) {
        for (const id of Object.keys(config[kind] ?? {})) {
            if (!/^[a-z0-9_]+(\/[A-Za-z0-9_.-]+)?$/.test(id)) problems.push(`${kind}.${id}: expected an id of the form type or type/name`);
            if (!isContribComponent(kind, id)) {
                problems.push(`${kind}.${id}: type "${componentType(id)}" is not a ${kind.slice(0, -1)} of otelcol-contrib (known: ${CONTRIB_COMPONENTS[kind].length} types)`);
            }
        }
    }

    const used: Record<string, Set<string>> = { receivers: new Set(), processors: new Set(), exporters: new Set() };
    for (const [name, p] of Object.entries<any>(pipelines ?? {})) {
        const signal = name.split("/")[0]!;
        if (!SIGNALS.includes(signal)) problems.push(`service.pipelines.${name}: expected a traces, metrics or logs pipeline`);
        for (const kind of PIPELINE_KINDS) {
            const ids = p?.[kind];
            if (ids === undefined && kind === "processors") continue;
            if (!Array.isArray(ids) || (kind !== "processors" && ids.length === 0)) {
                problems.push(`service.pipelines.${name}.${kind}: expected a non-empty list`);
                continue;
            }
            if (new Set(ids).size !== ids.length) problems.push(`service.pipelines.${name}.${kind}: lists a component twice`);
            for (const id of ids) {
                used[kind]!.add(id);
                const definedAsConnector = kind !== "processors" && config.connectors && id in config.connectors;
                if (!(config[kind] && id in config[kind]) && !definedAsConnector) problems.push(`service.pipelines.${name}.${kind}: "${id}" is not defined under ${kind}`);
            }
        }
        const procs: string[] = Array.isArray(p?.processors) ? p.processors : [];
        if (procs.length === 0) problems.push(`service.pipelines.${name}.processors: expected memory_limiter first and batch last, found none`);
        else {
            if (componentType(procs[0]!) !== "memory_limiter") problems.push(`service.pipelines.${name}.processors: expected memory_limiter first, found "${procs[0]}"`);
            if (componentType(procs[procs.length - 1]!) !== "batch") problems.push(`service.pipelines.${name}.processors: expected batch last, found "${procs[procs.length - 1]}"`);
            const ts = procs.findIndex((x) => componentType(x) === "tail_sampling");
            const filters = procs.map((x, i) => (componentType(x) === "filter" ? i : -1)).filter((i) => i >= 0);
            if (ts >= 0 && filters.some((i) => i > ts)) problems.push(`service.pipelines.${name}.processors: expected filters before tail_sampling (a dropped span must not decide a trace)`);
        }
    }
    for (const kind of PIPELINE_KINDS) {
        for (const id of Object.keys(config[kind] ?? {})) {
            if (!used[kind]!.has(id)) problems.push(`${kind}.${id}: defined but used by no pipeline`);
        }
    }
    const enabledExt: unknown = config.service?.extensions ?? [];
    for (const id of Array.isArray(enabledExt) ? enabledExt : []) {
        if (!(config.extensions && id in config.extensions)) problems.push(`service.extensions: "${id}" is not defined under extensions`);
    }
    for (const id of Object.keys(config.extensions ?? {})) {
        if (!(Array.isArray(enabledExt) && enabledExt.includes(id))) problems.push(`extensions.${id}: defined but not enabled in service.extensions`);
    }
    for (const [id, cfg] of Object.entries<any>(config.processors ?? {})) {
        if (componentType(id) === "tail_sampling") {
            for (const pol of cfg?.policies ?? []) {
                const pct = pol?.probabilistic?.sampling_percentage;
                if (pct !== undefined && !(pct >= 0 && pct <= 100)) problems.push(`processors.${id}: policy "${pol.name}" sampling_percentage ${pct}: expected 0 to 100`);
            }
        }
    }

    if (services) {
        for (const [id, cfg] of Object.entries<any>(config.exporters ?? {})) {
            for (const ep of exporterEndpoints(id, cfg)) {
                if (ep.value.includes("${")) continue;
                const parsed = parseEndpoint(ep.value);
                const svcRef = parsed && serviceOfHost(parsed.host);
                if (!parsed || !svcRef) {
                    problems.push(`${ep.where} "${ep.value}": expected an in-cluster Service address <name>.<namespace>.svc`);
                    continue;
                }
                const svc = services.find((s) => s.name === svcRef.name && s.namespace === svcRef.namespace);
                if (!svc) {
                    problems.push(`${ep.where} "${ep.value}": no Service ${svcRef.namespace}/${svcRef.name} in the render`);
                    continue;
                }
                if (parsed.port === undefined || !svc.ports.includes(parsed.port)) {
                    problems.push(`${ep.where} "${ep.value}": Service ${svcRef.namespace}/${svcRef.name} exposes ports ${svc.ports.join(", ")}, not ${parsed.port}`);
                }
                if (svcRef.pod !== undefined) {
                    if (!svc.headless) problems.push(`${ep.where} "${ep.value}": a per-pod address needs a headless Service, ${svc.name} has a cluster IP`);
                    else if (svc.podNames && !svc.podNames.includes(svcRef.pod)) {
                        problems.push(`${ep.where} "${ep.value}": no pod ${svcRef.pod} behind Service ${svcRef.namespace}/${svcRef.name} (pods: ${svc.podNames.join(", ")})`);
                    }
                }
                if (ep.dns && !svc.headless) problems.push(`${ep.where} "${ep.value}": a DNS resolver needs a headless Service (one A record per pod), ${svc.name} has a cluster IP`);
            }
        }
    }
    return problems;
}
