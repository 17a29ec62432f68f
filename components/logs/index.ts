/** Log backends: Loki (default) or Elasticsearch with Kibana, chosen by `logs.backend`. */
export * from "./loki";
export * from "./loki-config";
export * from "./elasticsearch";
export * from "./elasticsearch-config";
export * from "./durations";
export * from "./logql";
