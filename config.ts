/**
 * Typed, validated stack configuration.
 *
 * `loadConfig()` is the only place in the program that reads `pulumi.Config`. It collects every
 * problem in the stack's config (one message per problem, naming the key path, the value and what
 * is expected) and throws them together before any resource is declared. Components receive the
 * immutable {@link StackConfig} it returns.
 *
 * The schema lives in `config/schema.ts`, the per-environment defaults in `config/defaults.ts`.
 */
import * as pulumi from "@pulumi/pulumi";
import { CONFIG_NAMESPACE, STRUCTURED_KEYS, SCALAR_KEYS } from "./config/keys";
import { resolveConfig, ConfigError, RawStackConfig } from "./config/resolve";

export * from "./config/types";
export { resolveConfig, ConfigError, CONFIG_NAMESPACE };
export type { RawStackConfig };
export { secretKeysOf } from "./config/resolve";

/**
 * Reads the current stack's `observability:*` config, applies the environment's defaults and
 * validates it. Throws a {@link ConfigError} listing every problem when anything is invalid.
 */
export function loadConfig(): import("./config/types").StackConfig {
    const cfg = new pulumi.Config(CONFIG_NAMESPACE);
    const all = pulumi.runtime.allConfig();
    const prefix = `${CONFIG_NAMESPACE}:`;
    const values: Record<string, string> = {};
    for (const [fullKey, value] of Object.entries(all)) {
        if (fullKey.startsWith(prefix)) values[fullKey.slice(prefix.length)] = value;
    }
    const raw: RawStackConfig = {
        project: pulumi.getProject(),
        stack: pulumi.getStack(),
        values: {},
        presentKeys: new Set(Object.keys(values)),
    };
    for (const key of SCALAR_KEYS) {
        if (key in values) raw.values[key] = values[key];
    }
    for (const key of STRUCTURED_KEYS) {
        if (key in values) raw.values[key] = parseStructuredValue(values[key]!);
    }
    return resolveConfig(raw, (key) => cfg.getSecret(key));
}

/**
 * Pulumi hands structured (object and array) config to the program as JSON text. Text that is not
 * JSON is passed through unchanged, so the schema reports it as "expected an object".
 */
export function parseStructuredValue(text: string): unknown {
    try {
        return JSON.parse(text);
    } catch {
        return text;
    }
}
