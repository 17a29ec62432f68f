/**
 * The stack config keys the program reads. Scalar keys are declared in Pulumi.yaml (the CLI's
 * project schema can express them); structured keys are objects or arrays of objects, which the
 * CLI schema cannot declare, so they are documented in the README and validated here.
 */

/** Pulumi config namespace: the project name in Pulumi.yaml. */
export const CONFIG_NAMESPACE = "observability";

export const SCALAR_KEYS = ["environment", "clusterName", "storageClass", "metricPreset", "runbookBaseUrl"] as const;

export const STRUCTURED_KEYS = [
    "namespaces",
    "prometheus",
    "alertmanager",
    "grafana",
    "logs",
    "tracing",
    "collector",
    "nodeExporter",
    "kubeStateMetrics",
    "receivers",
    "slos",
    "ingress",
    "alerting",
    "probes",
] as const;

/** Secret keys the receivers use unless a receiver names another one. */
export const DEFAULT_SECRET_KEYS = {
    pagerduty: "pagerdutyRoutingKey",
    slack: "slackWebhookUrl",
    msteams: "teamsWebhookUrl",
    webhook: "webhookUrl",
} as const;

export type ScalarKey = (typeof SCALAR_KEYS)[number];
export type StructuredKey = (typeof STRUCTURED_KEYS)[number];
