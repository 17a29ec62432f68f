#!/usr/bin/env node
/**
 * A local stand-in for the `tls` resource provider plugin, for the local control plane only.
 *
 * Why it exists: the Elasticsearch backend generates its transport CA and node certificate with
 * @pulumi/tls, whose provider plugin (pulumi-tls, Terraform-bridged) users' `pulumi up` downloads
 * from Pulumi's releases. That plugin cannot be had on the machines this project is built and
 * tested on: the Go module proxy refuses github.com/pulumi/pulumi-tls/provider (every major
 * version) and serves only an old release of the Terraform TLS provider it wraps, and no other
 * registry here ships it. So `scripts/cluster.sh up` installs this file under the plugin name
 * `tls` at the version @pulumi/tls asks for.
 *
 * It serves exactly what components/logs/elasticsearch.ts uses, with the upstream semantics
 * (inputs and outputs named as in @pulumi/tls's SDK, defaults, replace-on-change where upstream
 * forces a new resource, secrets where the SDK marks them):
 * - `tls:index/privateKey:PrivateKey`: RSA (rsaBits, default 2048), ECDSA (ecdsaCurve, default
 *   P224) and ED25519; outputs privateKeyPem (PKCS#1 / SEC 1 / PKCS#8 as upstream),
 *   privateKeyPemPkcs8, publicKeyPem, the OpenSSH forms and fingerprints.
 * - `tls:index/selfSignedCert:SelfSignedCert`, `tls:index/certRequest:CertRequest`,
 *   `tls:index/locallySignedCert:LocallySignedCert`: subject, dnsNames, ipAddresses, uris,
 *   validityPeriodHours, earlyRenewalHours (updated in place; a certificate inside its renewal
 *   window is replaced, as upstream's readyForRenewal does), isCaCertificate, maxPathLength,
 *   setSubjectKeyId, setAuthorityKeyId, allowedUses (upstream's key-usage and extended-key-usage
 *   names); outputs certPem / certRequestPem, keyAlgorithm / caKeyAlgorithm, validityStartTime,
 *   validityEndTime, readyForRenewal. The certificates carry the extensions upstream's Go code
 *   writes (critical basicConstraints, critical keyUsage, SKI on CAs, AKI from the issuing CA).
 * Any other resource type, and the write-only `*Wo` inputs, fail loudly.
 *
 * Node's crypto generates keys; the `openssl` CLI writes CSRs and certificates, in a private
 * temporary directory (mode 0700) that is removed afterwards. Key material is never logged.
 * Run directly it serves the provider protocol; required, it exports the resource functions for
 * tests (test/lifecycle/tls-standin.test.ts).
 */
"use strict";
const crypto = require("crypto");
const fs = require("fs");
const net = require("net");
const os = require("os");
const path = require("path");
const { execFile } = require("child_process");
const { promisify } = require("util");

const root = process.env.OBS_REPO_ROOT || path.resolve(__dirname, "..", "..");
const execFileAsync = promisify(execFile);
const generateKeyPair = promisify(crypto.generateKeyPair);

const PRIVATE_KEY = "tls:index/privateKey:PrivateKey";
const SELF_SIGNED = "tls:index/selfSignedCert:SelfSignedCert";
const CERT_REQUEST = "tls:index/certRequest:CertRequest";
const LOCALLY_SIGNED = "tls:index/locallySignedCert:LocallySignedCert";
const TYPES = [PRIVATE_KEY, SELF_SIGNED, CERT_REQUEST, LOCALLY_SIGNED];

// The provider protocol's encodings of secrets and of values unknown during preview.
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const SECRET_VALUE = "1b47061264138c4ac30d75fd1eb44270";
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

// Upstream's allowed_uses names → OpenSSL's extension value names.
const KEY_USAGES = {
    digital_signature: "digitalSignature",
    content_commitment: "nonRepudiation",
    key_encipherment: "keyEncipherment",
    data_encipherment: "dataEncipherment",
    key_agreement: "keyAgreement",
    cert_signing: "keyCertSign",
    crl_signing: "cRLSign",
    encipher_only: "encipherOnly",
    decipher_only: "decipherOnly",
};
const EXTENDED_KEY_USAGES = {
    any_extended: "anyExtendedKeyUsage",
    server_auth: "serverAuth",
    client_auth: "clientAuth",
    code_signing: "codeSigning",
    email_protection: "emailProtection",
    ipsec_end_system: "1.3.6.1.5.5.7.3.5",
    ipsec_tunnel: "1.3.6.1.5.5.7.3.6",
    ipsec_user: "1.3.6.1.5.5.7.3.7",
    timestamping: "timeStamping",
    ocsp_signing: "OCSPSigning",
    microsoft_server_gated_crypto: "1.3.6.1.4.1.311.10.3.3",
    netscape_server_gated_crypto: "2.16.840.1.113730.4.1",
    microsoft_commercial_code_signing: "1.3.6.1.4.1.311.2.1.22",
    microsoft_kernel_code_signing: "1.3.6.1.4.1.311.61.1.1",
};
const ALLOWED_USES = [...Object.keys(KEY_USAGES), ...Object.keys(EXTENDED_KEY_USAGES)].sort();
const ECDSA_CURVES = { P224: "secp224r1", P256: "prime256v1", P384: "secp384r1", P521: "secp521r1" };
const SSH_CURVES = { P256: "nistp256", P384: "nistp384", P521: "nistp521" };
// Subject fields in the order Go's pkix.Name writes them (the email address last, as an extra name).
const SUBJECT_FIELDS = [
    ["country", "C"], ["province", "ST"], ["locality", "L"], ["streetAddresses", "street"], ["postalCode", "postalCode"],
    ["organization", "O"], ["organizationalUnit", "OU"], ["commonName", "CN"], ["serialNumber", "serialNumber"], ["emailAddress", "emailAddress"],
];

/** Per type: every input, which of them force a new resource, defaults, and outputs the SDK marks secret. */
const SCHEMA = {
    [PRIVATE_KEY]: {
        inputs: ["algorithm", "rsaBits", "ecdsaCurve"],
        forceNew: ["algorithm", "rsaBits", "ecdsaCurve"],
        defaults: { rsaBits: 2048, ecdsaCurve: "P224" },
        secretOutputs: ["privateKeyOpenssh", "privateKeyPem", "privateKeyPemPkcs8"],
    },
    [SELF_SIGNED]: {
        inputs: ["privateKeyPem", "subject", "dnsNames", "ipAddresses", "uris", "validityPeriodHours", "earlyRenewalHours", "isCaCertificate", "maxPathLength", "setSubjectKeyId", "setAuthorityKeyId", "allowedUses"],
        forceNew: ["privateKeyPem", "subject", "dnsNames", "ipAddresses", "uris", "validityPeriodHours", "isCaCertificate", "maxPathLength", "setSubjectKeyId", "setAuthorityKeyId", "allowedUses"],
        defaults: { earlyRenewalHours: 0, isCaCertificate: false, setSubjectKeyId: false, setAuthorityKeyId: false },
        secretOutputs: ["privateKeyPem"],
        unsupported: ["privateKeyPemWo", "privateKeyPemWoVersion"],
    },
    [CERT_REQUEST]: {
        inputs: ["privateKeyPem", "subject", "dnsNames", "ipAddresses", "uris"],
        forceNew: ["privateKeyPem", "subject", "dnsNames", "ipAddresses", "uris"],
        defaults: {},
        secretOutputs: ["privateKeyPem"],
        unsupported: ["privateKeyPemWo", "privateKeyPemWoVersion"],
    },
    [LOCALLY_SIGNED]: {
        inputs: ["certRequestPem", "caPrivateKeyPem", "caCertPem", "validityPeriodHours", "earlyRenewalHours", "isCaCertificate", "maxPathLength", "setSubjectKeyId", "allowedUses"],
        forceNew: ["certRequestPem", "caPrivateKeyPem", "caCertPem", "validityPeriodHours", "isCaCertificate", "maxPathLength", "setSubjectKeyId", "allowedUses"],
        defaults: { earlyRenewalHours: 0, isCaCertificate: false, setSubjectKeyId: false },
        secretOutputs: ["caPrivateKeyPem"],
        unsupported: ["caPrivateKeyPemWo", "caPrivateKeyPemWoVersion"],
    },
};

// --- protocol values -------------------------------------------------------------------------

function isSecret(v) {
    return v !== null && typeof v === "object" && v[SECRET_SIG] === SECRET_VALUE;
}

/** The plain value: secrets unwrapped, at any depth. */
function reveal(v) {
    if (isSecret(v)) return reveal(v.value);
    if (Array.isArray(v)) return v.map(reveal);
    if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, reveal(x)]));
    return v;
}

function secret(v) {
    return isSecret(v) ? v : { [SECRET_SIG]: SECRET_VALUE, value: v };
}

function hasUnknown(v) {
    if (v === UNKNOWN) return true;
    if (Array.isArray(v)) return v.some(hasUnknown);
    if (v !== null && typeof v === "object") return Object.values(v).some(hasUnknown);
    return false;
}

function typeOf(urn) {
    // urn:pulumi:stack::project::parent$type::name -> type
    const qualified = urn.split("::")[2] || "";
    return qualified.split("$").pop();
}

function schemaOf(type) {
    const s = SCHEMA[type];
    if (!s) throw new Error(`local tls provider: ${type} is not implemented (only ${TYPES.join(", ")})`);
    return s;
}

/** A comparable form of an input: absent, null and empty lists/objects are the same. */
function canonical(v) {
    if (v === undefined || v === null) return undefined;
    if (Array.isArray(v)) return v.length === 0 ? undefined : v.map(canonical);
    if (typeof v === "object") {
        const entries = Object.keys(v).sort().map((k) => [k, canonical(v[k])]).filter(([, x]) => x !== undefined);
        return entries.length === 0 ? undefined : Object.fromEntries(entries);
    }
    return v;
}

// --- validation --------------------------------------------------------------------------------

function validate(type, inputs) {
    const s = schemaOf(type);
    const v = reveal(inputs);
    const failures = [];
    const fail = (property, reason) => failures.push({ property, reason });
    const known = (k) => v[k] !== undefined && v[k] !== null && !hasUnknown(v[k]);
    for (const k of s.unsupported ?? []) {
        if (v[k] !== undefined && v[k] !== null) fail(k, `not implemented by the local tls stand-in (scripts/local-providers/tls.js); pass the key in ${k.replace(/Wo(Version)?$/, "")} instead`);
    }
    for (const k of Object.keys(v)) {
        if (!s.inputs.includes(k) && !(s.unsupported ?? []).includes(k)) fail(k, `unknown input of ${type}; expected one of ${s.inputs.join(", ")}`);
    }
    const integer = (k, min) => {
        if (known(k) && (!Number.isInteger(v[k]) || v[k] < min)) fail(k, `expected an integer >= ${min}, got ${JSON.stringify(v[k])}`);
    };
    const strings = (k, check, what) => {
        if (!known(k)) return;
        if (!Array.isArray(v[k])) return fail(k, `expected a list of ${what}, got ${JSON.stringify(v[k])}`);
        for (const x of v[k]) if (typeof x !== "string" || !check(x)) fail(k, `expected ${what}, got ${JSON.stringify(x)}`);
    };
    if (type === PRIVATE_KEY) {
        if (!known("algorithm") && !hasUnknown(v.algorithm)) fail("algorithm", 'required: "RSA", "ECDSA" or "ED25519"');
        else if (known("algorithm") && !["RSA", "ECDSA", "ED25519"].includes(v.algorithm)) fail("algorithm", `expected "RSA", "ECDSA" or "ED25519", got ${JSON.stringify(v.algorithm)}`);
        integer("rsaBits", 1024);
        if (known("ecdsaCurve") && !(v.ecdsaCurve in ECDSA_CURVES)) fail("ecdsaCurve", `expected one of ${Object.keys(ECDSA_CURVES).join(", ")}, got ${JSON.stringify(v.ecdsaCurve)}`);
        return failures;
    }
    const required = type === LOCALLY_SIGNED ? ["certRequestPem", "caPrivateKeyPem", "caCertPem", "validityPeriodHours", "allowedUses"] : type === SELF_SIGNED ? ["privateKeyPem", "validityPeriodHours", "allowedUses"] : ["privateKeyPem"];
    for (const k of required) if (v[k] === undefined || v[k] === null) fail(k, "required");
    integer("validityPeriodHours", 0);
    integer("earlyRenewalHours", 0);
    if (known("maxPathLength") && !Number.isInteger(v.maxPathLength)) fail("maxPathLength", `expected an integer, got ${JSON.stringify(v.maxPathLength)}`);
    for (const k of ["isCaCertificate", "setSubjectKeyId", "setAuthorityKeyId"]) if (known(k) && typeof v[k] !== "boolean") fail(k, `expected true or false, got ${JSON.stringify(v[k])}`);
    strings("allowedUses", (x) => ALLOWED_USES.includes(x), `one of ${ALLOWED_USES.join(", ")}`);
    strings("dnsNames", (x) => /^(\*\.)?[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?$/.test(x), "a DNS name (letters, digits, '-', '_', '.', an optional leading '*.')");
    strings("ipAddresses", (x) => net.isIP(x) !== 0, "an IPv4 or IPv6 address");
    strings("uris", (x) => URL.canParse(x) && !/["$\\\n\r]/.test(x), 'an absolute URI without ", $ or \\');
    if (known("subject")) {
        if (typeof v.subject !== "object" || Array.isArray(v.subject)) fail("subject", `expected an object, got ${JSON.stringify(v.subject)}`);
        else {
            const names = SUBJECT_FIELDS.map(([k]) => k);
            for (const [k, x] of Object.entries(v.subject)) {
                if (!names.includes(k)) fail(`subject.${k}`, `unknown subject field; expected one of ${names.join(", ")}`);
                else if (k === "streetAddresses" ? !Array.isArray(x) || x.some((e) => typeof e !== "string") : x !== undefined && x !== null && typeof x !== "string") {
                    fail(`subject.${k}`, `expected ${k === "streetAddresses" ? "a list of strings" : "a string"}, got ${JSON.stringify(x)}`);
                }
            }
        }
    }
    if (type === SELF_SIGNED && v.isCaCertificate === true && !hasUnknown(v.subject) && (v.subject === undefined || v.subject === null || (typeof v.subject === "object" && subjectArgs(v.subject).length === 0))) {
        fail("subject", "must contain at least one distinguished name when creating a certificate authority (isCaCertificate: true)");
    }
    return failures;
}

// --- keys --------------------------------------------------------------------------------------

function sshString(buf) {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(buf.length);
    return Buffer.concat([len, buf]);
}
function sshMpint(unsigned) {
    let b = unsigned;
    while (b.length > 0 && b[0] === 0) b = b.subarray(1);
    if (b.length > 0 && b[0] & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
    return sshString(b);
}
const b64u = (s) => Buffer.from(s, "base64url");

/** OpenSSH public-key blob and private-key fields of a key, or undefined (ECDSA P-224 has none). */
function sshParts(algorithm, curve, privateKey) {
    if (algorithm === "ECDSA" && !SSH_CURVES[curve]) return undefined;
    const jwk = privateKey.export({ format: "jwk" });
    if (algorithm === "RSA") {
        const type = Buffer.from("ssh-rsa");
        return {
            type: "ssh-rsa",
            pub: Buffer.concat([sshString(type), sshMpint(b64u(jwk.e)), sshMpint(b64u(jwk.n))]),
            priv: Buffer.concat([sshString(type), ...[jwk.n, jwk.e, jwk.d, jwk.qi, jwk.p, jwk.q].map((x) => sshMpint(b64u(x)))]),
        };
    }
    if (algorithm === "ECDSA") {
        const name = SSH_CURVES[curve];
        const type = `ecdsa-sha2-${name}`;
        const point = Buffer.concat([Buffer.from([4]), b64u(jwk.x), b64u(jwk.y)]);
        const head = Buffer.concat([sshString(Buffer.from(type)), sshString(Buffer.from(name)), sshString(point)]);
        return { type, pub: head, priv: Buffer.concat([head, sshMpint(b64u(jwk.d))]) };
    }
    const type = Buffer.from("ssh-ed25519");
    const pub = b64u(jwk.x);
    return {
        type: "ssh-ed25519",
        pub: Buffer.concat([sshString(type), sshString(pub)]),
        priv: Buffer.concat([sshString(type), sshString(pub), sshString(Buffer.concat([b64u(jwk.d), pub]))]),
    };
}

function pemArmour(label, der) {
    const lines = der.toString("base64").match(/.{1,64}/g) ?? [];
    return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/** The unencrypted `openssh-key-v1` format (what Go's ssh.MarshalPrivateKey writes). */
function opensshPrivateKey(parts) {
    const check = crypto.randomBytes(4);
    let body = Buffer.concat([check, check, parts.priv, sshString(Buffer.alloc(0))]);
    const pad = [];
    for (let i = 1; (body.length + pad.length) % 8 !== 0; i++) pad.push(i);
    body = Buffer.concat([body, Buffer.from(pad)]);
    const none = sshString(Buffer.from("none"));
    const one = Buffer.alloc(4);
    one.writeUInt32BE(1);
    return pemArmour("OPENSSH PRIVATE KEY", Buffer.concat([Buffer.from("openssh-key-v1\0"), none, none, sshString(Buffer.alloc(0)), one, sshString(parts.pub), sshString(body)]));
}

/** `tls.PrivateKey`: a new key pair in upstream's encodings. */
async function createPrivateKey(inputs) {
    const v = { ...SCHEMA[PRIVATE_KEY].defaults, ...reveal(inputs) };
    const { privateKey, publicKey } =
        v.algorithm === "RSA"
            ? await generateKeyPair("rsa", { modulusLength: v.rsaBits, publicExponent: 65537 })
            : v.algorithm === "ECDSA"
              ? await generateKeyPair("ec", { namedCurve: ECDSA_CURVES[v.ecdsaCurve] })
              : await generateKeyPair("ed25519");
    const pkcs8 = privateKey.export({ type: "pkcs8", format: "pem" });
    const privateKeyPem = v.algorithm === "RSA" ? privateKey.export({ type: "pkcs1", format: "pem" }) : v.algorithm === "ECDSA" ? privateKey.export({ type: "sec1", format: "pem" }) : pkcs8;
    const publicKeyPem = publicKey.export({ type: "spki", format: "pem" });
    const ssh = sshParts(v.algorithm, v.ecdsaCurve, privateKey);
    return {
        id: crypto.createHash("sha1").update(publicKeyPem).digest("hex"),
        outs: {
            ...v,
            privateKeyPem,
            privateKeyPemPkcs8: pkcs8,
            publicKeyPem,
            privateKeyOpenssh: ssh ? opensshPrivateKey(ssh) : "",
            publicKeyOpenssh: ssh ? `${ssh.type} ${ssh.pub.toString("base64")}\n` : "",
            publicKeyFingerprintMd5: ssh ? crypto.createHash("md5").update(ssh.pub).digest("hex").match(/../g).join(":") : "",
            publicKeyFingerprintSha256: ssh ? `SHA256:${crypto.createHash("sha256").update(ssh.pub).digest("base64").replace(/=+$/, "")}` : "",
        },
    };
}

// --- certificates (the openssl CLI) ------------------------------------------------------------

async function withPrivateDir(fn) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "obs-tls-"));
    try {
        fs.chmodSync(dir, 0o700);
        return await fn(dir);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

async function openssl(dir, args) {
    try {
        return (await execFileAsync("openssl", args, { cwd: dir, encoding: "utf8", timeout: 120_000 })).stdout;
    } catch (e) {
        if (e.code === "ENOENT") throw new Error("local tls provider: openssl not found; install it with: apt-get install openssl");
        // openssl's messages name files and distinguished names, never key material.
        throw new Error(`local tls provider: openssl ${args[0]} failed: ${String(e.stderr || e.message).trim()}`);
    }
}

function writePrivate(dir, name, text) {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text, { mode: 0o600 });
    return file;
}

/** Upstream's key algorithm name of a private key PEM (RSA, ECDSA, ED25519), with its digest for signing. */
function keyInfo(pem, field) {
    let key;
    try {
        key = crypto.createPrivateKey(pem);
    } catch (e) {
        throw new Error(`local tls provider: ${field}: not a private key in PEM format (${e.code ?? "parse error"})`);
    }
    const t = key.asymmetricKeyType;
    if (t === "rsa") return { algorithm: "RSA", digest: "sha256" };
    if (t === "ec") {
        const c = key.asymmetricKeyDetails?.namedCurve;
        return { algorithm: "ECDSA", digest: c === "secp384r1" ? "sha384" : c === "secp521r1" ? "sha512" : "sha256" };
    }
    if (t === "ed25519") return { algorithm: "ED25519", digest: "default" };
    throw new Error(`local tls provider: ${field}: unsupported key type ${t}; expected RSA, ECDSA or ED25519`);
}

function subjectArgs(subject) {
    const rdns = [];
    const esc = (s) => s.replace(/[\\/+]/g, "\\$&");
    for (const [k, short] of SUBJECT_FIELDS) {
        const x = subject?.[k];
        if (x === undefined || x === null || x === "" || (Array.isArray(x) && x.length === 0)) continue;
        rdns.push((Array.isArray(x) ? x : [x]).map((e) => `${short}=${esc(e)}`).join("+"));
    }
    return rdns;
}

const quote = (s) => {
    if (/["$\\\n\r]/.test(s)) throw new Error(`local tls provider: ${JSON.stringify(s)}: characters ", $, \\ and line breaks are not supported in names`);
    return `"${s}"`;
};

/** `subjectAltName` lines of an OpenSSL extension section (critical when the subject is empty, as Go writes it). */
function sanLines(names, subjectEmpty) {
    const entries = [...(names.dnsNames ?? []).map((x) => ["DNS", x]), ...(names.ipAddresses ?? []).map((x) => ["IP", x]), ...(names.uris ?? []).map((x) => ["URI", x])];
    if (entries.length === 0) return { ext: [], section: [] };
    const count = {};
    return {
        ext: [`subjectAltName = ${subjectEmpty ? "critical," : ""}@alt`],
        section: ["[alt]", ...entries.map(([kind, x]) => `${kind}.${(count[kind] = (count[kind] ?? 0) + 1)} = ${quote(x)}`)],
    };
}

function usageLines(allowedUses, isCa, maxPathLength) {
    const ku = [...new Set(allowedUses.filter((u) => u in KEY_USAGES).map((u) => KEY_USAGES[u]))];
    const eku = allowedUses.filter((u) => u in EXTENDED_KEY_USAGES).map((u) => EXTENDED_KEY_USAGES[u]);
    const pathLen = isCa && Number.isInteger(maxPathLength) && maxPathLength > 0 ? `,pathlen:${maxPathLength}` : "";
    return [
        `basicConstraints = critical,CA:${isCa ? "TRUE" : "FALSE"}${pathLen}`,
        ...(ku.length ? [`keyUsage = critical,${ku.join(",")}`] : []),
        ...(eku.length ? [`extendedKeyUsage = ${eku.join(",")}`] : []),
    ];
}

const CONFIG = `[req]
distinguished_name = dn
prompt = no
utf8 = yes
string_mask = utf8only
[dn]
[ca]
default_ca = local
[local]
database = index.txt
serial = serial
new_certs_dir = .
unique_subject = no
policy = any
copy_extensions = none
preserve = yes
[any]
${SUBJECT_FIELDS.map(([, short]) => `${{ C: "countryName", ST: "stateOrProvinceName", L: "localityName", O: "organizationName", OU: "organizationalUnitName", CN: "commonName" }[short] ?? short} = optional`).join("\n")}
`;

const stamp = (d) => `${d.toISOString().replace(/[-:T]/g, "").slice(0, 14)}Z`;
const rfc3339 = (d) => `${d.toISOString().slice(0, 19)}Z`;

/** A CSR of the key in `dir/key.pem` with the subject and names; its PEM. */
async function writeCsr(dir, v, digest) {
    const subject = subjectArgs(v.subject);
    const san = sanLines(v, subject.length === 0);
    const ext = san.ext;
    fs.writeFileSync(path.join(dir, "req.cnf"), `${CONFIG}${ext.length ? `[ext]\n${ext.join("\n")}\n${san.section.join("\n")}\n` : ""}`);
    await openssl(dir, [
        "req", "-new", "-config", "req.cnf", "-key", "key.pem", "-utf8", "-multivalue-rdn", "-subj", `/${subject.join("/")}`,
        ...(digest === "default" ? [] : [`-${digest}`]), ...(ext.length ? ["-reqexts", "ext"] : []), "-out", "req.csr",
    ]);
    return fs.readFileSync(path.join(dir, "req.csr"), "utf8");
}

/** Signs `dir/req.csr` with `openssl ca` (exact validity in hours, a random 128-bit serial). */
async function sign(dir, { selfSign, digest, hours, extLines, sectionLines }) {
    const serial = crypto.randomBytes(16);
    serial[0] &= 0x7f;
    if (serial[0] === 0) serial[0] = 1;
    fs.writeFileSync(path.join(dir, "serial"), `${serial.toString("hex")}\n`);
    fs.writeFileSync(path.join(dir, "index.txt"), "");
    fs.writeFileSync(path.join(dir, "ca.cnf"), CONFIG.replace("[local]\n", `[local]\ndefault_md = ${digest}\n`));
    fs.writeFileSync(path.join(dir, "ext.cnf"), `[ext]\n${extLines.join("\n")}\n${sectionLines.join("\n")}\n`);
    const start = new Date(Math.floor(Date.now() / 1000) * 1000);
    const end = new Date(start.getTime() + hours * 3600_000);
    await openssl(dir, [
        "ca", "-config", "ca.cnf", "-batch", "-notext", "-utf8", "-in", "req.csr", "-out", "cert.pem",
        ...(selfSign ? ["-selfsign", "-keyfile", "key.pem"] : ["-cert", "ca.pem", "-keyfile", "ca-key.pem"]),
        "-startdate", stamp(start), "-enddate", stamp(end), "-extfile", "ext.cnf", "-extensions", "ext",
    ]);
    const certPem = fs.readFileSync(path.join(dir, "cert.pem"), "utf8");
    return { id: BigInt(`0x${serial.toString("hex")}`).toString(), certPem, validityStartTime: rfc3339(start), validityEndTime: rfc3339(end) };
}

function readyForRenewal(validityEndTime, earlyRenewalHours, now = Date.now()) {
    if (typeof validityEndTime !== "string" || validityEndTime === "") return false;
    return now >= Date.parse(validityEndTime) - (earlyRenewalHours ?? 0) * 3600_000;
}

/** `tls.SelfSignedCert`. */
async function createSelfSignedCert(inputs) {
    const v = { ...SCHEMA[SELF_SIGNED].defaults, ...reveal(inputs) };
    const { algorithm, digest } = keyInfo(v.privateKeyPem, "privateKeyPem");
    const subjectEmpty = subjectArgs(v.subject).length === 0;
    const san = sanLines(v, subjectEmpty);
    const cert = await withPrivateDir(async (dir) => {
        writePrivate(dir, "key.pem", v.privateKeyPem);
        await writeCsr(dir, { subject: v.subject }, digest);
        const ski = v.isCaCertificate || v.setSubjectKeyId;
        return sign(dir, {
            selfSign: true,
            digest,
            hours: v.validityPeriodHours,
            extLines: [
                ...usageLines(v.allowedUses, v.isCaCertificate, v.maxPathLength),
                `subjectKeyIdentifier = ${ski ? "hash" : "none"}`,
                `authorityKeyIdentifier = ${v.setAuthorityKeyId ? "keyid:always" : "none"}`,
                ...san.ext,
            ],
            sectionLines: san.section,
        });
    });
    const { id, ...computed } = cert;
    return { id, outs: { ...v, privateKeyPem: secret(v.privateKeyPem), keyAlgorithm: algorithm, ...computed, readyForRenewal: readyForRenewal(cert.validityEndTime, v.earlyRenewalHours) } };
}

/** `tls.CertRequest`. */
async function createCertRequest(inputs) {
    const v = reveal(inputs);
    const { algorithm, digest } = keyInfo(v.privateKeyPem, "privateKeyPem");
    const certRequestPem = await withPrivateDir(async (dir) => {
        writePrivate(dir, "key.pem", v.privateKeyPem);
        return writeCsr(dir, v, digest);
    });
    return { id: crypto.createHash("sha1").update(certRequestPem).digest("hex"), outs: { ...v, privateKeyPem: secret(v.privateKeyPem), keyAlgorithm: algorithm, certRequestPem } };
}

// Minimal DER reading, enough to take the requested names out of a CSR.
function derChildren(buf) {
    const out = [];
    let i = 0;
    while (i < buf.length) {
        const tag = buf[i++];
        let len = buf[i++];
        if (len & 0x80) {
            const n = len & 0x7f;
            len = 0;
            for (let k = 0; k < n; k++) len = len * 256 + buf[i++];
        }
        if (i + len > buf.length) throw new Error("truncated DER");
        out.push({ tag, value: buf.subarray(i, i + len) });
        i += len;
    }
    return out;
}

const OID_EXTENSION_REQUEST = "2a864886f70d01090e";
const OID_SUBJECT_ALT_NAME = "551d11";

function ipText(b) {
    if (b.length === 4) return [...b].join(".");
    const groups = [];
    for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
    return groups.join(":");
}

/** DNS names, IP addresses and URIs a CSR requests (what upstream copies into the certificate). */
function csrNames(pem) {
    const m = /-----BEGIN CERTIFICATE REQUEST-----([\s\S]*?)-----END CERTIFICATE REQUEST-----/.exec(pem);
    if (!m) throw new Error('local tls provider: certRequestPem: expected a PEM block "CERTIFICATE REQUEST"');
    const names = { dnsNames: [], ipAddresses: [], uris: [] };
    try {
        const [csr] = derChildren(Buffer.from(m[1].replace(/\s+/g, ""), "base64"));
        const [info] = derChildren(csr.value);
        const attributes = derChildren(info.value).find((n) => n.tag === 0xa0);
        for (const attr of attributes ? derChildren(attributes.value) : []) {
            const [oid, values] = derChildren(attr.value);
            if (oid.value.toString("hex") !== OID_EXTENSION_REQUEST) continue;
            const [extensions] = derChildren(values.value);
            for (const ext of derChildren(extensions.value)) {
                const parts = derChildren(ext.value);
                if (parts[0].value.toString("hex") !== OID_SUBJECT_ALT_NAME) continue;
                const [general] = derChildren(parts[parts.length - 1].value);
                for (const n of derChildren(general.value)) {
                    if (n.tag === 0x82) names.dnsNames.push(n.value.toString("ascii"));
                    else if (n.tag === 0x87) names.ipAddresses.push(ipText(n.value));
                    else if (n.tag === 0x86) names.uris.push(n.value.toString("ascii"));
                }
            }
        }
    } catch (e) {
        throw new Error(`local tls provider: certRequestPem: not a readable certificate request (${e.message})`);
    }
    return names;
}

/** `tls.LocallySignedCert`: the CSR's subject and names, signed by the CA, with the requested uses. */
async function createLocallySignedCert(inputs) {
    const v = { ...SCHEMA[LOCALLY_SIGNED].defaults, ...reveal(inputs) };
    const { algorithm, digest } = keyInfo(v.caPrivateKeyPem, "caPrivateKeyPem");
    let caCert;
    try {
        caCert = new crypto.X509Certificate(v.caCertPem);
    } catch (e) {
        throw new Error(`local tls provider: caCertPem: not a certificate in PEM format (${e.code ?? "parse error"})`);
    }
    if (!caCert.checkPrivateKey(crypto.createPrivateKey(v.caPrivateKeyPem))) throw new Error("local tls provider: caPrivateKeyPem is not the key of caCertPem");
    const names = csrNames(v.certRequestPem);
    const cert = await withPrivateDir(async (dir) => {
        fs.writeFileSync(path.join(dir, "req.csr"), v.certRequestPem);
        fs.writeFileSync(path.join(dir, "ca.pem"), v.caCertPem);
        writePrivate(dir, "ca-key.pem", v.caPrivateKeyPem);
        const subject = await openssl(dir, ["req", "-in", "req.csr", "-noout", "-subject", "-nameopt", "RFC2253"]);
        const san = sanLines(names, subject.replace(/^subject=\s*/, "").trim() === "");
        return sign(dir, {
            selfSign: false,
            digest,
            hours: v.validityPeriodHours,
            extLines: [
                ...usageLines(v.allowedUses, v.isCaCertificate, v.maxPathLength),
                `subjectKeyIdentifier = ${v.isCaCertificate || v.setSubjectKeyId ? "hash" : "none"}`,
                "authorityKeyIdentifier = keyid",
                ...san.ext,
            ],
            sectionLines: san.section,
        });
    });
    const { id, ...computed } = cert;
    return { id, outs: { ...v, caPrivateKeyPem: secret(v.caPrivateKeyPem), caKeyAlgorithm: algorithm, ...computed, readyForRenewal: readyForRenewal(cert.validityEndTime, v.earlyRenewalHours) } };
}

// --- the provider ------------------------------------------------------------------------------

/** Checked inputs: upstream's defaults added, secrets kept as they came. */
function check(type, news) {
    const s = schemaOf(type);
    const failures = validate(type, news);
    const inputs = { ...news };
    for (const [k, d] of Object.entries(s.defaults)) if (inputs[k] === undefined || inputs[k] === null) inputs[k] = d;
    return { inputs, failures };
}

/** Changed inputs; a changed force-new input, or a certificate due for renewal, replaces. */
function diff(type, olds, news, now = Date.now()) {
    const s = schemaOf(type);
    const o = reveal(olds), n = reveal(news);
    const changed = s.inputs.filter((k) => hasUnknown(n[k]) || JSON.stringify(canonical(o[k])) !== JSON.stringify(canonical(n[k])));
    const replaces = changed.filter((k) => s.forceNew.includes(k));
    if ((type === SELF_SIGNED || type === LOCALLY_SIGNED) && !hasUnknown(n.earlyRenewalHours) && readyForRenewal(o.validityEndTime, n.earlyRenewalHours ?? 0, now)) {
        replaces.push("readyForRenewal");
    }
    return { changes: changed.length > 0 || replaces.length > 0, replaces, deleteBeforeReplace: false };
}

async function create(type, inputs) {
    schemaOf(type);
    const made =
        type === PRIVATE_KEY ? await createPrivateKey(inputs)
        : type === SELF_SIGNED ? await createSelfSignedCert(inputs)
        : type === CERT_REQUEST ? await createCertRequest(inputs)
        : await createLocallySignedCert(inputs);
    for (const k of SCHEMA[type].secretOutputs) if (made.outs[k] !== undefined) made.outs[k] = secret(made.outs[k]);
    return made;
}

/** In-place update: only earlyRenewalHours of a certificate can change without a new resource. */
function update(type, olds, news) {
    const s = schemaOf(type);
    const { replaces, changes } = diff(type, olds, news);
    if (replaces.length > 0) throw new Error(`local tls provider: ${type}: ${replaces.join(", ")} cannot change in place`);
    if (!changes) return { outs: olds };
    const outs = { ...olds, earlyRenewalHours: reveal(news).earlyRenewalHours ?? s.defaults.earlyRenewalHours };
    outs.readyForRenewal = readyForRenewal(reveal(olds).validityEndTime, outs.earlyRenewalHours);
    return { outs };
}

function read(type, id, props) {
    schemaOf(type);
    if (type !== SELF_SIGNED && type !== LOCALLY_SIGNED) return { id, props };
    const p = reveal(props);
    return { id, props: { ...props, readyForRenewal: readyForRenewal(p.validityEndTime, p.earlyRenewalHours) } };
}

module.exports = {
    TYPES, ALLOWED_USES, SECRET_SIG, SECRET_VALUE, UNKNOWN,
    createPrivateKey, createSelfSignedCert, createCertRequest, createLocallySignedCert, csrNames,
    check, diff, create, update, read, typeOf, reveal,
};

if (require.main === module) {
    const provider = require(require.resolve("@pulumi/pulumi/provider", { paths: [root] }));
    const version = require(require.resolve("@pulumi/tls/package.json", { paths: [root] })).version;
    provider
        .main(
            {
                version,
                async check(urn, olds, news) {
                    return check(typeOf(urn), news);
                },
                async diff(id, urn, olds, news) {
                    return diff(typeOf(urn), olds, news);
                },
                async create(urn, inputs) {
                    return create(typeOf(urn), inputs);
                },
                async update(id, urn, olds, news) {
                    return update(typeOf(urn), olds, news);
                },
                async read(id, urn, props) {
                    return read(typeOf(urn), id, props);
                },
                async delete(id, urn) {
                    schemaOf(typeOf(urn));
                },
            },
            process.argv.slice(2),
        )
        .catch((e) => {
            console.error(e);
            process.exit(1);
        });
}
