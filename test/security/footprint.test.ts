/**
 * Footprint: the dev stack must fit a small local cluster (kind, k3d, minikube on a laptop):
 * at most 2 CPU and 4 GiB of memory requested in total, as summary.json reports it; and
 * summary.json's totals must be what the manifests really request.
 */
import { cpuCores, memoryBytes } from "../../policy/checks";
import { allContainers, render, SecurityRender, workloadsOf } from "./support";

const BUDGET = { cpu: 2, memory: 4 * 2 ** 30 };

let dev: SecurityRender;
let prod: SecurityRender;
beforeAll(() => {
    dev = render("dev");
    prod = render("prod");
});

/**
 * What a render's pods request, as the scheduler counts it: per pod the larger of the sum of its
 * containers and its largest init container, times its replicas (DaemonSets: one node).
 */
function requested(r: SecurityRender): { cpu: number; memory: number } {
    let cpu = 0;
    let memory = 0;
    for (const w of workloadsOf(r.objects)) {
        const all = allContainers(w.template.spec);
        const sum = (kind: string, f: (c: any) => number) => all.filter((c) => c.kind === kind).reduce((n, c) => n + f(c.container), 0);
        const max = (kind: string, f: (c: any) => number) => Math.max(0, ...all.filter((c) => c.kind === kind).map((c) => f(c.container)));
        const c = (x: any) => cpuCores(x.resources.requests.cpu);
        const m = (x: any) => memoryBytes(x.resources.requests.memory);
        const replicas = w.replicas ?? 1;
        cpu += Math.max(sum("container", c), max("initContainer", c)) * replicas;
        memory += Math.max(sum("container", m), max("initContainer", m)) * replicas;
    }
    return { cpu, memory };
}

describe("the dev stack's footprint", () => {
    it(`requests at most ${BUDGET.cpu} CPU in total according to summary.json`, () => {
        expect(cpuCores(dev.summary.resources.requests.cpu)).toBeLessThanOrEqual(BUDGET.cpu);
    });

    it("requests at most 4 GiB of memory in total according to summary.json", () => {
        expect(memoryBytes(dev.summary.resources.requests.memory)).toBeLessThanOrEqual(BUDGET.memory);
    });

    it("reports in summary.json the totals the manifests really request (to the rounding of its units)", () => {
        const real = requested(dev);
        expect(Math.abs(cpuCores(dev.summary.resources.requests.cpu) - real.cpu)).toBeLessThan(0.001);
        expect(Math.abs(memoryBytes(dev.summary.resources.requests.memory) - real.memory)).toBeLessThan(2 ** 20);
        expect(real.cpu).toBeLessThanOrEqual(BUDGET.cpu);
        expect(real.memory).toBeLessThanOrEqual(BUDGET.memory);
    });

    it("lists every dev workload in summary.json with one replica", () => {
        const listed = dev.summary.perWorkload.map((p) => [p.workload, p.replicas]);
        expect(listed.length).toBe(workloadsOf(dev.objects).length);
        for (const [, replicas] of listed) expect(replicas).toBe(1);
    });
});

describe("the prod stack's footprint, for comparison", () => {
    it("asks for more than dev: replicas, volumes and headroom are what prod pays for durability", () => {
        expect(requested(prod).cpu).toBeGreaterThan(requested(dev).cpu * 3);
        expect(requested(prod).memory).toBeGreaterThan(requested(dev).memory * 3);
    });
});
