/**
 * The LogQL the stack itself uses against Loki, built from the shared label and field names so a
 * renamed label breaks here, at compile time and in the parser test, not in a blank panel.
 * Label values in selectors are escaped; Grafana template variables (`${...}`) pass through.
 */
import { LOG_STREAM_LABELS, TRACE_ID_FIELD } from "../kube/constants";

/** A LogQL string literal. */
export function logqlString(s: string): string {
    return `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/** `{service="api", level="error"}`; at least one matcher (Loki rejects an empty selector). */
export function streamSelector(m: Partial<Record<keyof typeof LOG_STREAM_LABELS, string>>): string {
    const parts = (Object.keys(LOG_STREAM_LABELS) as (keyof typeof LOG_STREAM_LABELS)[])
        .filter((k) => m[k] !== undefined)
        .map((k) => `${LOG_STREAM_LABELS[k]}=${logqlString(m[k]!)}`);
    if (parts.length === 0) return `{${LOG_STREAM_LABELS.service}=~".+"}`;
    return `{${parts.join(", ")}}`;
}

/** Every log line of one trace (trace_id is structured metadata, filtered after the selector). */
export function logsOfTrace(traceId: string, service?: string): string {
    return `${streamSelector(service !== undefined ? { service } : {})} | ${TRACE_ID_FIELD}=${logqlString(traceId)}`;
}

/** Error lines per service per second over `window`. */
export function errorRateByService(window = "5m"): string {
    return `sum by (${LOG_STREAM_LABELS.service}) (rate(${streamSelector({ level: "error" })}[${window}]))`;
}

/** Log volume per service and level over `window`. */
export function volumeByServiceAndLevel(window = "5m"): string {
    return `sum by (${LOG_STREAM_LABELS.service}, ${LOG_STREAM_LABELS.level}) (count_over_time({${LOG_STREAM_LABELS.service}=~".+"}[${window}]))`;
}

/** Every LogQL expression defined here, for the parser test. */
export const STACK_LOGQL: readonly string[] = [
    streamSelector({ service: "api" }),
    streamSelector({ service: "api", level: "error" }),
    logsOfTrace("4bf92f3577b34da6a3ce929d0e0e4736"),
    logsOfTrace("4bf92f3577b34da6a3ce929d0e0e4736", "checkout"),
    errorRateByService(),
    volumeByServiceAndLevel(),
];
