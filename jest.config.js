/** @type {import('jest').Config} */
module.exports = {
    testEnvironment: "node",
    roots: ["<rootDir>/test"],
    testMatch: ["**/*.test.ts"],
    // Type checking is `tsc --noEmit` in `npm test`; jest only transpiles, which keeps it fast.
    transform: { "^.+\\.ts$": ["ts-jest", { diagnostics: false }] },
    testTimeout: 120000,
    // Pulumi's runtime is process-global state: each test file gets a fresh module registry,
    // and files that start real servers bound to fixed ports must not overlap.
    maxWorkers: 2,
    reporters: ["default", "<rootDir>/test/support/summary-reporter.js"],
};
