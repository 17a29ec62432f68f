/**
 * Runs the offline render as users run it (`node scripts/render.js ...`) in a child process, and
 * reads its output back.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import type { K8sObject } from "../../scripts/lib/manifests";
import { ROOT } from "./program";

export interface RenderRun {
    readonly status: number | null;
    readonly stdout: string;
    readonly stderr: string;
}

/** Runs `node scripts/render.js <args>` from the repository root. */
export function runRender(args: readonly string[]): RenderRun {
    const r = spawnSync(process.execPath, [path.join(ROOT, "scripts", "render.js"), ...args], {
        cwd: ROOT,
        encoding: "utf8",
        timeout: 120_000,
        env: { ...process.env, FORCE_COLOR: "0" },
    });
    if (r.error) throw r.error;
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function makeTempDir(prefix: string): string {
    return fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
}

/** Every file under dir, as paths relative to it, sorted. */
export function listFiles(dir: string): string[] {
    const out: string[] = [];
    const walk = (d: string) => {
        for (const e of fs.readdirSync(d, { withFileTypes: true })) {
            const p = path.join(d, e.name);
            if (e.isDirectory()) walk(p);
            else out.push(path.relative(dir, p));
        }
    };
    walk(dir);
    return out.sort();
}

/** The documents of a rendered manifests.yaml. */
export function readManifests(outDir: string): K8sObject[] {
    return yaml.loadAll(fs.readFileSync(path.join(outDir, "manifests.yaml"), "utf8")) as K8sObject[];
}
