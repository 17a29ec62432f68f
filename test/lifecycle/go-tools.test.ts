/**
 * The Go-built tools (scripts/build-go-tools.js): each binary in .tools/bin reports the version
 * the builder pins (so the stamping works: an unstamped CLI or API server reports v0.0.0), the
 * Kubernetes provider plugin is the version the SDK in package.json asks for, a second run is a
 * cache hit, and a failed build names the module, the version and the command that retries it.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ROOT } from "../support/program";
import { CLUSTER_BINARIES, requireClusterBinaries } from "../support/cluster";

const builder = require(path.join(ROOT, "scripts", "build-go-tools.js"));
const BIN = path.join(ROOT, ".tools", "bin");

function version(bin: string, args: string[]): string {
    const r = spawnSync(path.join(BIN, bin), args, { encoding: "utf8", timeout: 30_000 });
    if (r.error) throw r.error;
    return `${r.stdout}${r.stderr}`.trim();
}

describe("Go-built tools", () => {
    beforeAll(() => requireClusterBinaries());

    it("report the versions the builder pins", () => {
        expect(version("pulumi", ["version"])).toBe(builder.PULUMI_VERSION);
        for (const b of ["kube-apiserver", "kube-controller-manager", "kube-scheduler"]) {
            expect([b, version(b, ["--version"])]).toEqual([b, `Kubernetes ${builder.KUBERNETES_VERSION}`]);
        }
        expect(version("kubectl", ["version", "--client"])).toContain(`Client Version: ${builder.KUBERNETES_VERSION}`);
        expect(version("etcd", ["--version"])).toContain(`etcd Version: ${builder.ETCD_VERSION.slice(1)}`);
        expect(version("kwok", ["--version"])).toContain(builder.KWOK_VERSION);
        // The language host has no version flag: the sdk module release it was built from.
        expect(builder.mainModuleVersion(path.join(BIN, "pulumi-language-nodejs"))).toEqual({ status: 0, out: `github.com/pulumi/pulumi/sdk/v3 ${builder.LANGUAGE_HOST_VERSION}` });
        // The plugin has no version flag: the schema it serves, read through the CLI.
        expect(builder.pluginSchemaVersion(path.join(BIN, "pulumi-resource-kubernetes"))).toEqual({ status: 0, out: `kubernetes ${builder.K8S_PROVIDER_VERSION}` });
    });

    it("builds the Kubernetes provider plugin at the version @pulumi/kubernetes asks for", () => {
        const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
        const installed = JSON.parse(fs.readFileSync(path.join(ROOT, "node_modules", "@pulumi", "kubernetes", "package.json"), "utf8"));
        expect(pkg.dependencies["@pulumi/kubernetes"]).toBe(builder.K8S_PROVIDER_VERSION);
        expect(installed.version).toBe(builder.K8S_PROVIDER_VERSION);
    });

    it("puts the language host beside the CLI's own executable, where the CLI looks for it", () => {
        const cliDir = path.dirname(fs.realpathSync(path.join(BIN, "pulumi")));
        expect(fs.realpathSync(path.join(cliDir, "pulumi-language-nodejs"))).toBe(fs.realpathSync(path.join(BIN, "pulumi-language-nodejs")));
    });

    it("links every cluster binary from the cache and finds a cached build on the second run", () => {
        for (const b of CLUSTER_BINARIES) {
            const target = fs.realpathSync(path.join(BIN, b));
            expect([b, target.startsWith(fs.realpathSync(builder.CACHE)) || !target.startsWith(ROOT)]).toEqual([b, true]);
        }
        const r = spawnSync(process.execPath, [path.join(ROOT, "scripts", "build-go-tools.js"), "etcd", "kwok"], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
        expect(r.status).toBe(0);
        expect(r.stderr).not.toMatch(/building/);
        expect(r.stdout).toMatch(/etcd\s+etcd Version: \S+\s+(cache|PATH)/);
        expect(r.stdout).toMatch(/kwok\s+kwok version \S+.*(cache|PATH)/);
    });

    it("names the module, the version and the retry command when a build fails", () => {
        const tool = {
            module: "example.invalid/no-such-module",
            version: "v0.0.1",
            programs: { "no-such-program": "example.invalid/no-such-module/cmd/x" },
            ldflags: [],
            tags: [],
            localReplaces: {},
            check: { args: ["--version"], expect: /x/ },
        };
        const cache = fs.mkdtempSync(path.join(os.tmpdir(), "obs-tools-cache-"));
        const saved = process.env.OBS_TOOLS_CACHE;
        let message = "";
        try {
            // A fresh copy of the module reads OBS_TOOLS_CACHE at load time.
            process.env.OBS_TOOLS_CACHE = cache;
            jest.isolateModules(() => {
                const isolated = require(path.join(ROOT, "scripts", "build-go-tools.js"));
                try {
                    isolated.build("no-such-tool", tool, false);
                } catch (e: any) {
                    message = e.message;
                }
            });
        } finally {
            if (saved === undefined) delete process.env.OBS_TOOLS_CACHE;
            else process.env.OBS_TOOLS_CACHE = saved;
        }
        expect(message).toContain("example.invalid/no-such-module");
        expect(message).toContain("v0.0.1");
        expect(message).toContain("retry with: node scripts/build-go-tools.js --force no-such-tool");
        expect(message).toContain(path.join(cache, "no-such-tool-v0.0.1", "build.log"));
        expect(fs.existsSync(path.join(BIN, "no-such-program"))).toBe(false);
    });

    it("fails with the build command when a binary is missing", () => {
        const empty = fs.mkdtempSync(path.join(os.tmpdir(), "obs-empty-bin-"));
        fs.symlinkSync(path.join(BIN, "etcd"), path.join(empty, "etcd"));
        expect(() => requireClusterBinaries(empty)).toThrow(/missing in .*: kube-apiserver, kube-controller-manager, .*pulumi-resource-kubernetes\.\nBuild them .* with:\n {4}node scripts\/build-go-tools\.js/);
        expect(() => requireClusterBinaries(empty)).not.toThrow(/missing in [^:]*: etcd/);
    });
});
