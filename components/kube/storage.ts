/**
 * Where a StatefulSet keeps its data: a PersistentVolumeClaim per replica when storage is
 * enabled (retained when the StatefulSet is deleted or scaled down), an emptyDir otherwise.
 */
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { StorageConfig } from "../../config";

export interface StatefulDataArgs {
    readonly storage: StorageConfig;
    /** StorageClass of the claims; undefined uses the cluster default. */
    readonly storageClass?: string;
    /** Labels of the claims (the workload's selector labels). */
    readonly podLabels: Record<string, string>;
    /** Size limit of the emptyDir used without storage. @default the storage size */
    readonly emptyDirSizeLimit?: string;
    /** Volume name the containers mount. @default "data" */
    readonly volumeName?: string;
}

export interface StatefulData {
    /** Pod volumes to add: the emptyDir when there is no claim, nothing otherwise. */
    readonly volumes: k8s.types.input.core.v1.Volume[];
    /** StatefulSet spec fields: the claim template and its retention policy, or nothing. */
    readonly claims: Pick<k8s.types.input.apps.v1.StatefulSetSpec, "volumeClaimTemplates" | "persistentVolumeClaimRetentionPolicy">;
}

export function statefulData(a: StatefulDataArgs): StatefulData {
    const name = a.volumeName ?? "data";
    if (!a.storage.enabled) return { volumes: [{ name, emptyDir: { sizeLimit: a.emptyDirSizeLimit ?? a.storage.size } }], claims: {} };
    return {
        volumes: [],
        claims: {
            persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
            volumeClaimTemplates: [
                {
                    metadata: { name, labels: a.podLabels },
                    spec: {
                        accessModes: ["ReadWriteOnce"],
                        ...(a.storageClass ? { storageClassName: a.storageClass } : {}),
                        resources: { requests: { storage: a.storage.size } },
                    },
                },
            ],
        },
    };
}

/**
 * Resource options every StatefulSet gets: volumeClaimTemplates are immutable, so a change
 * replaces the StatefulSet (its claims survive through the retention policy above).
 */
export const STATEFUL_SET_OPTIONS: Pick<pulumi.CustomResourceOptions, "replaceOnChanges" | "deleteBeforeReplace"> = {
    replaceOnChanges: ["spec.volumeClaimTemplates"],
    deleteBeforeReplace: true,
};
