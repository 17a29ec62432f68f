/**
 * The components compiled into our OpenTelemetry Collector distribution, by the type name a
 * config uses: exactly what the rendered agent and gateway configs need (plus `nop` and `debug`,
 * which tests use), built from the Go module proxy as `.tools/bin/otelcol` by
 * scripts/build-go-tools.js (TOOLS.otelcol) at {@link CONTRIB_RELEASE}, the release of the pinned
 * contrib image (`IMAGES.otelCollector`), which has every one of them. The structural validator
 * (./validate.ts) refuses a config naming anything else, and test/telemetry checks this list
 * against the binary (`otelcol components`) and runs `otelcol validate` on every rendered config,
 * so a typo or a component the build lacks fails in tests instead of in a CrashLoopBackOff.
 *
 * Adding a component to a config: add its Go module to TOOLS.otelcol and its type here.
 * Bumping the release: bump the image, TOOLS.otelcol's version and {@link CONTRIB_RELEASE}
 * together (a test keeps them equal) and apply the release's renames.
 */

/** The collector release of the build and of `IMAGES.otelCollector`. */
export const CONTRIB_RELEASE = "0.148.0";

export type ComponentKind = "receivers" | "processors" | "exporters" | "extensions" | "connectors";

/**
 * Names as of 0.148.0. Renamed components register their old name as a deprecated alias
 * (`otlp` → `otlp_grpc`, `otlphttp` → `otlp_http`, `k8sattributes` → `k8s_attributes`); our
 * configs use the new names, so the aliases are not listed.
 */
export const CONTRIB_COMPONENTS: { readonly [K in ComponentKind]: readonly string[] } = {
    receivers: ["filelog", "nop", "otlp"],
    processors: [
        "batch", "filter", "groupbyattrs", "k8s_attributes", "memory_limiter", "resource", "resourcedetection",
        "tail_sampling", "transform",
    ],
    exporters: ["debug", "elasticsearch", "loadbalancing", "nop", "otlp_grpc", "otlp_http", "prometheusremotewrite"],
    extensions: ["file_storage", "health_check"],
    connectors: [],
};

/** The type of a component id: `otlp/gateway` → `otlp`. */
export function componentType(id: string): string {
    const slash = id.indexOf("/");
    return slash < 0 ? id : id.slice(0, slash);
}

/** Whether our collector build has a component of this kind with the type of `id`. */
export function isContribComponent(kind: ComponentKind, id: string): boolean {
    return CONTRIB_COMPONENTS[kind].includes(componentType(id));
}
