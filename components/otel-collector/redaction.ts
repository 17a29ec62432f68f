/**
 * What the gateway masks before anything is stored (TELEMETRY-CONTRACT: "masks secrets and
 * personal data (emails, bearer tokens, API keys, card numbers) before storage"), and the
 * health-check paths whose spans it drops.
 *
 * Every pattern here runs twice: in the collector, as Go RE2 inside OTTL, and in the tests, as a
 * JavaScript RegExp (and through re2js). So each is written in the syntax both engines read the
 * same way: no lookaround, no backreferences, no inline flags such as `(?i)` (JavaScript has
 * none; case-insensitivity is spelt out with {@link anyCase}), no named groups, no `\p{...}`, and
 * replacements without `$` (the collector's config loader would read `$` as an env reference).
 * Go's regexp and JavaScript both pick the leftmost match and prefer earlier alternatives, so a
 * pattern matches the same text in both.
 */

/** One masking rule: every match of `pattern` is replaced by `replacement`. */
export interface RedactionRule {
    /** Short name, shown in test failures and in the generated statement's comment. */
    readonly name: string;
    /** Regular expression source (RE2 ∩ JavaScript). */
    readonly pattern: string;
    /** Fixed replacement text (no `$`). */
    readonly replacement: string;
}

/** `[Aa][Bb]...` for a word: case-insensitive matching without an inline flag. */
export function anyCase(word: string): string {
    return [...word].map((c) => (/[a-z]/i.test(c) ? `[${c.toUpperCase()}${c.toLowerCase()}]` : c.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))).join("");
}

const SECRET_NAMES = ["api_key", "api-key", "apikey", "x-api-key", "access_token", "refresh_token", "client_secret", "secret_key", "password", "passwd"];
// Quote or separator characters that end a secret value in a log line.
const VALUE = `[^\\s"',;&}]+`;

/**
 * Applied in this order, so the most specific rule wins (an `Authorization: Bearer ...` header is
 * masked as a header, not as a bare bearer token).
 */
export const REDACTION_RULES: readonly RedactionRule[] = [
    {
        name: "authorization-header",
        // `Authorization: Bearer abc`, `authorization=Basic dXNl...`, `"Authorization":"Token x"`.
        pattern: `${anyCase("authorization")}["']?\\s*[:=]\\s*["']?(?:${anyCase("bearer")}|${anyCase("basic")}|${anyCase("digest")}|${anyCase("token")})?\\s*${VALUE}`,
        replacement: "authorization=[REDACTED]",
    },
    {
        name: "bearer-token",
        // At least 8 token characters, so prose such as "bearer of bad news" stays readable.
        pattern: `\\b${anyCase("bearer")}\\s+[A-Za-z0-9._~+/-]{8,}=*`,
        replacement: "Bearer [REDACTED]",
    },
    {
        name: "jwt",
        pattern: "\\beyJ[A-Za-z0-9_-]{5,}\\.[A-Za-z0-9_-]{5,}\\.[A-Za-z0-9_-]{5,}",
        replacement: "[REDACTED_JWT]",
    },
    {
        name: "credential-assignment",
        // `password=hunter2`, `"api_key": "abc"`, `client_secret: xyz`; not `password reset` or `api_key_count=3`.
        pattern: `\\b(?:${SECRET_NAMES.map(anyCase).join("|")})["']?\\s*[:=]\\s*["']?${VALUE}`,
        replacement: "[REDACTED_CREDENTIAL]",
    },
    {
        name: "provider-api-key",
        // Stripe, AWS access key id, GitHub, Slack, Google and OpenAI-style keys by their prefixes.
        pattern:
            "\\b(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{16,}\\b|\\bAKIA[0-9A-Z]{16}\\b|\\bgh[pousr]_[A-Za-z0-9]{36}\\b|" +
            "\\bxox[abprs]-[A-Za-z0-9-]{10,}|\\bAIza[0-9A-Za-z_-]{35}\\b|\\bsk-[A-Za-z0-9_-]{20,}",
        replacement: "[REDACTED_API_KEY]",
    },
    {
        name: "email",
        pattern: "[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)*\\.[A-Za-z]{2,}",
        replacement: "[REDACTED_EMAIL]",
    },
    {
        name: "card-number",
        // Visa, Mastercard (51-55, 22-27), Discover (6011, 65) in 4-digit groups; Amex 4-6-5.
        // Word boundaries keep longer digit runs (ids, timestamps) unmasked.
        pattern:
            "\\b(?:4[0-9]{3}|5[1-5][0-9]{2}|2[2-7][0-9]{2}|6011|65[0-9]{2})(?:[ -]?[0-9]{4}){3}\\b|" +
            "\\b3[47][0-9]{2}[ -]?[0-9]{6}[ -]?[0-9]{5}\\b",
        replacement: "[REDACTED_CARD]",
    },
];

/**
 * Attribute keys whose whole value is a credential: they are deleted from spans, span events and
 * log records (OTel HTTP conventions record headers as `http.request.header.<name>`).
 */
export const SENSITIVE_KEY_PATTERN =
    "^(?:http\\.request\\.header\\.(?:authorization|proxy-authorization|cookie|x-api-key|x-auth-token)|" +
    "http\\.response\\.header\\.set-cookie|" +
    `${["authorization", "password", "passwd", "api_key", "apikey", "api-key", "access_token", "refresh_token", "client_secret"].map(anyCase).join("|")})$`;

/**
 * Request paths of health checks (TELEMETRY-CONTRACT: `/health*`, `/live`, `/ready`, `/metrics`),
 * with an optional query string or fragment. `/health*` is the contract's glob, so `/healthz` and
 * `/health/db` match; `/readyz`, `/api/health` and `/metricsfoo` do not.
 */
export const HEALTH_CHECK_PATH_PATTERN = "^/(?:health[^?#]*|live|ready|metrics)(?:[?#].*)?$";

/** Span attributes that carry the request path, across semantic-convention versions. */
export const PATH_ATTRIBUTES = ["url.path", "http.target", "http.route"] as const;

/** An OTTL string literal: backslashes and quotes escaped. */
export function ottlString(s: string): string {
    return `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/** The inverse of {@link ottlString}, for tests that read statements back. */
export function parseOttlString(literal: string): string {
    if (!/^"(?:\\.|[^"\\])*"$/.test(literal)) throw new Error(`not an OTTL string literal: ${literal}`);
    return literal.slice(1, -1).replace(/\\(.)/g, "$1");
}

/** OTTL statements masking every rule in the attributes of the current context. */
export function attributeStatements(): string[] {
    return [
        `delete_matching_keys(attributes, ${ottlString(SENSITIVE_KEY_PATTERN)})`,
        ...REDACTION_RULES.map((r) => `replace_all_patterns(attributes, "value", ${ottlString(r.pattern)}, ${ottlString(r.replacement)})`),
    ];
}

/** OTTL statements masking every rule in a log record's string body. */
export function bodyStatements(): string[] {
    return REDACTION_RULES.map((r) => `replace_pattern(body, ${ottlString(r.pattern)}, ${ottlString(r.replacement)}) where IsString(body)`);
}

/** JavaScript equivalent of the collector's masking, for tests and for previews. */
export function redactText(text: string): string {
    return REDACTION_RULES.reduce((t, r) => t.replace(new RegExp(r.pattern, "g"), r.replacement), text);
}

/** Whether a request path is a health check whose spans the gateway drops. */
export function isHealthCheckPath(path: string): boolean {
    return new RegExp(HEALTH_CHECK_PATH_PATTERN).test(path);
}
