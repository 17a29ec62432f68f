/**
 * The GitHub Actions workflows, parsed with js-yaml and checked for the structure GitHub needs
 * and the properties this project relies on: pinned actions, minimal permissions, a Pulumi
 * preview of dev and prod that forks skip, and an offline render diff that needs no secret and
 * is commented from a trusted context that never runs the pull request's code.
 */
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { ROOT } from "../support/program";

const WORKFLOWS_DIR = path.join(ROOT, ".github", "workflows");

interface Step {
    name?: string;
    uses?: string;
    run?: string;
    with?: Record<string, unknown>;
    env?: Record<string, string>;
    if?: string;
}
interface Job {
    name?: string;
    "runs-on"?: string;
    container?: string | { image: string };
    if?: string;
    permissions?: Record<string, string> | string;
    strategy?: { matrix?: Record<string, unknown> };
    env?: Record<string, string>;
    steps?: Step[];
}
interface Workflow {
    name?: string;
    on?: Record<string, any>;
    permissions?: Record<string, string> | string;
    jobs?: Record<string, Job>;
}

function load(file: string): Workflow {
    return yaml.load(fs.readFileSync(path.join(WORKFLOWS_DIR, file), "utf8")) as Workflow;
}

const FILES = ["ci.yml", "preview.yml", "preview-comment.yml"];
const workflows = Object.fromEntries(FILES.map((f) => [f, load(f)])) as Record<string, Workflow>;
const jobsOf = (w: Workflow) => Object.entries(w.jobs ?? {});
const stepsOf = (w: Workflow) => jobsOf(w).flatMap(([, j]) => j.steps ?? []);

/** `owner/repo[/path]@vN[.N[.N]]` or a full commit SHA; never a branch. */
const PINNED_ACTION = /^[A-Za-z0-9-]+\/[A-Za-z0-9._-]+(\/[A-Za-z0-9._/-]+)?@(v\d+(\.\d+){0,2}|[0-9a-f]{40})$/;

/** A job comments when it runs the Pulumi action with comment-on-pr, or a script that writes comments. */
function comments(job: Job): boolean {
    return (job.steps ?? []).some(
        (s) =>
            (s.uses?.startsWith("pulumi/actions@") && String(s.with?.["comment-on-pr"]) === "true") ||
            (s.uses?.startsWith("actions/github-script@") && /issues\.(create|update)Comment/.test(String(s.with?.script ?? ""))),
    );
}

describe("every workflow", () => {
    it("is the set of workflow files the project ships", () => {
        expect(fs.readdirSync(WORKFLOWS_DIR).sort()).toEqual([...FILES].sort());
    });

    describe.each(FILES)("%s", (file) => {
        const w = workflows[file]!;

        it("has a name, a trigger and at least one job", () => {
            expect(typeof w.name).toBe("string");
            expect(w.on && typeof w.on).toBe("object");
            expect(jobsOf(w).length).toBeGreaterThan(0);
        });

        it("gives every job a runner and steps that each either use an action or run a command", () => {
            for (const [id, job] of jobsOf(w)) {
                expect({ id, runsOn: job["runs-on"] }).toEqual({ id, runsOn: expect.stringMatching(/^(ubuntu|debian)-/) });
                expect(Array.isArray(job.steps) && job.steps.length > 0).toBe(true);
                for (const step of job.steps!) {
                    expect({ id, step: step.name, kinds: [step.uses !== undefined, step.run !== undefined].filter(Boolean).length }).toEqual({ id, step: step.name, kinds: 1 });
                }
            }
        });

        it("pins every action to a version tag or commit SHA, and every container image to a tag", () => {
            for (const step of stepsOf(w).filter((s) => s.uses)) expect(step.uses).toMatch(PINNED_ACTION);
            for (const [, job] of jobsOf(w)) {
                if (job.container === undefined) continue;
                const image = typeof job.container === "string" ? job.container : job.container.image;
                expect(image).toMatch(/^[a-z0-9./-]+:[A-Za-z0-9][A-Za-z0-9._-]*$/);
                expect(image).not.toMatch(/:latest$/);
            }
        });

        it("grants only contents: read at the top level", () => {
            expect(w.permissions).toEqual({ contents: "read" });
        });

        it("grants pull-requests: write only to jobs that comment, and no other write scope but actions: read", () => {
            for (const [id, job] of jobsOf(w)) {
                const perms = job.permissions ?? {};
                expect({ id, perms: typeof perms }).toEqual({ id, perms: "object" });
                for (const [scope, level] of Object.entries(perms as Record<string, string>)) {
                    if (scope === "pull-requests" && level === "write") expect({ id, comments: comments(job) }).toEqual({ id, comments: true });
                    else expect({ id, scope, level }).toEqual({ id, scope, level: "read" });
                }
                if (comments(job)) expect({ id, perms }).toEqual({ id, perms: expect.objectContaining({ "pull-requests": "write" }) });
            }
        });

        it("never runs on pull_request_target, which would hand a fork's code a write token", () => {
            expect(Object.keys(w.on ?? {})).not.toContain("pull_request_target");
        });
    });
});

describe("ci.yml", () => {
    const ci = workflows["ci.yml"]!;

    it("runs on pull requests and pushes to main", () => {
        expect(ci.on).toEqual(expect.objectContaining({ pull_request: null, push: { branches: ["main"] } }));
    });

    it("runs bash .ci/run on Debian with Node 24 and Go, caching the Go-built tools", () => {
        const [[, job]] = jobsOf(ci) as [[string, Job]];
        expect(job.container).toMatch(/^node:24-(bookworm|trixie)(-slim)?$/);
        const go = job.steps!.find((s) => s.uses?.startsWith("actions/setup-go@"));
        expect(go?.with?.["go-version"]).toBe(/^go(\S+)/.exec(require("child_process").execFileSync("go", ["env", "GOVERSION"], { encoding: "utf8" }))![1]);
        const cache = job.steps!.find((s) => s.uses?.startsWith("actions/cache@"));
        expect(String(cache?.with?.path)).toContain("~/.cache/observability-stack");
        expect(String(cache?.with?.key)).toContain("scripts/build-go-tools.js");
        expect(job.steps!.map((s) => s.run).filter(Boolean)).toEqual(["bash .ci/run"]);
        expect(job.steps![0]!.uses).toMatch(/^actions\/checkout@/);
        expect(fs.existsSync(path.join(ROOT, ".ci", "run"))).toBe(true);
    });
});

describe("preview.yml", () => {
    const preview = workflows["preview.yml"]!;
    const job = (id: string) => preview.jobs![id]!;

    it("runs on pull requests", () => {
        expect(Object.keys(preview.on!)).toEqual(["pull_request"]);
    });

    it("previews dev and prod through scripts/pr-preview.sh with the policy pack, on the CLI the tests run, and comments", () => {
        const pulumi = job("pulumi-preview");
        expect(pulumi.strategy?.matrix?.stack).toEqual(["dev", "prod"]);
        // The official action only installs the CLI, at the version scripts/build-go-tools.js builds.
        const install = pulumi.steps!.filter((s) => s.uses?.startsWith("pulumi/actions@"));
        expect(install).toHaveLength(1);
        expect(install[0]!.uses).toMatch(/^pulumi\/actions@v\d+$/);
        expect(install[0]!.with).toEqual({ "pulumi-version": require(path.join(ROOT, "scripts", "build-go-tools.js")).PULUMI_VERSION.slice(1) });
        // The preview is the script test/lifecycle/cli.test.ts runs, for the matrix stack.
        const preview = pulumi.steps!.find((s) => (s.run ?? "").includes("scripts/pr-preview.sh"))!;
        expect(preview.run).toBe('bash scripts/pr-preview.sh pulumi-preview "$STACK" "$RUNNER_TEMP/preview.md"');
        expect(preview.env).toEqual({ PULUMI_ACCESS_TOKEN: "${{ secrets.PULUMI_ACCESS_TOKEN }}", STACK: expect.stringContaining("${{ matrix.stack }}") });
        const script = fs.readFileSync(path.join(ROOT, "scripts", "pr-preview.sh"), "utf8");
        expect(script).toContain('--policy-pack "$ROOT/policy"');
        expect(fs.existsSync(path.join(ROOT, "policy", "PulumiPolicy.yaml"))).toBe(true);
        // The comment step runs after a failed preview too (a policy violation is worth a comment).
        const comment = pulumi.steps![pulumi.steps!.indexOf(preview) + 1]!;
        expect(comment.uses).toMatch(/^actions\/github-script@/);
        expect(comment.if).toBe("always()");
        expect(comment.env).toEqual({ PREVIEW_FILE: "${{ runner.temp }}/preview.md" });
        expect(pulumi.permissions).toEqual({ contents: "read", "pull-requests": "write" });
    });

    it("skips the Pulumi preview for pull requests from forks, which get no secrets", () => {
        expect(job("pulumi-preview").if).toMatch(/github\.event\.pull_request\.head\.repo\.(full_name == github\.repository|fork == false)/);
    });

    it("renders base and head offline for both stacks without any secret, also for forks", () => {
        const diff = job("render-diff");
        expect(diff.if).toBeUndefined();
        expect(JSON.stringify(diff)).not.toMatch(/secrets\./);
        expect(diff.permissions).toEqual({ contents: "read" });
        const checkouts = diff.steps!.filter((s) => s.uses?.startsWith("actions/checkout@"));
        expect(checkouts.map((s) => [s.with?.path, s.with?.ref])).toEqual([
            ["head", undefined],
            ["base", "${{ github.event.pull_request.base.sha }}"],
        ]);
        const steps = diff.steps!.map((s) => s.run ?? "").join("\n");
        expect(steps).toMatch(/for side in base head; do\s+\(cd "\$side" && npm ci/);
        expect(steps).toContain("bash head/scripts/pr-preview.sh render-diff base head render-diff dev prod");
        const script = fs.readFileSync(path.join(ROOT, "scripts", "pr-preview.sh"), "utf8");
        expect(script).toContain('npm run --silent render -- --stack "$stack" --out');
        expect(script).toMatch(/diff -ruN "base\/\$stack" "head\/\$stack"/);
    });

    it("hands the diff and the pull request number to preview-comment.yml as an artifact", () => {
        const upload = job("render-diff").steps!.find((s) => s.uses?.startsWith("actions/upload-artifact@"));
        expect(upload?.with).toEqual(expect.objectContaining({ name: "render-diff", path: "render-diff/" }));
        const script = job("render-diff").steps!.map((s) => s.run ?? "").join("\n");
        expect(script).toContain("render-diff/pr-number");
        expect(script).toContain("render-diff/comment.md");
        expect(fs.readFileSync(path.join(ROOT, "scripts", "pr-preview.sh"), "utf8")).toContain('>"$out/comment.md"');
    });
});

describe("preview-comment.yml", () => {
    const comment = workflows["preview-comment.yml"]!;
    const [[, job]] = jobsOf(comment) as [[string, Job]];

    it("runs when a preview run completes, for pull request runs only", () => {
        expect(comment.on).toEqual({ workflow_run: { workflows: [workflows["preview.yml"]!.name], types: ["completed"] } });
        expect(job.if).toContain("github.event.workflow_run.event == 'pull_request'");
    });

    it("never checks out or runs the pull request's code", () => {
        expect(job.steps!.filter((s) => s.run !== undefined)).toEqual([]);
        expect(job.steps!.map((s) => s.uses!.split("@")[0])).toEqual(["actions/download-artifact", "actions/github-script"]);
    });

    it("downloads the artifact of the triggering run and comments only if the pull request is at the rendered commit", () => {
        const download = job.steps![0]!;
        expect(download.with).toEqual(expect.objectContaining({ name: "render-diff", "run-id": "${{ github.event.workflow_run.id }}" }));
        const script = String(job.steps![1]!.with!.script);
        expect(script).toContain("pr.head.sha !== context.payload.workflow_run.head_sha");
        expect(script).toMatch(/Number\.isInteger\(number\)/);
        expect(job.permissions).toEqual({ actions: "read", "pull-requests": "write" });
    });
});
