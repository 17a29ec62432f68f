/**
 * The local stand-in for the tls provider plugin (scripts/local-providers/tls.js), which the
 * lifecycle suites install under the plugin name `tls`: the chain the Elasticsearch component
 * builds (key → self-signed CA → CSR → locally signed node certificate) is valid for `openssl
 * verify`, carries the requested names and uses, and the provider's check/diff keep upstream's
 * semantics (defaults, replace-on-change, in-place earlyRenewalHours, renewal window, failures
 * naming the field). No cluster: the resource functions are called directly.
 */
import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { makeTempDir } from "../support/render";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const tls = require("../../scripts/local-providers/tls.js");
const T = {
    key: "tls:index/privateKey:PrivateKey",
    selfSigned: "tls:index/selfSignedCert:SelfSignedCert",
    csr: "tls:index/certRequest:CertRequest",
    signed: "tls:index/locallySignedCert:LocallySignedCert",
};
const URN = (type: string, name: string) => `urn:pulumi:staging::observability::observability:index:Elasticsearch$${type}::${name}`;
const asSecret = (value: unknown) => ({ [tls.SECRET_SIG]: tls.SECRET_VALUE, value });
const isSecret = (v: any) => v !== null && typeof v === "object" && v[tls.SECRET_SIG] === tls.SECRET_VALUE;

const NODE_NAMES = ["*.elasticsearch-headless.monitoring.svc", "*.elasticsearch-headless.monitoring.svc.cluster.local", "elasticsearch.monitoring.svc"];
const CA_INPUTS = {
    isCaCertificate: true,
    subject: { commonName: "staging elasticsearch transport CA", organization: "observability-stack" },
    validityPeriodHours: 10 * 8760,
    earlyRenewalHours: 90 * 24,
    allowedUses: ["cert_signing", "crl_signing", "digital_signature"],
};
const NODE_INPUTS = { validityPeriodHours: 2 * 8760, earlyRenewalHours: 30 * 24, allowedUses: ["digital_signature", "key_encipherment", "server_auth", "client_auth"] };

let tmp = "";
let work = "";
const oldTmpdir = process.env.TMPDIR;

function openssl(args: string[]): { status: number | null; out: string } {
    const r = spawnSync("openssl", args, { cwd: work, encoding: "utf8" });
    if (r.error) throw new Error(`openssl: ${r.error.message}; install it with: apt-get install openssl`);
    return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** What `check` accepts, then `create`, as the engine calls them. */
async function make(type: string, inputs: Record<string, unknown>): Promise<{ id: string; outs: Record<string, any> }> {
    const checked = tls.check(type, inputs);
    expect(checked.failures).toEqual([]);
    return tls.create(type, checked.inputs);
}

let caKey: any, ca: any, nodeKey: any, csr: any, node: any, otherCa: any;

beforeAll(async () => {
    work = makeTempDir("obs-tls-test");
    // The provider's private temp dirs go here, so the test can see that none is left behind.
    tmp = path.join(work, "tmp");
    fs.mkdirSync(tmp);
    process.env.TMPDIR = tmp;
    caKey = await make(T.key, { algorithm: "RSA", rsaBits: 3072 });
    // The SDK passes private keys to certificates as secrets.
    ca = await make(T.selfSigned, { ...CA_INPUTS, privateKeyPem: caKey.outs.privateKeyPem });
    nodeKey = await make(T.key, { algorithm: "RSA", rsaBits: 2048 });
    csr = await make(T.csr, { privateKeyPem: nodeKey.outs.privateKeyPem, subject: { commonName: "elasticsearch.monitoring.svc", organization: "observability-stack" }, dnsNames: NODE_NAMES, ipAddresses: ["10.0.0.7"] });
    node = await make(T.signed, { ...NODE_INPUTS, certRequestPem: csr.outs.certRequestPem, caPrivateKeyPem: caKey.outs.privateKeyPem, caCertPem: ca.outs.certPem });
    const otherKey = await make(T.key, { algorithm: "ECDSA", ecdsaCurve: "P256" });
    otherCa = await make(T.selfSigned, { ...CA_INPUTS, subject: { commonName: "another CA" }, privateKeyPem: otherKey.outs.privateKeyPem });
    fs.writeFileSync(path.join(work, "ca.crt"), ca.outs.certPem);
    fs.writeFileSync(path.join(work, "other-ca.crt"), otherCa.outs.certPem);
    fs.writeFileSync(path.join(work, "node.crt"), node.outs.certPem);
}, 300_000);

afterAll(() => {
    if (oldTmpdir === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = oldTmpdir;
    fs.rmSync(work, { recursive: true, force: true });
});

describe("the local tls provider stand-in", () => {
    it("issues a node certificate that openssl verifies against its CA, for server and client use, and not against another CA", () => {
        expect(openssl(["verify", "-x509_strict", "-CAfile", "ca.crt", "node.crt"])).toEqual({ status: 0, out: "node.crt: OK\n" });
        expect(openssl(["verify", "-x509_strict", "-purpose", "sslserver", "-CAfile", "ca.crt", "node.crt"]).status).toBe(0);
        expect(openssl(["verify", "-x509_strict", "-purpose", "sslclient", "-CAfile", "ca.crt", "node.crt"]).status).toBe(0);
        const other = openssl(["verify", "-CAfile", "other-ca.crt", "node.crt"]);
        expect(other.status).not.toBe(0);
        expect(other.out).toMatch(/unable to get local issuer certificate/);
    });

    it("sets the CA flag and cert signing only on the CA, with the requested uses and names", () => {
        const caCert = new crypto.X509Certificate(ca.outs.certPem);
        const nodeCert = new crypto.X509Certificate(node.outs.certPem);
        expect(caCert.ca).toBe(true);
        expect(nodeCert.ca).toBe(false);
        const ext = (file: string) => openssl(["x509", "-in", file, "-noout", "-ext", "basicConstraints,keyUsage,extendedKeyUsage,subjectAltName"]).out;
        expect(ext("ca.crt")).toBe("X509v3 Basic Constraints: critical\n    CA:TRUE\nX509v3 Key Usage: critical\n    Digital Signature, Certificate Sign, CRL Sign\n");
        expect(ext("node.crt")).toBe(
            "X509v3 Basic Constraints: critical\n    CA:FALSE\nX509v3 Key Usage: critical\n    Digital Signature, Key Encipherment\n" +
                "X509v3 Extended Key Usage: \n    TLS Web Server Authentication, TLS Web Client Authentication\n" +
                `X509v3 Subject Alternative Name: \n    ${NODE_NAMES.map((n) => `DNS:${n}`).join(", ")}, IP Address:10.0.0.7\n`,
        );
        expect(caCert.subject).toBe("O=observability-stack\nCN=staging elasticsearch transport CA");
        expect(nodeCert.subject).toBe("O=observability-stack\nCN=elasticsearch.monitoring.svc");
        expect(nodeCert.issuer).toBe(caCert.subject);
        // The certificate is the CSR's key's, signed by the CA key.
        expect(nodeCert.checkPrivateKey(crypto.createPrivateKey(tls.reveal(nodeKey.outs.privateKeyPem)))).toBe(true);
        expect(nodeCert.verify(caCert.publicKey)).toBe(true);
        expect(node.outs.caKeyAlgorithm).toBe("RSA");
        expect(ca.outs.keyAlgorithm).toBe("RSA");
    });

    it("makes validity exactly validityPeriodHours from now and reports it as upstream names it", () => {
        const nodeCert = new crypto.X509Certificate(node.outs.certPem);
        const start = Date.parse(node.outs.validityStartTime);
        const end = Date.parse(node.outs.validityEndTime);
        expect(end - start).toBe(NODE_INPUTS.validityPeriodHours * 3600_000);
        expect(Date.parse(nodeCert.validFrom)).toBe(start);
        expect(Date.parse(nodeCert.validTo)).toBe(end);
        expect(Math.abs(start - Date.now())).toBeLessThan(3600_000);
        expect(node.outs.readyForRenewal).toBe(false);
        expect(node.id).toBe(BigInt(`0x${nodeCert.serialNumber}`).toString());
    });

    it("writes keys in upstream's encodings, the private ones as secrets", () => {
        const o = caKey.outs;
        for (const k of ["privateKeyPem", "privateKeyPemPkcs8", "privateKeyOpenssh"]) expect(isSecret(o[k])).toBe(true);
        for (const k of ["publicKeyPem", "publicKeyOpenssh", "publicKeyFingerprintSha256", "algorithm", "rsaBits"]) expect(isSecret(o[k])).toBe(false);
        expect(tls.reveal(o.privateKeyPem)).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\n/);
        expect(tls.reveal(o.privateKeyPemPkcs8)).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
        expect(tls.reveal(o.privateKeyOpenssh)).toMatch(/^-----BEGIN OPENSSH PRIVATE KEY-----\n/);
        const key = crypto.createPrivateKey(tls.reveal(o.privateKeyPem));
        expect(key.asymmetricKeyDetails?.modulusLength).toBe(3072);
        expect(crypto.createPublicKey(key).export({ type: "spki", format: "pem" })).toBe(o.publicKeyPem);
        expect(o.publicKeyOpenssh).toMatch(/^ssh-rsa AAAAB3NzaC1yc2E[A-Za-z0-9+/=]+\n$/);
        expect(o.publicKeyFingerprintSha256).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
        expect(o.publicKeyFingerprintMd5).toMatch(/^([0-9a-f]{2}:){15}[0-9a-f]{2}$/);
        // Certificates keep the key they were given as a secret, and their certificate in clear.
        expect(isSecret(ca.outs.privateKeyPem)).toBe(true);
        expect(isSecret(node.outs.caPrivateKeyPem)).toBe(true);
        expect(isSecret(ca.outs.certPem)).toBe(false);
        // ECDSA keys as SEC 1, as upstream.
        expect(tls.reveal(otherCa.outs.privateKeyPem)).toMatch(/^-----BEGIN EC PRIVATE KEY-----\n/);
        expect(otherCa.outs.keyAlgorithm).toBe("ECDSA");
    });

    it("leaves no temporary file behind", () => {
        expect(fs.readdirSync(tmp)).toEqual([]);
    });

    it("adds upstream's defaults and refuses bad input naming the field and the value", () => {
        expect(tls.check(T.key, { algorithm: "RSA" }).inputs).toEqual({ algorithm: "RSA", rsaBits: 2048, ecdsaCurve: "P224" });
        expect(tls.check(T.signed, { certRequestPem: "x", caPrivateKeyPem: asSecret("k"), caCertPem: "c", validityPeriodHours: 1, allowedUses: [] }).inputs).toEqual({
            certRequestPem: "x", caPrivateKeyPem: asSecret("k"), caCertPem: "c", validityPeriodHours: 1, allowedUses: [], earlyRenewalHours: 0, isCaCertificate: false, setSubjectKeyId: false,
        });
        const failures = tls.check(T.selfSigned, { privateKeyPem: "k", isCaCertificate: true, validityPeriodHours: -1, allowedUses: ["certSigning"], dnsNames: ["not a name"], privateKeyPemWo: "k" }).failures;
        expect(failures.map((f: any) => f.property).sort()).toEqual(["allowedUses", "dnsNames", "privateKeyPemWo", "subject", "validityPeriodHours"]);
        expect(failures.find((f: any) => f.property === "allowedUses").reason).toMatch(/^expected one of any_extended, cert_signing, .* got "certSigning"$/);
        expect(failures.find((f: any) => f.property === "validityPeriodHours").reason).toBe("expected an integer >= 0, got -1");
        expect(tls.check(T.key, { algorithm: "DSA" }).failures).toEqual([{ property: "algorithm", reason: 'expected "RSA", "ECDSA" or "ED25519", got "DSA"' }]);
        // Values unknown during preview are not judged.
        expect(tls.check(T.signed, { ...NODE_INPUTS, certRequestPem: tls.UNKNOWN, caPrivateKeyPem: tls.UNKNOWN, caCertPem: tls.UNKNOWN }).failures).toEqual([]);
    });

    it("fails loudly on any other resource type", async () => {
        expect(() => tls.check("tls:index/selfSignedCert:Other", {})).toThrow(/tls:index\/selfSignedCert:Other is not implemented \(only tls:index\/privateKey:PrivateKey, /);
        await expect(tls.create("tls:index/encryptedPem:EncryptedPem", {})).rejects.toThrow(/is not implemented/);
        expect(tls.typeOf(URN(T.signed, "elasticsearch-transport-node"))).toBe(T.signed);
    });

    it("diffs as upstream: earlyRenewalHours in place, other inputs replace, a certificate in its renewal window is replaced", () => {
        const olds = node.outs;
        const news = tls.check(T.signed, { ...NODE_INPUTS, certRequestPem: csr.outs.certRequestPem, caPrivateKeyPem: caKey.outs.privateKeyPem, caCertPem: ca.outs.certPem }).inputs;
        expect(tls.diff(T.signed, olds, news)).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
        // A secret and its plain value are the same input.
        expect(tls.diff(T.signed, olds, { ...news, caPrivateKeyPem: tls.reveal(news.caPrivateKeyPem) }).changes).toBe(false);
        expect(tls.diff(T.signed, olds, { ...news, earlyRenewalHours: 48 })).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
        expect(tls.diff(T.signed, olds, { ...news, validityPeriodHours: 8760 }).replaces).toEqual(["validityPeriodHours"]);
        expect(tls.diff(T.signed, olds, { ...news, allowedUses: ["server_auth"] }).replaces).toEqual(["allowedUses"]);
        expect(tls.diff(T.signed, olds, { ...news, caCertPem: tls.UNKNOWN }).replaces).toEqual(["caCertPem"]);
        const end = Date.parse(olds.validityEndTime);
        expect(tls.diff(T.signed, olds, news, end - 31 * 24 * 3600_000).replaces).toEqual([]);
        expect(tls.diff(T.signed, olds, news, end - 29 * 24 * 3600_000).replaces).toEqual(["readyForRenewal"]);
        expect(tls.update(T.signed, olds, { ...news, earlyRenewalHours: 48 }).outs.earlyRenewalHours).toBe(48);
        expect(tls.diff(T.selfSigned, ca.outs, { ...tls.check(T.selfSigned, { ...CA_INPUTS, privateKeyPem: caKey.outs.privateKeyPem }).inputs, subject: { commonName: "renamed" } }).replaces).toEqual(["subject"]);
        expect(tls.diff(T.key, caKey.outs, tls.check(T.key, { algorithm: "RSA", rsaBits: 3072 }).inputs).changes).toBe(false);
        expect(tls.diff(T.key, caKey.outs, tls.check(T.key, { algorithm: "RSA" }).inputs).replaces).toEqual(["rsaBits"]);
    });
});
