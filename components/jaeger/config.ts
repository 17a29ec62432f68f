/**
 * Pure generator of the Jaeger v2 config. Jaeger v2 is an OpenTelemetry Collector distribution:
 * an OTLP receiver feeding the `jaeger_storage_exporter`, the `jaeger_storage` extension holding
 * the backend, and the `jaeger_query` extension serving the UI and the query API.
 */
import * as yaml from "js-yaml";
import { durationToSeconds, toHours } from "../logs/durations";

export const JAEGER_OTLP_GRPC_PORT = 4317;
export const JAEGER_OTLP_HTTP_PORT = 4318;
export const JAEGER_UI_PORT = 16686;
export const JAEGER_QUERY_GRPC_PORT = 16685;
/** Jaeger's own metrics (Prometheus' jaeger job scrapes the `admin` port). */
export const JAEGER_ADMIN_PORT = 8888;
export const JAEGER_HEALTH_PORT = 13133;
/** Where the Badger key and value directories live (the volume). */
export const BADGER_DIR = "/badger";
/** Name of the storage backend inside the config. */
export const TRACE_STORE = "traces";
/** Index prefix of Jaeger's indices when it shares the Elasticsearch log cluster. */
export const JAEGER_INDEX_PREFIX = "jaeger";

/** Where traces are kept. */
export type JaegerStorage =
    | { readonly kind: "memory"; /** Traces kept before the oldest is evicted. @default 50000 */ readonly maxTraces?: number }
    | { readonly kind: "badger" }
    | {
          readonly kind: "elasticsearch";
          readonly serverUrls: readonly string[];
          readonly username: string;
          /** Path of the mounted file holding the password (Jaeger watches it for rotation). */
          readonly passwordFile: string;
          /** Replicas of each index: 0 on a one-node cluster. */
          readonly indexReplicas: number;
      };

export interface JaegerConfigArgs {
    readonly storage: JaegerStorage;
    /** How long traces are kept: Badger's span TTL, Elasticsearch's read lookback (indices are deleted by the lifecycle policy). */
    readonly retention: string;
}

function backend(a: JaegerConfigArgs): Record<string, unknown> {
    const s = a.storage;
    const retention = toHours(a.retention);
    switch (s.kind) {
        case "memory":
            // Memory has no time-based retention: the oldest traces go when max_traces is reached.
            return { memory: { max_traces: s.maxTraces ?? 50000 } };
        case "badger":
            return {
                badger: {
                    directories: { keys: `${BADGER_DIR}/keys`, values: `${BADGER_DIR}/values` },
                    ephemeral: false,
                    ttl: { spans: retention },
                },
            };
        case "elasticsearch": {
            const index = { date_layout: "2006-01-02", rollover_frequency: "day", shards: 1, replicas: s.indexReplicas };
            return {
                elasticsearch: {
                    server_urls: [...s.serverUrls],
                    auth: { basic: { username: s.username, password_file: s.passwordFile } },
                    indices: { index_prefix: JAEGER_INDEX_PREFIX, spans: index, services: index, dependencies: index, sampling: index },
                    create_mappings: true,
                    max_span_age: retention,
                },
            };
        }
    }
}

export function jaegerConfig(a: JaegerConfigArgs): Record<string, any> {
    if (durationToSeconds(a.retention) < 3600) throw new Error(`tracing.jaeger.retention ${JSON.stringify(a.retention)}: expected at least 1h`);
    if (a.storage.kind === "elasticsearch" && a.storage.serverUrls.length === 0) throw new Error("jaeger elasticsearch serverUrls []: expected at least one URL");
    return {
        service: {
            extensions: ["jaeger_storage", "jaeger_query", "healthcheckv2"],
            pipelines: { traces: { receivers: ["otlp"], processors: ["batch"], exporters: ["jaeger_storage_exporter"] } },
            telemetry: {
                resource: { "service.name": "jaeger" },
                metrics: { level: "detailed", readers: [{ pull: { exporter: { prometheus: { host: "0.0.0.0", port: JAEGER_ADMIN_PORT } } } }] },
                logs: { level: "info", encoding: "json" },
            },
        },
        extensions: {
            healthcheckv2: { use_v2: true, http: { endpoint: `0.0.0.0:${JAEGER_HEALTH_PORT}` } },
            jaeger_query: {
                storage: { traces: TRACE_STORE },
                http: { endpoint: `0.0.0.0:${JAEGER_UI_PORT}` },
                grpc: { endpoint: `0.0.0.0:${JAEGER_QUERY_GRPC_PORT}` },
            },
            jaeger_storage: { backends: { [TRACE_STORE]: backend(a) } },
        },
        receivers: {
            otlp: { protocols: { grpc: { endpoint: `0.0.0.0:${JAEGER_OTLP_GRPC_PORT}` }, http: { endpoint: `0.0.0.0:${JAEGER_OTLP_HTTP_PORT}` } } },
        },
        processors: { batch: {} },
        exporters: { jaeger_storage_exporter: { trace_storage: TRACE_STORE } },
    };
}

export function renderJaegerConfig(a: JaegerConfigArgs): string {
    return yaml.dump(jaegerConfig(a), { lineWidth: -1, noRefs: true, sortKeys: false, quotingType: '"' });
}
