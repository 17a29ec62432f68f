/**
 * Loki, Elasticsearch (+ Kibana) and Jaeger: their generated configs (required keys, retention
 * equal to the stack config, storage matching the environment), a whole stack rendered with the
 * Elasticsearch backend under Pulumi mocks, and every LogQL expression the stack uses.
 */
import { parser as logqlParser } from "@grafana/lezer-logql";
import { readStackConfig } from "../../scripts/lib/stack-files";
import { extractFiles, toKubernetesObjects, validateObjects } from "../../scripts/lib/manifests";
import { mockRandomValue, type RecordedResource } from "../../scripts/lib/mock-runtime";
import { durationToSeconds, toDays, toHours } from "../../components/logs/durations";
import { lokiConfig, SCHEMA_FROM } from "../../components/logs/loki-config";
import { elasticsearchYml, jaegerIlmPolicy, kibanaYml, logsCustomTemplate, logsIlmPolicy, roles, setupFiles, LOGS_POLICY } from "../../components/logs/elasticsearch-config";
import { STACK_LOGQL, logsOfTrace, streamSelector } from "../../components/logs/logql";
import { jaegerConfig } from "../../components/jaeger/config";
import { validateCollectorConfig } from "../../components/otel-collector/validate";
import { LOG_STREAM_LABELS } from "../../components/kube/constants";
import { ROOT, runProgram, ProgramRun } from "../support/program";
import { cleanup, containersOf, fromObjects, Rendered, renderStack } from "./support";
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { DATASOURCE_UIDS } from "../../components/kube/constants";

const LIMITS = { ingestionRateMb: 4, ingestionBurstSizeMb: 8, perStreamRateLimitMb: 3, perStreamRateLimitBurstMb: 10, maxLineSizeKb: 256, maxStreams: 5000 };
const seconds = (d: string) => durationToSeconds(d);

const renders: Partial<Record<"dev" | "prod", Rendered>> = {};
beforeAll(() => {
    renders.dev = renderStack("dev");
    renders.prod = renderStack("prod");
});
afterAll(() => {
    cleanup(renders.dev);
    cleanup(renders.prod);
});

describe("Loki's generated config", () => {
    it("has the keys a single-binary Loki needs, with a TSDB v13 schema", () => {
        const c = lokiConfig({ retention: "7d", limits: LIMITS });
        for (const key of ["auth_enabled", "server", "common", "schema_config", "storage_config", "compactor", "limits_config"]) expect(c).toHaveProperty(key);
        expect(c.schema_config.configs).toEqual([{ from: SCHEMA_FROM, store: "tsdb", object_store: "filesystem", schema: "v13", index: { prefix: "index_", period: "24h" } }]);
        expect(c.server.http_listen_port).toBe(3100);
    });

    it("indexes exactly service and level from OTLP, leaving trace and user ids as structured metadata", () => {
        const c = lokiConfig({ retention: "7d", limits: LIMITS });
        expect(c.limits_config.otlp_config).toEqual({
            resource_attributes: { ignore_defaults: true, attributes_config: [{ action: "index_label", attributes: [LOG_STREAM_LABELS.service, LOG_STREAM_LABELS.level] }] },
        });
        expect(c.limits_config.allow_structured_metadata).toBe(true);
        expect(c.limits_config.discover_service_name).toEqual([]);
        expect(JSON.stringify(c)).not.toMatch(/trace_id|user_id/);
    });

    it("applies the configured ingestion limits", () => {
        const l = lokiConfig({ retention: "7d", limits: { ...LIMITS, ingestionRateMb: 12, maxStreams: 777 } }).limits_config;
        expect(l).toMatchObject({ ingestion_rate_mb: 12, ingestion_burst_size_mb: 8, per_stream_rate_limit: "3MB", per_stream_rate_limit_burst: "10MB", max_line_size: "256KB", max_global_streams_per_user: 777 });
    });

    it("puts chunks and index in the configured object store, with credentials left to the pod identity", () => {
        const s3 = lokiConfig({ retention: "30d", limits: LIMITS, objectStorage: { kind: "s3", bucket: "logs-prod", region: "eu-west-1" } });
        expect(s3.schema_config.configs[0].object_store).toBe("s3");
        expect(s3.storage_config.aws).toEqual({ bucketnames: "logs-prod", region: "eu-west-1" });
        expect(s3.compactor.delete_request_store).toBe("s3");
        const gcs = lokiConfig({ retention: "30d", limits: LIMITS, objectStorage: { kind: "gcs", bucket: "logs-prod" } });
        expect(gcs.storage_config.gcs).toEqual({ bucket_name: "logs-prod" });
        expect(JSON.stringify([s3, gcs])).not.toMatch(/secret|access_key/i);
    });

    it("rejects a retention shorter than a day", () => {
        expect(() => lokiConfig({ retention: "12h", limits: LIMITS })).toThrow('logs.retention "12h": expected at least 24h');
    });

    it.each([
        ["dev", "7d"],
        ["prod", "30d"],
    ] as const)("in the %s render, keeps logs for %s and has the compactor delete older ones", (stack, retention) => {
        const c = renders[stack]!.yamlFile("loki/loki.yaml");
        expect(seconds(c.limits_config.retention_period)).toBe(seconds(retention));
        expect(seconds(c.limits_config.max_query_lookback)).toBe(seconds(retention));
        expect(c.compactor).toMatchObject({ retention_enabled: true, delete_request_store: "filesystem" });
    });

    it("keeps dev's Loki data in an emptyDir and prod's on a PersistentVolumeClaim", () => {
        const dev = renders.dev!.find("StatefulSet", "loki");
        expect(dev.spec.volumeClaimTemplates).toBeUndefined();
        expect(dev.spec.template.spec.volumes.find((v: any) => v.name === "data").emptyDir).toBeDefined();
        const prod = renders.prod!.find("StatefulSet", "loki");
        expect(prod.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe("100Gi");
        expect(prod.spec.template.spec.volumes.find((v: any) => v.name === "data")).toBeUndefined();
    });

    it("admits only the gateway, Grafana and Prometheus to Loki's port", () => {
        const policy = renders.prod!.find("NetworkPolicy", "loki");
        const names = policy.spec.ingress.flatMap((r: any) => r.from.map((f: any) => f.podSelector?.matchLabels?.["app.kubernetes.io/name"]));
        expect(names.sort()).toEqual(["grafana", "otel-collector-gateway", "prometheus"]);
    });
});

describe("Jaeger's generated config", () => {
    it("has the receiver, storage exporter and the storage, query and health extensions", () => {
        const c = jaegerConfig({ storage: { kind: "memory" }, retention: "2d" });
        expect(c.service.extensions).toEqual(["jaeger_storage", "jaeger_query", "healthcheckv2"]);
        expect(c.service.pipelines.traces).toEqual({ receivers: ["otlp"], processors: ["batch"], exporters: ["jaeger_storage_exporter"] });
        expect(c.exporters.jaeger_storage_exporter.trace_storage).toBe(c.extensions.jaeger_query.storage.traces);
        expect(Object.keys(c.extensions.jaeger_storage.backends)).toEqual([c.exporters.jaeger_storage_exporter.trace_storage]);
        expect(c.extensions.jaeger_query.http.endpoint).toBe("0.0.0.0:16686");
        expect(c.service.telemetry.metrics.readers[0].pull.exporter.prometheus.port).toBe(8888);
    });

    it("stores dev traces in memory and prod traces in Badger on a volume, kept for the configured retention", () => {
        const dev = renders.dev!.yamlFile("jaeger/config.yaml").extensions.jaeger_storage.backends.traces;
        expect(Object.keys(dev)).toEqual(["memory"]);
        const prod = renders.prod!.yamlFile("jaeger/config.yaml").extensions.jaeger_storage.backends.traces;
        expect(prod.badger).toMatchObject({ ephemeral: false, directories: { keys: "/badger/keys", values: "/badger/values" } });
        expect(seconds(prod.badger.ttl.spans)).toBe(seconds("7d"));
        const sts = renders.prod!.find("StatefulSet", "jaeger");
        expect(sts.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe("50Gi");
        expect(containersOf(sts)[0].volumeMounts).toContainEqual({ name: "data", mountPath: "/badger" });
    });

    it("reads Elasticsearch with a mounted password file and looks back exactly the retention", () => {
        const c = jaegerConfig({ storage: { kind: "elasticsearch", serverUrls: ["http://elasticsearch.monitoring.svc:9200"], username: "jaeger", passwordFile: "/p/password", indexReplicas: 1 }, retention: "3d" });
        const es = c.extensions.jaeger_storage.backends.traces.elasticsearch;
        expect(es.auth).toEqual({ basic: { username: "jaeger", password_file: "/p/password" } });
        expect(seconds(es.max_span_age)).toBe(seconds("3d"));
        expect(es.indices.spans).toEqual({ date_layout: "2006-01-02", rollover_frequency: "day", shards: 1, replicas: 1 });
        expect(JSON.stringify(c)).not.toContain('"password":');
    });

    it("keeps OTLP ingest internal: only the collector gateway may send, Grafana reads the UI", () => {
        const policy = renders.prod!.find("NetworkPolicy", "jaeger");
        const [ingest, ui] = policy.spec.ingress;
        expect(ingest.ports.map((p: any) => p.port)).toEqual([4317, 4318]);
        expect(ingest.from).toEqual([{ podSelector: { matchLabels: { "app.kubernetes.io/name": "otel-collector-gateway", "app.kubernetes.io/instance": "otel-collector-gateway" } } }]);
        expect(ui.ports).toEqual([{ port: 16686, protocol: "TCP" }]);
        expect(renders.prod!.find("Ingress", "jaeger").spec.rules[0].host).toBe("jaeger.example.com");
    });

    it("rejects a retention shorter than an hour", () => {
        expect(() => jaegerConfig({ storage: { kind: "badger" }, retention: "30m" })).toThrow('tracing.jaeger.retention "30m": expected at least 1h');
    });
});

describe("Elasticsearch's generated settings", () => {
    const base = { clusterName: "prod", statefulSetName: "elasticsearch", discoveryHost: "elasticsearch-headless.monitoring.svc", allowMmap: true };

    it("runs one dev node as a single-node cluster and three prod nodes with discovery seeds", () => {
        expect(elasticsearchYml({ ...base, replicas: 1 })).toMatchObject({ "discovery.type": "single-node" });
        const prod = elasticsearchYml({ ...base, replicas: 3 });
        expect(prod["discovery.seed_hosts"]).toEqual(["elasticsearch-headless.monitoring.svc"]);
        expect(prod["cluster.initial_master_nodes"]).toEqual(["elasticsearch-0", "elasticsearch-1", "elasticsearch-2"]);
        expect(prod).not.toHaveProperty("discovery.type");
    });

    it("turns security and transport TLS on with the mounted certificates", () => {
        expect(elasticsearchYml({ ...base, replicas: 3 })).toMatchObject({
            "xpack.security.enabled": true,
            "xpack.security.transport.ssl.enabled": true,
            "xpack.security.transport.ssl.verification_mode": "certificate",
            "xpack.security.transport.ssl.key": "certs/tls.key",
            "xpack.security.transport.ssl.certificate": "certs/tls.crt",
            "xpack.security.transport.ssl.certificate_authorities": ["certs/ca.crt"],
        });
    });

    it("documents vm.max_map_count instead of forcing it, with mmap off only on request", () => {
        expect(elasticsearchYml({ ...base, replicas: 3 })).not.toHaveProperty("node.store.allow_mmap");
        expect(elasticsearchYml({ ...base, replicas: 3, allowMmap: false })).toMatchObject({ "node.store.allow_mmap": false });
    });

    it("rolls log indices over daily and deletes them after the retention", () => {
        expect(logsIlmPolicy("30d")).toMatchObject({
            policy: { phases: { hot: { actions: { rollover: { max_age: "1d" } } }, delete: { min_age: "30d", actions: { delete: {} } } } },
        });
        expect(jaegerIlmPolicy("7d")).toMatchObject({ policy: { phases: { delete: { min_age: "7d" } } } });
        expect(logsCustomTemplate(3)).toMatchObject({ template: { settings: { "index.lifecycle.name": LOGS_POLICY, "index.number_of_replicas": 1 } } });
        expect(logsCustomTemplate(1)).toMatchObject({ template: { settings: { "index.number_of_replicas": 0 } } });
    });

    it("gives each stack user only the privileges it needs", () => {
        const r = roles();
        expect(r["otel-logs-writer"]).toEqual({ cluster: ["monitor"], indices: [{ names: ["logs-*"], privileges: ["create_doc", "auto_configure"] }] });
        expect(r["logs-reader"]!.indices).toEqual([{ names: ["logs-*", "jaeger-*"], privileges: ["read", "view_index_metadata"] }]);
    });

    it("has a setup script that installs every file it is shipped with", () => {
        const files = setupFiles({ esUrl: "http://elasticsearch.monitoring.svc:9200", logsRetention: "30d", replicas: 3, jaegerRetention: "7d", passwordsDir: "/passwords", filesDir: "/setup" });
        const script = files["setup.sh"]!;
        for (const f of Object.keys(files).filter((f) => f.endsWith(".json"))) expect(script).toContain(`$FILES/${f}`);
        for (const u of ["otel-collector", "jaeger", "grafana", "kibana_system"]) expect(script).toContain(`$PASSWORDS/${u}`);
        expect(script.startsWith("#!/bin/bash\n")).toBe(true);
        expect(script).toContain("\nset -euo pipefail\n");
        expect(files["jaeger-retention.sh"]).toContain('"index.lifecycle.name":"jaeger-retention"');
    });

    it("configures Kibana with the kibana_system user and generated encryption keys read from the environment", () => {
        expect(kibanaYml({ esUrl: "http://elasticsearch.monitoring.svc:9200" })).toMatchObject({
            "elasticsearch.username": "kibana_system",
            "elasticsearch.password": "${ELASTICSEARCH_PASSWORD}",
            "xpack.security.encryptionKey": "${KIBANA_SECURITY_ENCRYPTION_KEY}",
            "xpack.encryptedSavedObjects.encryptionKey": "${KIBANA_SAVED_OBJECTS_ENCRYPTION_KEY}",
            "xpack.reporting.encryptionKey": "${KIBANA_REPORTING_ENCRYPTION_KEY}",
        });
    });

    it("converts retentions to the units each backend reads", () => {
        expect(toHours("7d")).toBe("168h");
        expect(toDays("48h")).toBe("2d");
        expect(() => toDays("36h")).toThrow('duration "36h": expected whole days, at least 1d');
        expect(() => durationToSeconds("1 week")).toThrow('duration "1 week": expected a duration such as 7d or 12h');
    });
});

describe("a prod stack rendered with the Elasticsearch backend and Jaeger on it (under Pulumi mocks)", () => {
    let run: ProgramRun;
    let r: Rendered;
    const recorded = (type: string) => run.resources.filter((x: RecordedResource) => x.type === type);

    beforeAll(async () => {
        const cfg = readStackConfig(ROOT, "prod");
        run = await runProgram(cfg.project, cfg.stack, {
            ...cfg.config,
            "observability:logs": JSON.stringify({ backend: "elasticsearch", retention: "14d" }),
            "observability:tracing": JSON.stringify({ jaeger: { storageBackend: "elasticsearch", retention: "3d" } }),
        }, cfg.secretKeys);
        const objects = toKubernetesObjects(run.resources);
        r = fromObjects("", objects, extractFiles(objects));
    });

    it("runs the program without an error and renders only schema-valid objects", () => {
        expect(run.error).toBeUndefined();
        expect(validateObjects(r.objects)).toEqual([]);
    });

    it("runs three Elasticsearch nodes with a PDB, PVCs and no privileged container", () => {
        const sts = r.find("StatefulSet", "elasticsearch", "monitoring");
        expect(sts.spec.replicas).toBe(3);
        expect(sts.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe("100Gi");
        expect(r.find("PodDisruptionBudget", "elasticsearch").spec.maxUnavailable).toBe(1);
        const pod = sts.spec.template.spec;
        for (const c of [...pod.containers, ...pod.initContainers]) {
            expect(c.securityContext).toMatchObject({ privileged: false, allowPrivilegeEscalation: false, runAsNonRoot: true, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
        }
        expect(JSON.stringify(pod)).not.toContain("max_map_count");
    });

    it("bootstraps the elastic password from a generated secret and mounts the generated transport certificates", () => {
        const [es] = containersOf(r.find("StatefulSet", "elasticsearch"));
        expect(es.env).toContainEqual({ name: "ELASTIC_PASSWORD", valueFrom: { secretKeyRef: { name: "elasticsearch-credentials", key: "elastic" } } });
        expect(es.volumeMounts).toContainEqual({ name: "transport-tls", mountPath: "/usr/share/elasticsearch/config/certs", readOnly: true });
        const tlsSecret = r.find("Secret", "elasticsearch-transport-tls");
        expect(Object.keys(tlsSecret.stringData).sort()).toEqual(["ca.crt", "tls.crt", "tls.key"]);
        expect(tlsSecret.stringData["tls.key"]).toMatch(/^-----BEGIN PRIVATE KEY-----/);
        expect(recorded("tls:index/selfSignedCert:SelfSignedCert")[0]!.inputs).toMatchObject({ isCaCertificate: true });
        expect(recorded("tls:index/locallySignedCert:LocallySignedCert")[0]!.inputs.allowedUses).toEqual(expect.arrayContaining(["server_auth", "client_auth"]));
        const passwords = recorded("random:index/randomPassword:RandomPassword").map((p) => p.name);
        expect(passwords).toEqual(expect.arrayContaining(["elasticsearch-elastic", "elasticsearch-kibana-system", "elasticsearch-kibana-security-key"]));
        expect(r.find("Secret", "elasticsearch-credentials").stringData.elastic).toBe(mockRandomValue("random:index/randomPassword:RandomPassword/elasticsearch-elastic", 32));
    });

    it("renders the settings, the setup job's files and Kibana's config under files/elasticsearch", () => {
        expect(r.yamlFile("elasticsearch/elasticsearch.yml")["xpack.security.enabled"]).toBe(true);
        expect(JSON.parse(r.textFile("elasticsearch/setup/ilm-logs-retention.json")).policy.phases.delete.min_age).toBe("14d");
        expect(JSON.parse(r.textFile("elasticsearch/setup/ilm-jaeger-retention.json")).policy.phases.delete.min_age).toBe("3d");
        expect(r.yamlFile("elasticsearch/kibana/kibana.yml")["elasticsearch.username"]).toBe("kibana_system");
        expect(r.objects.some((o) => o.kind === "ConfigMap" && o.metadata.name === "loki-config")).toBe(false);
    });

    it("runs the setup job and the hourly Jaeger retention job with the setup files", () => {
        const job = r.objects.find((o) => o.kind === "Job" && o.metadata.name.startsWith("elasticsearch-setup-"))!;
        expect(job.spec.template.spec.containers[0].command).toEqual(["bash", "/setup/setup.sh"]);
        expect(r.find("CronJob", "elasticsearch-jaeger-retention").spec.schedule).toBe("17 * * * *");
    });

    it("sends logs from the gateway to Elasticsearch as the otel-collector user with the password from a Secret", () => {
        const gw = r.yamlFile("otel-collector/gateway.yaml");
        expect(gw.service.pipelines.logs.exporters).toEqual(["elasticsearch/logs"]);
        expect(gw.exporters["elasticsearch/logs"]).toMatchObject({ endpoints: ["http://elasticsearch.monitoring.svc:9200"], user: "otel-collector", password: "${env:ELASTICSEARCH_PASSWORD}" });
        expect(gw.processors["groupbyattrs/log-labels"]).toBeUndefined();
        expect(validateCollectorConfig(gw, fromObjects("", r.objects, undefined).services)).toEqual([]);
        const [c] = containersOf(r.find("Deployment", "otel-collector-gateway"));
        expect(c.env).toContainEqual({ name: "ELASTICSEARCH_PASSWORD", valueFrom: { secretKeyRef: { name: "otel-collector-gateway-elasticsearch", key: "password" } } });
    });

    it("stores traces in the shared cluster as the jaeger user, reading the retention from config", () => {
        const es = r.yamlFile("jaeger/config.yaml").extensions.jaeger_storage.backends.traces.elasticsearch;
        expect(es.server_urls).toEqual(["http://elasticsearch.monitoring.svc:9200"]);
        expect(es.auth.basic.username).toBe("jaeger");
        expect(seconds(es.max_span_age)).toBe(seconds("3d"));
    });

    it("runs Kibana with its encryption keys and kibana_system password from a Secret", () => {
        const [k] = containersOf(r.find("Deployment", "elasticsearch-kibana"));
        expect(k.env.map((e: any) => e.name)).toEqual(["ELASTICSEARCH_PASSWORD", "KIBANA_SECURITY_ENCRYPTION_KEY", "KIBANA_SAVED_OBJECTS_ENCRYPTION_KEY", "KIBANA_REPORTING_ENCRYPTION_KEY"]);
        expect(k.env.every((e: any) => e.valueFrom?.secretKeyRef?.name === "elasticsearch-kibana")).toBe(true);
    });

    it("has no Loki and no Loki scrape job", () => {
        expect(r.objects.some((o) => o.metadata.name === "loki")).toBe(false);
        expect(r.yamlFile("prometheus/prometheus.yml").scrape_configs.map((j: any) => j.job_name)).not.toContain("loki");
    });
});

describe("every LogQL expression of the stack parses with @grafana/lezer-logql", () => {
    const errorsOf = (q: string): string[] => {
        const errors: string[] = [];
        logqlParser.parse(q).iterate({ enter: (n) => void (n.type.isError && errors.push(`error at ${n.from}: ${q.slice(n.from, n.from + 20)}`)) });
        return errors;
    };
    /** LogQL found in rendered Grafana provisioning (dashboards and datasources), once Grafana exists. */
    const renderedLogql = (): string[] => {
        const out: string[] = [];
        for (const stack of ["dev", "prod"] as const) {
            const dir = path.join(renders[stack]!.dir, "files", "grafana");
            if (!fs.existsSync(dir)) continue;
            const walk = (d: string) => {
                for (const e of fs.readdirSync(d, { withFileTypes: true })) {
                    const p = path.join(d, e.name);
                    if (e.isDirectory()) walk(p);
                    else if (p.endsWith(".json")) collect(JSON.parse(fs.readFileSync(p, "utf8")), false);
                }
            };
            const collect = (node: any, loki: boolean): void => {
                if (Array.isArray(node)) return node.forEach((n) => collect(n, loki));
                if (!node || typeof node !== "object") return;
                const isLoki = loki || node.datasource?.type === "loki" || node.datasource?.uid === "loki";
                if (isLoki && typeof node.expr === "string") out.push(node.expr);
                for (const v of Object.values(node)) collect(v, isLoki);
            };
            walk(dir);
            // The Jaeger datasource's traces → logs query, as Grafana runs it: provisioning `$$`
            // unescaped, span tags and trace id filled in.
            const dsFile = path.join(dir, "datasources.yml");
            if (fs.existsSync(dsFile)) {
                const ds = (yaml.load(fs.readFileSync(dsFile, "utf8")) as any)?.datasources ?? [];
                for (const d of ds) {
                    const q = d.jsonData?.tracesToLogsV2?.query;
                    if (typeof q === "string" && (d.jsonData.tracesToLogsV2.datasourceUid ?? DATASOURCE_UIDS.loki) === DATASOURCE_UIDS.loki) {
                        out.push(
                            q
                                .replace(/\$\$/g, "$")
                                .replace(/\$\{__tags\}|\$__tags/g, 'service="checkout"')
                                .replace(/\$\{__trace\.traceId\}/g, "4bf92f3577b34da6a3ce929d0e0e4736"),
                        );
                    }
                }
            }
        }
        return out;
    };

    it.each(STACK_LOGQL.map((q) => [q]))("parses %s", (q) => {
        expect(errorsOf(q)).toEqual([]);
    });

    it("parses every Loki query in the rendered Grafana dashboards and datasources", () => {
        const found = renderedLogql();
        expect(found.length).toBeGreaterThan(0);
        for (const q of found) expect({ q, errors: errorsOf(q.replace(/\$__(auto|interval|range|rate_interval)\b/g, "5m")) }).toEqual({ q, errors: [] });
    });

    it("notices a malformed query, so the checks above have teeth", () => {
        expect(errorsOf('{service="api" |= "x"')).not.toEqual([]);
        expect(errorsOf("sum by (service) (rate({level=error}[5m]))")).not.toEqual([]);
    });

    it("escapes label values and filters trace ids on structured metadata", () => {
        expect(streamSelector({ service: 'we"ird' })).toBe('{service="we\\"ird"}');
        expect(logsOfTrace("abc", "api")).toBe('{service="api"} | trace_id="abc"');
        expect(errorsOf(streamSelector({ service: 'we"ird\\' }))).toEqual([]);
    });
});
