/**
 * Runs a Pulumi program under the SDK's own mock runtime (`pulumi.runtime.setMocks`) and records
 * every resource it registers. Used by the offline render and by the tests.
 */
import * as pulumi from "@pulumi/pulumi";
import * as crypto from "crypto";

/** One registered resource, as the engine would have received it. */
export interface RecordedResource {
    readonly type: string;
    readonly name: string;
    readonly inputs: Record<string, any>;
    readonly custom: boolean;
    readonly provider?: string;
}

/** Secret signature used by the SDK's RPC serialisation. */
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** Replaces serialised secrets by their plain values (the render redacts by object kind). */
export function unwrapSecrets(v: any): any {
    if (Array.isArray(v)) return v.map(unwrapSecrets);
    if (v && typeof v === "object") {
        if (v["4dabf18193072939515e22adb298388d"] === SECRET_SIG) return unwrapSecrets(v.value);
        const out: Record<string, any> = {};
        for (const [k, val] of Object.entries(v)) out[k] = unwrapSecrets(val);
        return out;
    }
    return v;
}

/** Deterministic stand-in for a generated secret, recognisable in a leak scan. */
export function mockRandomValue(name: string, length = 32): string {
    const digest = crypto.createHash("sha256").update(name).digest("hex");
    return `MOCK-RANDOM-${digest}`.slice(0, Math.max(length, 24));
}

/** A PEM block whose body is a deterministic digest (not a usable key or certificate). */
export function mockPem(label: string, name: string): string {
    const body = Buffer.from(`MOCK-${label}-${crypto.createHash("sha256").update(name).digest("hex")}`).toString("base64");
    return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
}

export interface MockRun {
    readonly resources: RecordedResource[];
    /** Values the mocks produced for generated secrets (random passwords); none may be rendered. */
    readonly generatedSecrets: string[];
}

/**
 * Installs recording mocks. Call before the program is imported; the returned object fills up
 * as the program registers resources.
 */
export function installMocks(project: string, stack: string): MockRun {
    const run: MockRun = { resources: [], generatedSecrets: [] };
    pulumi.runtime.setMocks(
        {
            newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, any> } {
                const inputs = unwrapSecrets(args.inputs ?? {});
                run.resources.push({ type: args.type, name: args.name, inputs, custom: args.custom ?? true, ...(args.provider ? { provider: args.provider } : {}) });
                const state: Record<string, any> = { ...inputs };
                if (args.type === "random:index/randomPassword:RandomPassword" || args.type === "random:index/randomString:RandomString") {
                    state.result = mockRandomValue(`${args.type}/${args.name}`, inputs.length ?? 32);
                    run.generatedSecrets.push(state.result);
                }
                if (args.type === "random:index/randomBytes:RandomBytes") {
                    const value = Buffer.from(mockRandomValue(`${args.type}/${args.name}`, 48)).toString("base64");
                    state.base64 = value;
                    state.hex = Buffer.from(value, "base64").toString("hex");
                    run.generatedSecrets.push(value, state.hex);
                }
                // @pulumi/tls: deterministic stand-ins in PEM armour; private keys are secrets.
                if (args.type === "tls:index/privateKey:PrivateKey") {
                    state.privateKeyPem = mockPem("PRIVATE KEY", `${args.type}/${args.name}`);
                    state.privateKeyPemPkcs8 = state.privateKeyPem;
                    state.publicKeyPem = mockPem("PUBLIC KEY", `${args.type}/${args.name}/public`);
                    run.generatedSecrets.push(state.privateKeyPem);
                }
                if (args.type === "tls:index/selfSignedCert:SelfSignedCert" || args.type === "tls:index/locallySignedCert:LocallySignedCert") {
                    state.certPem = mockPem("CERTIFICATE", `${args.type}/${args.name}`);
                }
                if (args.type === "tls:index/certRequest:CertRequest") {
                    state.certRequestPem = mockPem("CERTIFICATE REQUEST", `${args.type}/${args.name}`);
                }
                return { id: `${args.name}-id`, state };
            },
            call(args: pulumi.runtime.MockCallArgs): Record<string, any> {
                return args.inputs;
            },
        },
        project,
        stack,
        false,
    );
    return run;
}
