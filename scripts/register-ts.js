// Registers ts-node exactly as the Pulumi CLI's nodejs runtime does before it requires
// index.ts (see @pulumi/pulumi/cmd/run/run.js): the project's own typescript and ts-node,
// compilerOptions {target ES2020, module/moduleResolution nodenext} overlaid by tsconfig.json,
// type-checking unless tsconfig sets noCheck or PULUMI_NODEJS_TRANSPILE_ONLY says otherwise.
// A program that the render loads therefore loads under `pulumi up` too.
"use strict";
const path = require("path");
const tsutils = require("@pulumi/pulumi/tsutils");

function registerLikePulumi(projectRoot) {
    const tsConfigPath = path.join(projectRoot, "tsconfig.json");
    const compilerOptions = tsutils.loadTypeScriptCompilerOptions(tsConfigPath);
    const env = process.env.PULUMI_NODEJS_TRANSPILE_ONLY;
    const transpileOnly = env ? env === "true" : compilerOptions.noCheck;
    const { tsnodeRequire, typescriptRequire } = tsutils.typeScriptRequireStrings();
    if (!typescriptRequire.endsWith("typescript") || !tsnodeRequire.endsWith("ts-node")) {
        throw new Error(
            "typescript and ts-node must be installed in the project (npm ci): the Pulumi CLI would " +
                "otherwise fall back to its vendored TypeScript 3.8, which cannot compile this program",
        );
    }
    require(tsnodeRequire).register({
        compiler: typescriptRequire,
        transpileOnly,
        project: tsConfigPath,
        skipProject: false,
        compilerOptions: {
            target: "ES2020",
            module: "nodenext",
            moduleResolution: "nodenext",
            sourceMap: "true",
            ...compilerOptions,
        },
    });
}

module.exports = { registerLikePulumi };
