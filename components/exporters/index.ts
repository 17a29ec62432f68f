export { NodeExporter, NODE_EXPORTER_APP, NODE_EXPORTER_PORT, NODE_EXPORTER_PORT_NAME } from "./node-exporter";
export type { ExporterArgs, NodeExporterArgs } from "./node-exporter";
export {
    KubeStateMetrics,
    DEFAULT_KSM_COLLECTORS,
    KSM_APP,
    KSM_COLLECTOR_API_GROUPS,
    KSM_METRICS_PORT,
    KSM_METRICS_PORT_NAME,
    KSM_TELEMETRY_PORT,
    KSM_TELEMETRY_PORT_NAME,
    ksmClusterRoleRules,
} from "./kube-state-metrics";
export type { KsmCollector, KubeStateMetricsArgs } from "./kube-state-metrics";
