/**
 * Real binaries as child processes for end-to-end tests: bound to 127.0.0.1 only, output captured
 * to a log file, readiness polled with a bounded loop, and a registry that stops everything it
 * started (SIGTERM, then SIGKILL after a bounded wait) in afterAll, also when a test failed.
 */
import { spawn, ChildProcess } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as os from "os";
import * as path from "path";

export const REPO_ROOT = path.resolve(__dirname, "..", "..");
export const TOOLS_BIN = path.join(REPO_ROOT, ".tools", "bin");
export const INSTALL_HINT = "bash scripts/install-test-tools.sh";

/** Path of a test binary under .tools/bin; throws (failing the test) when it is missing. */
export function toolBinary(name: string): string {
    const p = path.join(TOOLS_BIN, name);
    try {
        fs.accessSync(p, fs.constants.X_OK);
    } catch {
        throw new Error(`test binary ${p} is missing or not executable: install the test tools with \`${INSTALL_HINT}\``);
    }
    return p;
}

/**
 * Ports below Linux's ephemeral range (32768+), so the kernel never hands one of ours to an
 * outgoing connection; each jest worker (or other process) takes its own block of 400, so two
 * workers never pick the same port between checking it and a binary binding it.
 */
const PORT_BLOCK = 400;
const portBlockBase = (() => {
    const worker = Number(process.env.JEST_WORKER_ID ?? 0);
    const slot = worker > 0 ? worker : 16 + (process.pid % 8);
    return 20000 + (slot % 24) * PORT_BLOCK;
})();
let nextPortOffset = 0;

function canBind(port: number): Promise<boolean> {
    return new Promise((resolve) => {
        const srv = net.createServer();
        srv.unref();
        srv.once("error", () => resolve(false));
        srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
    });
}

/** A TCP port free on 127.0.0.1 now, from this process's own block (see PORT_BLOCK). */
export async function freePort(): Promise<number> {
    for (let i = 0; i < PORT_BLOCK; i++) {
        const port = portBlockBase + (nextPortOffset++ % PORT_BLOCK);
        if (await canBind(port)) return port;
    }
    throw new Error(`no free port in 127.0.0.1:${portBlockBase}-${portBlockBase + PORT_BLOCK - 1}`);
}

/** `n` distinct free ports. */
export async function freePorts(n: number): Promise<number[]> {
    const ports = new Set<number>();
    for (let i = 0; ports.size < n && i < n * 20; i++) ports.add(await freePort());
    if (ports.size < n) throw new Error(`could not allocate ${n} distinct ports`);
    return [...ports];
}

export function makeTempDir(prefix: string): string {
    return fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Whether `exit` settles within `ms`. The timer is cleared as soon as it does: a pending grace
 * timer would keep Jest's worker alive after the last test ("did not exit one second after").
 */
async function exitsWithin(exit: Promise<unknown>, ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    try {
        return await Promise.race([exit.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms)))]);
    } finally {
        clearTimeout(timer);
    }
}

/** The last `n` lines of a file ("" when it does not exist). */
export function tailFile(file: string, n = 30): string {
    try {
        const lines = fs.readFileSync(file, "utf8").split("\n");
        return lines.slice(-n - 1).join("\n");
    } catch {
        return "";
    }
}

/** GET a URL on loopback; resolves with status and body, rejects on connection errors. */
export function httpGet(url: string, timeoutMs = 3000): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
        const req = http.get(url, { timeout: timeoutMs, agent: false }, (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
            res.on("error", reject);
        });
        req.on("timeout", () => req.destroy(new Error(`GET ${url} timed out after ${timeoutMs} ms`)));
        req.on("error", reject);
    });
}

export interface StartOptions {
    /** Short name, used in log file names and messages. */
    readonly name: string;
    /** Absolute path of the binary (see {@link toolBinary}). */
    readonly binary: string;
    readonly args: readonly string[];
    /** URL answering 2xx once the process is ready. */
    readonly readyUrl?: string;
    /** @default 120 */
    readonly readyTries?: number;
    /** @default 250 */
    readonly readyIntervalMs?: number;
    readonly cwd?: string;
    readonly env?: NodeJS.ProcessEnv;
}

export class ManagedProcess {
    private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    private readonly exitPromise: Promise<void>;

    constructor(
        readonly name: string,
        readonly child: ChildProcess,
        readonly logFile: string,
    ) {
        this.exitPromise = new Promise((resolve) => {
            child.once("exit", (code, signal) => {
                this.exitInfo = { code, signal };
                resolve();
            });
            child.once("error", () => {
                this.exitInfo ??= { code: null, signal: null };
                resolve();
            });
        });
    }

    get running(): boolean {
        return this.exitInfo === undefined;
    }

    get pid(): number | undefined {
        return this.child.pid;
    }

    logTail(n = 30): string {
        return tailFile(this.logFile, n);
    }

    describeExit(): string {
        return this.exitInfo ? `exited (code ${this.exitInfo.code}, signal ${this.exitInfo.signal})` : "running";
    }

    /** Polls `url` until it answers 2xx: at most `tries` attempts `intervalMs` apart. */
    async waitReady(url: string, tries = 120, intervalMs = 250): Promise<void> {
        let last = "no attempt";
        for (let i = 0; i < tries; i++) {
            if (!this.running) {
                throw new Error(`${this.name} ${this.describeExit()} before it was ready at ${url}. Last log lines (${this.logFile}):\n${this.logTail()}`);
            }
            try {
                const r = await httpGet(url, 2000);
                if (r.status >= 200 && r.status < 300) return;
                last = `HTTP ${r.status}: ${r.body.slice(0, 200)}`;
            } catch (e) {
                last = (e as Error).message;
            }
            await sleep(intervalMs);
        }
        throw new Error(
            `${this.name} not ready at ${url} after ${tries} tries (${(tries * intervalMs) / 1000}s); last answer: ${last}. ` +
                `Last log lines (${this.logFile}):\n${this.logTail()}`,
        );
    }

    /** SIGTERM, then SIGKILL when it has not exited within `graceMs`. */
    async stop(graceMs = 5000): Promise<void> {
        if (!this.running || this.child.pid === undefined) return;
        this.signal("SIGTERM");
        if (!(await exitsWithin(this.exitPromise, graceMs))) {
            this.signal("SIGKILL");
            await exitsWithin(this.exitPromise, 2000);
        }
    }

    private signal(sig: NodeJS.Signals): void {
        const pid = this.child.pid;
        if (pid === undefined) return;
        // The child leads its own process group (detached): signal the group so a wrapper
        // script's children go too; fall back to the pid alone.
        try {
            process.kill(-pid, sig);
        } catch {
            try {
                process.kill(pid, sig);
            } catch {
                /* already gone */
            }
        }
    }
}

/** Everything a test file started; `stopAll()` belongs in afterAll. */
export class ProcessRegistry {
    private readonly procs: ManagedProcess[] = [];
    private readonly closers: (() => Promise<void>)[] = [];

    constructor(readonly logDir: string) {}

    async start(o: StartOptions): Promise<ManagedProcess> {
        const logFile = path.join(this.logDir, `${o.name}.log`);
        const fd = fs.openSync(logFile, "a");
        let child: ChildProcess;
        try {
            child = spawn(o.binary, [...o.args], {
                cwd: o.cwd ?? this.logDir,
                env: o.env ?? process.env,
                stdio: ["ignore", fd, fd],
                detached: true,
            });
        } finally {
            fs.closeSync(fd);
        }
        const p = new ManagedProcess(o.name, child, logFile);
        this.procs.push(p);
        if (o.readyUrl) await p.waitReady(o.readyUrl, o.readyTries ?? 120, o.readyIntervalMs ?? 250);
        return p;
    }

    /** Registers an in-process server (or anything closable) to be closed by stopAll. */
    onStop(close: () => Promise<void>): void {
        this.closers.push(close);
    }

    async stopAll(): Promise<void> {
        await Promise.all(this.procs.map((p) => p.stop().catch(() => undefined)));
        for (const c of this.closers.reverse()) await c().catch(() => undefined);
    }

    /** Log tails of every process, for failure messages. */
    logs(n = 20): string {
        return this.procs.map((p) => `--- ${p.name} (${p.describeExit()}) ${p.logFile}\n${p.logTail(n)}`).join("\n");
    }
}

/** Polls `check` until it returns a value other than undefined: bounded by tries and interval. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, tries = 60, intervalMs = 500, context?: () => string): Promise<T> {
    let lastError = "";
    for (let i = 0; i < tries; i++) {
        try {
            const v = await check();
            if (v !== undefined) return v;
        } catch (e) {
            lastError = (e as Error).message;
        }
        await sleep(intervalMs);
    }
    throw new Error(`timed out after ${tries} tries (${(tries * intervalMs) / 1000}s) waiting for ${what}${lastError ? `; last error: ${lastError}` : ""}${context ? `\n${context()}` : ""}`);
}
