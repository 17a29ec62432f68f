#!/usr/bin/env node
/**
 * A local stand-in for the `random` resource provider plugin, for the local control plane only.
 *
 * Why it exists: the program generates its passwords with @pulumi/random, whose provider plugin
 * (pulumi-random, Terraform-bridged) users' `pulumi up` downloads from Pulumi's releases. That
 * plugin cannot be had on the machines this project is built and tested on: the Go module proxy
 * refuses github.com/pulumi/pulumi-random/provider and the Terraform random provider it wraps,
 * and no other registry here ships it. So `scripts/cluster.sh up` installs this file under the
 * plugin name `random` at the version @pulumi/random asks for.
 *
 * It serves exactly what the program uses, with the upstream semantics:
 * `random:index/randomPassword:RandomPassword` (length, special, upper, lower, numeric, min*,
 * overrideSpecial, keepers; outputs `result`, which the SDK marks secret). Any other type fails
 * loudly. Every input change replaces the password, as upstream (all its inputs are ForceNew).
 */
"use strict";
const crypto = require("crypto");
const path = require("path");
const root = process.env.OBS_REPO_ROOT || path.resolve(__dirname, "..", "..");
const provider = require(require.resolve("@pulumi/pulumi/provider", { paths: [root] }));
const version = require(require.resolve("@pulumi/random/package.json", { paths: [root] })).version;

const PASSWORD = "random:index/randomPassword:RandomPassword";
const INPUTS = ["length", "special", "upper", "lower", "numeric", "number", "minSpecial", "minUpper", "minLower", "minNumeric", "overrideSpecial", "keepers"];
const DEFAULT_SPECIAL = "!@#$%&*()-_=+[]{}<>:?";

function typeOf(urn) {
    // urn:pulumi:stack::project::parent$type::name -> type
    const qualified = urn.split("::")[2] || "";
    return qualified.split("$").pop();
}

function normalize(inputs) {
    const b = (v, d) => (v === undefined ? d : Boolean(v));
    const n = (v) => (v === undefined ? 0 : Number(v));
    return {
        length: Number(inputs.length),
        special: b(inputs.special, true),
        upper: b(inputs.upper, true),
        lower: b(inputs.lower, true),
        numeric: b(inputs.numeric ?? inputs.number, true),
        minSpecial: n(inputs.minSpecial),
        minUpper: n(inputs.minUpper),
        minLower: n(inputs.minLower),
        minNumeric: n(inputs.minNumeric),
        overrideSpecial: inputs.overrideSpecial ?? "",
        ...(inputs.keepers ? { keepers: inputs.keepers } : {}),
    };
}

function pick(chars, count) {
    let s = "";
    for (let i = 0; i < count; i++) s += chars[crypto.randomInt(chars.length)];
    return s;
}

function generate(p) {
    const sets = [
        [p.upper, "ABCDEFGHIJKLMNOPQRSTUVWXYZ", p.minUpper],
        [p.lower, "abcdefghijklmnopqrstuvwxyz", p.minLower],
        [p.numeric, "0123456789", p.minNumeric],
        [p.special, p.overrideSpecial || DEFAULT_SPECIAL, p.minSpecial],
    ].filter(([on]) => on);
    let required = "";
    for (const [, set, min] of sets) required += pick(set, min);
    const all = sets.map(([, c]) => c).join("");
    const chars = required + pick(all, Math.max(0, p.length - required.length));
    // Shuffle so the required characters are not always first.
    const a = [...chars];
    for (let i = a.length - 1; i > 0; i--) {
        const j = crypto.randomInt(i + 1);
        [a[i], a[j]] = [a[j], a[i]];
    }
    return a.join("");
}

provider
    .main(
        {
            version,
            async check(urn, olds, news) {
                if (typeOf(urn) !== PASSWORD) throw new Error(`local random provider: ${typeOf(urn)} is not implemented (only ${PASSWORD})`);
                const failures = [];
                if (!Number.isInteger(news.length) || news.length < 1) failures.push({ property: "length", reason: `expected an integer >= 1, got ${JSON.stringify(news.length)}` });
                const p = normalize(news);
                if (!p.upper && !p.lower && !p.numeric && !p.special) failures.push({ property: "special", reason: "at least one character class must be enabled" });
                return { inputs: news, failures };
            },
            async diff(id, urn, olds, news) {
                const a = normalize(olds), b = normalize(news);
                const replaces = INPUTS.filter((k) => k in a || k in b).filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
                return { changes: replaces.length > 0, replaces };
            },
            async create(urn, inputs) {
                const p = normalize(inputs);
                return { id: "none", outs: { ...inputs, ...p, result: generate(p) } };
            },
            async read(id, urn, props) {
                return { id, props };
            },
            async delete() {},
        },
        process.argv.slice(2),
    )
    .catch((e) => {
        console.error(e);
        process.exit(1);
    });
