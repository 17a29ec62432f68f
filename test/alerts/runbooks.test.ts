/**
 * Every alert has its runbook page (docs/runbooks/<AlertName>.md, where runbook_url points) and
 * every page its alert. Each page says what the alert means, its impact, how to diagnose it with
 * concrete PromQL, LogQL and kubectl, how to mitigate and when to escalate; its queries parse,
 * its LogQL selects only the indexed log labels, and its stated severity is the rule's.
 */
import * as fs from "fs";
import * as path from "path";
import { alertRules, ruleContext, ruleGroups } from "../../alerts";
import { LOG_STREAM_LABELS } from "../../components/kube/constants";
import { ROOT } from "../support/program";
import { logqlErrors, promqlErrors } from "./support/promql";

const DIR = path.join(ROOT, "docs", "runbooks");
const SECTIONS = ["## What it means", "## Impact", "## Diagnose", "## Mitigate", "## Escalate"];

/** Every alert any configuration can produce: both presets, both log backends. */
const alerts = new Map(
    [ruleContext({ preset: "prometheus" }), ruleContext({ preset: "otel" }), ruleContext({ logsBackend: "elasticsearch" })]
        .flatMap((ctx) => alertRules(ruleGroups(ctx)))
        .map((a) => [a.alert, a] as const),
);
const pages = fs.readdirSync(DIR).filter((f) => f.endsWith(".md")).map((f) => f.slice(0, -3)).sort();
const read = (name: string) => fs.readFileSync(path.join(DIR, `${name}.md`), "utf8");

/** The first code span after each `<kind>:` bullet of the Diagnose section. */
function queries(text: string, kind: "PromQL" | "LogQL" | "kubectl"): string[] {
    const diagnose = text.slice(text.indexOf("## Diagnose"), text.indexOf("## Mitigate"));
    return [...diagnose.matchAll(new RegExp(`^- ${kind}: \`([^\`]+)\``, "gm"))].map((m) => m[1]!);
}

describe("the runbooks", () => {
    it("have a page for every alert, and an alert for every page", () => {
        expect(pages).toEqual([...alerts.keys()].sort());
    });
});

describe.each([...alerts.keys()].sort())("the runbook of %s", (name) => {
    const text = fs.existsSync(path.join(DIR, `${name}.md`)) ? read(name) : "";

    it("is titled with the alert name and has every section, in order", () => {
        expect(text.split("\n")[0]).toBe(`# ${name}`);
        const at = SECTIONS.map((s) => text.indexOf(`\n${s}\n`));
        expect(at.every((i) => i > 0)).toBe(true);
        expect([...at].sort((a, b) => a - b)).toEqual(at);
        for (let i = 0; i < SECTIONS.length; i++) {
            const body = text.slice(at[i]! + SECTIONS[i]!.length + 2, i + 1 < SECTIONS.length ? at[i + 1] : undefined).trim();
            expect(body.length).toBeGreaterThan(40);
        }
    });

    it("states the severity the rule has", () => {
        expect(text).toContain(`**Severity:** ${alerts.get(name)!.labels.severity} `);
    });

    it("diagnoses with PromQL and LogQL that parse and kubectl commands", () => {
        const promql = queries(text, "PromQL");
        const logql = queries(text, "LogQL");
        const kubectl = queries(text, "kubectl");
        expect(promql.length).toBeGreaterThan(0);
        expect(logql.length).toBeGreaterThan(0);
        expect(kubectl.length).toBeGreaterThan(0);
        expect(promql.flatMap((q) => promqlErrors(q).map((e) => `${q}: ${e}`))).toEqual([]);
        expect(logql.flatMap((q) => logqlErrors(q).map((e) => `${q}: ${e}`))).toEqual([]);
        expect(kubectl.filter((c) => !c.startsWith("kubectl "))).toEqual([]);
    });

    it("selects logs only by the indexed stream labels", () => {
        const indexed = new Set<string>(Object.values(LOG_STREAM_LABELS));
        const used = queries(text, "LogQL").flatMap((q) => [...(/\{([^}]*)\}/.exec(q)?.[1] ?? "").matchAll(/([a-z_]+)\s*(=~|!~|!=|=)/g)].map((m) => m[1]!));
        expect(used.length).toBeGreaterThan(0);
        expect(used.filter((l) => !indexed.has(l))).toEqual([]);
    });
});
