/**
 * Infrastructure rules: recording rules for node and container utilisation, and alerts on
 * scrape targets, the cluster, containers (memory, CPU throttling, crash loops, leaks), disks and
 * nodes. Metric names are upstream ones (node-exporter, cAdvisor, kube-state-metrics), from
 * `INFRA` in telemetry/.
 */
import { aggBy, INFRA, sumBy, VIRTUAL_NETWORK_DEVICES } from "../telemetry";
import { alert, and, num, RuleContext } from "./common";
import type { RuleGroup } from "./index";
import { RECORDING } from "./recording";

const r = (name: keyof typeof RECORDING): string => RECORDING[name].record;

/** Container series of real containers (cAdvisor also reports the pod sandbox and cgroup totals). */
const CONTAINER = `{container!~"|POD"}`;
/** Filesystems that can fill up (not memory-backed or read-only images). */
const FILESYSTEM = `{fstype!~"tmpfs|ramfs|squashfs|overlay|nsfs|fuse.lxcfs",mountpoint!=""}`;
const POD_CONTAINER = ["cluster", "namespace", "pod", "container"];
const NODE = ["cluster", "instance", "node"];
const READY = `${INFRA.kube.nodeReady}{condition="Ready",status="true"}`;
/** Only a disk less than this share free can page for filling up: a near-empty disk's trend is noise. */
export const DISK_FILL_MAX_FREE = 0.4;
/** Lookback of the disk-fill prediction. */
export const DISK_FILL_LOOKBACK = "6h";
/** Lookback of the memory-leak trend. */
export const MEMORY_LEAK_LOOKBACK = "2h";

const POD = ["cluster", "namespace", "pod"];
const memoryLimit = `${aggBy("max", POD_CONTAINER, `${INFRA.kube.limits}{resource="memory"}`)} > 0`;
const nodeRate = (name: string, selector = "") => sumBy(NODE, `rate(${name}${selector}[5m])`);

export function infrastructureRecordingGroup(): RuleGroup {
    return {
        name: "infrastructure.recording",
        rules: [
            { record: r("nodeCpuUtilisation"), expr: `1 - ${aggBy("avg", NODE, `rate(${INFRA.node.cpuSeconds}{mode="idle"}[5m])`)}` },
            {
                record: r("nodeMemoryUtilisation"),
                expr: `1 - ${aggBy("sum", NODE, INFRA.node.memAvailable)}\n/\n${aggBy("sum", NODE, INFRA.node.memTotal)}`,
            },
            { record: r("containerCpuUsage"), expr: sumBy(POD_CONTAINER, `rate(${INFRA.container.cpu}${CONTAINER}[5m])`) },
            {
                record: r("containerMemoryLimitRatio"),
                expr: `${aggBy("max", POD_CONTAINER, `${INFRA.container.memoryWorkingSet}${CONTAINER}`)}\n/\n(${memoryLimit})`,
            },
            { record: r("containerMemoryWorkingSet"), expr: aggBy("max", POD_CONTAINER, `${INFRA.container.memoryWorkingSet}${CONTAINER}`) },
            {
                // `> 0`: a container without a CPU limit has no CFS periods; it gets no ratio rather than NaN.
                record: r("containerCpuThrottledRatio"),
                expr:
                    `${sumBy(POD_CONTAINER, `rate(${INFRA.container.cpuThrottledPeriods}${CONTAINER}[5m])`)}\n/\n` +
                    `(${sumBy(POD_CONTAINER, `rate(${INFRA.container.cpuPeriods}${CONTAINER}[5m])`)} > 0)`,
            },
            { record: r("podRestarts"), expr: sumBy(POD, `increase(${INFRA.kube.restarts}[1h])`) },
            { record: r("podNetworkReceive"), expr: sumBy(POD, `rate(${INFRA.container.netReceive}[5m])`) },
            { record: r("podNetworkTransmit"), expr: sumBy(POD, `rate(${INFRA.container.netTransmit}[5m])`) },
            { record: r("nodeDiskRead"), expr: nodeRate(INFRA.node.diskRead) },
            { record: r("nodeDiskWritten"), expr: nodeRate(INFRA.node.diskWritten) },
            { record: r("nodeNetworkReceive"), expr: nodeRate(INFRA.node.netReceive, `{device!~"${VIRTUAL_NETWORK_DEVICES}"}`) },
            { record: r("nodeNetworkTransmit"), expr: nodeRate(INFRA.node.netTransmit, `{device!~"${VIRTUAL_NETWORK_DEVICES}"}`) },
        ],
    };
}

export function infrastructureAlertGroup(ctx: RuleContext): RuleGroup {
    const a = ctx.alerting.infrastructure;
    const team = ctx.alerting.teams.platform;
    const throttled = sumBy(POD_CONTAINER, `increase(${INFRA.container.cpuThrottledPeriods}${CONTAINER}[5m])`);
    const periods = sumBy(POD_CONTAINER, `increase(${INFRA.container.cpuPeriods}${CONTAINER}[5m])`);
    const hours = (h: number) => `${num(h)} * 3600`;
    return {
        name: "infrastructure.alerts",
        rules: [
            alert({
                name: "TargetDown",
                expr: `${INFRA.up} == 0`,
                for: a.targetDown.for,
                severity: "warning",
                team,
                summary: "{{ $labels.namespace }}/{{ $labels.service }}: target {{ $labels.instance }} is down.",
                description:
                    "Prometheus cannot scrape {{ $labels.instance }} (job {{ $labels.job }}, pod {{ $labels.pod }}) of {{ $labels.service }} " +
                    `in {{ $labels.namespace }}: up = {{ $value }} for ${a.targetDown.for}. Its metrics, and the alerts built on them, are blind.`,
            }),
            alert({
                name: "ClusterDown",
                expr:
                    `(\ncount(${INFRA.up} == 0) / count(${INFRA.up})\n) > ${num(a.clusterDown.threshold)}\n` +
                    `or\n(\ncount(${READY} == 0) / count(${READY})\n) == 1`,
                for: a.clusterDown.for,
                severity: "critical",
                team,
                summary: "The cluster is down: {{ $value | humanizePercentage }} of its targets or nodes are down.",
                description:
                    `{{ $value | humanizePercentage }} of all scrape targets are down (more than ${Math.round(a.clusterDown.threshold * 100)}%), ` +
                    `or none of the nodes is Ready, for ${a.clusterDown.for}. Every other alert of the cluster is muted while this fires.`,
            }),
            alert({
                name: "ContainerMemoryNearLimit",
                expr: `${r("containerMemoryLimitRatio")} > ${num(a.containerMemory.threshold)}`,
                for: a.containerMemory.for,
                severity: "warning",
                team,
                summary: "{{ $labels.namespace }}/{{ $labels.pod }}: container {{ $labels.container }} uses {{ $value | humanizePercentage }} of its memory limit.",
                description:
                    "Container {{ $labels.container }} of pod {{ $labels.pod }} in {{ $labels.namespace }} has a working set of " +
                    `{{ $value | humanizePercentage }} of its memory limit (above ${Math.round(a.containerMemory.threshold * 100)}% for ${a.containerMemory.for}): ` +
                    "it will be OOM-killed if it grows.",
            }),
            alert({
                name: "ContainerCpuThrottling",
                expr: `${throttled}\n/\n(${periods} > 0)\n> ${num(a.cpuThrottling.threshold)}`,
                for: a.cpuThrottling.for,
                severity: "info",
                team,
                summary: "{{ $labels.namespace }}/{{ $labels.pod }}: container {{ $labels.container }} is throttled in {{ $value | humanizePercentage }} of CPU periods.",
                description:
                    "Container {{ $labels.container }} of pod {{ $labels.pod }} in {{ $labels.namespace }} was CPU-throttled in " +
                    `{{ $value | humanizePercentage }} of its CFS periods over 5m (above ${Math.round(a.cpuThrottling.threshold * 100)}% for ${a.cpuThrottling.for}): its CPU limit slows it down.`,
            }),
            alert({
                name: "NodeFilesystemFillingUp",
                expr: and(
                    `${INFRA.node.fsAvail}${FILESYSTEM} / ${INFRA.node.fsSize}${FILESYSTEM} < ${num(DISK_FILL_MAX_FREE)}`,
                    `predict_linear(${INFRA.node.fsAvail}${FILESYSTEM}[${DISK_FILL_LOOKBACK}], ${hours(a.diskFull.threshold)}) < 0`,
                ),
                for: a.diskFull.for,
                severity: "critical",
                team,
                summary: "{{ $labels.node }}: {{ $labels.mountpoint }} will be full within " + `${num(a.diskFull.threshold)}h.`,
                description:
                    "Filesystem {{ $labels.mountpoint }} ({{ $labels.device }}) of node {{ $labels.node }} has {{ $value | humanizePercentage }} free " +
                    `and, at its rate of the last ${DISK_FILL_LOOKBACK}, will be full within ${num(a.diskFull.threshold)} hours (for ${a.diskFull.for}).`,
            }),
            alert({
                name: "PodCrashLooping",
                expr: and(
                    `${sumBy(POD_CONTAINER, `increase(${INFRA.kube.restarts}[15m])`)} > 0`,
                    `${aggBy("max", POD_CONTAINER, `max_over_time(${INFRA.kube.waitingReason}{reason="CrashLoopBackOff"}[5m])`)} >= 1`,
                ),
                for: a.crashLooping.for,
                severity: "warning",
                team,
                summary: "{{ $labels.namespace }}/{{ $labels.pod }}: container {{ $labels.container }} is crash-looping.",
                description:
                    "Container {{ $labels.container }} of pod {{ $labels.pod }} in {{ $labels.namespace }} waits in CrashLoopBackOff " +
                    `and restarted {{ $value | humanize }} times in the last 15 minutes (for ${a.crashLooping.for}).`,
            }),
            alert({
                name: "ContainerMemoryLeak",
                expr:
                    `${aggBy("max", POD_CONTAINER, `predict_linear(${INFRA.container.memoryWorkingSet}${CONTAINER}[${MEMORY_LEAK_LOOKBACK}], ${hours(a.memoryLeak.threshold)})`)}\n` +
                    `> on (${POD_CONTAINER.join(", ")})\n(${memoryLimit})`,
                for: a.memoryLeak.for,
                severity: "warning",
                team,
                summary: "{{ $labels.namespace }}/{{ $labels.pod }}: container {{ $labels.container }} memory grows towards its limit.",
                description:
                    "The working set of container {{ $labels.container }} of pod {{ $labels.pod }} in {{ $labels.namespace }} has grown steadily " +
                    `over the last ${MEMORY_LEAK_LOOKBACK}; at that rate it reaches {{ $value | humanize1024 }}B, beyond its memory limit, within ` +
                    `${num(a.memoryLeak.threshold)} hours (for ${a.memoryLeak.for}). A leak: it will be OOM-killed.`,
            }),
            alert({
                name: "NodeNotReady",
                expr: `${READY} == 0`,
                for: a.nodeNotReady.for,
                severity: "warning",
                team,
                summary: "Node {{ $labels.node }} is not Ready.",
                description: `Node {{ $labels.node }} has reported Ready = {{ $value }} (not true) for ${a.nodeNotReady.for}: its pods are being evicted or are unreachable.`,
            }),
        ],
    };
}
