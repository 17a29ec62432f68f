/**
 * What the tests run is what the pods run, for Prometheus: `.tools/bin/prometheus` and
 * `.tools/bin/promtool` (built from the Go module by scripts/build-go-tools.js) report exactly
 * the release components/kube/images.ts pins, and the rendered Prometheus pods pass only flags
 * that release lists in `prometheus --help` and does not mark deprecated. A missing binary fails
 * with the command that builds it.
 */
import { spawnSync } from "child_process";
import * as path from "path";
import { IMAGES, versionOf } from "../../components/kube/images";
import { makeTempDir, readManifests } from "../support/render";
import { renderStack, toolPath } from "../support/tools";

const BUILD_COMMAND = "node scripts/build-go-tools.js prometheus";

/** Output (stdout and stderr) of `.tools/bin/<tool> <args>`; throws naming the build command when the binary is missing. */
function output(tool: string, args: readonly string[]): string {
    const bin = toolPath(tool, BUILD_COMMAND);
    const r = spawnSync(bin, [...args], { encoding: "utf8", timeout: 30_000 });
    if (r.error) throw new Error(`${bin} ${args.join(" ")}: ${r.error.message}`);
    if (r.status !== 0) throw new Error(`${bin} ${args.join(" ")} exited ${r.status}:\n${r.stdout}${r.stderr}`);
    return `${r.stdout}${r.stderr}`;
}

/** `NAME, version X.Y.Z` from the first line of a --version output (nothing may follow the patch but a space). */
function reportedVersion(text: string): { name: string; version: string } {
    const m = /^(\S+), version (\d+\.\d+\.\d+)(?= )/.exec(text);
    if (!m) throw new Error(`no "<name>, version X.Y.Z (...)" first line in:\n${text}`);
    return { name: m[1]!, version: m[2]! };
}

/** Every long flag of a kingpin `--help` text (`--[no-]x` as `--x`), and whether its description says it is deprecated. */
function helpFlags(help: string): Map<string, { deprecated: boolean }> {
    const flags = new Map<string, { deprecated: boolean }>();
    let current: { deprecated: boolean } | undefined;
    for (const line of help.split("\n")) {
        const m = /^\s+(?:-\w, )?--(?:\[no-\])?([a-z][a-z0-9.-]*)/.exec(line);
        if (m) {
            current = { deprecated: false };
            flags.set(`--${m[1]}`, current);
        }
        if (current && /\[DEPRECATED\]|\bDeprecated\b/i.test(line)) current.deprecated = true;
    }
    return flags;
}

describe.each(["prometheus", "promtool"])("the %s test binary", (tool) => {
    it("reports exactly the release the Prometheus image pin names", () => {
        const reported = reportedVersion(output(tool, ["--version"]));
        expect(reported.name).toBe(tool);
        expect(`v${reported.version}`).toBe(versionOf(IMAGES.prometheus));
    });
});

describe("the Prometheus image pin", () => {
    it("is an exact v3.x.y tag of the upstream image", () => {
        expect(IMAGES.prometheus).toMatch(/^quay\.io\/prometheus\/prometheus:v3\.\d+\.\d+$/);
    });
});

describe("the version check itself", () => {
    it("reads the release from a version line and refuses a suffixed or missing one", () => {
        expect(reportedVersion("prometheus, version 3.16.0 (branch: HEAD, revision: x)\n  build user: y")).toEqual({ name: "prometheus", version: "3.16.0" });
        expect(() => reportedVersion("prometheus, version 2.53.3+ds1 (branch: debian/sid)")).toThrow(/no "<name>, version/);
        expect(() => reportedVersion("usage: promtool [<flags>] <command>")).toThrow(/no "<name>, version/);
    });

    it("fails naming the build command when a binary is missing", () => {
        expect(() => output("promtool-that-is-not-there", ["--version"])).toThrow(
            /test tool "promtool-that-is-not-there" is missing[\s\S]*node scripts\/build-go-tools\.js prometheus/,
        );
    });

    it("tells a deprecated flag from a current one in kingpin's help layout", () => {
        const flags = helpFlags(
            [
                "      --[no-]web.enable-lifecycle  ",
                "                                 Enable shutdown and reload via HTTP request.",
                "      --storage.tsdb.retention.time=STORAGE.TSDB.RETENTION.TIME  ",
                "                                 [DEPRECATED] How long to retain samples",
                "  -h, --[no-]help                Show context-sensitive help.",
            ].join("\n"),
        );
        expect(Object.fromEntries(flags)).toEqual({
            "--web.enable-lifecycle": { deprecated: false },
            "--storage.tsdb.retention.time": { deprecated: true },
            "--help": { deprecated: false },
        });
    });
});

describe.each(["dev", "prod"])("the rendered %s Prometheus pods", (stack) => {
    type Container = { name: string; image: string; args?: string[] };
    let containers: Container[];
    let known: Map<string, { deprecated: boolean }>;

    beforeAll(() => {
        const out = renderStack(stack, path.join(makeTempDir(`prometheus-version-${stack}`), "out"));
        containers = readManifests(out)
            .filter((o) => o.kind === "StatefulSet")
            .flatMap((o) => (o as unknown as { spec: { template: { spec: { containers: Container[] } } } }).spec.template.spec.containers)
            .filter((c) => c.image === IMAGES.prometheus);
        known = helpFlags(output("prometheus", ["--help"]));
    });

    it("run the pinned image", () => {
        expect(containers.map((c) => c.name)).toEqual(["prometheus"]);
    });

    it("pass only flags the pinned release lists, none of them deprecated", () => {
        const flags = [...new Set(containers.flatMap((c) => c.args ?? []).map((a) => a.split("=")[0]!))].sort();
        expect(flags).toContain("--config.file");
        expect(known.get("--storage.tsdb.retention.time")).toEqual({ deprecated: true });
        expect(flags.filter((f) => !known.has(f))).toEqual([]);
        expect(flags.filter((f) => known.get(f)?.deprecated)).toEqual([]);
    });

    it("enable no feature flag (Prometheus 3 warns about the removed ones and expands external labels by default)", () => {
        expect(containers.flatMap((c) => c.args ?? []).filter((a) => a.startsWith("--enable-feature"))).toEqual([]);
    });
});
