/**
 * Endpoints for the probes to probe, on 127.0.0.1: a health server whose `/health` answers 200
 * or 503 on demand and can be stopped and started again on the same port, and HTTPS servers with
 * short-lived self-signed certificates made by the real `openssl` (failing with the install hint
 * when it is missing, never skipping).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as path from "path";

/** A `/health` endpoint whose answer the test controls. */
export interface HealthServer {
    readonly port: number;
    /** `http://127.0.0.1:<port>/health` */
    readonly url: string;
    /** Answer `/health` with this status from now on (200 with `{"status":"ok"}`, else `{"status":"failing"}`). */
    setStatus(status: number): void;
    /** Stop listening (connections are refused) / listen again on the same port. */
    stop(): Promise<void>;
    start(): Promise<void>;
    /** Requests to `/health` so far. */
    readonly hits: () => number;
}

function listen(server: http.Server | https.Server, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, "127.0.0.1", () => {
            server.off("error", reject);
            resolve((server.address() as { port: number }).port);
        });
    });
}

function close(server: http.Server | https.Server): Promise<void> {
    return new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
    });
}

/** Serves `/health` (200 or the status set) and 404 elsewhere. */
function healthHandler(status: () => number, hit: () => void): http.RequestListener {
    return (req, res) => {
        if (req.url !== "/health") {
            res.writeHead(404).end();
            return;
        }
        hit();
        const s = status();
        res.writeHead(s, { "Content-Type": "application/json" }).end(JSON.stringify({ status: s === 200 ? "ok" : "failing" }));
    };
}

export async function startHealthServer(): Promise<HealthServer> {
    let status = 200;
    let hits = 0;
    let server = http.createServer(healthHandler(() => status, () => hits++));
    const port = await listen(server, 0);
    let running = true;
    return {
        port,
        url: `http://127.0.0.1:${port}/health`,
        setStatus: (s) => {
            status = s;
        },
        stop: async () => {
            if (!running) return;
            running = false;
            await close(server);
        },
        start: async () => {
            if (running) return;
            server = http.createServer(healthHandler(() => status, () => hits++));
            await listen(server, port);
            running = true;
        },
        hits: () => hits,
    };
}

/** A self-signed certificate for `localhost` and 127.0.0.1. */
export interface SelfSigned {
    readonly certFile: string;
    readonly keyFile: string;
    /** notAfter as reported by openssl, in ms since the epoch. */
    readonly notAfter: number;
}

/** The openssl on PATH; throws with how to install it when there is none. */
export function opensslBinary(): string {
    const r = spawnSync("openssl", ["version"], { encoding: "utf8" });
    if (r.error || r.status !== 0) {
        throw new Error("openssl is missing: the certificate-expiry test makes its certificates with it. Install it with `apt-get install openssl`.");
    }
    return "openssl";
}

/** `openssl req -x509` with an EC P-256 key, valid for `days` days from now. */
export function selfSignedCertificate(dir: string, name: string, days: number): SelfSigned {
    const openssl = opensslBinary();
    const certFile = path.join(dir, `${name}.crt`);
    const keyFile = path.join(dir, `${name}.key`);
    const args = [
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", keyFile, "-out", certFile, "-days", String(days),
        "-subj", `/CN=localhost/O=probe-test-${name}`, "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
    ];
    const r = spawnSync(openssl, args, { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`openssl ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
    const end = spawnSync(openssl, ["x509", "-noout", "-enddate", "-in", certFile], { encoding: "utf8" });
    const m = /notAfter=(.+)/.exec(end.stdout);
    if (!m) throw new Error(`openssl x509 -enddate: ${end.stdout}${end.stderr}`);
    return { certFile, keyFile, notAfter: Date.parse(m[1]!.trim()) };
}

/** An HTTPS `/health` (always 200) serving `cert`. */
export async function startTlsHealthServer(cert: SelfSigned): Promise<{ port: number; close: () => Promise<void> }> {
    const server = https.createServer({ cert: fs.readFileSync(cert.certFile), key: fs.readFileSync(cert.keyFile) }, healthHandler(() => 200, () => undefined));
    const port = await listen(server, 0);
    return { port, close: () => close(server) };
}
