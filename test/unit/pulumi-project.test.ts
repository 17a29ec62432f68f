/**
 * The Pulumi CLI cannot run here, so these tests apply the checks it would make to Pulumi.yaml and
 * the stack files (ARCHITECTURE: "What the Pulumi CLI would check"). Each rule is a small checker
 * returning its findings; every rule also runs on a deliberately broken in-memory file, which
 * proves the checker can fail.
 */
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import * as pulumi from "@pulumi/pulumi";
import { CONFIG_NAMESPACE, DEFAULT_SECRET_KEYS, SCALAR_KEYS } from "../../config/keys";
import { resolveConfig, secretKeysOf } from "../../config/resolve";
import { stackInput } from "../../config/schema";

const ROOT = path.join(__dirname, "..", "..");
const STACKS = ["dev", "prod"] as const;

function loadYaml(file: string): Record<string, unknown> {
    return yaml.load(fs.readFileSync(path.join(ROOT, file), "utf8")) as Record<string, unknown>;
}

const project = loadYaml("Pulumi.yaml");
const projectText = fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8");
const stackFiles = Object.fromEntries(STACKS.map((s) => [s, loadYaml(`Pulumi.${s}.yaml`)])) as Record<(typeof STACKS)[number], Record<string, unknown>>;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
/** Project config declarations: the keys of Pulumi.yaml's config block without a namespace. */
const declarationsOf = (p: Record<string, unknown>): Record<string, unknown> =>
    isObject(p["config"]) ? Object.fromEntries(Object.entries(p["config"]).filter(([k]) => !k.includes(":"))) : {};
/** Values Pulumi.yaml sets for every stack: its namespaced config keys (e.g. `kubernetes:...`). */
const projectValuesOf = (p: Record<string, unknown>): Record<string, unknown> =>
    isObject(p["config"]) ? Object.fromEntries(Object.entries(p["config"]).filter(([k]) => k.includes(":"))) : {};

// ---------------------------------------------------------------------------------------------
// Checkers: each returns one finding per violation, [] when the file follows the rule.
// ---------------------------------------------------------------------------------------------

const NODEJS_RUNTIME_OPTIONS = ["typescript", "nodeargs", "packagemanager"];

/** `name` is the config namespace the program reads; the runtime is nodejs. */
function checkProjectHeader(p: Record<string, unknown>): string[] {
    const findings: string[] = [];
    if (p["name"] !== CONFIG_NAMESPACE) findings.push(`name is ${JSON.stringify(p["name"])}, expected "${CONFIG_NAMESPACE}" (the config namespace)`);
    const runtime = p["runtime"];
    const runtimeName = isObject(runtime) ? runtime["name"] : runtime;
    if (runtimeName !== "nodejs") findings.push(`runtime is ${JSON.stringify(runtimeName)}, expected nodejs`);
    if (isObject(runtime) && runtime["options"] !== undefined) {
        if (!isObject(runtime["options"])) findings.push("runtime.options is not a map");
        else
            for (const option of Object.keys(runtime["options"]))
                if (!NODEJS_RUNTIME_OPTIONS.includes(option)) findings.push(`runtime.options.${option} is not a nodejs runtime option`);
    }
    return findings;
}

const DECLARATION_FIELDS = ["type", "items", "description", "secret", "default"];
const DECLARATION_TYPES = ["string", "integer", "boolean", "array"];

function valueHasType(value: unknown, type: unknown): boolean {
    switch (type) {
        case "string":
            return typeof value === "string";
        case "integer":
            return Number.isInteger(value);
        case "boolean":
            return typeof value === "boolean";
        case "array":
            return Array.isArray(value);
        default:
            return false;
    }
}

/** The CLI project schema: only the known fields, a known type, arrays with items, defaults of that type. */
function checkDeclarationShapes(declarations: Record<string, unknown>): string[] {
    const findings: string[] = [];
    for (const [key, decl] of Object.entries(declarations)) {
        if (!isObject(decl)) {
            findings.push(`config.${key} is not a map of type, items, description, secret, default`);
            continue;
        }
        for (const field of Object.keys(decl))
            if (!DECLARATION_FIELDS.includes(field)) findings.push(`config.${key}.${field} is not allowed (only ${DECLARATION_FIELDS.join(", ")})`);
        if (!DECLARATION_TYPES.includes(decl["type"] as string))
            findings.push(`config.${key}.type is ${JSON.stringify(decl["type"])}, expected one of ${DECLARATION_TYPES.join(", ")}`);
        if (decl["type"] === "array") {
            const items = decl["items"];
            if (!isObject(items) || !DECLARATION_TYPES.includes(items["type"] as string)) findings.push(`config.${key} is an array without items.type`);
        } else if (decl["items"] !== undefined) findings.push(`config.${key}.items is only allowed on an array`);
        if (decl["secret"] !== undefined && typeof decl["secret"] !== "boolean") findings.push(`config.${key}.secret is not a boolean`);
        if (decl["description"] !== undefined && typeof decl["description"] !== "string") findings.push(`config.${key}.description is not a string`);
        if (decl["default"] !== undefined && !valueHasType(decl["default"], decl["type"]))
            findings.push(`config.${key}.default ${JSON.stringify(decl["default"])} is not of type ${String(decl["type"])}`);
    }
    return findings;
}

const SECRET_KEY_NAMES: readonly string[] = Object.values(DEFAULT_SECRET_KEYS);

/**
 * The real CLI (test/lifecycle) refuses a stack that leaves a declared key without a default
 * unset ("Stack 'dev' is missing configuration values ..."), and every key of this program is
 * optional. So: declared keys are scalar keys the program reads, each with a default, none a
 * secret (a default would be a clear value); every scalar and default secret key the program
 * reads is documented in Pulumi.yaml's header comment instead.
 */
function checkDeclaredKeys(declarations: Record<string, unknown>, projectText: string): string[] {
    const findings: string[] = [];
    for (const [key, decl] of Object.entries(declarations)) {
        if (!(SCALAR_KEYS as readonly string[]).includes(key)) {
            findings.push(`config.${key} is declared but the program does not read it as a scalar key`);
            continue;
        }
        if (!isObject(decl) || decl["default"] === undefined)
            findings.push(`config.${key} has no default, so the Pulumi CLI would require it in every stack`);
        else if (decl["type"] !== "string") findings.push(`config.${key}.type is ${JSON.stringify(decl["type"])}, expected string`);
        if (isObject(decl) && decl["secret"] === true) findings.push(`config.${key} is a secret and must not be declared with a default`);
    }
    for (const key of [...SCALAR_KEYS, ...SECRET_KEY_NAMES]) {
        if (key in declarations) continue;
        if (!new RegExp(`^#\\s+${key}\\s+\\S`, "m").test(projectText)) findings.push(`config.${key} is read by the program but neither declared nor documented in Pulumi.yaml`);
    }
    return findings;
}

/** A minimal valid stack of each environment, to see what resolveConfig picks for unset keys. */
const MINIMAL_STACKS: [string, Record<string, unknown>][] = [
    ["dev", {}],
    ["prod", { receivers: [{ name: "pager", kind: "pagerduty" }] }],
];

/** A declared default must be what the program uses when the key is unset, in every environment. */
function checkDeclaredDefaults(declarations: Record<string, unknown>): string[] {
    const findings: string[] = [];
    for (const [key, decl] of Object.entries(declarations)) {
        if (!isObject(decl) || decl["default"] === undefined) continue;
        for (const [stack, values] of MINIMAL_STACKS) {
            const resolved = resolveConfig({ project: CONFIG_NAMESPACE, stack, values }, (k) => pulumi.secret(`value-of-${k}`)) as unknown as Record<string, unknown>;
            if (resolved[key] !== decl["default"])
                findings.push(
                    `config.${key}.default is ${JSON.stringify(decl["default"])} but resolveConfig uses ${JSON.stringify(resolved[key])} in ${stack} when it is unset`,
                );
        }
    }
    return findings;
}

/** Every stack file key is `<project>:<key>`, in the project's namespace. */
function checkStackKeysPrefixed(stackFile: Record<string, unknown>, namespace: string): string[] {
    const config = stackFile["config"];
    if (!isObject(config)) return ["config is not a map"];
    return Object.keys(config)
        .filter((k) => !k.startsWith(`${namespace}:`) || k.length === namespace.length + 1)
        .map((k) => `${k} does not carry the ${namespace}: prefix`);
}

/** Secret keys of a stack: the default secret keys, those Pulumi.yaml declares secret, and those its receivers and other settings name. */
function secretKeysOfStack(declarations: Record<string, unknown>, stackFile: Record<string, unknown>, namespace: string): string[] {
    const declared = [
        ...SECRET_KEY_NAMES,
        ...Object.entries(declarations)
            .filter(([, d]) => isObject(d) && d["secret"] === true)
            .map(([k]) => k),
    ];
    const config = isObject(stackFile["config"]) ? stackFile["config"] : {};
    const values: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(config)) if (k.startsWith(`${namespace}:`)) values[k.slice(namespace.length + 1)] = v;
    const settings = Object.fromEntries(Object.entries(values).filter(([k]) => k in stackInput.shape));
    const named = secretKeysOf(stackInput.parse(settings));
    return [...new Set([...declared, ...named])].sort();
}

/**
 * No clear secrets: every secret key is absent from the stack file or a `{secure: <ciphertext>}`
 * value, and a file holding secure values names its secrets provider (or its passphrase salt).
 */
function checkNoClearSecrets(declarations: Record<string, unknown>, stackFile: Record<string, unknown>, namespace: string): string[] {
    const findings: string[] = [];
    const config = isObject(stackFile["config"]) ? stackFile["config"] : {};
    let secure = 0;
    for (const key of secretKeysOfStack(declarations, stackFile, namespace)) {
        const fullKey = `${namespace}:${key}`;
        if (!(fullKey in config)) continue;
        const value = config[fullKey];
        const isSecure = isObject(value) && Object.keys(value).length === 1 && typeof value["secure"] === "string" && value["secure"].length > 0;
        if (isSecure) secure++;
        else findings.push(`${fullKey} is a secret but holds a clear value; use \`pulumi config set --secret ${key} <value>\``);
    }
    if (secure > 0 && typeof stackFile["encryptionsalt"] !== "string" && typeof stackFile["secretsprovider"] !== "string")
        findings.push("the stack file holds secure values but names no secretsprovider or encryptionsalt to decrypt them");
    return findings;
}

/** A stack file value of a declared key must have the declared type (secure values stand for strings). */
function checkStackValueTypes(declarations: Record<string, unknown>, stackFile: Record<string, unknown>, namespace: string): string[] {
    const findings: string[] = [];
    const config = isObject(stackFile["config"]) ? stackFile["config"] : {};
    for (const [key, decl] of Object.entries(declarations)) {
        const fullKey = `${namespace}:${key}`;
        if (!(fullKey in config) || !isObject(decl)) continue;
        const value = config[fullKey];
        if (isObject(value) && "secure" in value) continue;
        if (!valueHasType(value, decl["type"])) findings.push(`${fullKey} = ${JSON.stringify(value)} is not of the declared type ${String(decl["type"])}`);
    }
    return findings;
}

// ---------------------------------------------------------------------------------------------

const declarations = declarationsOf(project);

describe("Pulumi.yaml follows the Pulumi CLI project schema", () => {
    it("names the project after the config namespace and runs on the nodejs runtime", () => {
        expect(checkProjectHeader(project)).toEqual([]);
    });

    it("flags a project whose name differs from the config namespace, whose runtime is not nodejs or has an unknown option", () => {
        expect(checkProjectHeader({ name: "observability-stack", runtime: { name: "python", options: { typescript: true, virtualenv: "venv" } } })).toEqual([
            'name is "observability-stack", expected "observability" (the config namespace)',
            'runtime is "python", expected nodejs',
            "runtime.options.virtualenv is not a nodejs runtime option",
        ]);
        expect(checkProjectHeader({ name: "observability", runtime: "nodejs" })).toEqual([]);
    });

    it("updates ConfigMaps and Secrets in place for every stack (no replacement cascading to StatefulSets)", () => {
        expect(projectValuesOf(project)).toEqual({ "kubernetes:enableConfigMapMutable": true, "kubernetes:enableSecretMutable": true });
    });

    it("declares config with only type, items, description, secret and default, of a type the CLI knows", () => {
        expect(Object.keys(declarations).length).toBeGreaterThan(0);
        expect(checkDeclarationShapes(declarations)).toEqual([]);
    });

    it("flags an object type, an unknown field, an array without items and a default of the wrong type", () => {
        expect(
            checkDeclarationShapes({
                prometheus: { type: "object", description: "structured" },
                clusterName: { type: "string", value: "dev" },
                extraLabels: { type: "array" },
                metricPreset: { type: "string", default: 3 },
                storageClass: { type: "string", items: { type: "string" } },
            }),
        ).toEqual([
            'config.prometheus.type is "object", expected one of string, integer, boolean, array',
            "config.clusterName.value is not allowed (only type, items, description, secret, default)",
            "config.extraLabels is an array without items.type",
            "config.metricPreset.default 3 is not of type string",
            "config.storageClass.items is only allowed on an array",
        ]);
    });

    it("declares only optional scalar keys with a default and documents every other key the program reads", () => {
        expect(checkDeclaredKeys(declarations, projectText)).toEqual([]);
    });

    it("flags a declared structured key, a declaration without default, a declared secret and an undocumented key", () => {
        const broken: Record<string, unknown> = {
            ...declarations,
            prometheus: { type: "string", default: "x" },
            clusterName: { type: "string" },
            storageClass: { type: "string", default: "", secret: true },
        };
        expect(checkDeclaredKeys(broken, projectText.replace(/^#\s+runbookBaseUrl .*$/m, ""))).toEqual([
            "config.prometheus is declared but the program does not read it as a scalar key",
            "config.clusterName has no default, so the Pulumi CLI would require it in every stack",
            "config.storageClass is a secret and must not be declared with a default",
            "config.runbookBaseUrl is read by the program but neither declared nor documented in Pulumi.yaml",
        ]);
    });

    it("declares only defaults that resolveConfig also applies when the key is unset", () => {
        expect(Object.entries(declarations).filter(([, d]) => isObject(d) && d["default"] !== undefined).map(([k]) => k)).toEqual(["metricPreset"]);
        expect(checkDeclaredDefaults(declarations)).toEqual([]);
    });

    it("flags a declared default that the program does not use", () => {
        expect(checkDeclaredDefaults({ metricPreset: { type: "string", default: "otel" } })).toEqual([
            'config.metricPreset.default is "otel" but resolveConfig uses "prometheus" in dev when it is unset',
            'config.metricPreset.default is "otel" but resolveConfig uses "prometheus" in prod when it is unset',
        ]);
    });
});

describe.each(STACKS)("Pulumi.%s.yaml", (stack) => {
    const file = stackFiles[stack];

    it("carries the observability: prefix on every config key", () => {
        expect(Object.keys(file["config"] as object).length).toBeGreaterThan(0);
        expect(checkStackKeysPrefixed(file, CONFIG_NAMESPACE)).toEqual([]);
    });

    it("holds no secret in clear: each secret key is absent or a secure value", () => {
        const secretKeys = secretKeysOfStack(declarations, file, CONFIG_NAMESPACE);
        expect(secretKeys).toEqual(expect.arrayContaining([...SECRET_KEY_NAMES]));
        expect(checkNoClearSecrets(declarations, file, CONFIG_NAMESPACE)).toEqual([]);
    });

    it("gives every declared key a value of its declared type", () => {
        expect(checkStackValueTypes(declarations, file, CONFIG_NAMESPACE)).toEqual([]);
    });
});

describe("the stack-file checkers catch broken files", () => {
    it("finds the secret keys the prod receivers name besides the declared ones", () => {
        expect(secretKeysOfStack(declarations, stackFiles.prod, CONFIG_NAMESPACE)).toEqual([
            "heartbeatUrl",
            "pagerdutyRoutingKey",
            "slackWebhookUrl",
            "smtpPassword",
            "teamsWebhookUrl",
            "webhookUrl",
        ]);
    });

    it("flags a key without the observability: prefix, one in another namespace and a bare prefix", () => {
        expect(checkStackKeysPrefixed({ config: { clusterName: "dev", "kubernetes:context": "kind", "observability:": 1, "observability:slos": [] } }, CONFIG_NAMESPACE)).toEqual([
            "clusterName does not carry the observability: prefix",
            "kubernetes:context does not carry the observability: prefix",
            "observability: does not carry the observability: prefix",
        ]);
    });

    it("flags a declared secret and a receiver-named secret written in clear", () => {
        const broken = {
            config: {
                ...(stackFiles.prod["config"] as object),
                "observability:slackWebhookUrl": "https://hooks.slack.com/services/T000/B000/XXXX",
                "observability:smtpPassword": { secure: "" },
                "observability:heartbeatUrl": { secure: "AAABAJd0pWq3", plain: "https://hc.example.com/ping/1" },
            },
        };
        expect(checkNoClearSecrets(declarations, broken, CONFIG_NAMESPACE)).toEqual([
            "observability:heartbeatUrl is a secret but holds a clear value; use `pulumi config set --secret heartbeatUrl <value>`",
            "observability:slackWebhookUrl is a secret but holds a clear value; use `pulumi config set --secret slackWebhookUrl <value>`",
            "observability:smtpPassword is a secret but holds a clear value; use `pulumi config set --secret smtpPassword <value>`",
        ]);
    });

    it("accepts secure values only alongside the passphrase salt or a secrets provider", () => {
        const config = { ...(stackFiles.prod["config"] as object), "observability:slackWebhookUrl": { secure: "v1:AAABAJd0pWq3" } };
        expect(checkNoClearSecrets(declarations, { config }, CONFIG_NAMESPACE)).toEqual([
            "the stack file holds secure values but names no secretsprovider or encryptionsalt to decrypt them",
        ]);
        expect(checkNoClearSecrets(declarations, { encryptionsalt: "v1:abc:def", config }, CONFIG_NAMESPACE)).toEqual([]);
    });

    it("flags a declared key whose stack value has another type", () => {
        // Undeclared keys (clusterName) are typed by the program's own schema (test/unit/config.test.ts).
        expect(checkStackValueTypes(declarations, { config: { "observability:clusterName": 5, "observability:metricPreset": ["otel"] } }, CONFIG_NAMESPACE)).toEqual([
            'observability:metricPreset = ["otel"] is not of the declared type string',
        ]);
    });
});
