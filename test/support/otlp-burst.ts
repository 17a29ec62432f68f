/**
 * Load for the collector's memory_limiter test: OTLP/HTTP trace requests encoded here as
 * protobuf (opentelemetry-proto ExportTraceServiceRequest; the SDK's exporters batch and pace
 * what they send, a burst must not), a sender that keeps a fixed number of them in flight and
 * counts how the collector answered, and the resident memory of a process from /proc.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as http from "http";

// ---------------------------------------------------------------------------------------------
// A minimal protobuf writer (wire types 0, 1 and 2), enough for ExportTraceServiceRequest.

function varint(n: number | bigint): Buffer {
    let v = BigInt(n);
    const out: number[] = [];
    do {
        let b = Number(v & 0x7fn);
        v >>= 7n;
        if (v > 0n) b |= 0x80;
        out.push(b);
    } while (v > 0n);
    return Buffer.from(out);
}

const tag = (no: number, wire: number) => varint((no << 3) | wire);
const bytesField = (no: number, v: Buffer | string) => {
    const b = typeof v === "string" ? Buffer.from(v, "utf8") : v;
    return Buffer.concat([tag(no, 2), varint(b.length), b]);
};
const varintField = (no: number, v: number) => Buffer.concat([tag(no, 0), varint(v)]);
const fixed64Field = (no: number, v: bigint) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(v);
    return Buffer.concat([tag(no, 1), b]);
};

/** KeyValue{key, AnyValue{string_value}}. */
const stringAttribute = (no: number, key: string, value: string) => bytesField(no, Buffer.concat([bytesField(1, key), bytesField(2, bytesField(1, value))]));

export interface BurstRequestShape {
    /** Traces per request, each with {@link spansPerTrace} spans. */
    readonly traces: number;
    readonly spansPerTrace: number;
    /** Length of a filler attribute on every span (what makes the request heavy). */
    readonly attributeBytes: number;
    readonly service: string;
}

/**
 * One ExportTraceServiceRequest of fresh traces (random ids): a server span per trace with its
 * children, all OK and fast, so tail sampling holds each for its decision_wait like any ordinary
 * trace.
 */
export function encodeTraceRequest(s: BurstRequestShape): Buffer {
    const now = BigInt(Date.now()) * 1_000_000n;
    const filler = crypto.randomBytes(Math.ceil(s.attributeBytes / 2)).toString("hex").slice(0, s.attributeBytes);
    const spans: Buffer[] = [];
    for (let t = 0; t < s.traces; t++) {
        const traceId = crypto.randomBytes(16);
        const root = crypto.randomBytes(8);
        for (let i = 0; i < s.spansPerTrace; i++) {
            const spanId = i === 0 ? root : crypto.randomBytes(8);
            spans.push(
                bytesField(
                    2,
                    Buffer.concat([
                        bytesField(1, traceId),
                        bytesField(2, spanId),
                        ...(i === 0 ? [] : [bytesField(4, root)]),
                        bytesField(5, i === 0 ? "GET /orders/:id" : `step ${i}`),
                        varintField(6, i === 0 ? 2 : 1),
                        fixed64Field(7, now),
                        fixed64Field(8, now + 2_000_000n),
                        stringAttribute(9, "http.route", "/orders/:id"),
                        stringAttribute(9, "order.note", filler),
                    ]),
                ),
            );
        }
    }
    const resource = bytesField(1, Buffer.concat([stringAttribute(1, "service.name", s.service), stringAttribute(1, "k8s.namespace.name", "load")]));
    const scopeSpans = bytesField(2, Buffer.concat([bytesField(1, bytesField(1, "burst")), ...spans]));
    return bytesField(1, Buffer.concat([resource, scopeSpans]));
}

// ---------------------------------------------------------------------------------------------
// Sending

export interface BurstResult {
    /** Requests sent. */
    readonly sent: number;
    /** Requests answered, by HTTP status. */
    readonly statuses: Record<number, number>;
    /** Requests that failed without an answer (connection reset, timeout). */
    readonly errors: number;
    /** Bytes of the request bodies sent. */
    readonly bytes: number;
    /** Spans in the requests answered 200. */
    readonly acceptedSpans: number;
    /** Spans in the requests answered otherwise or not at all. */
    readonly refusedSpans: number;
    /** The body of the first non-200 answer. */
    readonly firstRefusal?: { status: number; body: string };
}

function post(agent: http.Agent, url: string, body: Buffer): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
        const req = http.request(url, { method: "POST", agent, timeout: 30_000, headers: { "content-type": "application/x-protobuf", "content-length": body.length } }, (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8").slice(0, 500) }));
            res.on("error", reject);
        });
        req.on("timeout", () => req.destroy(new Error(`POST ${url} timed out`)));
        req.on("error", reject);
        req.end(body);
    });
}

/**
 * A request to send many times over with new traces each time: the encoded body and, per trace,
 * the offsets of its 16-byte trace id (once in each of its spans).
 */
export interface TraceRequestTemplate {
    readonly body: Buffer;
    readonly traceIdOffsets: readonly (readonly number[])[];
}

export function traceRequestTemplate(s: BurstRequestShape): TraceRequestTemplate {
    const body = encodeTraceRequest(s);
    const traceIdOffsets: number[][] = [];
    // Each trace's spans are consecutive: find the id of the first span of each run.
    const spansStart = body.indexOf(Buffer.from("burst"));
    let at = spansStart;
    for (let t = 0; t < s.traces; t++) {
        // Span{ trace_id = 1 }: tag 0x0a, length 16, then the id.
        const first = body.indexOf(Buffer.from([0x0a, 0x10]), at) + 2;
        const id = body.subarray(first, first + 16);
        const offsets: number[] = [];
        let from = first;
        for (let i = 0; i < s.spansPerTrace; i++) {
            const o = body.indexOf(id, from);
            if (o < 0) throw new Error(`trace ${t}: span ${i}'s trace id not found in the encoded request`);
            offsets.push(o);
            from = o + 16;
        }
        traceIdOffsets.push(offsets);
        at = from;
    }
    return { body, traceIdOffsets };
}

/** A copy of the template with a new random trace id for each trace. */
export function withNewTraceIds(t: TraceRequestTemplate): Buffer {
    const body = Buffer.from(t.body);
    const ids = crypto.randomBytes(16 * t.traceIdOffsets.length);
    t.traceIdOffsets.forEach((offsets, i) => {
        for (const o of offsets) ids.copy(body, o, 16 * i, 16 * i + 16);
    });
    return body;
}

/**
 * Posts up to `requests` trace requests to `<otlpHttp>/v1/traces`, `concurrency` at a time,
 * without backing off (what a misbehaving or bursting sender does), stopping early once
 * `stopAfterRefusals` requests were refused or failed. Every request holds new traces.
 */
export async function sendBurst(otlpHttp: string, shape: BurstRequestShape, requests: number, concurrency: number, opts: { stopAfterRefusals?: number } = {}): Promise<BurstResult> {
    const template = traceRequestTemplate(shape);
    const spansPer = shape.traces * shape.spansPerTrace;
    const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
    const statuses: Record<number, number> = {};
    let sent = 0;
    let errors = 0;
    let bytes = 0;
    let acceptedSpans = 0;
    let refusedSpans = 0;
    let firstRefusal: { status: number; body: string } | undefined;
    let refused = 0;
    const worker = async () => {
        while (sent < requests && (opts.stopAfterRefusals === undefined || refused < opts.stopAfterRefusals)) {
            const body = withNewTraceIds(template);
            sent++;
            bytes += body.length;
            try {
                const r = await post(agent, `${otlpHttp}/v1/traces`, body);
                statuses[r.status] = (statuses[r.status] ?? 0) + 1;
                if (r.status === 200) acceptedSpans += spansPer;
                else {
                    refused++;
                    refusedSpans += spansPer;
                    firstRefusal ??= r;
                }
            } catch {
                errors++;
                refused++;
                refusedSpans += spansPer;
            }
        }
    };
    try {
        await Promise.all(Array.from({ length: concurrency }, worker));
    } finally {
        agent.destroy();
    }
    return { sent, statuses, errors, bytes, acceptedSpans, refusedSpans, ...(firstRefusal ? { firstRefusal } : {}) };
}

// ---------------------------------------------------------------------------------------------
// Memory of a process

/** A `VmRSS`/`VmHWM`-style line of /proc/<pid>/status, in bytes. */
export function procStatusBytes(pid: number, field: "VmRSS" | "VmHWM"): number {
    const text = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(text);
    if (!m) throw new Error(`/proc/${pid}/status has no ${field} line`);
    return Number(m[1]) * 1024;
}

/** Samples a process's RSS every `intervalMs` until stopped; returns the highest value seen. */
export function watchRss(pid: number, intervalMs = 100): { stop: () => { peak: number; samples: number } } {
    let peak = 0;
    let samples = 0;
    const timer = setInterval(() => {
        try {
            peak = Math.max(peak, procStatusBytes(pid, "VmRSS"));
            samples++;
        } catch {
            /* the process is gone: the caller checks that */
        }
    }, intervalMs);
    return {
        stop: () => {
            clearInterval(timer);
            return { peak, samples };
        },
    };
}
