/**
 * The generated blackbox.yml, checked by the real blackbox_exporter (Debian forky's 0.28.0, the
 * image's release): `--config.check` accepts the dev and prod configs and a config using every
 * module with customised targets, and rejects a broken one. The modules are what the issue asks
 * for (GET without following redirects, TLS verified; a body match; TCP connect; DNS), and the
 * config validation's idea of an RE2 pattern agrees with the exporter's own.
 */
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { BASE_MODULES, blackboxConfig, HEALTHY_BODY, renderBlackboxConfig } from "../../components/blackbox/config";
import type { ProbeTargetConfig } from "../../config";
import { isRe2Pattern } from "../../config/resolve";
import { makeTempDir } from "../support/render";
import { run, toolPath } from "../support/tools";
import { stackConfig } from "./support/config";

let tmp: string;
beforeAll(() => {
    toolPath("blackbox_exporter");
    tmp = makeTempDir("blackbox-config");
});
afterAll(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

let checks = 0;
/** `blackbox_exporter --config.check` on `text`: its exit status and output. */
function check(text: string): { status: number | null; output: string } {
    const file = path.join(tmp, `blackbox-${++checks}.yml`);
    fs.writeFileSync(file, text);
    const r = run("blackbox_exporter", ["--config.check", `--config.file=${file}`]);
    return { status: r.status, output: r.stdout + r.stderr };
}

const target = (t: Partial<ProbeTargetConfig> & Pick<ProbeTargetConfig, "name" | "url" | "module">): ProbeTargetConfig => ({
    interval: "30s",
    team: "backend",
    severity: "critical",
    service: t.name,
    namespace: "shop",
    ...t,
});

const EVERY_KIND: ProbeTargetConfig[] = [
    target({ name: "checkout", url: "https://checkout.shop.svc:8443/health", module: "http_2xx" }),
    target({ name: "catalog", url: "http://catalog.shop.svc/health", module: "http_body", expectBody: '(?i)"status":\\s*"(ok|up)"' }),
    target({ name: "catalog-generic", url: "http://catalog.shop.svc/ready", module: "http_body" }),
    target({ name: "db", url: "tcp://db.shop.svc:5432", module: "tcp_connect" }),
    target({ name: "cluster-dns", url: "dns://kube-dns.kube-system.svc:53/kubernetes.default.svc.cluster.local", module: "dns" }),
];

describe("blackbox_exporter --config.check", () => {
    it.each(["dev", "prod"] as const)("accepts the blackbox.yml of the committed %s stack (the rendered file is checked in probe-jobs.test.ts)", (stack) => {
        const r = check(renderBlackboxConfig({ targets: stackConfig(stack).probes.targets }));
        expect({ status: r.status, output: r.output }).toEqual({ status: 0, output: expect.stringContaining("Config file is ok") });
    });

    it("accepts a config with targets of every module, including their own body pattern and DNS name", () => {
        const r = check(renderBlackboxConfig({ targets: EVERY_KIND }));
        expect({ status: r.status, output: r.output }).toEqual({ status: 0, output: expect.stringContaining("Config file is ok") });
    });

    it("rejects a config whose body pattern RE2 cannot compile, as the config validation does", () => {
        const r = check(renderBlackboxConfig({ targets: [target({ name: "x", url: "http://x.example.com/", module: "http_body", expectBody: "(?=ok)" })] }));
        expect(r.status).not.toBe(0);
        expect(r.output).toMatch(/Could not compile regular expression/);
        expect(isRe2Pattern("(?=ok)")).toBe(false);
    });

    // RE2 syntax JavaScript lacks, Perl syntax RE2 lacks, and plain patterns.
    const PATTERNS = [
        '"status":\\s*"ok"', "(?i)ok", "(?i:OK)", "(?s).*", "(?U)a+", "(?P<s>ok)", "(?<s>ok)", "\\A ok\\z", "[[:alpha:]]+", "\\Qa.b-c\\E", "\\p{L}+", "\\bok\\b",
        "a{2,}", "[^\\n]*", "(?=ok)", "(?!ok)", "(?<=a)b", "(a)\\1", "\\k<s>", "[", "\\Z", "x{1001}", "a++",
    ];
    it.each(PATTERNS)("agrees with the config validation on whether %s is an RE2 pattern", (pattern) => {
        const r = check(yaml.dump({ modules: { m: { prober: "http", http: { fail_if_body_not_matches_regexp: [pattern] } } } }));
        expect(isRe2Pattern(pattern)).toBe(r.status === 0);
    });
});

describe("the generated modules", () => {
    const modules = blackboxConfig({ targets: EVERY_KIND }).modules as Record<string, any>;

    it("are the four base modules plus one per target that customises its body pattern or DNS name", () => {
        expect(Object.keys(modules)).toEqual(["http_2xx", "http_body", "tcp_connect", "dns", "http_body_catalog", "dns_cluster-dns"]);
    });

    it("probe HTTP with GET, never follow redirects, verify TLS certificates and accept only 2xx", () => {
        for (const name of ["http_2xx", "http_body", "http_body_catalog"]) {
            expect(modules[name].prober).toBe("http");
            expect(modules[name].http).toMatchObject({ method: "GET", follow_redirects: false, tls_config: { insecure_skip_verify: false } });
            // No valid_status_codes: the exporter's default is any 2xx.
            expect(modules[name].http).not.toHaveProperty("valid_status_codes");
        }
        expect(modules.http_2xx.http).not.toHaveProperty("fail_if_body_not_matches_regexp");
    });

    it("match the body against the target's pattern, or a generic healthy status for the shared http_body module", () => {
        expect(modules.http_body_catalog.http.fail_if_body_not_matches_regexp).toEqual(['(?i)"status":\\s*"(ok|up)"']);
        expect(modules.http_body.http.fail_if_body_not_matches_regexp).toEqual([HEALTHY_BODY]);
        expect(new RegExp(HEALTHY_BODY.replace("(?i)", ""), "i").test('{"status": "OK", "checks": {}}')).toBe(true);
    });

    it("connect over TCP, and resolve an A record with NOERROR for DNS, the target's name or the API server's", () => {
        expect(modules.tcp_connect).toEqual({ prober: "tcp", timeout: "5s", tcp: { preferred_ip_protocol: "ip4" } });
        expect(modules.dns.dns).toMatchObject({ query_name: "kubernetes.default.svc.cluster.local", query_type: "A", valid_rcodes: ["NOERROR"], transport_protocol: "udp" });
        expect(modules["dns_cluster-dns"].dns.query_name).toBe("kubernetes.default.svc.cluster.local");
        expect(modules.dns.dns.validate_answer_rrs).toEqual({ fail_if_none_matches_regexp: ["\\sIN\\s+A\\s"] });
    });

    it("give every probe at most 5 s, and leave the base modules of the stack unchanged by targets", () => {
        for (const m of Object.values(modules)) expect(m.timeout).toBe("5s");
        expect(blackboxConfig({ targets: [] }).modules).toEqual(BASE_MODULES);
    });
});
