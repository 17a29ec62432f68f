/**
 * Every container image the stack runs, pinned to an exact version. Bump versions here only, and
 * keep the Prometheus, Alertmanager and blackbox-exporter lines in step with the Debian packages the tests run
 * (scripts/install-test-tools.sh), so the configs proven by promtool and amtool are the ones the
 * pods load.
 */
export const IMAGES = {
    prometheus: "quay.io/prometheus/prometheus:v2.53.5",
    alertmanager: "quay.io/prometheus/alertmanager:v0.28.1",
    nodeExporter: "quay.io/prometheus/node-exporter:v1.9.1",
    kubeStateMetrics: "registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.15.0",
    configReloader: "ghcr.io/prometheus-operator/prometheus-config-reloader:v0.83.0",
    grafana: "docker.io/grafana/grafana:12.1.0",
    loki: "docker.io/grafana/loki:3.5.0",
    elasticsearch: "docker.elastic.co/elasticsearch/elasticsearch:8.18.0",
    kibana: "docker.elastic.co/kibana/kibana:8.18.0",
    // The release scripts/build-go-tools.js builds as .tools/bin/jaeger (test/telemetry runs it).
    jaeger: "docker.io/jaegertracing/jaeger:2.12.0",
    // The release of the collector scripts/build-go-tools.js builds as .tools/bin/otelcol, with
    // the components our configs use (test/telemetry validates and runs the configs with it).
    otelCollector: "docker.io/otel/opentelemetry-collector-contrib:0.148.0",
    // The minor of Debian trixie's prometheus-blackbox-exporter (0.26.0), which checks the
    // rendered blackbox.yml and runs the probes in the tests.
    blackboxExporter: "quay.io/prometheus/blackbox-exporter:v0.26.0",
} as const;

export type ImageName = keyof typeof IMAGES;

/** The image to run: the config override when given, else the pinned default. */
export function imageFor(name: ImageName, override?: string): string {
    return override ?? IMAGES[name];
}

/** The version part of an image reference, for the `app.kubernetes.io/version` label. */
export function versionOf(image: string): string {
    const at = image.indexOf("@");
    if (at >= 0) return image.slice(at + 1 + "sha256:".length, at + 1 + "sha256:".length + 12);
    const tag = image.slice(image.lastIndexOf(":") + 1);
    return tag.replace(/[^A-Za-z0-9_.-]/g, "-").slice(0, 63);
}
