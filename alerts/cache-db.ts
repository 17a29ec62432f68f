/**
 * Cache and database rules: recording rules for lookup, hit, eviction, query-latency and pool
 * series, and alerts on a collapsing hit ratio, eviction spikes, slow queries and a full pool.
 */
import { aggBy, bucketRate, eq, rate, selector, sumBy } from "../telemetry";
import { alert, and, existedAgo, groupBy, num, pct, RuleContext, SERVICE_REF } from "./common";
import type { RuleGroup } from "./index";
import { RECORDING } from "./recording";

const r = (name: keyof typeof RECORDING): string => RECORDING[name].record;

export function cacheDbRecordingGroup(ctx: RuleContext): RuleGroup {
    const { cache, db } = ctx.m;
    const byCache = groupBy(cache.requests, ["service", "cache"]);
    const byDb = groupBy(db.connections, ["service", "db"]);
    return {
        name: "cache-db.recording",
        rules: [
            { record: r("cacheRequestRate"), expr: sumBy(byCache, rate(cache.requests, {}, "5m")) },
            {
                record: r("cacheHitRatio"),
                expr: `(\n${sumBy(byCache, rate(cache.requests, { result: eq("hit") }, "5m"))}\nor\n0 * ${r("cacheRequestRate")}\n)\n/\n(${r("cacheRequestRate")} > 0)`,
            },
            { record: r("cacheEvictionRate"), expr: sumBy(groupBy(cache.evictions, ["service", "cache"]), rate(cache.evictions, {}, "5m")) },
            {
                record: r("dbQueryLatencyP95"),
                expr:
                    `histogram_quantile(0.95, ${sumBy(["le", ...groupBy(db.queryDuration, ["service", "db"])], bucketRate(db.queryDuration, {}, "5m"))})\nand\n` +
                    `${sumBy(groupBy(db.queryDuration, ["service", "db"]), rate(db.queryDuration, {}, "5m"))} > 0`,
            },
            {
                record: r("dbPoolUtilisation"),
                expr: `${aggBy("sum", byDb, selector(db.connections, { state: eq("active") }))}\n/\n(${aggBy("sum", groupBy(db.connectionsMax, ["service", "db"]), selector(db.connectionsMax))} > 0)`,
            },
            { record: r("dbConnections"), expr: aggBy("sum", groupBy(db.connections, ["service", "db", "state"]), selector(db.connections)) },
        ],
    };
}

export function cacheDbAlertGroup(ctx: RuleContext): RuleGroup {
    const a = ctx.alerting.cacheDb;
    const team = ctx.alerting.teams.application;
    const { cache } = ctx.m;
    const minRate = num(ctx.alerting.minRequestRate);
    const byCache = groupBy(cache.evictions, ["service", "cache"]);
    const now = sumBy(byCache, rate(cache.evictions, {}, "5m"));
    return {
        name: "cache-db.alerts",
        rules: [
            alert({
                name: "CacheHitRateLow",
                expr: and(`${r("cacheHitRatio")} < ${num(a.cacheHitRatio.threshold)}`, `${r("cacheRequestRate")} > ${minRate}`),
                for: a.cacheHitRatio.for,
                severity: "warning",
                team,
                summary: `${SERVICE_REF}: cache {{ $labels.cache }} hits only {{ $value | humanizePercentage }} of lookups.`,
                description:
                    `Cache {{ $labels.cache }} of {{ $labels.service }} in {{ $labels.namespace }} answered {{ $value | humanizePercentage }} ` +
                    `of lookups from the cache over 5m, below ${pct(a.cacheHitRatio.threshold)} for ${a.cacheHitRatio.for}: the backing store takes the load.`,
            }),
            alert({
                name: "CacheEvictionSpike",
                expr: and(
                    and(`${now}\n> ${num(a.evictionSpike.threshold)} *\n${sumBy(byCache, rate(cache.evictions, {}, "1h", "rate", "5m"))}`, `${now} > ${minRate}`),
                    existedAgo(selector(cache.evictions), byCache, "65m"),
                ),
                for: a.evictionSpike.for,
                severity: "warning",
                team,
                summary: `${SERVICE_REF}: cache {{ $labels.cache }} evicts {{ $value | humanize }} entries/s, a spike.`,
                description:
                    `Cache {{ $labels.cache }} of {{ $labels.service }} in {{ $labels.namespace }} evicts {{ $value | humanize }} entries per second ` +
                    `over 5m, more than ${num(a.evictionSpike.threshold)} times its rate of the hour before, for ${a.evictionSpike.for}: it is too small for its working set.`,
            }),
            alert({
                name: "DbQueryLatencyHigh",
                expr: `${r("dbQueryLatencyP95")} > ${num(a.dbQueryP95.threshold)}`,
                for: a.dbQueryP95.for,
                severity: "warning",
                team,
                summary: `${SERVICE_REF}: p95 query latency on {{ $labels.db }} is {{ $value | humanizeDuration }}.`,
                description:
                    `The 95th percentile latency of the queries {{ $labels.service }} in {{ $labels.namespace }} runs on database {{ $labels.db }} ` +
                    `is {{ $value | humanizeDuration }} over 5m, above ${num(a.dbQueryP95.threshold)}s for ${a.dbQueryP95.for}.`,
            }),
            alert({
                name: "DbConnectionPoolSaturated",
                expr: `${r("dbPoolUtilisation")} > ${num(a.dbPoolUtilisation.threshold)}`,
                for: a.dbPoolUtilisation.for,
                severity: "warning",
                team,
                summary: `${SERVICE_REF}: {{ $value | humanizePercentage }} of the {{ $labels.db }} connection pool is in use.`,
                description:
                    `{{ $labels.service }} in {{ $labels.namespace }} uses {{ $value | humanizePercentage }} of its connection pool to ` +
                    `{{ $labels.db }}, above ${pct(a.dbPoolUtilisation.threshold)} for ${a.dbPoolUtilisation.for}: requests wait for a connection.`,
            }),
        ],
    };
}
