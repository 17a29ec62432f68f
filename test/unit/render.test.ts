/**
 * The offline render as a black box: `node scripts/render.js` in a child process, exactly as
 * `npm run render` runs it, plus the pure helpers behind its schema and secret checks. Renders
 * take a few seconds each, so they run once in beforeAll and the assertions share them.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import { describe as describeObject, K8sObject, redactSecrets, Summary, validateObjects } from "../../scripts/lib/manifests";
import { readStackConfig } from "../../scripts/lib/stack-files";
import { clearOutputDir, parseArgs, RenderError, scanForSecrets } from "../../scripts/render-main";
import { ROOT } from "../support/program";
import { listFiles, makeTempDir, readManifests, RenderRun, runRender } from "../support/render";

const STACK_FRAME = /^\s+at .+\(?.*:\d+:\d+\)?$/m;
const USAGE = "usage: npm run render -- --stack <name> [--out DIR] [--stack-dir DIR]";

type RenderedSummary = Summary & { outputs: Record<string, unknown> };
const readSummary = (dir: string): RenderedSummary => JSON.parse(fs.readFileSync(path.join(dir, "summary.json"), "utf8"));

let tmp: string;
const renders: Record<"dev" | "devAgain" | "prod", { dir: string; run: RenderRun }> = {} as any;

beforeAll(() => {
    tmp = makeTempDir("render-test");
    for (const [key, stack] of [["dev", "dev"], ["devAgain", "dev"], ["prod", "prod"]] as const) {
        const dir = path.join(tmp, key);
        renders[key] = { dir, run: runRender(["--stack", stack, "--out", dir]) };
    }
});

afterAll(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe.each(["dev", "prod"] as const)("rendering the %s stack", (stack) => {
    const out = () => renders[stack].dir;

    it("exits 0 and writes manifests.yaml, files/ and summary.json", () => {
        const { run } = renders[stack];
        expect({ status: run.status, stderr: run.stderr.match(/render failed.*/)?.[0] }).toEqual({ status: 0, stderr: undefined });
        expect(fs.statSync(path.join(out(), "manifests.yaml")).isFile()).toBe(true);
        expect(fs.statSync(path.join(out(), "files")).isDirectory()).toBe(true);
        expect(fs.statSync(path.join(out(), "summary.json")).isFile()).toBe(true);
    });

    it("renders objects that all validate against the Kubernetes schema of their kind", () => {
        const docs = readManifests(out());
        expect(docs.length).toBeGreaterThanOrEqual(4);
        for (const d of docs) {
            expect(d).toEqual(expect.objectContaining({ apiVersion: expect.any(String), kind: expect.any(String) }));
        }
        expect(validateObjects(docs)).toEqual([]);
        const validated = docs.filter((d) => validateObjects([d]).length === 0);
        expect(validated.length).toBe(docs.length);
    });

    it("gives every object an explicit name and no two objects the same kind, namespace and name", () => {
        const docs = readManifests(out());
        const unnamed = docs.filter((o) => typeof o.metadata?.name !== "string" || !/^[a-z0-9]([-.a-z0-9]*[a-z0-9])?$/.test(o.metadata.name));
        expect(unnamed).toEqual([]);
        const keys = docs.map((o) => `${o.apiVersion} ${describeObject(o)}`);
        expect(keys.filter((k, i) => keys.indexOf(k) !== i)).toEqual([]);
    });

    it("puts Namespaces first so the manifests apply in dependency order", () => {
        const kinds = readManifests(out()).map((o) => o.kind);
        const lastNamespace = kinds.lastIndexOf("Namespace");
        expect(kinds.slice(0, lastNamespace + 1).every((k) => k === "Namespace")).toBe(true);
        expect(kinds.filter((k) => k === "Namespace")).toHaveLength(2);
    });

    it("writes a summary whose byKind counts and object total match manifests.yaml", () => {
        const docs = readManifests(out());
        const counted: Record<string, number> = {};
        for (const d of docs) counted[d.kind] = (counted[d.kind] ?? 0) + 1;
        const summary = readSummary(out());
        expect(summary.stack).toBe(stack);
        expect(summary.byKind).toEqual(counted);
        expect(summary.objects).toBe(docs.length);
    });

    it("lists in the summary exactly the files written under files/", () => {
        expect([...readSummary(out()).files].sort()).toEqual(listFiles(path.join(out(), "files")));
    });

    it("records the program's exports in the summary", () => {
        expect(readSummary(out()).outputs).toMatchObject({ environment: stack, monitoringNamespace: "monitoring", agentsNamespace: "monitoring-agents" });
    });

    it("lets no secret placeholder or generated secret reach any file of the output", () => {
        const files = listFiles(out());
        expect(files).toEqual(expect.arrayContaining(["manifests.yaml", "summary.json"]));
        for (const f of files) {
            const text = fs.readFileSync(path.join(out(), f), "utf8");
            expect({ file: f, secret: /MOCK-SECRET-|MOCK-RANDOM-/.test(text) }).toEqual({ file: f, secret: false });
        }
        // The stack's receivers need secrets it does not set, so the render really had placeholders to leak.
        const { secretPlaceholders } = readStackConfig(ROOT, stack);
        expect(secretPlaceholders.length).toBeGreaterThan(0);
        expect(scanForSecrets(out(), secretPlaceholders)).toEqual([]);
    });

    it("replaces every value of every Secret by <redacted:NAME/KEY>", () => {
        // Both stacks configure receivers with credentials, so at least one Secret carries values.
        const secrets = readManifests(out()).filter((o) => o.kind === "Secret");
        let values = 0;
        for (const s of secrets) {
            for (const field of ["data", "stringData"]) {
                for (const [key, value] of Object.entries(s[field] ?? {})) {
                    values++;
                    expect(value).toBe(`<redacted:${s.metadata.name}/${key}>`);
                }
            }
        }
        expect(values).toBeGreaterThan(0);
    });

    it("warns about each secret the stack file does not set, with the command that sets it", () => {
        const { missingSecrets } = readStackConfig(ROOT, stack);
        for (const full of missingSecrets) {
            const key = full.split(":")[1]!;
            expect(renders[stack].run.stderr).toContain(`pulumi config set --secret ${key} <value> --stack ${stack}`);
        }
    });

    it("prints a summary table of counts by kind", () => {
        const { stdout } = renders[stack].run;
        expect(stdout).toContain(`rendered stack "${stack}"`);
        expect(stdout).toMatch(/^\s+kind\s+count$/m);
        expect(stdout).toMatch(/^\s+Namespace\s+2$/m);
        expect(stdout).toMatch(/^\s+NetworkPolicy\s+\d+$/m);
    });
});

describe("render determinism", () => {
    it("writes byte-identical output when the same stack is rendered twice into different directories", () => {
        const a = renders.dev.dir;
        const b = renders.devAgain.dir;
        expect(renders.devAgain.run.status).toBe(0);
        const files = listFiles(a);
        expect(listFiles(b)).toEqual(files);
        for (const f of files) {
            const same = fs.readFileSync(path.join(a, f)).equals(fs.readFileSync(path.join(b, f)));
            expect({ file: f, same }).toEqual({ file: f, same: true });
        }
    });

    it("renders dev and prod differently (the stack config reaches the output)", () => {
        const dev = fs.readFileSync(path.join(renders.dev.dir, "manifests.yaml"), "utf8");
        const prod = fs.readFileSync(path.join(renders.prod.dir, "manifests.yaml"), "utf8");
        expect(dev).toContain("observability.pulumi.com/environment: dev");
        expect(prod).toContain("observability.pulumi.com/environment: prod");
    });
});

describe("schema validation of rendered objects", () => {
    const deployment = (patch: (d: any) => void): K8sObject => {
        const d: any = {
            apiVersion: "apps/v1",
            kind: "Deployment",
            metadata: { name: "broken", namespace: "monitoring" },
            spec: {
                replicas: 2,
                selector: { matchLabels: { app: "x" } },
                template: { metadata: { labels: { app: "x" } }, spec: { containers: [{ name: "x", image: "example.com/x:1.0.0" }] } },
            },
        };
        patch(d);
        return d;
    };

    it("accepts a well-formed Deployment", () => {
        expect(validateObjects([deployment(() => undefined)])).toEqual([]);
    });

    it("names the object and the field path when replicas is not a number", () => {
        const problems = validateObjects([deployment((d) => (d.spec.replicas = "two"))]);
        expect(problems).toHaveLength(1);
        expect(problems[0]).toContain("Deployment monitoring/broken");
        expect(problems[0]).toContain("/spec/replicas");
    });

    it("names the object and the field path when a container image is a number", () => {
        const problems = validateObjects([deployment((d) => (d.spec.template.spec.containers[0].image = 42))]);
        expect(problems).toHaveLength(1);
        expect(problems[0]).toContain("Deployment monitoring/broken");
        expect(problems[0]).toContain("/spec/template/spec/containers/0/image");
    });

    it("refuses ConfigMap and Secret keys the API server refuses (the schema does not say)", () => {
        const cm: K8sObject = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "files", namespace: "monitoring" }, data: { "ok-1.json": "{}", "logs@custom.json": "{}" } } as any;
        const secret: K8sObject = { apiVersion: "v1", kind: "Secret", metadata: { name: "s", namespace: "monitoring" }, stringData: { "a/b": "x", good_key: "y" } } as any;
        expect(validateObjects([cm, secret])).toEqual([
            'ConfigMap monitoring/files: /data/logs@custom.json is not a valid key (keys are at most 253 characters of [-._a-zA-Z0-9], not "." or "..")',
            'Secret monitoring/s: /stringData/a/b is not a valid key (keys are at most 253 characters of [-._a-zA-Z0-9], not "." or "..")',
        ]);
    });

    it("reports one problem per broken object and none for the valid ones beside them", () => {
        const ok = deployment(() => undefined);
        const bad = deployment((d) => {
            d.metadata.name = "bad";
            d.spec.replicas = "two";
        });
        const problems = validateObjects([ok, bad, ok]);
        expect(problems).toHaveLength(1);
        expect(problems[0]).toMatch(/^Deployment monitoring\/bad: /);
    });

    it("reports a kind it has no schema for instead of silently passing it", () => {
        const problems = validateObjects([{ apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w" } }]);
        expect(problems).toEqual(["Widget w: no schema for example.com/v1 Widget"]);
    });
});

describe("secret handling", () => {
    let dir: string;
    beforeEach(() => {
        dir = makeTempDir("scan-secrets");
        fs.mkdirSync(path.join(dir, "files", "alertmanager"), { recursive: true });
        fs.writeFileSync(path.join(dir, "manifests.yaml"), "kind: ConfigMap\n");
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    const SECRET = "https://hooks.slack.com/services/T000/B000/planted-secret";

    it("scanForSecrets finds nothing in output that holds no secret", () => {
        fs.writeFileSync(path.join(dir, "files", "alertmanager", "alertmanager.yml"), "route: {}\n");
        expect(scanForSecrets(dir, [SECRET])).toEqual([]);
    });

    it("scanForSecrets finds a secret planted in plain text in a nested file", () => {
        fs.writeFileSync(path.join(dir, "files", "alertmanager", "alertmanager.yml"), `api_url: ${SECRET}\n`);
        const found = scanForSecrets(dir, [SECRET]);
        expect(found).toHaveLength(1);
        expect(found[0]).toContain(path.join("files", "alertmanager", "alertmanager.yml"));
        expect(found[0]).not.toContain(SECRET);
    });

    it("scanForSecrets finds a secret planted base64-encoded, as a Secret's data would carry it", () => {
        fs.writeFileSync(path.join(dir, "manifests.yaml"), `kind: Secret\ndata:\n  url: ${Buffer.from(SECRET).toString("base64")}\n`);
        expect(scanForSecrets(dir, [SECRET])).toEqual([expect.stringContaining("manifests.yaml contains a secret value")]);
    });

    it("redactSecrets replaces every data and stringData value and leaves other kinds untouched", () => {
        const secret: K8sObject = {
            apiVersion: "v1",
            kind: "Secret",
            metadata: { name: "alertmanager-receivers", namespace: "monitoring" },
            data: { b: Buffer.from("x").toString("base64"), a: "eA==" },
            stringData: { url: SECRET },
        };
        const cm: K8sObject = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" }, data: { k: SECRET } };
        const [r, c] = redactSecrets([secret, cm]);
        expect(r!.data).toEqual({ a: "<redacted:alertmanager-receivers/a>", b: "<redacted:alertmanager-receivers/b>" });
        expect(r!.stringData).toEqual({ url: "<redacted:alertmanager-receivers/url>" });
        expect(JSON.stringify(r)).not.toContain(SECRET);
        expect(secret.stringData.url).toBe(SECRET);
        expect(c).toBe(cm);
    });
});

describe("render arguments", () => {
    it("parseArgs accepts --stack and --out in both spaced and = forms", () => {
        expect(parseArgs(["--stack", "dev"])).toEqual({ stack: "dev" });
        expect(parseArgs(["--stack=prod", "--out=/tmp/x"])).toEqual({ stack: "prod", out: "/tmp/x" });
        expect(parseArgs(["--out", "o", "--stack", "dev"])).toEqual({ stack: "dev", out: "o" });
        expect(parseArgs(["--stack", "dev", "--stack-dir", "/p"])).toEqual({ stack: "dev", stackDir: "/p" });
        expect(parseArgs(["--stack", "dev", "--stack-dir=/p"])).toEqual({ stack: "dev", stackDir: "/p" });
    });

    it("reads Pulumi.<stack>.yaml from --stack-dir when given", () => {
        const dir = fs.mkdtempSync(path.join(tmp, "stackdir-"));
        const doc = yaml.load(fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8")) as { config: Record<string, unknown> };
        doc.config["observability:clusterName"] = "elsewhere";
        fs.writeFileSync(path.join(dir, "Pulumi.dev.yaml"), yaml.dump(doc));
        const out = path.join(tmp, "stackdir-out");
        const run = runRender(["--stack", "dev", "--stack-dir", dir, "--out", out]);
        expect(run.status).toBe(0);
        expect(JSON.parse(fs.readFileSync(path.join(out, "summary.json"), "utf8")).outputs.clusterName).toBe("elsewhere");
        const missing = runRender(["--stack", "prod", "--stack-dir", dir, "--out", path.join(tmp, "stackdir-none")]);
        expect(missing.status).toBe(1);
        expect(missing.stderr).toContain("no stack file Pulumi.prod.yaml: expected one of the stacks dev");
    });

    it("parseArgs rejects a missing --stack with the usage text", () => {
        expect(() => parseArgs([])).toThrow(RenderError);
        expect(() => parseArgs(["--out", "o"])).toThrow(`missing --stack: ${USAGE}`);
        expect(() => parseArgs(["--stack"])).toThrow(`missing --stack: ${USAGE}`);
    });

    it("parseArgs rejects an unknown argument, naming it", () => {
        expect(() => parseArgs(["--stack", "dev", "--verbose"])).toThrow(`unknown argument "--verbose": ${USAGE}`);
    });

    it("parseArgs rejects a stack name that could escape the project directory", () => {
        expect(() => parseArgs(["--stack", "../etc"])).toThrow('--stack "../etc": expected a stack name such as dev or prod');
    });

    it("the CLI fails without --stack, printing the usage text and no stack trace", () => {
        const run = runRender([]);
        expect(run.status).toBe(1);
        expect(run.stderr).toContain(`render failed: missing --stack: ${USAGE}`);
        expect(run.stderr).not.toMatch(STACK_FRAME);
    });

    it("the CLI fails for an unknown stack, listing the known stacks, and writes nothing", () => {
        const out = path.join(tmp, "nope");
        const run = runRender(["--stack", "nope", "--out", out]);
        expect(run.status).toBe(1);
        expect(run.stderr).toContain("no stack file Pulumi.nope.yaml: expected one of the stacks");
        const known = /expected one of the stacks (.*)$/m.exec(run.stderr)![1]!.split(", ");
        expect(known).toEqual(expect.arrayContaining(["dev", "prod"]));
        expect(run.stderr).not.toMatch(STACK_FRAME);
        expect(fs.existsSync(out)).toBe(false);
    });
});

describe("rendering a stack with invalid config", () => {
    const stackFile = path.join(ROOT, "Pulumi.brokentest.yaml");
    let run: RenderRun;
    let out: string;

    beforeAll(() => {
        out = path.join(tmp, "brokentest");
        fs.writeFileSync(stackFile, 'config:\n  observability:environment: dev\n  observability:prometheus:\n    retention: "10x"\n');
        try {
            run = runRender(["--stack", "brokentest", "--out", out]);
        } finally {
            fs.rmSync(stackFile, { force: true });
        }
    });

    afterAll(() => fs.rmSync(stackFile, { force: true }));

    it("fails with the config message naming the key, the value and what is expected", () => {
        expect(run.status).toBe(1);
        expect(run.stderr).toContain('invalid configuration for stack "brokentest" (1 problem)');
        expect(run.stderr).toContain('observability:prometheus.retention = "10x": expected a duration such as 15d or 12h');
    });

    it("prints no stack trace", () => {
        expect(run.stderr).not.toMatch(STACK_FRAME);
        expect(run.stderr).not.toContain("    at ");
    });

    it("writes nothing", () => {
        expect(fs.existsSync(out)).toBe(false);
        expect(run.stdout).not.toContain("rendered stack");
    });
});

describe("the render output directory", () => {
    it("refuses to overwrite a non-empty directory that holds no previous render", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "render-guard-"));
        fs.writeFileSync(path.join(dir, "precious.txt"), "keep me");
        try {
            expect(() => clearOutputDir(dir)).toThrow(/refusing to overwrite .*not empty and holds no previous render/);
            expect(fs.readFileSync(path.join(dir, "precious.txt"), "utf8")).toBe("keep me");
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("clears a previous render so a failed render leaves no stale manifests behind", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "render-guard-"));
        fs.writeFileSync(path.join(dir, "summary.json"), "{}");
        fs.writeFileSync(path.join(dir, "manifests.yaml"), "---\n");
        clearOutputDir(dir);
        expect(fs.existsSync(dir)).toBe(false);
    });
});
