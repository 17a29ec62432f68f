/**
 * Secrets. Two angles:
 *
 * - The whole rendered tree (manifests.yaml, files/, summary.json of dev, prod and the
 *   Elasticsearch stack) holds no secret material: no private key, bearer token, webhook URL or
 *   other credential-shaped value; no credential-named setting with a literal value in a ConfigMap
 *   or an env literal; secret stack outputs appear only as `<redacted:NAME>`. (The render itself
 *   already fails on its own placeholders; this looks for anything credential-shaped.)
 * - Provenance, under Pulumi mocks where the values are known: every credential comes from a
 *   Pulumi secret config key or is generated (@pulumi/random, @pulumi/tls), reaches the cluster
 *   only inside Kubernetes Secrets, and leaves the program only as a secret output.
 */
import * as fs from "fs";
import * as path from "path";
import { configMapSecretFindings } from "../../policy/checks";
import type { K8sObject } from "../../scripts/lib/manifests";
import { toKubernetesObjects } from "../../scripts/lib/manifests";
import { readStackConfig, type StackConfigMap } from "../../scripts/lib/stack-files";
import { ROOT } from "../support/program";
import { listFiles, makeTempDir } from "../support/render";
import { allContainers, ES_OVERRIDES, MockedProgram, render, runStackUnderMocks, SecurityRender, STACK_KEYS, StackKey, workloadsOf } from "./support";

/** Credentials recognisable by their shape, wherever they appear. */
const SECRET_SHAPES: readonly { what: string; re: RegExp }[] = [
    { what: "a PEM private key", re: /-----BEGIN [A-Z ]*PRIVATE KEY-----/ },
    { what: "a base64-encoded PEM block", re: /LS0tLS1CRUdJTi/ },
    { what: "a bearer token", re: /\bBearer\s+(?![$<{])[A-Za-z0-9._~+/-]{16,}=*/ },
    { what: "a Slack webhook URL", re: /https:\/\/hooks\.slack\.com\/services\/[A-Za-z0-9]/ },
    { what: "a Microsoft Teams webhook URL", re: /https:\/\/[A-Za-z0-9.-]*webhook\.office\.com\/[A-Za-z0-9]/ },
    { what: "a PagerDuty routing key", re: /\b(routing_key|service_key)\s*[:=]\s*["']?[A-Za-z0-9]{32}\b/ },
    { what: "a Slack token", re: /\bxox[abprs]-[A-Za-z0-9-]{10,}/ },
    { what: "a GitHub token", re: /\b(gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})/ },
    { what: "an AWS access key", re: /\b(AKIA|ASIA)[0-9A-Z]{16}\b/ },
    { what: "a JSON Web Token", re: /\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/ },
    { what: "a password in a URL", re: /\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@"']+:(?![$<{])[^\s@/"']+@/i },
    { what: "a mock secret or generated value", re: /MOCK-(SECRET|RANDOM|PRIVATE KEY)/ },
];

/** Env var names that hold a credential: they must come from a Secret (valueFrom), never a literal. */
const CREDENTIAL_ENV = /(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL|WEBHOOK|ROUTING_?KEY|ENCRYPTION_?KEY)/i;
/** ...unless the name says the value is a path to a mounted file (`GF_..._PASSWORD__FILE`). */
const FILE_REFERENCE_ENV = /(__FILE|_FILE|_PATH)$/i;
/** Command-line flags that pass a credential. */
const CREDENTIAL_FLAG = /--[a-z0-9.-]*(password|passwd|token|secret|api-key)[a-z0-9.-]*=(?!\/)\S+/i;

/** Problems in one rendered tree. */
function scanTree(dir: string): string[] {
    const out: string[] = [];
    for (const rel of listFiles(dir)) {
        const lines = fs.readFileSync(path.join(dir, rel), "utf8").split("\n");
        lines.forEach((line, i) => {
            for (const { what, re } of SECRET_SHAPES) if (re.test(line)) out.push(`${rel}:${i + 1}: ${what}`);
        });
    }
    return out;
}

/** Credential-named settings with literal values in ConfigMaps, env literals and args. */
function literalCredentials(objects: readonly K8sObject[]): string[] {
    const out: string[] = [];
    for (const cm of objects.filter((o) => o.kind === "ConfigMap")) {
        for (const f of configMapSecretFindings(cm)) out.push(`ConfigMap ${cm.metadata.name}: ${f}`);
    }
    for (const w of workloadsOf(objects)) {
        for (const { name, container } of allContainers(w.template.spec)) {
            for (const e of container.env ?? []) {
                if (e.value !== undefined && CREDENTIAL_ENV.test(e.name) && !FILE_REFERENCE_ENV.test(e.name)) out.push(`${w.id} ${name}: env ${e.name} is a literal`);
            }
            for (const a of [...(container.args ?? []), ...(container.command ?? [])]) {
                if (CREDENTIAL_FLAG.test(String(a))) out.push(`${w.id} ${name}: argument ${String(a).split("=")[0]} passes a literal credential`);
            }
        }
    }
    return out;
}

const renders: Partial<Record<StackKey, SecurityRender>> = {};
beforeAll(() => {
    for (const key of STACK_KEYS) renders[key] = render(key);
});

describe.each(STACK_KEYS)("the rendered %s tree", (key) => {
    const r = () => renders[key]!;

    it("contains no private key, token, webhook URL, password in a URL or other credential-shaped value in any file", () => {
        expect(listFiles(r().dir).length).toBeGreaterThan(10);
        expect(scanTree(r().dir)).toEqual([]);
    });

    it("has no credential-named setting with a literal value in a ConfigMap, an env literal or an argument", () => {
        expect(literalCredentials(r().objects)).toEqual([]);
    });

    it("passes every credential env var of every container from a Secret", () => {
        const refs = workloadsOf(r().objects).flatMap((w) =>
            allContainers(w.template.spec).flatMap(({ container }) => (container.env ?? []).filter((e: any) => CREDENTIAL_ENV.test(e.name) && !FILE_REFERENCE_ENV.test(e.name))),
        );
        for (const e of refs) expect({ env: e.name, from: Object.keys(e.valueFrom ?? {}) }).toEqual({ env: e.name, from: ["secretKeyRef"] });
    });

    it("shows the secret stack outputs only as <redacted:NAME> in summary.json", () => {
        const outputs = r().summary.outputs;
        expect(outputs.grafanaAdminPassword).toBe("<redacted:grafanaAdminPassword>");
        const credentialNamed = Object.entries(outputs).filter(([k]) => /(password|secret|token|key)$/i.test(k));
        expect(credentialNamed.length).toBeGreaterThan(0);
        for (const [k, v] of credentialNamed) expect({ output: k, value: v }).toEqual({ output: k, value: `<redacted:${k}>` });
    });

    it("carries credentials to pods only as Secret volumes and secretKeyRefs, and every Secret value is redacted", () => {
        const secrets = r().objects.filter((o) => o.kind === "Secret");
        expect(secrets.length).toBeGreaterThan(0);
        for (const s of secrets) {
            for (const [k, v] of Object.entries({ ...(s.data ?? {}), ...(s.stringData ?? {}) })) expect(v).toBe(`<redacted:${s.metadata.name}/${k}>`);
        }
    });
});

describe("the tree scan itself", () => {
    let dir: string;
    beforeAll(() => {
        dir = makeTempDir("secret-scan");
        fs.mkdirSync(path.join(dir, "files"), { recursive: true });
    });
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    it.each([
        ["a PEM private key", "tls.key: |\n  -----BEGIN RSA PRIVATE KEY-----\n"],
        ["a base64-encoded PEM block", `tls.key: ${Buffer.from("-----BEGIN PRIVATE KEY-----").toString("base64")}\n`],
        ["a bearer token", "authorization: Bearer abcdefghijklmnopqrstuvwxyz012345\n"],
        ["a Slack webhook URL", "api_url: https://hooks.slack.com/services/T000/B000/XXXX\n"],
        ["a password in a URL", "url: https://collector:hunter2hunter2@es.example.com:9200\n"],
    ])("finds %s planted in a generated file", (what, text) => {
        fs.writeFileSync(path.join(dir, "files", "planted.yml"), text);
        expect(scanTree(dir)).toContain(`files/planted.yml:${text.split("\n").findIndex((l) => SECRET_SHAPES.find((s) => s.what === what)!.re.test(l)) + 1}: ${what}`);
    });

    it("finds a password literal in an env var and in a ConfigMap setting", () => {
        const objects: K8sObject[] = [
            { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" }, data: { "app.ini": "[database]\npassword = hunter2\n" } },
            {
                apiVersion: "apps/v1",
                kind: "Deployment",
                metadata: { name: "d", namespace: "monitoring" },
                spec: { template: { metadata: { labels: {} }, spec: { containers: [{ name: "x", env: [{ name: "DB_PASSWORD", value: "hunter2" }] }] } } },
            },
        ];
        const found = literalCredentials(objects);
        expect(found).toEqual(expect.arrayContaining([expect.stringMatching(/^ConfigMap c: .*password/), "monitoring/d x: env DB_PASSWORD is a literal"]));
    });
});

// ---------------------------------------------------------------------------------------------
// Provenance under mocks
// ---------------------------------------------------------------------------------------------

/** Secret keys whose values are not credentials, each with the reason. */
const NOT_CREDENTIALS: Record<string, string> = {
    "grafana/admin-user": "the admin login name (admin); its password is the credential",
    "elasticsearch-transport-tls/ca.crt": "a certificate is public; the key beside it is the secret",
    "elasticsearch-transport-tls/tls.crt": "a certificate is public; the key beside it is the secret",
};

const decoded = (s: K8sObject): Record<string, string> => ({
    ...Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(String(v), "base64").toString("utf8")])),
    ...(s.stringData ?? {}),
});

describe.each(STACK_KEYS)("credentials of the %s stack under mocks", (key) => {
    let cfg: StackConfigMap;
    let run: MockedProgram;
    let objects: K8sObject[];
    let known: string[];

    beforeAll(async () => {
        cfg = readStackConfig(ROOT, key === "dev" ? "dev" : "prod");
        run = await runStackUnderMocks(cfg, key === "es" ? ES_OVERRIDES : {});
        expect(run.error).toBeUndefined();
        objects = toKubernetesObjects(run.resources);
        // Every value that is a credential: the secret config keys' values (placeholders here)
        // and what @pulumi/random and @pulumi/tls generated.
        known = [...cfg.secretPlaceholders, ...run.generatedSecrets];
    });

    it("declares every credential config key as a Pulumi secret, and the stack needs some", () => {
        expect(cfg.secretPlaceholders.length).toBeGreaterThan(0);
        for (const k of cfg.missingSecrets) expect(cfg.secretKeys).toContain(k);
    });

    it("fills every Secret value from a secret config key, @pulumi/random or @pulumi/tls", () => {
        const unexplained: string[] = [];
        for (const s of objects.filter((o) => o.kind === "Secret")) {
            for (const [k, v] of Object.entries(decoded(s))) {
                const id = `${s.metadata.name}/${k}`;
                if (NOT_CREDENTIALS[id] !== undefined) continue;
                if (!known.some((secret) => v.includes(secret.trim()))) unexplained.push(id);
            }
        }
        expect(unexplained).toEqual([]);
    });

    it("puts every credential the cluster needs into a Kubernetes Secret, and keeps the transport CA key out of the cluster", () => {
        const secretText = objects.filter((o) => o.kind === "Secret").map((s) => Object.values(decoded(s)).join("\n")).join("\n");
        const outside = known.filter((secret) => !secretText.includes(secret.trim()));
        // A credential outside every Secret may only be one that signs certificates in Pulumi
        // (the Elasticsearch transport CA's key): it stays in the encrypted Pulumi state.
        const signingOnly = (secret: string) =>
            run.resources.some((r) => r.type === "tls:index/locallySignedCert:LocallySignedCert" && JSON.stringify(r.inputs).includes(JSON.stringify(secret).slice(1, -1).trim()));
        expect(outside.filter((secret) => !signingOnly(secret)).map((s) => s.slice(0, 24))).toEqual([]);
        expect(outside.length).toBe(key === "es" ? 1 : 0);
    });

    it("puts no credential into any other object, plain or base64-encoded", () => {
        const leaks: string[] = [];
        for (const o of objects.filter((x) => x.kind !== "Secret")) {
            const text = JSON.stringify(o);
            for (const secret of known) {
                if (text.includes(secret.trim()) || text.includes(Buffer.from(secret).toString("base64"))) leaks.push(`${o.kind} ${o.metadata.name}`);
            }
        }
        expect(leaks).toEqual([]);
    });

    it("exports a credential only as a secret output", () => {
        const plain = Object.entries(run.outputs)
            .filter(([, o]) => !o.secret && known.some((secret) => JSON.stringify(o.value ?? "").includes(secret.trim())))
            .map(([k]) => k);
        expect(plain).toEqual([]);
        expect(run.outputs.grafanaAdminPassword).toMatchObject({ secret: true });
    });

    it("generates the passwords and keys it owns with @pulumi/random and @pulumi/tls, never as literals", () => {
        const generators = run.resources.filter((r) => r.type.startsWith("random:") || r.type.startsWith("tls:")).map((r) => r.type);
        expect(generators).toEqual(expect.arrayContaining(["random:index/randomPassword:RandomPassword"]));
        if (key === "es") expect(generators).toEqual(expect.arrayContaining(["tls:index/privateKey:PrivateKey"]));
    });
});
