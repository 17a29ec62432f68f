/**
 * The guides stay true to the code: every port-forward command of docs/monitoring-guide.md names
 * a Service and port the renders have, the OTLP endpoints it lists are the stack outputs, and
 * every file path and function the guides name exists (except the files the worked example of
 * docs/extending.md tells the reader to create).
 */
import * as fs from "fs";
import * as path from "path";
import { ROOT } from "../support/program";
import { render, SecurityRender, STACK_KEYS, StackKey } from "./support";

const GUIDES = ["docs/monitoring-guide.md", "docs/extending.md"];
const read = (rel: string) => fs.readFileSync(path.join(ROOT, rel), "utf8");

/** Files the worked example creates; they do not exist until a reader follows it. */
const CREATED_BY_THE_EXAMPLE = ["components/exporters/redis-exporter.ts", "docs/runbooks/RedisDown.md"];

const renders: Partial<Record<StackKey, SecurityRender>> = {};
beforeAll(() => {
    for (const key of STACK_KEYS) renders[key] = render(key);
});

describe("the monitoring guide", () => {
    const text = read("docs/monitoring-guide.md");

    it("port-forwards only to Services and ports the renders declare", () => {
        const commands = [...text.matchAll(/kubectl -n ([a-z0-9-]+) port-forward svc\/([a-z0-9-]+) (\d+):(\d+)/g)];
        expect(commands.length).toBeGreaterThanOrEqual(7);
        const missing: string[] = [];
        for (const [cmd, ns, name, , port] of commands) {
            const found = STACK_KEYS.some((k) =>
                renders[k]!.objects.some((o) => o.kind === "Service" && o.metadata.namespace === ns && o.metadata.name === name && (o.spec.ports ?? []).some((p: any) => p.port === Number(port))),
            );
            if (!found) missing.push(cmd);
        }
        expect(missing).toEqual([]);
    });

    it("port-forwards to single replicas that exist in prod", () => {
        for (const [cmd, ns, pod] of text.matchAll(/kubectl -n ([a-z0-9-]+) port-forward pod\/([a-z0-9-]+)-(\d+)/g)) {
            const index = Number(/-(\d+) /.exec(cmd + " ")![1]);
            const sts = renders.prod!.objects.find((o) => o.kind === "StatefulSet" && o.metadata.namespace === ns && o.metadata.name === pod);
            expect({ cmd, replicas: (sts?.spec.replicas ?? 0) > index }).toEqual({ cmd, replicas: true });
        }
    });

    it("lists the stack outputs with the values the dev render exports", () => {
        const outputs = renders.dev!.summary.outputs;
        // Stack outputs are camelCase (otlpGrpcEndpoint); the guide's label tables name lowercase
        // labels (`service` | `service.name`) in the same shape.
        const rows = [...text.matchAll(/^\| `([a-z]+[A-Z][A-Za-z]*)` \| `([^`]+)` \|/gm)];
        expect(rows.map((r) => r[1])).toEqual(expect.arrayContaining(["otlpGrpcEndpoint", "otlpHttpEndpoint", "otlpNodeLocalGrpcEndpoint"]));
        for (const [, name, value] of rows) expect({ output: name, value: outputs[name!] }).toEqual({ output: name, value });
        for (const name of ["prometheusUrl", "alertmanagerUrl", "logsUrl", "jaegerQueryUrl"]) {
            expect(text.replace(/\s+/g, " ")).toContain(`\`${name}\` (\`${outputs[name]}\`)`);
        }
    });

    it("names the secret the Elasticsearch password lives in, as rendered", () => {
        const es = renders.es!.objects.find((o) => o.kind === "Secret" && o.metadata.name === "elasticsearch-credentials");
        expect(Object.keys(es?.stringData ?? es?.data ?? {})).toContain("elastic");
        expect(text).toContain("secret elasticsearch-credentials -o jsonpath='{.data.elastic}'");
    });
});

describe.each(GUIDES)("%s", (guide) => {
    const text = read(guide);

    it("names only files that exist, apart from those its example creates", () => {
        const paths = new Set([...text.matchAll(/`((?:components|config|alerts|dashboards|telemetry|scripts|test|docs|policy)\/[\w./-]+\.(?:ts|md|js|yaml))`/g)].map((m) => m[1]!));
        expect(paths.size).toBeGreaterThan(0);
        expect([...paths].filter((p) => !CREATED_BY_THE_EXAMPLE.includes(p) && !fs.existsSync(path.join(ROOT, p)))).toEqual([]);
    });

    it("names only functions the code defines", () => {
        const sources = ["components", "config", "alerts", "dashboards", "telemetry", "scripts", "test/support", "test/alerts/support", "test/unit", "test/security", "index.ts", "config.ts"]
            .flatMap((rel) => listTs(path.join(ROOT, rel)))
            .map((f) => fs.readFileSync(f, "utf8"))
            .join("\n");
        const names = new Set([...text.matchAll(/`([a-z][A-Za-z0-9]+)\(/g)].map((m) => m[1]!));
        const undefinedNames = [...names].filter((n) => !new RegExp(`(function ${n}\\b|const ${n}\\s*[:=]|\\b${n}\\s*\\([^)]*\\)\\s*[:{])`).test(sources));
        expect(undefinedNames).toEqual([]);
    });
});

function listTs(p: string): string[] {
    if (!fs.existsSync(p)) return [];
    if (fs.statSync(p).isFile()) return p.endsWith(".ts") ? [p] : [];
    return fs.readdirSync(p).flatMap((e) => listTs(path.join(p, e)));
}
