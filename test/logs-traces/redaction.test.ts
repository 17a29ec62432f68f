/**
 * The masking and health-check patterns the gateway runs (as RE2 inside OTTL), proven here with
 * sample log lines and attribute values: what must be masked, and the near misses that must not.
 * Each pattern is also run through re2js (a port of RE2) to show that both engines accept it and
 * find the same matches, and is checked to stay out of the syntax only one of them supports.
 */
import { RE2JS } from "re2js";
import * as yaml from "js-yaml";
import {
    anyCase, attributeStatements, bodyStatements, HEALTH_CHECK_PATH_PATTERN, isHealthCheckPath, parseOttlString, redactText, REDACTION_RULES,
    SENSITIVE_KEY_PATTERN,
} from "../../components/otel-collector/redaction";
import { gatewayConfig, renderCollectorConfig } from "../../components/otel-collector/config";

const ALL_PATTERNS = [...REDACTION_RULES.map((r) => [r.name, r.pattern] as const), ["sensitive-keys", SENSITIVE_KEY_PATTERN] as const, ["health-checks", HEALTH_CHECK_PATH_PATTERN] as const];

/** Masked: each line must lose the secret and show the rule's replacement. */
const HITS: { line: string; secret: string; replacement: string }[] = [
    { line: "GET /orders Authorization: Bearer abcdefgh12345678", secret: "abcdefgh12345678", replacement: "authorization=[REDACTED]" },
    { line: '{"authorization":"Basic dXNlcjpwYXNzd29yZA=="}', secret: "dXNlcjpwYXNzd29yZA", replacement: "authorization=[REDACTED]" },
    { line: "AUTHORIZATION=Token tok_1234567890", secret: "tok_1234567890", replacement: "authorization=[REDACTED]" },
    { line: "forwarding header bearer eyJhbGciOiJIUzI1NiJ9xyz to upstream", secret: "eyJhbGciOiJIUzI1NiJ9xyz", replacement: "Bearer [REDACTED]" },
    { line: "token=eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", secret: "eyJzdWIiOiIxMjM0NTY3ODkwIn0", replacement: "[REDACTED_JWT]" },
    { line: "login failed password=hunter22 for account 7", secret: "hunter22", replacement: "[REDACTED_CREDENTIAL]" },
    { line: '{"api_key": "abc123def456", "user_id": "u-1"}', secret: "abc123def456", replacement: "[REDACTED_CREDENTIAL]" },
    { line: "X-Api-Key: 9f8e7d6c5b4a", secret: "9f8e7d6c5b4a", replacement: "[REDACTED_CREDENTIAL]" },
    { line: "client_secret='s3cr3t-value'", secret: "s3cr3t-value", replacement: "[REDACTED_CREDENTIAL]" },
    { line: "charging with sk_live_4eC39HqLyjWDarjtT1zdp7dc", secret: "sk_live_4eC39HqLyjWDarjtT1zdp7dc", replacement: "[REDACTED_API_KEY]" },
    { line: "aws key AKIAIOSFODNN7EXAMPLE leaked", secret: "AKIAIOSFODNN7EXAMPLE", replacement: "[REDACTED_API_KEY]" },
    { line: "cloning with ghp_abcdefghijklmnopqrstuvwxyz0123456789", secret: "ghp_abcdefghijklmnopqrstuvwxyz0123456789", replacement: "[REDACTED_API_KEY]" },
    { line: "calling llm with sk-proj-abcdefghijklmnopqrstuvwx", secret: "sk-proj-abcdefghijklmnopqrstuvwx", replacement: "[REDACTED_API_KEY]" },
    { line: "welcome email sent to jane.doe+shop@example.co.uk", secret: "jane.doe+shop@example.co.uk", replacement: "[REDACTED_EMAIL]" },
    { line: "user ALICE@Example.COM logged in", secret: "ALICE@Example.COM", replacement: "[REDACTED_EMAIL]" },
    { line: "payment card 4111 1111 1111 1111 declined", secret: "4111 1111 1111 1111", replacement: "[REDACTED_CARD]" },
    { line: "card=5500-0000-0000-0004", secret: "5500-0000-0000-0004", replacement: "[REDACTED_CARD]" },
    { line: "amex 378282246310005 ok", secret: "378282246310005", replacement: "[REDACTED_CARD]" },
    { line: "mc2 2223003122003222", secret: "2223003122003222", replacement: "[REDACTED_CARD]" },
];

/** Left alone: look like secrets, are not. */
const NEAR_MISSES = [
    "authorization failed for user 42",
    "request unauthorized: missing header",
    "the bearer of bad news",
    "password reset email queued",
    "passwordless login enabled",
    "api_key_count=3",
    "tokens used: 1532",
    "contact support@localhost for help",
    "mention @channel in #alerts",
    "order id 1234567890123456 shipped",
    "timestamp 1700000000000 ms",
    "4111 1111 1111 111 is too short for a card",
    "41111111111111111 is seventeen digits",
    "trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7",
    "sk_live_short",
    "version 5.4.3-2 released",
];

describe("masking of sample log lines", () => {
    it.each(HITS)("masks the secret in: $line", ({ line, secret, replacement }) => {
        const out = redactText(line);
        expect(out).not.toContain(secret);
        expect(out).toContain(replacement);
    });

    it.each(NEAR_MISSES)("leaves a near miss unchanged: %s", (line) => {
        expect(redactText(line)).toBe(line);
    });

    it("keeps the rest of a JSON log line readable around a masked value", () => {
        expect(redactText('{"level":"info","message":"order for bob@example.com","service":"checkout"}')).toBe(
            '{"level":"info","message":"order for [REDACTED_EMAIL]","service":"checkout"}',
        );
    });

    it("masks every secret of a line holding several", () => {
        expect(redactText("user a@b.io paid with 4242424242424242 using Bearer abcdefghijkl")).toBe("user [REDACTED_EMAIL] paid with [REDACTED_CARD] using Bearer [REDACTED]");
    });
});

describe("deletion of credential attributes", () => {
    const re = new RegExp(SENSITIVE_KEY_PATTERN);
    it.each(["http.request.header.authorization", "http.request.header.cookie", "http.request.header.x-api-key", "http.response.header.set-cookie", "Authorization", "password", "api_key", "client_secret"])(
        "deletes the attribute %s",
        (key) => expect(re.test(key)).toBe(true),
    );
    it.each(["http.request.header.content-type", "http.request.method", "user_id", "correlation_id", "gen_ai.usage.input_tokens", "password_reset_requested", "db.statement"])(
        "keeps the attribute %s",
        (key) => expect(re.test(key)).toBe(false),
    );
});

describe("health-check spans", () => {
    it.each(["/health", "/healthz", "/health/db", "/health?verbose=1", "/healthcare", "/live", "/ready", "/metrics", "/ready?full=1"])("drops a span for %s", (p) => {
        expect(isHealthCheckPath(p)).toBe(true);
    });
    it.each(["/api/health", "/readyz", "/livez", "/metricsfoo", "/metrics/custom", "/orders", "/", "/v1/ready"])("keeps a span for %s", (p) => {
        expect(isHealthCheckPath(p)).toBe(false);
    });
});

describe("every pattern is written in syntax RE2 and JavaScript share", () => {
    it.each(ALL_PATTERNS)("%s uses no lookaround, backreference, inline flag, named group or Unicode class", (_name, pattern) => {
        expect(pattern).not.toMatch(/\(\?[=!]|\(\?<[=!]/);
        expect(pattern).not.toMatch(/\\[1-9]|\\k</);
        expect(pattern).not.toMatch(/\(\?[imsU]+[):]/);
        expect(pattern).not.toMatch(/\(\?P?<[A-Za-z]/);
        expect(pattern).not.toMatch(/\\[pP]\{/);
        expect(pattern).not.toMatch(/[*+?}]\+/); // possessive quantifiers
    });

    it.each(ALL_PATTERNS)("%s compiles in RE2 (re2js) and in JavaScript", (_name, pattern) => {
        expect(() => RE2JS.compile(pattern)).not.toThrow();
        expect(() => new RegExp(pattern, "g")).not.toThrow();
    });

    it.each(REDACTION_RULES.map((r) => [r.name, r] as const))("%s finds the same matches in RE2 and in JavaScript on every sample", (_name, rule) => {
        const samples = [...HITS.map((h) => h.line), ...NEAR_MISSES];
        for (const s of samples) {
            const js = [...s.matchAll(new RegExp(rule.pattern, "g"))].map((m) => [m.index, m.index! + m[0].length]);
            const m = RE2JS.compile(rule.pattern).matcher(s);
            const re2: number[][] = [];
            while (m.find()) re2.push([m.start(), m.end()]);
            expect({ sample: s, matches: re2 }).toEqual({ sample: s, matches: js });
        }
    });

    it("uses replacements without $, which the collector's config loader would expand", () => {
        for (const r of REDACTION_RULES) expect(r.replacement).not.toContain("$");
    });

    it("spells case-insensitive words as character classes", () => {
        expect(anyCase("api_key")).toBe("[Aa][Pp][Ii]_[Kk][Ee][Yy]");
        expect(new RegExp(`^${anyCase("bearer")}$`).test("BeArEr")).toBe(true);
    });

    it("rejects the syntax it avoids, so the RE2 check above has teeth", () => {
        expect(() => RE2JS.compile("secret(?=x)")).toThrow();
        expect(() => RE2JS.compile("(a)\\1")).toThrow();
    });
});

describe("the patterns reach the collector config unchanged", () => {
    const cfg = yaml.load(
        renderCollectorConfig(
            gatewayConfig({
                clusterName: "c",
                environment: "dev",
                selfServiceName: "gw",
                replicas: 1,
                headlessHost: "",
                jaegerOtlpEndpoint: "jaeger-collector.monitoring.svc:4317",
                metrics: { remoteWriteUrls: ["http://prometheus-0.prometheus-headless.monitoring.svc:9090/api/v1/write"] },
                logs: { backend: "loki", otlpUrl: "http://loki.monitoring.svc:3100/otlp" },
                sampling: { ratio: 1 },
            }),
        ),
    ) as any;
    const literals = (statement: string) => [...statement.matchAll(/"(?:\\.|[^"\\])*"/g)].map((m) => parseOttlString(m[0]));

    it("masks span, span-event and log attributes and log bodies with every rule", () => {
        const redact = cfg.processors["transform/redact"];
        expect(redact.trace_statements.map((s: any) => s.context)).toEqual(["span", "spanevent"]);
        expect(redact.log_statements[0].statements).toEqual([...attributeStatements(), ...bodyStatements()]);
        for (const group of [...redact.trace_statements, ...redact.log_statements]) {
            const patterns = group.statements.flatMap(literals).filter((l: string) => l !== "value");
            for (const r of REDACTION_RULES) expect(patterns).toContain(r.pattern);
            expect(patterns).toContain(SENSITIVE_KEY_PATTERN);
        }
    });

    it("matches the request path attributes of every semantic-convention version against the health-check pattern", () => {
        const conditions: string[] = cfg.processors["filter/health-checks"].traces.span;
        expect(conditions.map((c) => literals(c))).toEqual([
            ["url.path", HEALTH_CHECK_PATH_PATTERN],
            ["http.target", HEALTH_CHECK_PATH_PATTERN],
            ["http.route", HEALTH_CHECK_PATH_PATTERN],
        ]);
    });
});
