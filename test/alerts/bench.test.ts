/**
 * The alert-quality bench's machinery (`npm run bench -- alerts`), on two of its scenarios: the
 * first firing times it reads back from promtool are the ones the rules produce, and the verdicts
 * follow from them. The full suite with its report runs as the bench.
 */
import { runBench, ScenarioResult, verdicts } from "./support/bench";
import { toolPath } from "../support/tools";

let results: ScenarioResult[];

beforeAll(async () => {
    toolPath("promtool");
    results = await runBench(2, undefined, (s) => s.name === "full outage (100% errors)" || s.name === "one-minute spike to 10% errors");
}, 300_000);

describe("the alert-quality bench", () => {
    it("finds the full outage paged by the API critical alert within 2 minutes of its onset, and nothing before the onset", () => {
        const outage = results.find((r) => r.scenario.name === "full outage (100% errors)")!;
        expect(outage.firstPage).toBeLessThanOrEqual(2);
        expect(outage.fired.map((f) => f.alertname)).toContain("ApiErrorRateCritical");
        const critical = outage.fired.find((f) => f.alertname === "ApiErrorRateCritical")!;
        // 2m error window and for: 1m: active within a minute of the onset, firing a minute later.
        expect(critical.after).toBeGreaterThanOrEqual(1);
        expect(critical.after).toBeLessThanOrEqual(2);
        expect(outage.falseAlerts).toEqual([]);
    });

    it("finds no alert at all for a one-minute spike to 10% errors", () => {
        const spike = results.find((r) => r.scenario.name === "one-minute spike to 10% errors")!;
        expect(spike.fired).toEqual([]);
        expect(spike.firstWarning).toBeUndefined();
        expect(spike.firstPage).toBeUndefined();
    });

    it("judges the targets from the results: a benign page is reported, a late page fails its target", () => {
        const outage = results.find((r) => r.scenario.name === "full outage (100% errors)")!;
        const spike = results.find((r) => r.scenario.name === "one-minute spike to 10% errors")!;
        const late: ScenarioResult = { ...outage, firstPage: 2.5 };
        const noisy: ScenarioResult = { ...spike, fired: [{ alertname: "ApiErrorRateCritical", severity: "critical", after: 0.5 }] };
        const fake = (name: string, r: ScenarioResult): ScenarioResult => ({ ...r, scenario: { ...r.scenario, name } });
        const base = [fake("20% errors", outage), fake("6% errors", outage)];
        const v = (rs: ScenarioResult[]) => Object.fromEntries(verdicts(rs).map((x) => [x.target, x.met]));
        expect(v([outage, spike, ...base])["full outage paged within 2 min"]).toBe(true);
        expect(v([late, spike, ...base])["full outage paged within 2 min"]).toBe(false);
        expect(v([outage, spike, ...base])["no page in any benign scenario"]).toBe(true);
        expect(v([outage, noisy, ...base])["no page in any benign scenario"]).toBe(false);
    });
});
