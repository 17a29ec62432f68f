#!/usr/bin/env node
// node scripts/stack.js <preview|up|refresh|destroy|outputs> --stack NAME   (see scripts/stack-main.ts)
"use strict";
const path = require("path");
require("./register-ts").registerLikePulumi(path.resolve(__dirname, ".."));
require("./stack-main")
    .main(process.argv.slice(2))
    .then((code) => process.exit(code));
