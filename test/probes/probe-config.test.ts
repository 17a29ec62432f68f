/**
 * The `probes` key and `alerting.probes` as resolveConfig resolves them: the defaults a target
 * takes (module from its URL, interval, team, severity, service, namespace), the exporter's
 * environment profile, and thresholds reaching the rules. Invalid configs and their exact
 * messages are in the INVALID table of test/unit/config.test.ts.
 */
import * as yaml from "js-yaml";
import * as pulumi from "@pulumi/pulumi";
import { resolveConfig, ConfigError } from "../../config/resolve";
import { DEFAULT_ALERTING } from "../../config/defaults";
import { stackRuleFiles } from "../../alerts";
import { stackConfig } from "./support/config";

const resolve = (stack: string, values: Record<string, unknown>) => resolveConfig({ project: "observability", stack, values }, (k) => pulumi.secret(`v-${k}`));
const PROD = { receivers: [{ name: "pager", kind: "pagerduty" }] };

describe("a probe target of the stack config", () => {
    it("takes its module from its URL's scheme, and http_body when it expects a body", () => {
        const c = resolve("dev", {
            probes: {
                targets: [
                    { name: "a", url: "https://a.example.com/health" },
                    { name: "b", url: "http://b.example.com/health", expectBody: "ok" },
                    { name: "c", url: "tcp://c.example.com:5432" },
                    { name: "d", url: "dns://10.96.0.10/kubernetes.default.svc.cluster.local" },
                ],
            },
        });
        expect(c.probes.targets.map((t) => t.module)).toEqual(["http_2xx", "http_body", "tcp_connect", "dns"]);
    });

    it("defaults to the scrape interval, critical severity, the application team and its name as the service", () => {
        const c = resolve("dev", { alerting: { teams: { application: "shop-team" } }, probes: { targets: [{ name: "checkout", url: "https://checkout.example.com/health" }] } });
        expect(c.probes.targets[0]).toEqual({
            name: "checkout",
            url: "https://checkout.example.com/health",
            module: "http_2xx",
            interval: "30s",
            team: "shop-team",
            severity: "critical",
            service: "checkout",
            namespace: "external",
        });
    });

    it("is in the namespace of an in-cluster Service host, and external elsewhere, unless it names one", () => {
        const c = resolve("dev", {
            probes: {
                targets: [
                    { name: "a", url: "http://checkout.shop.svc:8080/health" },
                    { name: "b", url: "http://checkout.shop.svc.cluster.local/health" },
                    { name: "c", url: "https://shop.example.com/health" },
                    { name: "d", url: "https://shop.example.com/health", namespace: "shop", service: "storefront" },
                ],
            },
        });
        expect(c.probes.targets.map((t) => [t.namespace, t.service])).toEqual([
            ["shop", "a"],
            ["shop", "b"],
            ["external", "c"],
            ["shop", "storefront"],
        ]);
    });

    it("accepts an interval of exactly the scrape interval and longer ones, in prod's 15 s too", () => {
        const c = resolve("prod", { ...PROD, probes: { targets: [{ name: "a", url: "https://a.example.com/", interval: "15s" }, { name: "b", url: "https://b.example.com/", interval: "5m" }] } });
        expect(c.probes.targets.map((t) => t.interval)).toEqual(["15s", "5m"]);
    });

    it("reports every probe problem of a stack at once", () => {
        let problems: readonly string[] = [];
        try {
            resolve("dev", { probes: { targets: [{ name: "a", url: "ftp://a.example.com/" }, { name: "a", url: "https://a.example.com/", interval: "5s" }] } });
        } catch (e) {
            problems = (e as ConfigError).problems;
        }
        expect(problems).toEqual([
            'observability:probes.targets[0].url = "ftp://a.example.com/": expected an http://, https://, tcp:// or dns:// URL, such as https://shop.example.com/health',
            'observability:probes.targets[1].interval = "5s": expected at least prometheus.scrapeInterval (30s)',
            'observability:probes.targets[1].name = "a": expected a unique probe name (probes.targets[0] has it too)',
        ]);
    });
});

describe("the blackbox exporter's profile", () => {
    it("runs one small replica in dev and two in prod, discovering annotated Services by default", () => {
        const dev = stackConfig("dev");
        const prod = stackConfig("prod");
        expect([dev.probes.replicas, prod.probes.replicas]).toEqual([1, 2]);
        expect(dev.probes.resources).toEqual({ requests: { cpu: "10m", memory: "32Mi" }, limits: { cpu: "100m", memory: "64Mi" } });
        expect([dev.probes.serviceDiscovery, prod.probes.serviceDiscovery]).toEqual([true, true]);
        expect(dev.probes.targets).toEqual([]);
    });

    it("takes resource, image and discovery overrides, and checks limits against requests", () => {
        const c = resolve("dev", { probes: { serviceDiscovery: false, image: "quay.io/prometheus/blackbox-exporter:v0.26.0", resources: { limits: { memory: "128Mi" } } } });
        expect(c.probes).toMatchObject({ serviceDiscovery: false, image: "quay.io/prometheus/blackbox-exporter:v0.26.0", resources: { limits: { cpu: "100m", memory: "128Mi" } } });
        expect(() => resolve("dev", { probes: { resources: { requests: { cpu: "1" } } } })).toThrow('observability:probes.resources.limits.cpu = "100m": expected at least probes.resources.requests.cpu (1)');
    });
});

describe("alerting.probes", () => {
    it("defaults to failing and DNS for 2m, p95 over 1 s over 10m for 5m, and certificates at 14 and 3 days", () => {
        expect(DEFAULT_ALERTING.probes).toEqual({
            failing: { for: "2m" },
            dnsFailing: { for: "2m" },
            latencyP95: { threshold: 1, for: "5m" },
            latencyWindow: "10m",
            certExpiryWarning: { threshold: 14, for: "10m" },
            certExpiryCritical: { threshold: 3, for: "10m" },
        });
    });

    it("reaches the rules: a stack's windows and thresholds change the probe alerts' expressions and for:", () => {
        const c = stackConfig("dev", { alerting: { probes: { failing: { for: "5m" }, latencyP95: { threshold: 2.5 }, latencyWindow: "15m", certExpiryWarning: { threshold: 21 } } } });
        const rules = Object.fromEntries(
            (yaml.load(stackRuleFiles(c)["probes-alerts.yml"]!) as { groups: { rules: { alert: string; expr: string; for: string }[] }[] }).groups[0]!.rules.map((r) => [r.alert, r]),
        );
        expect(rules.ProbeFailing!.for).toBe("5m");
        expect(rules.ProbeLatencyP95High!.expr).toContain("quantile_over_time(0.95, probe_duration_seconds[15m]) > 2.5");
        expect(rules.ProbeTlsCertificateExpiringSoon!.expr).toBe("((probe_ssl_earliest_cert_expiry - time()) / 86400 < 21) >= 3");
        expect(rules.ProbeTlsCertificateExpiryCritical!.expr).toBe("(probe_ssl_earliest_cert_expiry - time()) / 86400 < 3");
    });
});
