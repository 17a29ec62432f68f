/**
 * Reads Pulumi.yaml and Pulumi.<stack>.yaml the way the Pulumi CLI does and turns them into the
 * flat `<project>:<key>` config map the SDK's runtime expects. `secure:` values cannot be
 * decrypted offline: they, and secrets the config needs but the stack file does not set, become
 * unique placeholders that the render later proves never reach its output.
 */
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { stackInput } from "../../config/schema";
import { secretKeysOf } from "../../config/resolve";
import { STRUCTURED_KEYS } from "../../config/keys";

export interface ProjectFile {
    name: string;
    runtime: unknown;
    description?: string;
    config?: Record<string, { type?: string; default?: unknown; secret?: boolean; description?: string; items?: unknown }>;
}

export interface StackConfigMap {
    readonly project: string;
    readonly stack: string;
    /** `<project>:<key>` → value as the SDK sees it (objects and arrays as JSON text). */
    readonly config: Record<string, string>;
    /** Full keys whose values are secret. */
    readonly secretKeys: string[];
    /** Placeholder values standing in for secrets; none may appear in the render output. */
    readonly secretPlaceholders: string[];
    /** Secrets the config needs that the stack file does not set (pulumi up would refuse). */
    readonly missingSecrets: string[];
}

export function readProject(root: string): ProjectFile {
    const file = path.join(root, "Pulumi.yaml");
    const doc = yaml.load(fs.readFileSync(file, "utf8")) as ProjectFile;
    if (!doc || typeof doc.name !== "string") throw new Error(`${file}: expected a project with a name`);
    return doc;
}

/** Placeholder for a secret: unique and recognisable, so a leak is found by a plain text search. */
export function secretPlaceholder(fullKey: string): string {
    return `MOCK-SECRET-${fullKey.replace(/[^A-Za-z0-9]/g, "-")}-7f3a9c`;
}

/** `stackDir`: where Pulumi.<stack>.yaml is (default: root, beside Pulumi.yaml). */
export function readStackConfig(root: string, stack: string, stackDir: string = root): StackConfigMap {
    const project = readProject(root);
    const stackFile = path.join(stackDir, `Pulumi.${stack}.yaml`);
    if (!fs.existsSync(stackFile)) {
        const known = fs.readdirSync(stackDir).filter((f) => /^Pulumi\.[^.]+\.yaml$/.test(f)).map((f) => f.split(".")[1]);
        throw new Error(`no stack file ${path.basename(stackFile)}: expected one of the stacks ${known.join(", ")}`);
    }
    const doc = (yaml.load(fs.readFileSync(stackFile, "utf8")) ?? {}) as { config?: Record<string, unknown> };
    const config: Record<string, string> = {};
    const secretKeys: string[] = [];
    const secretPlaceholders: string[] = [];
    const ns = project.name;

    // Pulumi.yaml defaults come first; the stack file overrides them.
    for (const [key, decl] of Object.entries(project.config ?? {})) {
        if (key.includes(":")) {
            // A namespaced key sets a value for every stack (e.g. kubernetes:enableConfigMapMutable).
            const value = decl !== null && typeof decl === "object" && "value" in decl ? (decl as { value: unknown }).value : decl;
            config[key] = toConfigText(value);
        } else if (decl.default !== undefined) config[`${ns}:${key}`] = toConfigText(decl.default);
    }
    for (const [key, value] of Object.entries(doc.config ?? {})) {
        const full = key.includes(":") ? key : `${ns}:${key}`;
        if (value && typeof value === "object" && !Array.isArray(value) && "secure" in value) {
            config[full] = secretPlaceholder(full);
            secretKeys.push(full);
            secretPlaceholders.push(config[full]!);
        } else {
            config[full] = toConfigText(value);
        }
    }

    // Secrets the config refers to but the stack does not set: pulumi up stops with the
    // `pulumi config set --secret` command; the offline render stands in a placeholder and warns.
    const missingSecrets: string[] = [];
    const values: Record<string, unknown> = {};
    for (const k of STRUCTURED_KEYS) {
        const text = config[`${ns}:${k}`];
        if (text !== undefined) {
            try {
                values[k] = JSON.parse(text);
            } catch {
                values[k] = text;
            }
        }
    }
    const parsed = stackInput.safeParse(values);
    if (parsed.success) {
        for (const key of secretKeysOf(parsed.data)) {
            const full = `${ns}:${key}`;
            if (config[full] === undefined) {
                config[full] = secretPlaceholder(full);
                secretKeys.push(full);
                secretPlaceholders.push(config[full]!);
                missingSecrets.push(full);
            }
        }
    }
    return { project: ns, stack, config, secretKeys, secretPlaceholders, missingSecrets };
}

function toConfigText(value: unknown): string {
    return typeof value === "string" ? value : JSON.stringify(value);
}
