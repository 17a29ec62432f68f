/**
 * CrossGuard policy pack `observability-policies`: run it with the stack's preview or update,
 *
 *   pulumi preview --policy-pack policy
 *
 * The policies live in `./policies.ts` (exported one by one for tests); this file only serves
 * them. Constructing a PolicyPack starts the analyzer's gRPC server, so nothing but the Pulumi
 * CLI (or the pack test, which acts as the engine) should import this module.
 */
import { PolicyPack } from "@pulumi/policy";
import { ALL_POLICIES } from "./policies";

new PolicyPack("observability-policies", {
    description: "Security and operability guard rails for the observability stack's Kubernetes resources.",
    enforcementLevel: "mandatory",
    policies: ALL_POLICIES,
});
