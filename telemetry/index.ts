export * from "./catalog";
export * from "./promql";
