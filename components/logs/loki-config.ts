/**
 * Pure generator of Loki's config: single binary, TSDB schema v13, OTLP ingestion that indexes
 * exactly the `service` and `level` labels, retention enforced by the compactor, and ingestion
 * limits. Storage is the local filesystem (an emptyDir in dev, a PVC in prod) or, as the scale
 * path, an object store (s3, gcs).
 */
import * as yaml from "js-yaml";
import type { LokiLimitsConfig, ObjectStorageConfig } from "../../config";
import { LOG_STREAM_LABELS } from "../kube/constants";
import { durationToSeconds, toHours } from "./durations";

export const LOKI_HTTP_PORT = 3100;
export const LOKI_GRPC_PORT = 9095;
/** Loki's data directory inside the container (the volume). */
export const LOKI_DATA_DIR = "/var/loki";
/** First day of the v13 schema period. Never change it for a running Loki: add a new period instead. */
export const SCHEMA_FROM = "2024-04-01";

export interface LokiConfigArgs {
    /** How long logs are kept; the compactor deletes older chunks. */
    readonly retention: string;
    /** Chunks and index on the local volume, or in an object store. */
    readonly objectStorage?: ObjectStorageConfig;
    readonly limits: LokiLimitsConfig;
}

function objectStore(o?: ObjectStorageConfig): "filesystem" | "s3" | "gcs" {
    return o ? o.kind : "filesystem";
}

export function lokiConfig(a: LokiConfigArgs): Record<string, any> {
    const retentionSeconds = durationToSeconds(a.retention);
    if (retentionSeconds < 86400) throw new Error(`logs.retention ${JSON.stringify(a.retention)}: expected at least 24h (Loki's retention works on daily index periods)`);
    const retention = toHours(a.retention);
    const store = objectStore(a.objectStorage);
    const l = a.limits;
    const storageConfig: Record<string, any> = {
        tsdb_shipper: { active_index_directory: `${LOKI_DATA_DIR}/tsdb-index`, cache_location: `${LOKI_DATA_DIR}/tsdb-cache` },
    };
    if (a.objectStorage?.kind === "s3") {
        // Credentials come from the pod's identity (IRSA, EKS Pod Identity or the standard AWS
        // environment), never from this file.
        storageConfig.aws = {
            bucketnames: a.objectStorage.bucket,
            ...(a.objectStorage.region ? { region: a.objectStorage.region } : {}),
            ...(a.objectStorage.endpoint ? { endpoint: a.objectStorage.endpoint, s3forcepathstyle: true } : {}),
        };
    } else if (a.objectStorage?.kind === "gcs") {
        // Credentials come from Workload Identity.
        storageConfig.gcs = { bucket_name: a.objectStorage.bucket };
    } else {
        storageConfig.filesystem = { directory: `${LOKI_DATA_DIR}/chunks` };
    }
    return {
        // One tenant ("fake"): the stack is a single-team install; the gateway NetworkPolicy is the boundary.
        auth_enabled: false,
        server: { http_listen_port: LOKI_HTTP_PORT, grpc_listen_port: LOKI_GRPC_PORT, log_level: "info", log_format: "json" },
        common: {
            path_prefix: LOKI_DATA_DIR,
            replication_factor: 1,
            ring: { kvstore: { store: "inmemory" } },
            ...(store === "filesystem" ? { storage: { filesystem: { chunks_directory: `${LOKI_DATA_DIR}/chunks`, rules_directory: `${LOKI_DATA_DIR}/rules` } } } : {}),
        },
        schema_config: {
            configs: [{ from: SCHEMA_FROM, store: "tsdb", object_store: store, schema: "v13", index: { prefix: "index_", period: "24h" } }],
        },
        storage_config: storageConfig,
        ingester: { wal: { enabled: true, dir: `${LOKI_DATA_DIR}/wal` }, chunk_idle_period: "30m", max_chunk_age: "2h" },
        compactor: {
            working_directory: `${LOKI_DATA_DIR}/compactor`,
            compaction_interval: "10m",
            // Without retention_enabled the compactor only compacts: nothing would ever be deleted.
            retention_enabled: true,
            retention_delete_delay: "2h",
            retention_delete_worker_count: 150,
            delete_request_store: store,
        },
        limits_config: {
            retention_period: retention,
            // Queries never reach past what retention keeps.
            max_query_lookback: retention,
            reject_old_samples: true,
            reject_old_samples_max_age: "168h",
            allow_structured_metadata: true,
            volume_enabled: true,
            ingestion_rate_strategy: "global",
            ingestion_rate_mb: l.ingestionRateMb,
            ingestion_burst_size_mb: l.ingestionBurstSizeMb,
            per_stream_rate_limit: `${l.perStreamRateLimitMb}MB`,
            per_stream_rate_limit_burst: `${l.perStreamRateLimitBurstMb}MB`,
            max_line_size: `${l.maxLineSizeKb}KB`,
            max_line_size_truncate: true,
            max_global_streams_per_user: l.maxStreams,
            max_label_names_per_series: 15,
            // No service_name label guessed from other labels: `service` is the stream label.
            discover_service_name: [],
            otlp_config: {
                resource_attributes: {
                    // Only `service` and `level` (moved to the resource by the gateway) become
                    // labels; every other attribute, trace_id and user_id included, is structured
                    // metadata, queryable without bloating the index.
                    ignore_defaults: true,
                    attributes_config: [{ action: "index_label", attributes: [LOG_STREAM_LABELS.service, LOG_STREAM_LABELS.level] }],
                },
            },
        },
        query_range: { results_cache: { cache: { embedded_cache: { enabled: true, max_size_mb: 100 } } } },
        ruler: { storage: { type: "local", local: { directory: `${LOKI_DATA_DIR}/rules` } } },
        analytics: { reporting_enabled: false },
    };
}

export function renderLokiConfig(a: LokiConfigArgs): string {
    return yaml.dump(lokiConfig(a), { lineWidth: -1, noRefs: true, sortKeys: false, quotingType: '"' });
}
