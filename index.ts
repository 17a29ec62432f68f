/**
 * Entry point: `pulumi up` runs this file (and `npm run render` runs it under mocks).
 * Config is read and validated once, before any resource is declared.
 */
import { loadConfig } from "./config";
import { ObservabilityStack } from "./components/stack";

const config = loadConfig();
const stack = new ObservabilityStack("observability", { config });

export const environment = config.environment;
export const clusterName = config.clusterName;
export const monitoringNamespace = stack.monitoringNamespace;
export const agentsNamespace = stack.agentsNamespace;
export const prometheusUrl = stack.prometheus.url;
export const alertmanagerUrl = stack.alertmanager.url;
