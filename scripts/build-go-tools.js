#!/usr/bin/env node
/**
 * Builds the Go programs the tests run (the Pulumi CLI and Kubernetes provider, a Kubernetes
 * control plane with etcd and kwok, the OpenTelemetry Collector and Jaeger) from the Go module
 * proxy the machine is configured with, caches each build outside the clone keyed by name and
 * version, and links the binaries into `.tools/bin/`.
 *
 * Usage: node scripts/build-go-tools.js [--list] [--force] [TOOL...]   (default: every tool)
 *   --list   print the tools, modules and versions, build nothing
 *   --force  rebuild even when the cache holds a build of the same recipe
 *
 * Cache:  $OBS_TOOLS_CACHE, else ${XDG_CACHE_HOME:-$HOME/.cache}/observability-stack/
 *         <name>-<version>/bin/*  the binaries
 *         <name>-<version>/recipe  what they were built from (a changed recipe rebuilds)
 *         <name>-<version>/build.log
 *
 * How a program is built: `go install module/pkg@version` refuses modules whose go.mod has
 * replace directives, and most of these have them. So each program gets a throwaway wrapper
 * module that requires it at the version, repeats its non-local replaces and maps each local one
 * (`=> ../sdk`, `=> ./staging/src/k8s.io/api`) to the published module of the same release;
 * one wrapper per program, since their dependency graphs pin different versions of the same
 * libraries. Versions are stamped with -ldflags -X where the program reads them.
 *
 * A binary already on PATH with the right version is linked instead of built.
 */
"use strict";

const { spawnSync } = require("child_process");
const crypto = require("crypto");
const fs = require("fs");
const os = require("os");
const path = require("path");

const ROOT = path.resolve(__dirname, "..");
const BIN_DIR = path.join(ROOT, ".tools", "bin");
const CACHE =
    process.env.OBS_TOOLS_CACHE ||
    path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "observability-stack");

// --- the tools -------------------------------------------------------------------------------
// Each: module and version; the programs to build (binary name -> package); ldflags; build tags;
// localReplaces: module -> version for the module's `=> ./local` replaces (published module of
// the same release; "*vX" maps every one to vX); vendorSource: build from a writable copy of the
// module (for generated files); prepare(): runs in the work dir before `go get`; extraFiles:
// files of a module copied beside the binaries; check: the argv that prints the version (or
// run(bin)) and a regexp the output must match.

const PULUMI_VERSION = "v3.276.0";
// The Node.js language host: the proxy refuses every version of its own module
// (github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3); v3.68.0 is the last
// release that shipped it inside github.com/pulumi/pulumi/sdk/v3, which the proxy serves. It
// speaks the same LanguageRuntime protocol (newer methods answer Unimplemented, which the CLI
// accepts) and runs the program through the project's own @pulumi/pulumi. Its RunPlugin, which
// policy packs need, was a stub then: scripts/go-patches/ adds the one later hosts have.
const LANGUAGE_HOST_VERSION = "v3.68.0";
const RUN_PLUGIN_PATCH = path.join(__dirname, "go-patches", "pulumi-language-nodejs-run-plugin.go");
// pulumi-kubernetes publishes no tagged provider module on the proxy; this pseudo-version is the
// commit of its v4.25.0 release (see README, "`pulumi up` for real: the local control plane").
const K8S_PROVIDER_MODULE_VERSION = "v4.0.0-20260115033456-f47bc2d6f199";
const K8S_PROVIDER_VERSION = "4.25.0";
const KUBERNETES_VERSION = "v1.37.2";
const ETCD_VERSION = "v3.6.16";
const KWOK_VERSION = "v0.8.0";
// One OpenTelemetry Collector release for every component of our distribution: v0.148.0, the
// newest at which the proxy serves every module our components need. Newer ones each miss one:
// at v0.161.0 the zips of pkg/stanza (filelog), the elasticsearch exporter and an AWS SDK module
// of the loadbalancing exporter are refused ("not available"), and from v0.160.0 the
// resourcedetection processor imports detector modules the proxy does not serve; from v0.162.0
// on, modules the OTTL processors need are not served. Core modules go with it (v0.148.0 and
// stable v1.54.0).
const OTELCOL_VERSION = "v0.148.0";
// Jaeger v2.12.0: the Go module of the Jaeger repository kept its v1 tags; v1.75.0 is v2.12.0's commit.
const JAEGER_MODULE_VERSION = "v1.75.0";
const JAEGER_VERSION = "v2.12.0";
// Prometheus 3.xx.y is the Go module's v0.3xx.y (its VERSION file says 3.16.0 at v0.316.0).
// components/kube/images.ts pins the image of the same release (test/unit/prometheus-version).
const PROMETHEUS_MODULE_VERSION = "v0.316.0";
const PROMETHEUS_VERSION = "3.16.0";
// Alertmanager (with amtool) and node_exporter: components/kube/images.ts pins the images of the
// same releases (test/unit/image-versions.test.ts compares them with the binaries' --version).
const ALERTMANAGER_VERSION = "v0.35.0";
const NODE_EXPORTER_VERSION = "v1.12.1";

const k8sStaging = `v0.${KUBERNETES_VERSION.slice(3)}`; // v1.37.2 -> v0.37.2
const [, k8sMajor, k8sMinor] = /^v(\d+)\.(\d+)\./.exec(KUBERNETES_VERSION);
const kubeVersionFlags = ["k8s.io/component-base/version", "k8s.io/client-go/pkg/version"].flatMap((pkg) => [
    `-X ${pkg}.gitVersion=${KUBERNETES_VERSION}`,
    `-X ${pkg}.gitMajor=${k8sMajor}`,
    `-X ${pkg}.gitMinor=${k8sMinor}`,
    `-X ${pkg}.gitTreeState=clean`,
    `-X ${pkg}.buildDate=1970-01-01T00:00:00Z`,
]);

const TOOLS = {
    "pulumi-language-nodejs": {
        module: "github.com/pulumi/pulumi/sdk/v3",
        version: LANGUAGE_HOST_VERSION,
        programs: { "pulumi-language-nodejs": "github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs" },
        ldflags: [`-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=${LANGUAGE_HOST_VERSION}`],
        tags: [],
        localReplaces: {},
        vendorSource: true,
        inputs: [RUN_PLUGIN_PATCH],
        prepare: prepareLanguageHost,
        // A plugin without a version flag: the module version in the binary's build information.
        check: { run: mainModuleVersion, expect: new RegExp(`^github\\.com/pulumi/pulumi/sdk/v3 ${esc(LANGUAGE_HOST_VERSION)}$`) },
    },
    pulumi: {
        module: "github.com/pulumi/pulumi/pkg/v3",
        version: PULUMI_VERSION,
        programs: { pulumi: "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi" },
        // Unstamped, the CLI reports v0.0.0 and the Automation API's version check fails.
        ldflags: [`-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=${PULUMI_VERSION}`],
        tags: ["osusergo", "grpcnotrace"],
        localReplaces: { "github.com/pulumi/pulumi/sdk/v3": PULUMI_VERSION },
        // The CLI looks for its language hosts beside its own (resolved) executable.
        companions: ["pulumi-language-nodejs"],
        check: { args: ["version"], expect: new RegExp(`^${esc(PULUMI_VERSION)}\\b`) },
    },
    "pulumi-resource-kubernetes": {
        module: "github.com/pulumi/pulumi-kubernetes/provider/v4",
        version: K8S_PROVIDER_MODULE_VERSION,
        label: `v${K8S_PROVIDER_VERSION}`,
        programs: {
            "pulumi-resource-kubernetes": "github.com/pulumi/pulumi-kubernetes/provider/v4/cmd/pulumi-resource-kubernetes",
        },
        ldflags: [`-X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=${K8S_PROVIDER_VERSION}`],
        tags: [],
        localReplaces: { "github.com/pulumi/pulumi-kubernetes/sdk/v4": "v4.24.0" },
        // main.go embeds schema-embed.json and terraform-mapping-embed.json, which the module
        // zip lacks: the module is copied and they are generated as its generate.go does.
        vendorSource: true,
        prepare: prepareKubernetesProvider,
        // The plugin has no version flag: ask the CLI for the schema it serves (name and version).
        check: { run: pluginSchemaVersion, expect: new RegExp(`^kubernetes ${esc(K8S_PROVIDER_VERSION)}$`) },
    },
    kubernetes: {
        module: "k8s.io/kubernetes",
        version: KUBERNETES_VERSION,
        programs: {
            "kube-apiserver": "k8s.io/kubernetes/cmd/kube-apiserver",
            "kube-controller-manager": "k8s.io/kubernetes/cmd/kube-controller-manager",
            "kube-scheduler": "k8s.io/kubernetes/cmd/kube-scheduler",
            // For scripts/cluster.sh, the tests and contributors; same release as the server.
            kubectl: "k8s.io/kubernetes/cmd/kubectl",
        },
        // Unstamped, the API server reports v0.0.0-master and the Kubernetes provider takes the
        // cluster for a very old one.
        ldflags: kubeVersionFlags,
        tags: [],
        localReplaces: "*" + k8sStaging, // every ./staging/src/k8s.io/X -> k8s.io/X of the same release
        check: {
            args: (bin) => (bin === "kubectl" ? ["version", "--client"] : ["--version"]),
            expect: new RegExp(`(^Kubernetes |Client Version: )${esc(KUBERNETES_VERSION)}$`, "m"),
        },
    },
    etcd: {
        module: "go.etcd.io/etcd/server/v3",
        version: ETCD_VERSION,
        programs: { etcd: "go.etcd.io/etcd/server/v3" },
        ldflags: [],
        tags: [],
        localReplaces: "*" + ETCD_VERSION,
        check: { args: ["--version"], expect: new RegExp(`^etcd Version: ${esc(ETCD_VERSION.slice(1))}$`, "m") },
    },
    kwok: {
        module: "sigs.k8s.io/kwok",
        version: KWOK_VERSION,
        programs: { kwok: "sigs.k8s.io/kwok/cmd/kwok" },
        ldflags: [`-X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION}`],
        tags: [],
        localReplaces: {},
        // kwok's stage definitions (node heartbeat, pod ready, ...) ship in the module.
        extraFiles: [
            { module: "sigs.k8s.io/kwok", version: KWOK_VERSION, from: "kustomize/stage", to: "kwok-stages" },
        ],
        check: { args: ["--version"], expect: new RegExp(`${esc(KWOK_VERSION)}\\b`) },
    },
    // Our collector distribution: exactly the components the rendered agent and gateway configs
    // use (components/otel-collector/contrib-components.ts, DISTRIBUTION_COMPONENTS, must list the
    // same; test/telemetry reads `otelcol components` to check), plus debug and nop for tests.
    // The wrapper module's own main package is generated by prepareCollector, as the
    // OpenTelemetry Collector Builder would generate it.
    otelcol: {
        // The wrapper requires the Collector Builder of the release (a module without replace
        // directives); the generated main package mirrors its templates.
        module: "go.opentelemetry.io/collector/cmd/builder",
        version: OTELCOL_VERSION,
        programs: { otelcol: "obs-tools/otelcol" },
        ldflags: [`-X main.version=${OTELCOL_VERSION.slice(1)}`],
        tags: ["grpcnotrace"],
        localReplaces: {},
        // vendorSource: go get takes the generated main package without an @version.
        vendorSource: true,
        prepare: (ctx) =>
            prepareCollector(ctx, {
                core: OTELCOL_VERSION,
                contrib: OTELCOL_VERSION,
                modules: {},
                receivers: [
                    "go.opentelemetry.io/collector/receiver/otlpreceiver",
                    "go.opentelemetry.io/collector/receiver/nopreceiver",
                    "github.com/open-telemetry/opentelemetry-collector-contrib/receiver/filelogreceiver",
                ],
                processors: [
                    "go.opentelemetry.io/collector/processor/batchprocessor",
                    "go.opentelemetry.io/collector/processor/memorylimiterprocessor",
                    "github.com/open-telemetry/opentelemetry-collector-contrib/processor/k8sattributesprocessor",
                    "github.com/open-telemetry/opentelemetry-collector-contrib/processor/resourcedetectionprocessor",
                    "github.com/open-telemetry/opentelemetry-collector-contrib/processor/resourceprocessor",
                    "github.com/open-telemetry/opentelemetry-collector-contrib/processor/transformprocessor",
                    "github.com/open-telemetry/opentelemetry-collector-contrib/processor/filterprocessor",
                    "github.com/open-telemetry/opentelemetry-collector-contrib/processor/tailsamplingprocessor",
                    "github.com/open-telemetry/opentelemetry-collector-contrib/processor/groupbyattrsprocessor",
                ],
                exporters: [
                    "go.opentelemetry.io/collector/exporter/otlpexporter",
                    "go.opentelemetry.io/collector/exporter/otlphttpexporter",
                    "go.opentelemetry.io/collector/exporter/debugexporter",
                    "go.opentelemetry.io/collector/exporter/nopexporter",
                    "github.com/open-telemetry/opentelemetry-collector-contrib/exporter/loadbalancingexporter",
                    "github.com/open-telemetry/opentelemetry-collector-contrib/exporter/prometheusremotewriteexporter",
                    "github.com/open-telemetry/opentelemetry-collector-contrib/exporter/elasticsearchexporter",
                ],
                extensions: [
                    "github.com/open-telemetry/opentelemetry-collector-contrib/extension/healthcheckextension",
                    "github.com/open-telemetry/opentelemetry-collector-contrib/extension/storage/filestorage",
                ],
                connectors: [],
            }),
        check: { args: ["--version"], expect: new RegExp(`^otelcol version ${esc(OTELCOL_VERSION.slice(1))}$`, "m") },
    },
    // Jaeger v2 (itself an OpenTelemetry Collector distribution); no UI assets in the module.
    jaeger: {
        module: "github.com/jaegertracing/jaeger",
        version: JAEGER_MODULE_VERSION,
        label: JAEGER_VERSION,
        programs: { jaeger: "github.com/jaegertracing/jaeger/cmd/jaeger" },
        // Unstamped, `jaeger version` and the collector's build info report an empty version.
        ldflags: [
            `-X github.com/jaegertracing/jaeger/internal/version.latestVersion=${JAEGER_VERSION}`,
            "-X github.com/jaegertracing/jaeger/internal/version.date=1970-01-01T00:00:00Z",
        ],
        tags: [],
        localReplaces: {},
        check: { args: ["version"], expect: new RegExp(`"gitVersion":"${esc(JAEGER_VERSION)}"`) },
    },
    // Prometheus and promtool as the release builds them (.promu.yml: every service discovery,
    // netgo), less the web UI's assets (the `builtinassets` tag, which the module zip cannot
    // satisfy); the HTTP API, remote-write and OTLP receivers are all there.
    prometheus: {
        module: "github.com/prometheus/prometheus",
        version: PROMETHEUS_MODULE_VERSION,
        label: `v${PROMETHEUS_VERSION}`,
        programs: {
            prometheus: "github.com/prometheus/prometheus/cmd/prometheus",
            promtool: "github.com/prometheus/prometheus/cmd/promtool",
        },
        // Unstamped, both report "version (branch: , revision: )" and prometheus_build_info
        // carries no version. The module zip has no commit: branch and revision name the module.
        ldflags: [
            `-X github.com/prometheus/common/version.Version=${PROMETHEUS_VERSION}`,
            `-X github.com/prometheus/common/version.Revision=module-${PROMETHEUS_MODULE_VERSION}`,
            "-X github.com/prometheus/common/version.Branch=HEAD",
            "-X github.com/prometheus/common/version.BuildUser=build-go-tools",
            "-X github.com/prometheus/common/version.BuildDate=19700101-00:00:00",
        ],
        tags: ["netgo"],
        localReplaces: {},
        check: { args: ["--version"], expect: new RegExp(`^(prometheus|promtool), version ${esc(PROMETHEUS_VERSION)} `) },
    },
    // Alertmanager and amtool. The notification templates (default.tmpl, email.tmpl) are
    // embedded in the binary; the web UI is not: ui/web.go embeds ui/app/dist, the built UI, which
    // the module zip lacks, so prepareAlertmanagerUi writes a placeholder page there (the API,
    // which the tests and Grafana use, is complete).
    alertmanager: {
        module: "github.com/prometheus/alertmanager",
        version: ALERTMANAGER_VERSION,
        programs: {
            alertmanager: "github.com/prometheus/alertmanager/cmd/alertmanager",
            amtool: "github.com/prometheus/alertmanager/cmd/amtool",
        },
        // Unstamped, both report "version (branch: , revision: )", amtool cannot compare its
        // version with the server's, and alertmanager_build_info carries no version.
        ldflags: prometheusCommonVersionFlags(ALERTMANAGER_VERSION),
        tags: ["netgo"],
        localReplaces: {},
        vendorSource: true,
        prepare: prepareAlertmanagerUi,
        check: { args: ["--version"], expect: new RegExp(`^(alertmanager|amtool), version ${esc(ALERTMANAGER_VERSION.slice(1))} `) },
    },
    "node-exporter": {
        module: "github.com/prometheus/node_exporter",
        version: NODE_EXPORTER_VERSION,
        programs: { node_exporter: "github.com/prometheus/node_exporter" },
        ldflags: prometheusCommonVersionFlags(NODE_EXPORTER_VERSION),
        // As the release builds it for Linux (.promu.yml: netgo, no cgo).
        tags: ["netgo"],
        localReplaces: {},
        check: { args: ["--version"], expect: new RegExp(`^node_exporter, version ${esc(NODE_EXPORTER_VERSION.slice(1))} `) },
    },
};

/** -X flags for github.com/prometheus/common/version; the module zip has no commit, so the revision names the module version. */
function prometheusCommonVersionFlags(moduleVersion) {
    return [
        `-X github.com/prometheus/common/version.Version=${moduleVersion.slice(1)}`,
        `-X github.com/prometheus/common/version.Revision=module-${moduleVersion}`,
        "-X github.com/prometheus/common/version.Branch=HEAD",
        "-X github.com/prometheus/common/version.BuildUser=build-go-tools",
        "-X github.com/prometheus/common/version.BuildDate=19700101-00:00:00",
    ];
}

function esc(s) {
    return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

// --- helpers ---------------------------------------------------------------------------------

function log(msg) {
    process.stderr.write(`build-go-tools: ${msg}\n`);
}

class BuildError extends Error {}

/** Runs a command; on failure throws with the tail of its output. Output goes to the log. */
function sh(cmd, args, { cwd, env, logFile, allowFail = false } = {}) {
    const r = spawnSync(cmd, args, {
        cwd,
        env: { ...process.env, ...env },
        encoding: "utf8",
        maxBuffer: 1 << 28,
    });
    const out = (r.stdout || "") + (r.stderr || "");
    if (logFile) fs.appendFileSync(logFile, `$ ${cmd} ${args.join(" ")}\n${out}\n`);
    if ((r.status !== 0 || r.error) && !allowFail) {
        const tail = out.trim().split("\n").slice(-25).join("\n");
        throw new BuildError(`${cmd} ${args.join(" ")} failed${r.error ? `: ${r.error.message}` : ""}\n${tail}`);
    }
    return { status: r.status, out };
}

const GO_ENV = {
    // The wrappers must not fetch another Go toolchain, and the release builds are static.
    GOTOOLCHAIN: "local",
    CGO_ENABLED: "0",
    GOFLAGS: "-mod=mod",
};

function goModJson(modFile, logFile) {
    return JSON.parse(sh("go", ["mod", "edit", "-json", modFile], { logFile }).out);
}

function moduleDownload(modVersion, logFile, cwd) {
    const out = sh("go", ["mod", "download", "-json", modVersion], { env: GO_ENV, logFile, cwd }).out;
    return JSON.parse(out);
}

function recipeOf(name, tool) {
    const data = JSON.stringify({
        name,
        module: tool.module,
        version: tool.version,
        programs: tool.programs,
        ldflags: tool.ldflags,
        tags: tool.tags,
        localReplaces: tool.localReplaces,
        extraFiles: tool.extraFiles || [],
        prepare: tool.prepare ? tool.prepare.toString() : "",
        inputs: (tool.inputs || []).map((f) => fs.readFileSync(f, "utf8")),
        companions: tool.companions || [],
        go: sh("go", ["env", "GOVERSION"]).out.trim(),
    });
    return crypto.createHash("sha256").update(data).digest("hex").slice(0, 16);
}

/** `NAME VERSION` of the schema a provider plugin serves, read through the Pulumi CLI. */
function pluginSchemaVersion(bin) {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-home-"));
    try {
        const r = spawnSync(path.join(BIN_DIR, "pulumi"), ["package", "get-schema", bin], {
            encoding: "utf8",
            timeout: 60_000,
            maxBuffer: 1 << 28,
            env: { ...process.env, PULUMI_HOME: home, PULUMI_SKIP_UPDATE_CHECK: "true" },
        });
        if (r.status !== 0) return { status: r.status, out: `pulumi package get-schema failed: ${(r.stderr || "").trim()}` };
        const schema = JSON.parse(r.stdout);
        return { status: 0, out: `${schema.name} ${schema.version}` };
    } finally {
        fs.rmSync(home, { recursive: true, force: true });
    }
}

/** `MODULE VERSION` of a binary's main module, from its build information (`go version -m`). */
function mainModuleVersion(bin) {
    const r = spawnSync("go", ["version", "-m", bin], { encoding: "utf8", timeout: 30_000 });
    const mod = /^\s*mod\s+(\S+)\s+(\S+)/m.exec(r.stdout || "");
    return { status: r.status, out: mod ? `${mod[1]} ${mod[2]}` : `no module line in: go version -m ${bin}` };
}

function versionLine(bin, tool) {
    if (tool.check.run) {
        const r = tool.check.run(bin);
        return { ok: r.status === 0 && tool.check.expect.test(r.out), out: r.out };
    }
    const args = typeof tool.check.args === "function" ? tool.check.args(path.basename(bin)) : tool.check.args;
    const r = spawnSync(bin, args, { encoding: "utf8", timeout: 30_000 });
    const out = ((r.stdout || "") + (r.stderr || "")).trim();
    return { ok: r.status === 0 && tool.check.expect.test(out), out };
}

/** A binary of the right version on PATH (outside .tools/bin), or undefined. */
function onPath(binName, tool) {
    for (const dir of (process.env.PATH || "").split(path.delimiter)) {
        if (!dir || path.resolve(dir) === BIN_DIR) continue;
        const p = path.join(dir, binName);
        try {
            fs.accessSync(p, fs.constants.X_OK);
        } catch {
            continue;
        }
        if (versionLine(p, tool).ok) return p;
    }
    return undefined;
}

function link(target, name) {
    fs.mkdirSync(BIN_DIR, { recursive: true });
    const dest = path.join(BIN_DIR, name);
    fs.rmSync(dest, { force: true, recursive: true });
    fs.symlinkSync(target, dest);
}

// --- the build ------------------------------------------------------------------------------

function retryCommand(name) {
    return `node scripts/build-go-tools.js --force ${name}`;
}

function sleepSync(ms) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function alive(pid) {
    try {
        process.kill(pid, 0);
        return true;
    } catch (e) {
        return e.code === "EPERM";
    }
}

/**
 * Runs fn holding `<dir>.lock` (a directory holding the owner's pid), so two runs never build
 * the same tool into the same cache directory at once; a lock whose owner died is taken over.
 */
function withLock(dir, what, fn) {
    const lock = `${dir}.lock`;
    const deadline = Date.now() + 2 * 3600_000;
    let told = false;
    for (;;) {
        try {
            fs.mkdirSync(lock);
            fs.writeFileSync(path.join(lock, "pid"), String(process.pid));
            break;
        } catch (e) {
            if (e.code !== "EEXIST") throw e;
            let pid = 0;
            try {
                pid = Number(fs.readFileSync(path.join(lock, "pid"), "utf8"));
            } catch {
                /* being written */
            }
            if (pid && !alive(pid)) {
                fs.rmSync(lock, { recursive: true, force: true });
                continue;
            }
            if (Date.now() > deadline) throw new BuildError(`gave up waiting for ${lock} (held by pid ${pid})`);
            if (!told) log(`waiting for another build of ${what} (pid ${pid}) to finish`);
            told = true;
            sleepSync(2000);
        }
    }
    try {
        return fn();
    } finally {
        fs.rmSync(lock, { recursive: true, force: true });
    }
}

function build(name, tool, force) {
    fs.mkdirSync(CACHE, { recursive: true });
    return withLock(path.join(CACHE, `${name}-${tool.version}`), name, () => buildLocked(name, tool, force));
}

function buildLocked(name, tool, force) {
    const key = `${name}-${tool.version}`;
    const dir = path.join(CACHE, key);
    const binOut = path.join(dir, "bin");
    const recipe = recipeOf(name, tool);
    const recipeFile = path.join(dir, "recipe");
    const programs = Object.keys(tool.programs);

    // 1. Already on PATH at the right version (e.g. a user's own Pulumi CLI)?
    if (!force && !tool.extraFiles) {
        const found = programs.map((p) => onPath(p, tool));
        if (found.every(Boolean)) {
            programs.forEach((p, i) => link(found[i], p));
            return { source: `PATH (${found.join(", ")})`, bins: programs.map((p) => path.join(BIN_DIR, p)) };
        }
    }

    // 2. Cached build of the same recipe?
    const cached =
        !force &&
        fs.existsSync(recipeFile) &&
        fs.readFileSync(recipeFile, "utf8").trim() === recipe &&
        programs.every((p) => fs.existsSync(path.join(binOut, p)));
    if (!cached) {
        const started = Date.now();
        fs.rmSync(dir, { recursive: true, force: true });
        fs.mkdirSync(binOut, { recursive: true });
        const logFile = path.join(dir, "build.log");
        const work = path.join(dir, "work");
        fs.mkdirSync(work, { recursive: true });
        log(`building ${name} ${tool.label || tool.version} (${tool.module}@${tool.version}); log: ${logFile}`);
        try {
            buildInWrapper(name, tool, work, binOut, logFile);
        } catch (e) {
            const msg = e instanceof BuildError ? e.message : e.stack;
            throw new BuildError(
                `building ${name} from module ${tool.module} version ${tool.version} failed:\n${msg}\n` +
                    `full log: ${logFile}\nretry with: ${retryCommand(name)}`,
            );
        }
        fs.rmSync(work, { recursive: true, force: true }); // sources live in the module cache
        fs.writeFileSync(recipeFile, recipe + "\n");
        log(`built ${name} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    }
    for (const p of programs) link(path.join(binOut, p), p);
    for (const f of tool.extraFiles || []) link(path.join(binOut, f.to), f.to);
    for (const c of tool.companions || []) {
        // Built (or reused) first, then placed beside this tool's binaries.
        build(c, TOOLS[c], false);
        const dest = path.join(binOut, c);
        fs.rmSync(dest, { force: true });
        fs.symlinkSync(fs.realpathSync(path.join(BIN_DIR, c)), dest);
    }
    return { source: cached ? `cache ${dir}` : `built into ${dir}`, bins: programs.map((p) => path.join(BIN_DIR, p)) };
}

function buildInWrapper(name, tool, work, binOut, logFile) {
    const env = { ...GO_ENV };
    const dl = moduleDownload(`${tool.module}@${tool.version}`, logFile);
    const mod = goModJson(dl.GoMod, logFile);

    // The wrapper module: go version and godebug lines of the program's own go.mod.
    const lines = [`module obs-tools/${name}`, "", `go ${mod.Go}`, ""];
    for (const g of mod.Godebug || []) lines.push(`godebug ${g.Key}=${g.Value}`);
    lines.push("", `require ${tool.module} ${tool.version}`, "");

    let target = tool.module;
    if (tool.vendorSource) {
        // A writable copy of the module, for generated files.
        const src = path.join(work, "src");
        fs.cpSync(dl.Dir, src, { recursive: true });
        sh("chmod", ["-R", "u+w", src]);
        lines.push(`replace ${tool.module} => ./src`);
        target = src;
    }
    for (const r of mod.Replace || []) {
        const from = r.Old.Version ? `${r.Old.Path} ${r.Old.Version}` : r.Old.Path;
        if (r.New.Version) {
            lines.push(`replace ${from} => ${r.New.Path} ${r.New.Version}`);
        } else if (r.New.Path.includes("FORBIDDEN_DEPENDENCY")) {
            continue; // etcd's guard against importing its own test modules
        } else {
            const v =
                typeof tool.localReplaces === "string"
                    ? tool.localReplaces.slice(1)
                    : tool.localReplaces[r.Old.Path];
            if (!v) throw new BuildError(`${tool.module} replaces ${r.Old.Path} with the local path ${r.New.Path}; map it to a published version in localReplaces`);
            lines.push(`replace ${from} => ${r.Old.Path} ${v}`);
        }
    }
    fs.writeFileSync(path.join(work, "go.mod"), lines.join("\n") + "\n");
    if (tool.prepare) tool.prepare({ src: target, work, tool, logFile });

    const pkgs = Object.values(tool.programs);
    // Resolves the whole graph under the wrapper's replaces (go.sum included).
    // A package of the required module is asked for at its version even when the module is
    // replaced by the local copy (else `go get` records the newest release in the requirement).
    const atVersion = (p) => (p === tool.module || p.startsWith(`${tool.module}/`) ? `${p}@${tool.version}` : p);
    sh("go", ["get", ...pkgs.map(atVersion)], { cwd: work, env, logFile });
    for (const [bin, pkg] of Object.entries(tool.programs)) {
        const args = ["build", "-trimpath", "-o", path.join(binOut, bin)];
        if (tool.tags.length) args.push("-tags", tool.tags.join(","));
        args.push("-ldflags", ["-s", "-w", ...tool.ldflags].join(" "), pkg);
        sh("go", args, { cwd: work, env, logFile });
    }
    for (const f of tool.extraFiles || []) {
        const d = moduleDownload(`${f.module}@${f.version}`, logFile, work);
        const from = path.join(d.Dir, f.from);
        if (!fs.existsSync(from)) throw new BuildError(`${f.from} not found in ${f.module}@${f.version}`);
        fs.cpSync(from, path.join(binOut, f.to), { recursive: true });
        sh("chmod", ["-R", "u+w", path.join(binOut, f.to)]);
    }
}

/** Adds RunPlugin (scripts/go-patches/) to the v3.68.0 Node.js language host. */
function prepareLanguageHost({ src }) {
    const dir = path.join(src, "nodejs", "cmd", "pulumi-language-nodejs");
    const mainGo = path.join(dir, "main.go");
    const stub = /(func \(host \*nodeLanguageHost\) RunPlugin\(\s*req \*pulumirpc\.RunPluginRequest, server pulumirpc\.LanguageRuntime_RunPluginServer,\s*\) error \{\s*)return errors\.New\("not supported"\)/;
    const text = fs.readFileSync(mainGo, "utf8");
    if (!stub.test(text)) throw new BuildError(`${mainGo}: RunPlugin is not the "not supported" stub this patch replaces`);
    fs.writeFileSync(mainGo, text.replace(stub, "$1return host.runPlugin(req, server)"));
    fs.copyFileSync(RUN_PLUGIN_PATCH, path.join(dir, "zz_run_plugin.go"));
}

/**
 * Alertmanager's ui/web.go embeds ui/app/dist (the UI its Makefile builds with npm and elm), which
 * the module zip lacks and `go:embed` refuses to miss. A placeholder index page for both UIs (the
 * classic one at / and the new one at /ui/), gzipped as the server reads it; no upstream code.
 */
function prepareAlertmanagerUi({ src }) {
    const dist = path.join(src, "ui", "app", "dist");
    if (!fs.readFileSync(path.join(src, "ui", "web.go"), "utf8").includes("//go:embed app/dist")) {
        throw new BuildError(`${src}/ui/web.go no longer embeds app/dist: revisit prepareAlertmanagerUi`);
    }
    const page =
        "<!doctype html><title>Alertmanager</title>" +
        "<p>This Alertmanager was built from its Go module without the web UI; the API is at /api/v2/.</p>\n";
    for (const ui of ["elm", "mantine"]) {
        fs.mkdirSync(path.join(dist, ui), { recursive: true });
        fs.writeFileSync(path.join(dist, ui, "index.html.gz"), require("zlib").gzipSync(page));
    }
}

/** pulumi-kubernetes' generate.go: schema.json with the version set, minified; the mapping minified. */
function prepareKubernetesProvider({ src }) {
    const dir = path.join(src, "cmd", "pulumi-resource-kubernetes");
    const schema = JSON.parse(fs.readFileSync(path.join(dir, "schema.json"), "utf8"));
    schema.version = K8S_PROVIDER_VERSION;
    fs.writeFileSync(path.join(dir, "schema-embed.json"), JSON.stringify(schema));
    const mappingFile = path.join(dir, "terraform-mapping.json");
    const mapping = fs.existsSync(mappingFile) ? JSON.parse(fs.readFileSync(mappingFile, "utf8")) : {};
    fs.writeFileSync(path.join(dir, "terraform-mapping-embed.json"), JSON.stringify(mapping));
}

/**
 * Our collector distribution's main package, in the wrapper module, as the OpenTelemetry
 * Collector Builder generates it (its templates at the same release): components.go with one
 * factory per listed package, main.go with the env/file/yaml config providers. Every component
 * module is required at the one release (`spec.modules` overrides a module's version).
 */
function prepareCollector({ work }, spec) {
    const moduleOf = (pkg) => pkg; // each component package is its module's root
    const versionOf = (pkg) =>
        spec.modules[moduleOf(pkg)] || (pkg.startsWith("go.opentelemetry.io/") ? spec.core : spec.contrib);
    const kinds = ["receivers", "processors", "exporters", "extensions", "connectors"];
    const all = kinds.flatMap((k) => spec[k]);
    const alias = (pkg) => path.basename(pkg).replace(/[^a-z0-9]/g, "");
    const stable = (spec.core.match(/^v0\.(\d+)\./) || [])[1];
    // Core's stable modules (v1.x) move in step with v0.x: v0.161.0 <-> v1.67.0.
    const coreStable = `v1.${Number(stable) - 94}.0`;
    const req = [
        `require go.opentelemetry.io/collector/otelcol ${spec.core}`,
        `require go.opentelemetry.io/collector/service ${spec.core}`,
        `require go.opentelemetry.io/collector/component ${coreStable}`,
        `require go.opentelemetry.io/collector/confmap ${coreStable}`,
        ...["envprovider", "fileprovider", "yamlprovider"].map(
            (p) => `require go.opentelemetry.io/collector/confmap/provider/${p} ${coreStable}`,
        ),
        ...all.map((pkg) => `require ${moduleOf(pkg)} ${versionOf(pkg)}`),
    ];
    fs.appendFileSync(path.join(work, "go.mod"), req.join("\n") + "\n");
    const imp = all.map((pkg) => `\t${alias(pkg)} "${pkg}"`).join("\n");
    const factories = (kind, iface) =>
        `\tfactories.${kind[0].toUpperCase()}${kind.slice(1)}, err = otelcol.MakeFactoryMap[${iface}.Factory](\n` +
        spec[kind].map((pkg) => `\t\t${alias(pkg)}.NewFactory(),\n`).join("") +
        `\t)\n\tif err != nil {\n\t\treturn otelcol.Factories{}, err\n\t}\n`;
    const components = `// Code generated by scripts/build-go-tools.js. DO NOT EDIT.
package main

import (
\t"go.opentelemetry.io/collector/connector"
\t"go.opentelemetry.io/collector/exporter"
\t"go.opentelemetry.io/collector/extension"
\t"go.opentelemetry.io/collector/otelcol"
\t"go.opentelemetry.io/collector/processor"
\t"go.opentelemetry.io/collector/receiver"
\totelconftelemetry "go.opentelemetry.io/collector/service/telemetry/otelconftelemetry"
${imp}
)

func components() (otelcol.Factories, error) {
\tvar err error
\tfactories := otelcol.Factories{Telemetry: otelconftelemetry.NewFactory()}
${factories("extensions", "extension")}${factories("receivers", "receiver")}${factories("processors", "processor")}${factories("exporters", "exporter")}${factories("connectors", "connector")}\treturn factories, nil
}
`;
    const main = `// Code generated by scripts/build-go-tools.js. DO NOT EDIT.
package main

import (
\t"os"

\t"go.opentelemetry.io/collector/component"
\t"go.opentelemetry.io/collector/confmap"
\t"go.opentelemetry.io/collector/confmap/provider/envprovider"
\t"go.opentelemetry.io/collector/confmap/provider/fileprovider"
\t"go.opentelemetry.io/collector/confmap/provider/yamlprovider"
\t"go.opentelemetry.io/collector/otelcol"
)

// Stamped with -ldflags -X main.version=...
var version = "dev"

func main() {
\tset := otelcol.CollectorSettings{
\t\tBuildInfo: component.BuildInfo{Command: "otelcol", Description: "observability-stack OpenTelemetry Collector", Version: version},
\t\tFactories: components,
\t\tConfigProviderSettings: otelcol.ConfigProviderSettings{
\t\t\tResolverSettings: confmap.ResolverSettings{
\t\t\t\tProviderFactories: []confmap.ProviderFactory{envprovider.NewFactory(), fileprovider.NewFactory(), yamlprovider.NewFactory()},
\t\t\t},
\t\t},
\t}
\tif err := otelcol.NewCommand(set).Execute(); err != nil {
\t\tos.Exit(1)
\t}
}
`;
    fs.writeFileSync(path.join(work, "components.go"), components);
    fs.writeFileSync(path.join(work, "main.go"), main);
}

// --- main ------------------------------------------------------------------------------------

function main(argv) {
    const force = argv.includes("--force");
    const names = argv.filter((a) => !a.startsWith("--"));
    if (argv.includes("--help") || argv.includes("-h")) {
        process.stdout.write(fs.readFileSync(__filename, "utf8").split("\n").slice(2, 12).map((l) => l.replace(/^ \* ?/, "")).join("\n") + "\n");
        return 0;
    }
    if (argv.includes("--list")) {
        for (const [n, t] of Object.entries(TOOLS)) console.log(`${n}\t${t.module}@${t.version}\t${Object.keys(t.programs).join(",")}`);
        return 0;
    }
    for (const n of names) {
        if (!TOOLS[n]) {
            log(`unknown tool "${n}"; known: ${Object.keys(TOOLS).join(", ")}`);
            return 2;
        }
    }
    if (spawnSync("go", ["version"]).status !== 0) {
        log("the go command is not on PATH: install Go (apt-get install golang-go, or the machine's own Go) and retry");
        return 1;
    }
    fs.mkdirSync(CACHE, { recursive: true });
    fs.mkdirSync(path.join(ROOT, ".tools"), { recursive: true });
    fs.writeFileSync(path.join(ROOT, ".tools", ".gitignore"), "*\n");
    const selected = names.length ? names : Object.keys(TOOLS);
    const report = [];
    for (const n of selected) {
        const tool = TOOLS[n];
        let res;
        try {
            res = build(n, tool, force);
        } catch (e) {
            log(e instanceof BuildError ? e.message : e.stack);
            return 1;
        }
        for (const b of res.bins) {
            const v = versionLine(b, tool);
            if (!v.ok) {
                log(
                    `${b} reports "${v.out.split("\n")[0]}", expected ${tool.check.expect}; ` +
                        `retry with: ${retryCommand(n)}`,
                );
                return 1;
            }
            report.push(`  ${path.basename(b).padEnd(28)} ${v.out.split("\n")[0].slice(0, 60).padEnd(40)} ${res.source}`);
        }
    }
    console.log(`Go-built tools in ${BIN_DIR}:`);
    console.log(report.join("\n"));
    return 0;
}

module.exports = { TOOLS, CACHE, BIN_DIR, PULUMI_VERSION, LANGUAGE_HOST_VERSION, mainModuleVersion, PROMETHEUS_VERSION, K8S_PROVIDER_VERSION, KUBERNETES_VERSION, ETCD_VERSION, KWOK_VERSION, build, BuildError, pluginSchemaVersion };

if (require.main === module) process.exit(main(process.argv.slice(2)));
