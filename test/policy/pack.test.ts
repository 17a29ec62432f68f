/**
 * The policy pack as the Pulumi CLI runs it: `@pulumi/pulumi/cmd/run-policy-pack` started in
 * `policy/` with the arguments the CLI passes (`<engine address> .`), which registers ts-node,
 * type-checks and loads `policy/index.ts` and serves the analyzer over gRPC. The test then plays
 * the engine: it asks for the pack's info, configures it and sends resources to analyze.
 */
import { ChildProcess, spawn } from "child_process";
import * as path from "path";
import * as grpc from "@grpc/grpc-js";
import * as analyzerRpc from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import * as analyzer from "@pulumi/pulumi/proto/analyzer_pb";
import { ALL_POLICIES } from "../../policy/policies";
import { KubeObject, pulumiTypeOf } from "../../policy/checks";
import { deployment, goodPodSpec, LABELS, networkPolicy } from "./fixtures";
import { urnOf } from "./harness";

const POLICY_DIR = path.resolve(__dirname, "..", "..", "policy");
// The protobuf runtime @pulumi/pulumi's generated messages were built with.
const { Struct } = require(require.resolve("google-protobuf/google/protobuf/struct_pb", { paths: [path.dirname(require.resolve("@pulumi/pulumi/package.json"))] }));
const { Empty } = require(require.resolve("google-protobuf/google/protobuf/empty_pb", { paths: [path.dirname(require.resolve("@pulumi/pulumi/package.json"))] }));

let child: ChildProcess;
let stderr = "";
let client: analyzerRpc.AnalyzerClient;

/** Starts the pack the way the CLI's `pulumi-analyzer-policy` shim does and reads the port it prints. */
function startPack(): Promise<number> {
    const runner = require.resolve("@pulumi/pulumi/cmd/run-policy-pack", { paths: [POLICY_DIR] });
    child = spawn(process.execPath, [runner, "127.0.0.1:1", "."], { cwd: POLICY_DIR, stdio: ["ignore", "pipe", "pipe"] });
    child.stderr!.on("data", (d) => (stderr += d));
    return new Promise((resolve, reject) => {
        let stdout = "";
        const timer = setTimeout(() => reject(new Error(`policy pack printed no port within 90 s; stderr:\n${stderr}`)), 90_000);
        child.stdout!.on("data", (d) => {
            stdout += d;
            const m = /^(\d+)\s*$/m.exec(stdout);
            if (m) {
                clearTimeout(timer);
                resolve(Number(m[1]));
            }
        });
        child.on("exit", (code) => {
            clearTimeout(timer);
            reject(new Error(`policy pack exited with ${code} before serving; stderr:\n${stderr}`));
        });
    });
}

function call<Req, Res>(method: (req: Req, cb: (err: grpc.ServiceError | null, res: Res) => void) => unknown, req: Req): Promise<Res> {
    return new Promise((resolve, reject) => method.call(client, req, (err, res) => (err ? reject(err) : resolve(res))));
}

function options(): analyzer.AnalyzerResourceOptions {
    return new analyzer.AnalyzerResourceOptions();
}

function analyzeRequest(o: KubeObject): analyzer.AnalyzeRequest {
    const req = new analyzer.AnalyzeRequest();
    req.setType(pulumiTypeOf(o));
    req.setUrn(urnOf(o));
    req.setName(o.metadata!.name!);
    req.setProperties(Struct.fromJavaScript(o));
    req.setOptions(options());
    return req;
}

function stackResource(o: KubeObject): analyzer.AnalyzerResource {
    const r = new analyzer.AnalyzerResource();
    r.setType(pulumiTypeOf(o));
    r.setUrn(urnOf(o));
    r.setName(o.metadata!.name!);
    r.setProperties(Struct.fromJavaScript(o));
    r.setOptions(options());
    return r;
}

const diagnostics = (res: analyzer.AnalyzeResponse) =>
    res.getDiagnosticsList().map((d) => ({ policy: d.getPolicyname(), message: d.getMessage(), urn: d.getUrn(), level: d.getEnforcementlevel() }));

beforeAll(async () => {
    const port = await startPack();
    client = new analyzerRpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}, 120_000);

afterAll(() => {
    client?.close();
    if (child && child.exitCode === null) child.kill();
});

describe("the policy pack served like the Pulumi CLI serves it", () => {
    it("announces itself as observability-policies with every policy, mandatory", async () => {
        const info = await call<any, analyzer.AnalyzerInfo>(client.getAnalyzerInfo, new Empty());
        expect(info.getName()).toBe("observability-policies");
        expect(info.getVersion()).toBe(require("../../policy/package.json").version);
        expect(info.getPoliciesList().map((p) => p.getName())).toEqual(ALL_POLICIES.map((p) => p.name));
        expect(new Set(info.getPoliciesList().map((p) => p.getEnforcementlevel()))).toEqual(new Set([analyzer.EnforcementLevel.MANDATORY]));
    });

    it("reports nothing for a compliant Deployment", async () => {
        expect(diagnostics(await call(client.analyze, analyzeRequest(deployment())))).toEqual([]);
    });

    it("reports each policy a Deployment violates, as mandatory", async () => {
        const spec = goodPodSpec();
        spec.containers[0].image = "quay.io/example/app:latest";
        spec.containers[0].securityContext.allowPrivilegeEscalation = true;
        const bad = deployment({ spec });
        const found = diagnostics(await call(client.analyze, analyzeRequest(bad)));
        expect(found.map((d) => d.policy).sort()).toEqual(["pinned-container-images", "restricted-pod-security"]);
        expect(found.map((d) => d.level)).toEqual([analyzer.EnforcementLevel.MANDATORY, analyzer.EnforcementLevel.MANDATORY]);
        expect(found.map((d) => d.message).join("\n")).toContain('container "app": securityContext.allowPrivilegeEscalation must be false (is true)');
    });

    it("runs the stack policy over every resource and points at the uncovered workload", async () => {
        const covered = deployment();
        const uncovered = deployment({ name: "other", labels: { "app.kubernetes.io/name": "other" } });
        const req = new analyzer.AnalyzeStackRequest();
        req.setResourcesList([networkPolicy("app", "monitoring", { matchLabels: LABELS }), covered, uncovered].map(stackResource));
        const found = diagnostics(await call(client.analyzeStack, req));
        expect(found).toEqual([
            { policy: "network-policy-per-workload", message: expect.stringContaining("Deployment monitoring/other"), urn: urnOf(uncovered), level: analyzer.EnforcementLevel.MANDATORY },
        ]);
    });

    it("applies restricted-pod-security to the namespaces its config names", async () => {
        const agent = deployment({ namespace: "observability", spec: { ...goodPodSpec(), hostNetwork: true } });
        expect(diagnostics(await call(client.analyze, analyzeRequest(agent)))).toEqual([]);

        const config = new analyzer.PolicyConfig();
        config.setEnforcementlevel(analyzer.EnforcementLevel.MANDATORY);
        config.setProperties(Struct.fromJavaScript({ namespaces: ["observability"] }));
        const req = new analyzer.ConfigureAnalyzerRequest();
        req.getPolicyconfigMap().set("restricted-pod-security", config);
        await call(client.configure, req);

        expect(diagnostics(await call(client.analyze, analyzeRequest(agent))).map((d) => d.policy)).toEqual(["restricted-pod-security"]);
    });
});
