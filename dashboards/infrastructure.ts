/**
 * Infrastructure: the containers of the selected services, the nodes, the databases (the
 * applications' pools and PostgreSQL itself) and the caches (the applications' and Redis).
 *
 * cAdvisor and kube-state-metrics series carry no `service` label: containers are matched by
 * pod name prefix (`<service>-...`, as Deployments and StatefulSets name their pods). Exporters of
 * PostgreSQL and Redis run beside the databases, so their panels follow the cluster only.
 */
import type { DashboardBuilder } from "@grafana/grafana-foundation-sdk/dashboard";
import { eq, INFRA, re } from "../telemetry";
import {
    above, ADVISORY_LEVELS, below, context, DashboardConfig, DASHBOARD_UIDS, labelValues, layout, legendOf, newDashboard, NEUTRAL, pct,
    prom, statPanel, timeseriesPanel,
} from "./common";
import { infra, RATE_WINDOW, scope, SERVICE, SERVICE_PODS, VAR } from "./queries";
import { diskUsage } from "./system-overview";

export const UID = DASHBOARD_UIDS.infrastructure;

export function infrastructure(cfg: DashboardConfig): DashboardBuilder {
    const ctx = context(cfg);
    const { q } = ctx;
    const infraAlerts = ctx.alerting.infrastructure;
    const cacheDb = ctx.alerting.cacheDb;
    const m = q.m;
    const pods = SERVICE_PODS;
    const nodes = { node: re(VAR.node) };
    const clusterOnly = scope(["cluster"]);
    const rateOfInfra = (name: string, ms: Parameters<typeof infra>[1], extra: readonly string[]) => `rate(${infra(name, ms, extra)}[${RATE_WINDOW}])`;
    const byPod = "{{namespace}}/{{pod}}";
    const byContainer = "{{namespace}}/{{pod}}/{{container}}";

    const b = newDashboard({
        uid: UID,
        title: "Infrastructure",
        description: "Containers of the selected services, nodes, databases and caches.",
        tags: ["infrastructure"],
        anchor: INFRA.up,
        extraVariables: [{ name: "node", label: "Node", query: labelValues(infra(INFRA.node.cpuSeconds, {}, clusterOnly), "node") }],
    });

    return layout(b, [
        {
            title: "Containers",
            panels: [
                [timeseriesPanel({ title: "Container CPU", description: "CPU cores used per pod of the selected services.", unit: "short", min: 0, decimals: 2, queries: [prom(q.containerCpu(["namespace", "pod"]), byPod)] }), 12],
                [timeseriesPanel({ title: "CPU throttling", description: `Share of CFS periods in which each container was throttled by its CPU limit; the dashed line is the throttling alert level (${pct(infraAlerts.cpuThrottling.threshold)} for ${infraAlerts.cpuThrottling.for}).`, unit: "percentunit", min: 0, max: 1, thresholds: above(infraAlerts.cpuThrottling.threshold), queries: [prom(q.containerThrottling(), byContainer)] }), 12],
                [timeseriesPanel({ title: "Container memory", description: "Working-set memory per pod of the selected services.", unit: "bytes", min: 0, queries: [prom(q.containerMemory(["namespace", "pod"]), byPod)] }), 12],
                [timeseriesPanel({ title: "Memory of limit", description: `Working set of each container as a share of its memory limit; the dashed line is the alert level (${pct(infraAlerts.containerMemory.threshold)} for ${infraAlerts.containerMemory.for}). Containers without a limit do not appear.`, unit: "percentunit", min: 0, thresholds: above(infraAlerts.containerMemory.threshold), queries: [prom(q.containerMemoryOfLimit(), byContainer)] }), 12],
                [timeseriesPanel({ title: "Container restarts", description: `Container restarts per pod over the last hour: any restart is worth a look; a container waiting in CrashLoopBackOff for ${infraAlerts.crashLooping.for} alerts.`, unit: "short", min: 0, thresholds: above(1), queries: [prom(q.podRestarts(), byPod)] }), 12],
                [timeseriesPanel({ title: "Pods not running", description: "Pods of the selected services stuck in Pending, Failed or Unknown.", unit: "short", min: 0, thresholds: above(1), queries: [prom(`sum by (namespace, phase) (${infra(INFRA.kube.podPhase, { ...pods, phase: re("Pending|Failed|Unknown") }, scope())})`, "{{namespace}} {{phase}}")] }), 12],
            ],
        },
        {
            title: "Nodes",
            panels: [
                [timeseriesPanel({ title: "Node CPU", description: `Share of CPU busy per node; the dashed line is an advisory level (${pct(ADVISORY_LEVELS.nodeCpu)}).`, unit: "percentunit", min: 0, max: 1, thresholds: above(ADVISORY_LEVELS.nodeCpu), queries: [prom(q.nodeCpu(nodes), "{{node}}")] }), 12],
                [timeseriesPanel({ title: "Node memory", description: `Share of memory in use per node (total minus available); the dashed line is an advisory level (${pct(ADVISORY_LEVELS.nodeMemory)}).`, unit: "percentunit", min: 0, max: 1, thresholds: above(ADVISORY_LEVELS.nodeMemory), queries: [prom(q.nodeMemory(nodes), "{{node}}")] }), 12],
                [timeseriesPanel({ title: "Node disk usage", description: `Share of each data filesystem in use; the dashed line is an advisory level (${pct(ADVISORY_LEVELS.diskUsage)}). The disk-full alert fires when the trend predicts a full disk within ${infraAlerts.diskFull.threshold} h.`, unit: "percentunit", min: 0, max: 1, thresholds: above(ADVISORY_LEVELS.diskUsage), queries: [prom(diskUsage("node, mountpoint", nodes), "{{node}} {{mountpoint}}")] }), 12],
                [timeseriesPanel({ title: "Node disk I/O", description: "Bytes read and written per second per node.", unit: "Bps", min: 0, queries: [
                    prom(q.nodeDisk("read", nodes), "read {{node}}"),
                    prom(q.nodeDisk("written", nodes), "written {{node}}"),
                ] }), 12],
                [timeseriesPanel({ title: "Node network I/O", description: "Bytes received and transmitted per second per node on its physical interfaces.", unit: "Bps", min: 0, queries: [
                    prom(q.nodeNetwork("receive", nodes), "received {{node}}"),
                    prom(q.nodeNetwork("transmit", nodes), "transmitted {{node}}"),
                ] }), 12],
                [timeseriesPanel({ title: "Pod network I/O", description: "Bytes received and transmitted per second per pod of the selected services.", unit: "Bps", min: 0, queries: [
                    prom(q.podNetwork("receive"), `received ${byPod}`),
                    prom(q.podNetwork("transmit"), `transmitted ${byPod}`),
                ] }), 12],
            ],
        },
        {
            title: "Database",
            panels: [
                [timeseriesPanel({ title: "Query latency", description: `95th percentile query latency per service and database, measured by the applications; the dashed line is the slow-query alert level (${cacheDb.dbQueryP95.threshold} s for ${cacheDb.dbQueryP95.for}).`, unit: "s", min: 0, thresholds: above(cacheDb.dbQueryP95.threshold), queries: [prom(q.quantile(0.95, m.db.queryDuration, SERVICE, ["namespace", "service", "db"]), legendOf(m.db.queryDuration, "service", "db"))] }), 12],
                [timeseriesPanel({ title: "Pool saturation", description: `Active connections as a share of each application's pool size; the dashed line is the alert level (${pct(cacheDb.dbPoolUtilisation.threshold)} for ${cacheDb.dbPoolUtilisation.for}).`, unit: "percentunit", min: 0, max: 1, thresholds: above(cacheDb.dbPoolUtilisation.threshold), queries: [prom(q.dbPoolUtilisation(), legendOf(m.db.connections, "service", "db"))] }), 12],
                [timeseriesPanel({ title: "Pool connections", description: "Application pool connections by state (active, idle), stacked.", unit: "short", min: 0, queries: [prom(q.gaugeSum(m.db.connections, SERVICE, ["service", "db", "state"]), legendOf(m.db.connections, "service", "db", "state"))] }, { stack: true }), 12],
                [statPanel({ title: "Exporters up", description: "Whether the PostgreSQL and Redis exporters reach their servers (1 up, 0 down): the lowest over all instances.", unit: "short", thresholds: below(1), queries: [prom(`min(${infra(INFRA.postgres.up, {}, clusterOnly)})`, "PostgreSQL"), prom(`min(${infra(INFRA.redis.up, {}, clusterOnly)})`, "Redis")] }, { sparkline: false }), 12],
                [timeseriesPanel({ title: "PostgreSQL transactions", description: "Committed transactions per second per database.", unit: "ops", min: 0, queries: [prom(`sum by (datname) (${rateOfInfra(INFRA.postgres.commits, USER_DATABASES, clusterOnly)})`, "{{datname}}")] }), 12],
                [timeseriesPanel({ title: "PostgreSQL cache hit ratio", description: `Share of block reads served from shared buffers per database; under ${pct(ADVISORY_LEVELS.postgresCacheHit)} the working set does not fit in memory.`, unit: "percentunit", max: 1, thresholds: below(ADVISORY_LEVELS.postgresCacheHit), queries: [prom(`sum by (datname) (${rateOfInfra(INFRA.postgres.blocksHit, USER_DATABASES, clusterOnly)})\n/\n(sum by (datname) (${rateOfInfra(INFRA.postgres.blocksHit, USER_DATABASES, clusterOnly)}) + sum by (datname) (${rateOfInfra(INFRA.postgres.blocksRead, USER_DATABASES, clusterOnly)}))`, "{{datname}}")] }), 12],
                [timeseriesPanel({ title: "PostgreSQL backends", description: "Server processes (client connections) per database.", unit: "short", min: 0, queries: [prom(`sum by (datname) (${infra(INFRA.postgres.backends, USER_DATABASES, clusterOnly)})`, "{{datname}}")] }), 12],
                [timeseriesPanel({ title: "PostgreSQL deadlocks", description: "Deadlocks detected per second per database: any is a bug in the applications' locking order.", unit: "short", min: 0, thresholds: NEUTRAL, queries: [prom(`sum by (datname) (${rateOfInfra(INFRA.postgres.deadlocks, USER_DATABASES, clusterOnly)})`, "{{datname}}")] }), 12],
            ],
        },
        {
            title: "Redis and cache",
            panels: [
                [timeseriesPanel({ title: "Cache hit rate", description: `Share of the applications' cache lookups that hit, per service and cache; the dashed line is the alert level (${pct(cacheDb.cacheHitRatio.threshold)} for ${cacheDb.cacheHitRatio.for}).`, unit: "percentunit", max: 1, thresholds: below(cacheDb.cacheHitRatio.threshold), queries: [prom(q.ratio(m.cache.requests, { result: eq("hit") }, SERVICE, ["namespace", "service", "cache"], ["cacheHitRatio"]), legendOf(m.cache.requests, "service", "cache"))] }), 12],
                [timeseriesPanel({ title: "Cache evictions", description: `Entries evicted per second per service and cache: the eviction alert fires at ${cacheDb.evictionSpike.threshold}x the previous hour's rate, a sign the cache is too small for the working set.`, unit: "cps", min: 0, queries: [prom(q.rate(m.cache.evictions, SERVICE, ["service", "cache"]), legendOf(m.cache.evictions, "service", "cache"))] }), 12],
                [timeseriesPanel({ title: "Redis hit rate", description: `Share of Redis keyspace lookups that hit, per instance; the dashed line is the cache alert level (${pct(cacheDb.cacheHitRatio.threshold)}).`, unit: "percentunit", max: 1, thresholds: below(cacheDb.cacheHitRatio.threshold), queries: [prom(`sum by (instance) (${rateOfInfra(INFRA.redis.hits, {}, clusterOnly)})\n/\n(sum by (instance) (${rateOfInfra(INFRA.redis.hits, {}, clusterOnly)}) + sum by (instance) (${rateOfInfra(INFRA.redis.misses, {}, clusterOnly)}))`, "{{instance}}")] }), 12],
                [timeseriesPanel({ title: "Redis memory", description: "Memory used by Redis per instance.", unit: "bytes", min: 0, queries: [prom(`sum by (instance) (${infra(INFRA.redis.memoryUsed, {}, clusterOnly)})`, "{{instance}}")] }), 12],
                [timeseriesPanel({ title: "Redis clients", description: "Connected clients per Redis instance.", unit: "short", min: 0, queries: [prom(`sum by (instance) (${infra(INFRA.redis.clients, {}, clusterOnly)})`, "{{instance}}")] }), 12],
                [timeseriesPanel({ title: "Redis commands", description: "Commands processed per second per Redis instance.", unit: "ops", min: 0, queries: [prom(`sum by (instance) (${rateOfInfra(INFRA.redis.commands, {}, clusterOnly)})`, "{{instance}}")] }), 12],
            ],
        },
    ]);
}

/** PostgreSQL databases of applications (not the templates). */
export const USER_DATABASES = { datname: { op: "!~", value: "template.*" } } as const;
