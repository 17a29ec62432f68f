/** Duration helpers shared by the log and trace backends' config generators. */

const UNIT_SECONDS: Record<string, number> = { y: 365 * 86400, w: 7 * 86400, d: 86400, h: 3600, m: 60, s: 1, ms: 0.001 };

/** Seconds of a Prometheus-style duration (`30d`, `1h30m`); throws on anything else. */
export function durationToSeconds(d: string): number {
    if (!/^(?:\d+(?:y|w|d|h|ms|m|s))+$/.test(d)) throw new Error(`duration ${JSON.stringify(d)}: expected a duration such as 7d or 12h`);
    let total = 0;
    for (const m of d.matchAll(/(\d+)(ms|[ywdhms])/g)) total += Number(m[1]) * UNIT_SECONDS[m[2]!]!;
    return total;
}

/** A duration as whole hours (`7d` → `168h`), the unit Loki, Jaeger and Go durations all read. */
export function toHours(d: string): string {
    const s = durationToSeconds(d);
    if (s < 3600 || s % 3600 !== 0) throw new Error(`duration ${JSON.stringify(d)}: expected whole hours, at least 1h`);
    return `${s / 3600}h`;
}

/** A duration as whole days (`30d` → `30d`, `48h` → `2d`), for Elasticsearch's ILM ages. */
export function toDays(d: string): string {
    const s = durationToSeconds(d);
    if (s < 86400 || s % 86400 !== 0) throw new Error(`duration ${JSON.stringify(d)}: expected whole days, at least 1d`);
    return `${s / 86400}d`;
}
