/**
 * What an alertmanager.yml must no longer use: the keys Alertmanager still reads but marks
 * "Deprecated. Remove before v1.0 release." (config/config.go and config/common/inhibitrule.go of
 * v0.35.0), and `msteams_configs`, whose Office 365 connector webhooks Microsoft retired (the
 * Alertmanager docs point to `msteamsv2_configs` with a Workflows webhook). amtool check-config
 * accepts all of them silently, so the tests look for them in the parsed document.
 */

/** Deprecated keys of a route (any depth of the tree). */
export const DEPRECATED_ROUTE_KEYS = ["match", "match_re"] as const;
/** Deprecated keys of an inhibit rule. */
export const DEPRECATED_INHIBIT_KEYS = ["source_match", "source_match_re", "target_match", "target_match_re"] as const;
/** Deprecated top-level keys (`time_intervals` replaces `mute_time_intervals`; routes keep theirs). */
export const DEPRECATED_TOP_LEVEL_KEYS = ["mute_time_intervals"] as const;
/** Integrations of a receiver whose service is retired. */
export const RETIRED_RECEIVER_KEYS = ["msteams_configs"] as const;

type Doc = Record<string, unknown>;

const isObject = (v: unknown): v is Doc => typeof v === "object" && v !== null && !Array.isArray(v);

/** The path of every deprecated or retired key in a parsed alertmanager.yml, e.g. `route.routes[3].match`. */
export function deprecatedKeys(config: unknown): string[] {
    if (!isObject(config)) throw new Error(`expected an alertmanager.yml document (a mapping), got ${JSON.stringify(config)}`);
    const found: string[] = [];
    const has = (o: Doc, keys: readonly string[], at: string) => {
        for (const k of keys) if (k in o) found.push(`${at}${at ? "." : ""}${k}`);
    };
    has(config, DEPRECATED_TOP_LEVEL_KEYS, "");
    const walkRoute = (r: unknown, at: string) => {
        if (!isObject(r)) return;
        has(r, DEPRECATED_ROUTE_KEYS, at);
        const children = r.routes;
        if (Array.isArray(children)) children.forEach((c, i) => walkRoute(c, `${at}.routes[${i}]`));
    };
    walkRoute(config.route, "route");
    const rules = config.inhibit_rules;
    if (Array.isArray(rules)) rules.forEach((r, i) => isObject(r) && has(r, DEPRECATED_INHIBIT_KEYS, `inhibit_rules[${i}]`));
    const receivers = config.receivers;
    if (Array.isArray(receivers)) receivers.forEach((r, i) => isObject(r) && has(r, RETIRED_RECEIVER_KEYS, `receivers[${i}]`));
    return found;
}
