#!/usr/bin/env node
// npm run audit -- [--stack NAME]... [--dir RENDER_DIR]...   (see scripts/audit-main.ts)
"use strict";
const path = require("path");
require("./register-ts").registerLikePulumi(path.resolve(__dirname, ".."));
require("./audit-main")
    .main(process.argv.slice(2))
    .then((code) => process.exit(code));
