#!/usr/bin/env node
// npm run render -- --stack <name> [--out DIR]   (see scripts/render-main.ts)
"use strict";
const path = require("path");
require("./register-ts").registerLikePulumi(path.resolve(__dirname, ".."));
require("./render-main")
    .main(process.argv.slice(2))
    .then((code) => process.exit(code));
