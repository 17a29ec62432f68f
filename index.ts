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
/** OTLP endpoints applications send traces, metrics and logs to (the collector gateway). */
export const otlpGrpcEndpoint = stack.logsAndTraces.gateway.otlpGrpcEndpoint;
export const otlpHttpEndpoint = stack.logsAndTraces.gateway.otlpHttpEndpoint;
/** Node-local OTLP endpoint (the agent on the application's own node). */
export const otlpNodeLocalGrpcEndpoint = stack.logsAndTraces.agent.otlpGrpcEndpoint;
export const logsUrl = stack.logsAndTraces.logsUrl;
export const jaegerQueryUrl = stack.logsAndTraces.jaeger.queryUrl;
/** Where users open Grafana (the Ingress host, or `kubectl port-forward svc/grafana 3000` to localhost). */
export const grafanaUrl = stack.grafana.rootUrl;
/** Grafana's generated admin password (user `admin`): `pulumi stack output grafanaAdminPassword --show-secrets`. */
export const grafanaAdminPassword = stack.grafana.adminPassword;
