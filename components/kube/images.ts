/**
 * Every container image the stack runs, pinned to an exact version. Bump versions here only, and
 * keep the Prometheus, Alertmanager, node-exporter and blackbox-exporter lines equal to the
 * binaries the tests run (scripts/build-go-tools.js, scripts/install-test-tools.sh), so the
 * configs proven by promtool and amtool are the ones the pods load (test/unit/image-versions.test.ts
 * compares each binary's --version with its pin). How each pin was checked to be an upstream
 * tag: README, "Versions and upgrade notes".
 */
export const IMAGES = {
    // The release scripts/build-go-tools.js builds as .tools/bin/{prometheus,promtool} (Go module
    // v0.316.0); the newest minor, since no long-term-support line follows 3.5's.
    prometheus: "quay.io/prometheus/prometheus:v3.16.0",
    // The release scripts/build-go-tools.js builds as .tools/bin/{alertmanager,amtool}.
    alertmanager: "quay.io/prometheus/alertmanager:v0.35.0",
    // The release scripts/build-go-tools.js builds as .tools/bin/node_exporter.
    nodeExporter: "quay.io/prometheus/node-exporter:v1.12.1",
    kubeStateMetrics: "registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.20.0",
    configReloader: "ghcr.io/prometheus-operator/prometheus-config-reloader:v0.95.2",
    grafana: "docker.io/grafana/grafana:13.2.3",
    loki: "docker.io/grafana/loki:3.7.8",
    // 8.19, the last and still maintained 8.x minor: a rolling upgrade from 8.18 in place; 9.x is
    // a separate major upgrade (docs/upgrading.md).
    elasticsearch: "docker.elastic.co/elasticsearch/elasticsearch:8.19.22",
    kibana: "docker.elastic.co/kibana/kibana:8.19.22",
    // The release scripts/build-go-tools.js builds as .tools/bin/jaeger (test/telemetry runs it).
    jaeger: "docker.io/jaegertracing/jaeger:2.12.0",
    // The release of the collector scripts/build-go-tools.js builds as .tools/bin/otelcol, with
    // the components our configs use (test/telemetry validates and runs the configs with it).
    otelCollector: "docker.io/otel/opentelemetry-collector-contrib:0.148.0",
    // The release of Debian forky's prometheus-blackbox-exporter (0.28.0), which checks the
    // rendered blackbox.yml and runs the probes in the tests.
    blackboxExporter: "quay.io/prometheus/blackbox-exporter:v0.28.0",
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
