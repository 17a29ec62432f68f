/**
 * The policy pack and the audit over what the program really declares: dev and prod are rendered
 * once (`node scripts/render.js`, as users run it) and every policy runs over every object, the
 * way `pulumi preview --policy-pack policy` would run them. A broken copy of a rendered workload
 * shows that the clean result is not vacuous.
 */
import * as fs from "fs";
import * as path from "path";
import { ALL_POLICIES, restrictedPodSecurity } from "../../policy/policies";
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { KubeObject, podTemplateOf } from "../../policy/checks";
import { clone } from "./fixtures";
import { auditObjects, explainedFindings, unexplainedFindings } from "../../scripts/audit-main";
import { makeTempDir, readManifests, runRender } from "../support/render";
import { runResourcePolicy, runStackPolicy } from "./harness";

const STACKS = ["dev", "prod"] as const;
const rendered: Partial<Record<(typeof STACKS)[number], KubeObject[]>> = {};
let tmp: string;

beforeAll(() => {
    tmp = makeTempDir("policy-render");
    for (const stack of STACKS) {
        const dir = path.join(tmp, stack);
        const run = runRender(["--stack", stack, "--out", dir]);
        if (run.status !== 0) throw new Error(`render of ${stack} failed:\n${run.stderr}`);
        rendered[stack] = readManifests(dir);
    }
});

afterAll(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

const isStackPolicy = (p: ResourceValidationPolicy | StackValidationPolicy): p is StackValidationPolicy => "validateStack" in p;

/** Every violation the whole pack reports for a set of objects, prefixed with the policy name. */
async function runPack(objects: readonly KubeObject[]): Promise<string[]> {
    const out: string[] = [];
    for (const p of ALL_POLICIES) {
        if (isStackPolicy(p)) out.push(...(await runStackPolicy(p, objects)).map((r) => `${p.name}: ${r.message}`));
        else for (const o of objects) out.push(...(await runResourcePolicy(p, o)).map((m) => `${p.name}: ${m}`));
    }
    return out;
}

describe.each(STACKS)("the rendered %s stack", (stack) => {
    const objects = () => rendered[stack]!;

    it("has workloads in the restricted monitoring namespace for the pack to check", () => {
        const ns = objects().find((o) => o.kind === "Namespace" && o.metadata?.name === "monitoring");
        expect(ns?.metadata?.labels?.["pod-security.kubernetes.io/enforce"]).toBe("restricted");
        expect(objects().filter((o) => o.metadata?.namespace === "monitoring" && podTemplateOf(o)).length).toBeGreaterThanOrEqual(2);
    });

    it("passes every policy of the pack", async () => {
        expect(await runPack(objects())).toEqual([]);
    });

    it("fails the pack once a rendered monitoring workload is made privileged", async () => {
        const broken = clone(objects());
        const workload = broken.find((o) => o.metadata?.namespace === "monitoring" && podTemplateOf(o))!;
        podTemplateOf(workload)!.spec.containers[0].securityContext.privileged = true;
        expect(await runResourcePolicy(restrictedPodSecurity, workload)).toEqual([expect.stringContaining("securityContext.privileged must not be true")]);
    });

    it("fails the NetworkPolicy coverage once the rendered NetworkPolicies are removed", async () => {
        const withoutPolicies = objects().filter((o) => o.kind !== "NetworkPolicy");
        const workloads = objects().filter((o) => podTemplateOf(o)).length;
        expect((await runPack(withoutPolicies)).filter((m) => m.startsWith("network-policy-per-workload:"))).toHaveLength(workloads);
    });

    it("has no unexplained audit violations, and every explained one carries its recorded reason", () => {
        const report = auditObjects(stack, objects());
        expect(unexplainedFindings(report).map((f) => `${f.workload.id} [${f.check}] ${f.message}`)).toEqual([]);
        for (const f of explainedFindings(report)) {
            expect(f.workload.namespace).not.toBe("monitoring");
            expect(f.reason).toMatch(/\w{4,}/);
        }
    });
});
