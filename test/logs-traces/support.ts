/**
 * Helpers of the logs-and-traces tests: the offline render of a committed stack (run as users run
 * it), and the Services and files it contains.
 */
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import type { K8sObject } from "../../scripts/lib/manifests";
import type { KnownService } from "../../components/otel-collector/validate";
import { makeTempDir, readManifests, runRender } from "../support/render";

export interface Rendered {
    readonly dir: string;
    readonly objects: K8sObject[];
    /** A file under files/, parsed as YAML. */
    yamlFile(rel: string): any;
    /** A file under files/, as text. */
    textFile(rel: string): string;
    /** Every Service of the render with its ports. */
    readonly services: KnownService[];
    find(kind: string, name: string, namespace?: string): K8sObject;
}

export function servicesOf(objects: readonly K8sObject[]): KnownService[] {
    return objects
        .filter((o) => o.kind === "Service")
        .map((o) => {
            const ns = o.metadata.namespace ?? "default";
            const sts = objects.find((s) => s.kind === "StatefulSet" && (s.metadata.namespace ?? "default") === ns && s.spec?.serviceName === o.metadata.name);
            return {
                name: o.metadata.name,
                namespace: ns,
                ports: (o.spec?.ports ?? []).map((p: any) => Number(p.port)),
                headless: o.spec?.clusterIP === "None",
                ...(sts ? { podNames: Array.from({ length: sts.spec.replicas ?? 1 }, (_, i) => `${sts.metadata.name}-${i}`) } : {}),
            };
        });
}

export function fromObjects(dir: string, objects: K8sObject[], files: Map<string, string> | undefined): Rendered {
    const text = (rel: string) => {
        if (files) {
            const t = files.get(rel);
            if (t === undefined) throw new Error(`render has no file ${rel}; it has ${[...files.keys()].join(", ")}`);
            return t;
        }
        return fs.readFileSync(path.join(dir, "files", rel), "utf8");
    };
    return {
        dir,
        objects,
        textFile: text,
        yamlFile: (rel) => yaml.load(text(rel)),
        services: servicesOf(objects),
        find(kind, name, namespace) {
            const o = objects.find((x) => x.kind === kind && x.metadata.name === name && (namespace === undefined || x.metadata.namespace === namespace));
            if (!o) throw new Error(`render has no ${kind} ${namespace ?? "*"}/${name}`);
            return o;
        },
    };
}

/** Renders a committed stack with `node scripts/render.js` into a temporary directory. */
export function renderStack(stack: string): Rendered {
    const dir = path.join(makeTempDir(`logs-traces-${stack}`), "out");
    const run = runRender(["--stack", stack, "--out", dir]);
    if (run.status !== 0) throw new Error(`render --stack ${stack} failed:\n${run.stderr}`);
    return fromObjects(dir, readManifests(dir), undefined);
}

export function cleanup(r: Rendered | undefined): void {
    if (r) fs.rmSync(path.dirname(r.dir), { recursive: true, force: true });
}

/** Containers of a workload's pod template. */
export function containersOf(o: K8sObject): any[] {
    return o.spec?.template?.spec?.containers ?? [];
}
