/**
 * A stack's resolved config from its committed stack file, with stand-in secrets and the given
 * top-level keys replaced: what the probe tests build their artifacts from.
 */
import * as pulumi from "@pulumi/pulumi";
import { resolveConfig } from "../../../config/resolve";
import type { StackConfig } from "../../../config";
import { SCALAR_KEYS, STRUCTURED_KEYS } from "../../../config/keys";
import { readStackConfig } from "../../../scripts/lib/stack-files";
import { ROOT } from "../../support/program";

export function stackConfig(stack: "dev" | "prod", overrides: Record<string, unknown> = {}): StackConfig {
    const { project, config } = readStackConfig(ROOT, stack);
    const values: Record<string, unknown> = {};
    for (const key of SCALAR_KEYS) if (`${project}:${key}` in config) values[key] = config[`${project}:${key}`];
    for (const key of STRUCTURED_KEYS) if (`${project}:${key}` in config) values[key] = JSON.parse(config[`${project}:${key}`]!);
    return resolveConfig({ project, stack, values: { ...values, ...overrides } }, (key) => pulumi.secret(`test-${key}`));
}
