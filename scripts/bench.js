#!/usr/bin/env node
// npm run bench [-- <suite>]: benchmarks that report medians and ratios, never asserted in tests
// (timings on a shared 2-core machine are noisy). Suites:
//   render   median wall time of a prod render over N runs, and of the program evaluation alone
//   delivery alert delivery latency (Prometheus firing → webhook sink) with the prod timings, median
//            of 5 runs against real Prometheus + 3 clustered Alertmanagers (scripts/bench-delivery.ts;
//            takes ~12 min)
//   alerts   alert quality: incident and benign scenarios through promtool in simulated time, minutes
//            from onset to the first warning and page, false alerts, and issue 4's targets (exit 1 if missed)
//   dashboards dashboard load cost: every panel query over 6 h of backfilled history (>100k series), server
//            time and samples per dashboard with and without recording rules (scripts/bench-dashboards.ts;
//            first run ~30 min building the blocks, later runs reuse them)
//   pipeline spans/s and points/s through the rendered prod collector agent → gateway with zero drops, and
//            the ratio to the same collectors with pass-through pipelines (scripts/bench-pipeline.ts;
//            needs `node scripts/build-go-tools.js otelcol`)
//   up       pulumi up (create), preview (no change) and up (one ConfigMap change) with the real
//            engine on the local control plane, dev and prod, median of 3, beside the offline
//            render (scripts/bench-up.ts; needs `node scripts/build-go-tools.js`)
"use strict";
const { spawnSync } = require("child_process");
const fs = require("fs");
const os = require("os");
const path = require("path");

const root = path.resolve(__dirname, "..");

function median(xs) {
    const s = [...xs].sort((a, b) => a - b);
    const m = Math.floor(s.length / 2);
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function benchRender({ stack = "prod", runs = 5 } = {}) {
    const walls = [];
    const evals = [];
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "bench-render-"));
    try {
        for (let i = 0; i < runs; i++) {
            const started = process.hrtime.bigint();
            const r = spawnSync(process.execPath, [path.join(root, "scripts/render.js"), "--stack", stack, "--out", path.join(tmp, String(i))], {
                cwd: root,
                encoding: "utf8",
            });
            const wall = Number(process.hrtime.bigint() - started) / 1e6;
            if (r.status !== 0) throw new Error(`render failed:\n${r.stderr}`);
            const m = /program evaluated in (\d+) ms/.exec(r.stdout);
            if (!m) throw new Error(`render output has no evaluation time:\n${r.stdout}`);
            walls.push(wall);
            evals.push(Number(m[1]));
            console.log(`  run ${i + 1}/${runs}: wall ${Math.round(wall)} ms, program evaluation ${m[1]} ms`);
        }
    } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
    }
    const wall = median(walls);
    const evaluation = median(evals);
    console.log(`render ${stack}: median wall ${Math.round(wall)} ms, median program evaluation ${Math.round(evaluation)} ms over ${runs} runs` +
        ` (target: wall under 10000 ms: ${wall < 10000 ? "met" : "NOT met"})`);
    return { wall, evaluation };
}

// Real binaries for minutes, in a ts-node child; it prints its own report. A missed target is
// reported, not an error; a failed setup or wait exits non-zero and fails the suite.
// `onExit1`: what exit code 1 means for suites that use it for a missed target.
function runTsSuite(name, script, args = [], onExit1) {
    const r = spawnSync(process.execPath, [require.resolve("ts-node/dist/bin.js"), "--transpile-only", path.join(root, "scripts", script), ...args], {
        cwd: root,
        stdio: "inherit",
    });
    if (r.status === 0) return;
    throw new Error(`${name} bench: ${r.status === 1 && onExit1 ? onExit1 : `failed (exit ${r.status ?? r.signal})`}`);
}

const suites = { render: () => benchRender({ stack: "prod", runs: 5 }) };
suites.delivery = () => runTsSuite("delivery", "bench-delivery.ts", ["--runs", "5"]);
suites.alerts = () => runTsSuite("alerts", "bench-alerts.ts", [], "a target is not met");
suites.dashboards = () => runTsSuite("dashboards", "bench-dashboards.ts");
suites.pipeline = () => runTsSuite("pipeline", "bench-pipeline.ts", [], "drops were counted");
suites.up = () => runTsSuite("up", "bench-up.ts");
const wanted = process.argv.slice(2);
const unknown = wanted.filter((s) => !suites[s]);
if (unknown.length) {
    console.error(`unknown bench suite(s) ${unknown.join(", ")}: expected one of ${Object.keys(suites).join(", ")}`);
    process.exit(2);
}
for (const s of wanted.length ? wanted : Object.keys(suites)) {
    console.log(`== ${s}`);
    suites[s]();
}
