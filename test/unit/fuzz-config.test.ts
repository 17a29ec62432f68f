/**
 * Property-based fuzzing of the stack config (fast-check): mutations of the committed dev and
 * prod stack values (random JSON types, random strings in duration, quantity and image fields,
 * random nested objects, random receivers, unknown keys, missing secrets) either resolve or fail
 * with a ConfigError whose every problem names its key as `observability:...`, never with any
 * other exception. A smaller run takes resolvable mutations through the whole program under
 * Pulumi mocks, so a config that validates also builds.
 *
 * Runs are bounded and seeded: a failure prints the seed and the shrunk counterexample, and
 * `FUZZ_SEED=<seed> npx jest test/unit/fuzz-config.test.ts` replays it.
 */
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import fc from "fast-check";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, RawStackConfig, resolveConfig } from "../../config/resolve";
import { SCALAR_KEYS, STRUCTURED_KEYS } from "../../config/keys";
import { readStackConfig } from "../../scripts/lib/stack-files";
import { ROOT, runProgram } from "../support/program";

const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : 20240607;
const RUNS = 300;
const PROGRAM_RUNS = 12;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Path = readonly (string | number)[];

function stackValues(stack: string): Record<string, Json> {
    const doc = yaml.load(fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, Json> };
    return Object.fromEntries(Object.entries(doc.config).map(([k, v]) => [k.replace(/^observability:/, ""), v]));
}
const BASES = { dev: stackValues("dev"), prod: stackValues("prod") };

// --- value generators -------------------------------------------------------------------------

/** Mostly valid values, often invalid ones: both sides of the validation get exercised. */
const mix = <T extends Json>(valid: fc.Arbitrary<T>, ...invalid: fc.Arbitrary<Json>[]): fc.Arbitrary<Json> =>
    fc.oneof({ weight: 3 * invalid.length, arbitrary: valid as fc.Arbitrary<Json> }, ...invalid.map((arbitrary) => ({ weight: 1, arbitrary })));

const durationLike = mix(
    fc.constantFrom("15d", "12h", "30s", "1h30m", "90d", "2w", "1y"),
    fc.stringMatching(/^[0-9]{0,4}(ms|[smhdwyx]|min)?([0-9]{1,2}[smh])?$/),
    fc.string({ maxLength: 8 }),
);
const cpuLike = mix(fc.constantFrom("250m", "1", "0.5", "2", "100m"), fc.stringMatching(/^[0-9]{0,4}(\.[0-9])?(m|k|Mi|cores)?$/), fc.string({ maxLength: 6 }));
const memoryLike = mix(fc.constantFrom("512Mi", "2Gi", "64Mi", "1G", "100M"), fc.stringMatching(/^[0-9]{0,5}(\.[0-9])?(Ki|Mi|Gi|MB|GB|k|M|G|B)?$/), fc.string({ maxLength: 6 }));
const sizeLike = mix(fc.constantFrom("10Gi", "500Gi", "2Ti"), fc.stringMatching(/^[0-9]{0,4}(Mi|Gi|Ti|MB|GB|TB|B|iB)?$/));
const promSizeLike = mix(fc.constantFrom("45GB", "512MB", "1TB"), fc.stringMatching(/^[0-9]{0,4}(Mi|Gi|MB|GB|TB|B|iB)?$/));
const imageLike = mix(
    fc.constantFrom("quay.io/prometheus/prometheus:v2.53.5", "grafana/grafana:11.1.0", "registry.local:5000/team/app:1.0", "busybox@sha256:" + "a".repeat(64)),
    fc.constantFrom("grafana/grafana:latest", "grafana/grafana", "localhost:5000/x", "UPPER/case:1"),
    fc.stringMatching(/^[a-z0-9./:-]{0,30}$/),
);
const replicasLike = mix(fc.integer({ min: 1, max: 3 }), fc.integer({ min: -2, max: 12 }), fc.double({ noNaN: true, noDefaultInfinity: true, min: -5, max: 20 }), fc.constantFrom("2", "three"));
const ratioLike = mix(fc.constantFrom(0, 1, 0.1, 0.5), fc.double({ noNaN: true, noDefaultInfinity: true, min: -1, max: 2 }), fc.constant("0.5"));
const nameLike = mix(fc.constantFrom("alerts", "oncall", "team-a", "x1"), fc.string({ maxLength: 12 }), fc.stringMatching(/^[a-z0-9-]{1,12}$/));
const urlLike = mix(fc.constantFrom("https://runbooks.example.com/r", "http://wiki.local/"), fc.string({ maxLength: 12 }), fc.webUrl());
const namespaceLike = mix(fc.constantFrom("monitoring", "obs", "monitoring-agents", "ingress-nginx"), fc.string({ maxLength: 10 }), fc.constant("Upper"));

/** Realistic (valid and invalid) values per field name; anything else gets arbitrary JSON. */
const FIELD_VALUES: Record<string, fc.Arbitrary<Json>> = {
    retention: durationLike,
    scrapeInterval: durationLike,
    evaluationInterval: durationLike,
    window: durationLike,
    cpu: cpuLike,
    memory: memoryLike,
    size: sizeLike,
    retentionSize: promSizeLike,
    image: imageLike,
    replicas: replicasLike,
    samplingRatio: ratioLike,
    objective: mix(fc.constantFrom(99.9, 95, 50), fc.double({ noNaN: true, noDefaultInfinity: true, min: -10, max: 120 }), fc.constant("99")),
    latencyThreshold: mix(fc.constantFrom(0.1, 0.25, 0.5, 1, 2.5), fc.double({ noNaN: true, noDefaultInfinity: true, min: 0, max: 5 })),
    enabled: mix(fc.boolean(), fc.constantFrom("yes", "true", 1)),
    name: nameLike,
    channel: mix(fc.constantFrom("#alerts", "#ops"), fc.string({ maxLength: 10 })),
    backend: mix(fc.constantFrom("loki", "elasticsearch"), fc.constantFrom("splunk", "")),
    storageBackend: mix(fc.constantFrom("memory", "badger"), fc.constantFrom("elasticsearch", "cassandra")),
    environment: mix(fc.constantFrom("dev", "staging", "prod"), fc.constantFrom("production", "")),
    clusterName: nameLike,
    storageClass: mix(fc.constantFrom("standard", "gp3", "fast-ssd"), fc.string({ maxLength: 10 })),
    metricPreset: mix(fc.constantFrom("prometheus", "otel"), fc.string({ maxLength: 8 })),
    runbookBaseUrl: urlLike,
    monitoring: namespaceLike,
    agents: namespaceLike,
    ingressController: namespaceLike,
    grafanaHost: mix(fc.constantFrom("grafana.example.com", "g.local"), fc.string({ maxLength: 10 })),
    className: mix(fc.constantFrom("nginx", "traefik"), anyJsonLazy()),
    kind: fc.constantFrom("pagerduty", "slack", "email", "msteams", "webhook", "availability", "latency", "postgres", "s3", "gcs", "sms"),
    routes: fc.array(fc.constantFrom("critical", "high", "warning", "low", "info", "heartbeat", "stakeholders", "bogus"), { maxLength: 3 }),
};

function anyJsonLazy(): fc.Arbitrary<Json> {
    return fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>;
}
const anyJson: fc.Arbitrary<Json> = fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>;
const valueFor = (field: string | number | undefined): fc.Arbitrary<Json> => {
    const realistic = typeof field === "string" ? FIELD_VALUES[field] : undefined;
    return realistic ? fc.oneof({ weight: 6, arbitrary: realistic }, { weight: 1, arbitrary: anyJson }) : anyJson;
};

/** The fields each receiver kind takes, with mostly valid values. */
const RECEIVER_FIELDS: Record<string, Record<string, fc.Arbitrary<Json>>> = {
    pagerduty: { routingKeySecret: fc.constantFrom("pagerdutyRoutingKey", "pdKey") },
    slack: { channel: FIELD_VALUES.channel!, webhookUrlSecret: fc.constantFrom("slackWebhookUrl", "customHook", "1bad") },
    email: {
        to: mix(fc.constant("oncall@example.com"), fc.constant("oncall")),
        from: mix(fc.constant("am@example.com"), fc.constant("")),
        smarthost: mix(fc.constant("smtp.example.com:587"), fc.constant("smtp")),
        authUsername: fc.constant("am@example.com"),
        authPasswordSecret: fc.constant("smtpPassword"),
        requireTls: fc.boolean(),
    },
    msteams: { webhookUrlSecret: fc.constantFrom("teamsWebhookUrl", "customHook") },
    webhook: { urlSecret: fc.constantFrom("webhookUrl", "heartbeatUrl") },
};
const receiver: fc.Arbitrary<Json> = fc.constantFrom(...Object.keys(RECEIVER_FIELDS), "sms").chain((kind) => {
    const fields: Record<string, fc.Arbitrary<Json>> = {
        name: nameLike,
        kind: fc.constant(kind),
        routes: FIELD_VALUES.routes!,
        team: nameLike,
        sendResolved: mix(fc.boolean(), fc.constant("no")),
        ...(RECEIVER_FIELDS[kind] ?? {}),
    };
    const required = ["name", "kind", ...(kind === "slack" ? ["channel"] : kind === "email" ? ["to", "from", "smarthost"] : [])];
    return fc
        .tuple(
            fc.record(fields, { requiredKeys: required }),
            // Now and then a field no receiver kind has: receivers are strict objects.
            fc.oneof({ weight: 5, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constant("https://example.com/hook") }),
        )
        .map(([r, url]) => (url === undefined ? r : { ...r, url }) as Json);
});

// --- mutations ----------------------------------------------------------------------------------

/** Paths into a stack config that exist in the schema (and a few that do not). */
const SCHEMA_PATHS: Path[] = [
    ["environment"], ["clusterName"], ["storageClass"], ["metricPreset"], ["runbookBaseUrl"],
    ["namespaces", "monitoring"], ["namespaces", "agents"], ["namespaces", "ingressController"],
    ["prometheus", "replicas"], ["prometheus", "retention"], ["prometheus", "retentionSize"], ["prometheus", "scrapeInterval"],
    ["prometheus", "evaluationInterval"], ["prometheus", "image"], ["prometheus", "storage", "enabled"], ["prometheus", "storage", "size"],
    ["prometheus", "resources", "requests", "cpu"], ["prometheus", "resources", "requests", "memory"],
    ["prometheus", "resources", "limits", "cpu"], ["prometheus", "resources", "limits", "memory"],
    ["prometheus", "remoteWrite", 0, "name"], ["prometheus", "remoteWrite", 0, "url"], ["prometheus", "staticTargets", 0, "targets"],
    ["alertmanager", "replicas"], ["alertmanager", "image"], ["alertmanager", "storage", "size"], ["alertmanager", "resources", "limits", "memory"],
    ["grafana", "replicas"], ["grafana", "image"], ["grafana", "storage", "enabled"], ["grafana", "database", "kind"],
    ["logs", "backend"], ["logs", "retention"], ["logs", "replicas"], ["logs", "storage", "size"], ["logs", "objectStorage", "kind"],
    ["tracing", "samplingRatio"], ["tracing", "jaeger", "storageBackend"], ["tracing", "jaeger", "retention"], ["tracing", "jaeger", "image"],
    ["collector", "gateway", "replicas"], ["collector", "agent", "resources", "requests", "cpu"], ["collector", "gateway", "image"],
    ["nodeExporter", "image"], ["kubeStateMetrics", "resources", "requests", "memory"],
    ["receivers", 0, "kind"], ["receivers", 0, "name"], ["receivers", 1, "channel"], ["receivers", 0, "routes"],
    ["slos", 0, "objective"], ["slos", 0, "window"], ["slos", 0, "kind"], ["slos", 0, "latencyThreshold"],
    ["ingress", "grafanaHost"], ["ingress", "className"], ["ingress", "annotations"],
    ["prometheus", "retenton"], ["bogusTopLevel"], ["logs", "kibana", "image"],
];

type Mutation = { readonly op: "set"; readonly path: Path; readonly value: Json } | { readonly op: "delete"; readonly path: Path };

const setMutation: fc.Arbitrary<Mutation> = fc
    .constantFrom(...SCHEMA_PATHS)
    .chain((p) => valueFor(p[p.length - 1]).map((value): Mutation => ({ op: "set", path: p, value })));
const deleteMutation: fc.Arbitrary<Mutation> = fc.constantFrom(...SCHEMA_PATHS).map((p): Mutation => ({ op: "delete", path: p }));
const receiversMutation: fc.Arbitrary<Mutation> = fc.array(receiver, { maxLength: 4 }).map((value): Mutation => ({ op: "set", path: ["receivers"], value }));
const nestedObjectMutation: fc.Arbitrary<Mutation> = fc
    .tuple(fc.constantFrom(...STRUCTURED_KEYS), fc.object({ maxDepth: 3 }) as fc.Arbitrary<Json>)
    .map(([key, value]): Mutation => ({ op: "set", path: [key], value }));
const scalarTypeMutation: fc.Arbitrary<Mutation> = fc
    .tuple(fc.constantFrom(...SCALAR_KEYS), anyJson)
    .map(([key, value]): Mutation => ({ op: "set", path: [key], value }));

const mutation = fc.oneof(
    { weight: 6, arbitrary: setMutation },
    { weight: 2, arbitrary: deleteMutation },
    { weight: 2, arbitrary: receiversMutation },
    { weight: 1, arbitrary: nestedObjectMutation },
    { weight: 1, arbitrary: scalarTypeMutation },
);

/** Applies mutations to a deep copy, creating objects and arrays along a path as needed. */
function mutate(base: Record<string, Json>, mutations: readonly Mutation[]): Record<string, Json> {
    const root = JSON.parse(JSON.stringify(base)) as Record<string, Json>;
    for (const m of mutations) {
        let cur: any = root;
        for (let i = 0; i < m.path.length - 1; i++) {
            const key = m.path[i]!;
            if (cur[key] === null || typeof cur[key] !== "object") {
                if (m.op === "delete") break;
                cur[key] = typeof m.path[i + 1] === "number" ? [] : {};
            }
            cur = cur[key];
        }
        const last = m.path[m.path.length - 1]!;
        if (cur === null || typeof cur !== "object") continue;
        if (m.op === "delete") delete cur[last];
        else cur[last] = m.value;
    }
    return root;
}

const SECRET_KEYS = ["pagerdutyRoutingKey", "slackWebhookUrl", "teamsWebhookUrl", "webhookUrl", "smtpPassword", "heartbeatUrl", "customHook", "pdKey"];

interface FuzzCase {
    readonly stack: string;
    readonly values: Record<string, Json>;
    readonly presentKeys: string[];
    /** Secret keys the stack sets; the others are missing. */
    readonly secrets: string[];
}

const fuzzCase: fc.Arbitrary<FuzzCase> = fc
    .record({
        base: fc.constantFrom("dev", "prod") as fc.Arbitrary<"dev" | "prod">,
        stack: fc.oneof({ weight: 8, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom("staging", "qa", "Weird_Stack.") }),
        mutations: fc.array(mutation, { minLength: 1, maxLength: 3 }),
        extraKeys: fc.oneof({ weight: 6, arbitrary: fc.constant([]) }, { weight: 1, arbitrary: fc.tuple(fc.oneof(fc.constantFrom("retention", "smtpPasword"), fc.string({ minLength: 1, maxLength: 10 }))) }),
        allSecrets: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
        someSecrets: fc.subarray(SECRET_KEYS),
    })
    .map(({ base, stack, mutations, extraKeys, allSecrets, someSecrets }) => {
        const values = mutate(BASES[base], mutations);
        return {
            stack: stack ?? base,
            values,
            presentKeys: [...Object.keys(values), ...extraKeys],
            secrets: allSecrets ? SECRET_KEYS : someSecrets,
        };
    });

/** Every secret resolveConfig asks for, as the Pulumi config would hand it out. */
const secretsFrom = (keys: readonly string[]) => (key: string) => (keys.includes(key) ? pulumi.secret(`value-of-${key}`) : undefined);

/**
 * Resolves a case: "resolved", or the ConfigError's problems; any other exception propagates.
 * `asked` collects the secret keys the config asked for.
 */
function outcome(c: FuzzCase, asked: Set<string> = new Set()): "resolved" | readonly string[] {
    const raw: RawStackConfig = { project: "observability", stack: c.stack, values: c.values, presentKeys: new Set(c.presentKeys) };
    const getSecret = secretsFrom(c.secrets);
    try {
        resolveConfig(raw, (key) => (asked.add(key), getSecret(key)));
        return "resolved";
    } catch (e) {
        if (e instanceof ConfigError) return e.problems;
        throw e;
    }
}

function expectValidationProblems(problems: readonly string[], name: string): void {
    if (problems.length === 0) throw new Error(`${name} has no problems`);
    for (const p of problems) {
        if (!p.startsWith("observability:")) throw new Error(`problem does not name its key: ${JSON.stringify(p)}`);
        if (/\n\s+at /.test(p)) throw new Error(`problem carries a stack trace: ${JSON.stringify(p)}`);
        // Our own phrasing ("expected ...", or the command that sets a missing secret), never a
        // library's default message such as zod's "Invalid input".
        if (!/expected|is not set/.test(p) || /Invalid input/.test(p)) throw new Error(`problem is not phrased as what is expected: ${JSON.stringify(p)}`);
    }
}

describe("resolveConfig under random stack configs", () => {
    it(`resolves or rejects with observability:-prefixed problems in ${RUNS} seeded runs, never throwing anything else`, () => {
        const seen = { resolved: 0, rejected: 0 };
        fc.assert(
            fc.property(fuzzCase, (c) => {
                const result = outcome(c);
                if (result === "resolved") seen.resolved++;
                else {
                    seen.rejected++;
                    expectValidationProblems(result, "ConfigError");
                }
            }),
            { numRuns: RUNS, seed: SEED },
        );
        if (process.env.FUZZ_DIAG) console.log(`resolved ${seen.resolved}, rejected ${seen.rejected}`);
        // Both outcomes must be common, or the mutations test only one side of the validation.
        expect(seen.resolved).toBeGreaterThanOrEqual(RUNS / 20);
        expect(seen.rejected).toBeGreaterThanOrEqual(RUNS / 20);
    });

    it("keeps the ConfigError message free of stack traces, as the CLI prints it", () => {
        fc.assert(
            fc.property(fuzzCase, (c) => {
                const raw: RawStackConfig = { project: "observability", stack: c.stack, values: c.values, presentKeys: new Set(c.presentKeys) };
                try {
                    resolveConfig(raw, secretsFrom(c.secrets));
                } catch (e) {
                    if (!(e instanceof ConfigError)) throw e;
                    expect(e.stack).toBe(e.message);
                    expect(e.message).toMatch(/^invalid configuration for stack ".*" \(\d+ problems?\):\n {2}- observability:/);
                }
            }),
            { numRuns: 100, seed: SEED },
        );
    });
});

describe("the program under random resolvable stack configs", () => {
    // Every isolated run of the Pulumi runtime adds a process exit handler.
    beforeAll(() => process.setMaxListeners(process.getMaxListeners() + PROGRAM_RUNS));
    afterAll(() => process.setMaxListeners(process.getMaxListeners() - PROGRAM_RUNS));

    it(`builds every resource or stops with a ConfigError in ${PROGRAM_RUNS} seeded runs under mocks`, async () => {
        // Cases that resolve with every secret set, and the secrets each one needs.
        const resolvable = fuzzCase
            .filter((c) => (c.stack === "dev" || c.stack === "prod") && c.presentKeys.every((k) => k in c.values))
            .map((c) => {
                const asked = new Set<string>();
                return { c, asked, ok: outcome({ ...c, secrets: SECRET_KEYS }, asked) === "resolved" };
            })
            .filter((x) => x.ok);
        let built = 0;
        await fc.assert(
            fc.asyncProperty(resolvable, async ({ c, asked }) => {
                const cfg = readStackConfig(ROOT, c.stack);
                const config: Record<string, string> = Object.fromEntries(Object.entries(cfg.config).filter(([k]) => !k.startsWith("observability:")));
                for (const [key, value] of Object.entries(c.values)) config[`observability:${key}`] = typeof value === "string" ? value : JSON.stringify(value);
                const secretKeys = [...asked].map((k) => `observability:${k}`);
                for (const k of secretKeys) config[k] = `MOCK-SECRET-${k}`;
                const run = await runProgram(cfg.project, c.stack, config, secretKeys);
                if (run.error === undefined) {
                    built++;
                    if (run.resources.length === 0) throw new Error("the program declared nothing");
                } else if (run.error instanceof run.ConfigError) {
                    expectValidationProblems((run.error as unknown as { problems: string[] }).problems, "ConfigError");
                } else {
                    throw run.error;
                }
            }),
            { numRuns: PROGRAM_RUNS, seed: SEED },
        );
        if (process.env.FUZZ_DIAG) console.log(`built ${built} of ${PROGRAM_RUNS}`);
        expect(built).toBeGreaterThan(0);
    });
});
