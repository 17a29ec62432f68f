/**
 * What the tests run is what the pods run: every test binary of the Alertmanager and exporter
 * images (alertmanager and amtool, node_exporter, blackbox_exporter) reports, with `--version`,
 * exactly the release its image pin in components/kube/images.ts names, and accepts every flag the
 * rendered prod pods pass it. A missing binary fails with the command that builds or installs it.
 */
import { spawnSync } from "child_process";
import * as path from "path";
import { IMAGES, versionOf, type ImageName } from "../../components/kube/images";
import { makeTempDir, readManifests } from "../support/render";
import { renderStack, toolPath } from "../support/tools";

interface Binary {
    /** Name under .tools/bin/ and in the first line of its --version output. */
    readonly tool: string;
    /** The image whose pods run it. */
    readonly image: ImageName;
    /** The upstream repository the pin must name. */
    readonly repository: string;
    /** What puts it into .tools/bin/. */
    readonly install: string;
}

const BINARIES: readonly Binary[] = [
    { tool: "alertmanager", image: "alertmanager", repository: "quay.io/prometheus/alertmanager", install: "node scripts/build-go-tools.js alertmanager" },
    { tool: "amtool", image: "alertmanager", repository: "quay.io/prometheus/alertmanager", install: "node scripts/build-go-tools.js alertmanager" },
    { tool: "node_exporter", image: "nodeExporter", repository: "quay.io/prometheus/node-exporter", install: "node scripts/build-go-tools.js node-exporter" },
    { tool: "blackbox_exporter", image: "blackboxExporter", repository: "quay.io/prometheus/blackbox-exporter", install: "bash scripts/install-test-tools.sh" },
];

/** Output (stdout and stderr) of `.tools/bin/<tool> <args>`; throws with the install command when the binary is missing. */
function output(b: Binary, args: readonly string[]): string {
    const bin = toolPath(b.tool, b.install);
    const r = spawnSync(bin, [...args], { encoding: "utf8", timeout: 30_000 });
    if (r.error) throw new Error(`${bin} ${args.join(" ")}: ${r.error.message}`);
    if (r.status !== 0) throw new Error(`${bin} ${args.join(" ")} exited ${r.status}:\n${r.stdout}${r.stderr}`);
    return `${r.stdout}${r.stderr}`;
}

/** `NAME, version X.Y.Z` of a Prometheus-project binary's --version output (Debian adds `+ds` suffixes after it). */
function reportedVersion(text: string): { name: string; version: string } {
    const m = /^(\S+), version (\d+\.\d+\.\d+)/m.exec(text);
    if (!m) throw new Error(`no "<name>, version X.Y.Z" line in:\n${text}`);
    return { name: m[1]!, version: m[2]! };
}

describe.each(BINARIES)("the $tool test binary", (b) => {
    it("reports exactly the release its image pin names", () => {
        const reported = reportedVersion(output(b, ["--version"]));
        expect(reported.name).toBe(b.tool);
        expect(`v${reported.version}`).toBe(versionOf(IMAGES[b.image]));
    });

    it("is pinned from its upstream repository with an exact vX.Y.Z tag", () => {
        expect(IMAGES[b.image]).toMatch(new RegExp(`^${b.repository.replace(/\./g, "\\.")}:v\\d+\\.\\d+\\.\\d+$`));
    });
});

describe("the version check itself", () => {
    it("reads the release from a Debian-style version line and refuses output without one", () => {
        expect(reportedVersion("blackbox_exporter, version 0.28.0 (branch: debian/sid, revision: 0.28.0-2)")).toEqual({ name: "blackbox_exporter", version: "0.28.0" });
        expect(reportedVersion("prometheus, version 2.53.3+ds1 (branch: debian/sid)")).toEqual({ name: "prometheus", version: "2.53.3" });
        expect(() => reportedVersion("usage: alertmanager [<flags>]")).toThrow(/no "<name>, version X.Y.Z" line/);
    });

    it("fails naming the install command when a binary is missing", () => {
        expect(() => output({ ...BINARIES[0]!, tool: "alertmanager-that-is-not-there" }, ["--version"])).toThrow(
            /test tool "alertmanager-that-is-not-there" is missing[\s\S]*node scripts\/build-go-tools\.js alertmanager/,
        );
    });
});

describe("the flags the rendered prod pods pass", () => {
    type Workload = { kind: string; metadata: { name: string }; spec: { template: { spec: { containers: { name: string; image: string; args?: string[] }[] } } } };
    let workloads: Workload[];

    beforeAll(() => {
        const out = renderStack("prod", path.join(makeTempDir("image-versions"), "out"));
        workloads = readManifests(out).filter((o) => ["StatefulSet", "DaemonSet", "Deployment"].includes(o.kind)) as unknown as Workload[];
    });

    /** The flag names (`--a.b`) of every rendered container running `image`. */
    function renderedFlags(image: ImageName): string[] {
        const containers = workloads.flatMap((w) => w.spec.template.spec.containers).filter((c) => c.image === IMAGES[image]);
        expect(containers.length).toBeGreaterThan(0);
        return [...new Set(containers.flatMap((c) => c.args ?? []).map((a) => a.split("=")[0]!))].sort();
    }

    it.each([
        ["alertmanager", "alertmanager"],
        ["node_exporter", "nodeExporter"],
        ["blackbox_exporter", "blackboxExporter"],
    ] as const)("are all flags %s --help lists", (tool, image) => {
        const help = output(BINARIES.find((b) => b.tool === tool)!, ["--help"]);
        const known = new Set(help.match(/--[a-z][a-z0-9.-]*/g) ?? []);
        const flags = renderedFlags(image);
        expect(flags.length).toBeGreaterThan(0);
        expect(flags.filter((f) => !known.has(f))).toEqual([]);
    });
});
