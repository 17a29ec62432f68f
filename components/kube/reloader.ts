/**
 * The config-reloader sidecar: watches mounted ConfigMap/Secret directories and calls the main
 * container's reload endpoint when they change, so new config applies without a restart (a
 * restart would lose in-memory state, and without a volume, data).
 */
import type * as k8s from "@pulumi/kubernetes";
import type { Resources } from "../../config";
import { secureContainer } from "./security";

export const RELOADER_PORT = 8080;

export interface ReloaderArgs {
    readonly image: string;
    readonly resources: Resources;
    /** e.g. `http://127.0.0.1:9090/-/reload` */
    readonly reloadUrl: string;
    /** Volumes (already in the pod) to mount read-only and watch. */
    readonly watchedDirs: readonly { readonly volume: string; readonly path: string }[];
}

export function configReloader(a: ReloaderArgs): k8s.types.input.core.v1.Container {
    return secureContainer({
        name: "config-reloader",
        image: a.image,
        args: [`--reload-url=${a.reloadUrl}`, `--listen-address=:${RELOADER_PORT}`, ...a.watchedDirs.map((d) => `--watched-dir=${d.path}`)],
        ports: [{ name: "reloader", containerPort: RELOADER_PORT }],
        resources: a.resources,
        livenessProbe: { httpGet: { path: "/metrics", port: "reloader" }, periodSeconds: 30 },
        readinessProbe: { httpGet: { path: "/metrics", port: "reloader" }, periodSeconds: 30 },
        volumeMounts: a.watchedDirs.map((d) => ({ name: d.volume, mountPath: d.path, readOnly: true })),
    });
}
