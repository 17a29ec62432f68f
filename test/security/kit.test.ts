/**
 * The kit mechanisms behind the security and durability guarantees: the PriorityClass and grace
 * period every pod spec gets from `securePodSpec`, the guard against NetworkPolicy rules that
 * would admit everything, and the typed `namespaces.applicationSelector` option.
 */
import { installMocks } from "../../scripts/lib/mock-runtime";
import { DEFAULT_TERMINATION_GRACE_SECONDS, MONITORING_PRIORITY_CLASS, MONITORING_PRIORITY_VALUE, securePodSpec, workloadNetworkPolicy } from "../../components/kube";
import { ConfigError, resolveConfig } from "../../config/resolve";

installMocks("observability", "kit-test");

describe("securePodSpec's durability defaults", () => {
    const containers = [{ name: "x", image: "example.com/x:1.0.0" }];

    it("runs every pod with the stack's PriorityClass and an explicit 30-second grace period", () => {
        const spec = securePodSpec({ containers });
        expect(spec.priorityClassName).toBe(MONITORING_PRIORITY_CLASS);
        expect(spec.terminationGracePeriodSeconds).toBe(DEFAULT_TERMINATION_GRACE_SECONDS);
        expect(DEFAULT_TERMINATION_GRACE_SECONDS).toBe(30);
    });

    it("lets a stateful workload ask for a longer grace period, and keeps the PriorityClass", () => {
        const spec = securePodSpec({ containers, terminationGracePeriodSeconds: 600 });
        expect(spec.terminationGracePeriodSeconds).toBe(600);
        expect(spec.priorityClassName).toBe(MONITORING_PRIORITY_CLASS);
    });

    it("uses a priority above ordinary pods and below the cluster's system classes", () => {
        expect(MONITORING_PRIORITY_VALUE).toBeGreaterThan(0);
        expect(MONITORING_PRIORITY_VALUE).toBeLessThanOrEqual(1_000_000_000);
    });
});

describe("workloadNetworkPolicy's guard", () => {
    const args = (from: any[], ports: any[]) => ({
        namespace: "monitoring",
        podLabels: { app: "x" },
        labels: {},
        ingress: [{ description: "test flow", from, ports }],
    });

    it("refuses a flow without peers, which Kubernetes would read as every source", () => {
        expect(() => workloadNetworkPolicy("open-from", args([], [{ port: 80 }]), {})).toThrow('NetworkPolicy open-from: flow "test flow" names no peer, which Kubernetes would read as every source');
    });

    it("refuses a flow without ports, which Kubernetes would read as every port", () => {
        expect(() => workloadNetworkPolicy("open-ports", args([{ podLabels: { app: "y" } }], []), {})).toThrow('NetworkPolicy open-ports: flow "test flow" names no port, which Kubernetes would read as every port');
    });
});

describe("namespaces.applicationSelector", () => {
    const resolve = (namespaces: unknown) => resolveConfig({ project: "observability", stack: "dev", values: { namespaces } }, () => undefined);
    const problems = (namespaces: unknown): readonly string[] => {
        try {
            resolve(namespaces);
        } catch (e) {
            if (e instanceof ConfigError) return e.problems;
            throw e;
        }
        throw new Error("resolved although it should not");
    };

    it("defaults to every namespace (no labels)", () => {
        expect(resolve(undefined).namespaces.applicationSelector).toEqual({});
    });

    it("accepts Kubernetes label keys with a prefix and plain values", () => {
        expect(resolve({ applicationSelector: { "observability.example.com/telemetry": "enabled", team: "shop" } }).namespaces.applicationSelector).toEqual({
            "observability.example.com/telemetry": "enabled",
            team: "shop",
        });
    });

    it("rejects a label value Kubernetes would reject, naming the key path and the rule", () => {
        expect(problems({ applicationSelector: { team: "a b" } })).toEqual([
            `observability:namespaces.applicationSelector.team = "a b": expected a Kubernetes label value: at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit`,
        ]);
    });

    it("rejects a label key Kubernetes would reject and a selector that is not a map", () => {
        expect(problems({ applicationSelector: { "Bad Key": "x" } })).toEqual([expect.stringMatching(/^observability:namespaces\.applicationSelector\.Bad Key = "x": expected /)]);
        expect(problems({ applicationSelector: ["team"] })).toEqual([expect.stringMatching(/^observability:namespaces\.applicationSelector = \["team"\]: expected a map of Kubernetes label keys to values$/)]);
    });
});
