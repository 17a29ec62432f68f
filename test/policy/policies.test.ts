/**
 * Each policy of the pack called directly with a compliant and a violating resource, the way the
 * policy analyzer calls it (see ./harness.ts). Violating cases break one field of a compliant
 * fixture, so a case passes only if that field alone is caught.
 */
import {
    ALL_POLICIES,
    containerRequestsAndLimits,
    networkPolicyPerWorkload,
    noSecretsInConfigMaps,
    pinnedContainerImages,
    restrictedPodSecurity,
} from "../../policy/policies";
import type { KubeObject } from "../../policy/checks";
import { clone, configMap, daemonSet, deployment, goodContainer, goodPodSpec, LABELS, networkPolicy } from "./fixtures";
import { runResourcePolicy, runStackPolicy, urnOf } from "./harness";

/** A compliant Deployment with one change made to its pod spec. */
function withPodSpec(change: (spec: any) => void, args: Parameters<typeof deployment>[0] = {}): KubeObject {
    const spec = goodPodSpec();
    change(spec);
    return deployment({ ...args, spec });
}
const container = (spec: any) => spec.containers[0];

describe("the observability-policies pack", () => {
    it("declares five mandatory policies with unique names", () => {
        expect(ALL_POLICIES.map((p) => p.name)).toEqual([
            "restricted-pod-security",
            "container-requests-and-limits",
            "pinned-container-images",
            "no-secrets-in-configmaps",
            "network-policy-per-workload",
        ]);
        for (const p of ALL_POLICIES) expect(p.enforcementLevel).toBe("mandatory");
    });
});

describe("restricted-pod-security", () => {
    it("accepts a compliant Deployment in the monitoring namespace", async () => {
        expect(await runResourcePolicy(restrictedPodSecurity, deployment())).toEqual([]);
    });

    it("accepts NET_BIND_SERVICE added back, which the restricted profile allows", async () => {
        const d = withPodSpec((s) => (container(s).securityContext.capabilities.add = ["NET_BIND_SERVICE"]));
        expect(await runResourcePolicy(restrictedPodSecurity, d)).toEqual([]);
    });

    it("accepts a Localhost seccomp profile as well as RuntimeDefault", async () => {
        const d = withPodSpec((s) => (container(s).securityContext.seccompProfile = { type: "Localhost", localhostProfile: "p.json" }));
        expect(await runResourcePolicy(restrictedPodSecurity, d)).toEqual([]);
    });

    const cases: [string, (spec: any) => void, string][] = [
        ["runAsNonRoot false on the pod and unset on the container", (s) => { s.securityContext.runAsNonRoot = false; delete container(s).securityContext.runAsNonRoot; }, 'container "app": runAsNonRoot must be true (is false)'],
        ["runAsNonRoot false on the container overriding the pod", (s) => (container(s).securityContext.runAsNonRoot = false), "runAsNonRoot must be true (is false)"],
        ["UID 0", (s) => (s.securityContext.runAsUser = 0), 'container "app": runAsUser must not be 0 (root)'],
        ["no fixed UID anywhere", (s) => delete s.securityContext.runAsUser, "runAsUser must be a fixed non-zero UID (is unset)"],
        ["allowPrivilegeEscalation true", (s) => (container(s).securityContext.allowPrivilegeEscalation = true), "allowPrivilegeEscalation must be false (is true)"],
        ["allowPrivilegeEscalation unset", (s) => delete container(s).securityContext.allowPrivilegeEscalation, "allowPrivilegeEscalation must be false (is unset)"],
        ["a privileged container", (s) => (container(s).securityContext.privileged = true), "securityContext.privileged must not be true"],
        ["capabilities not dropped", (s) => (container(s).securityContext.capabilities = {}), "capabilities.drop must include ALL (is unset)"],
        ["SYS_ADMIN added back", (s) => (container(s).securityContext.capabilities.add = ["SYS_ADMIN"]), "adds capabilities SYS_ADMIN"],
        ["no seccomp profile on pod or container", (s) => { delete s.securityContext.seccompProfile; delete container(s).securityContext.seccompProfile; }, "seccompProfile.type must be RuntimeDefault (is unset)"],
        ["an Unconfined seccomp profile on the container", (s) => (container(s).securityContext.seccompProfile = { type: "Unconfined" }), 'seccompProfile.type must be RuntimeDefault (is "Unconfined")'],
        ["hostNetwork", (s) => (s.hostNetwork = true), "hostNetwork: true"],
        ["hostPID", (s) => (s.hostPID = true), "hostPID: true"],
        ["hostIPC", (s) => (s.hostIPC = true), "hostIPC: true"],
        ["a hostPort", (s) => (container(s).ports[0].hostPort = 8080), "binds node port 8080 (hostPort)"],
        ["a hostPath volume", (s) => s.volumes.push({ name: "host", hostPath: { path: "/var/log" } }), 'volume "host" has type hostPath'],
        ["an nfs volume", (s) => s.volumes.push({ name: "share", nfs: { server: "nfs", path: "/" } }), 'volume "share" has type nfs'],
        ["an init container that escalates", (s) => (s.initContainers = [{ ...goodContainer("init"), securityContext: { ...goodContainer().securityContext, allowPrivilegeEscalation: true } }]), 'initContainer "init": securityContext.allowPrivilegeEscalation must be false'],
    ];
    it.each(cases)("rejects %s in the monitoring namespace", async (_title, change, message) => {
        const reported = await runResourcePolicy(restrictedPodSecurity, withPodSpec(change));
        expect(reported).toHaveLength(1);
        expect(reported[0]).toContain("Deployment monitoring/app: ");
        expect(reported[0]).toContain(message);
    });

    it("checks the pod templates of StatefulSets, DaemonSets, CronJobs and bare Pods too", async () => {
        const bad = goodPodSpec();
        bad.hostPID = true;
        const template = { metadata: { labels: LABELS }, spec: bad };
        const objects: KubeObject[] = [
            { apiVersion: "apps/v1", kind: "StatefulSet", metadata: { name: "s", namespace: "monitoring" }, spec: { template } },
            daemonSet({ spec: bad }),
            { apiVersion: "batch/v1", kind: "CronJob", metadata: { name: "c", namespace: "monitoring" }, spec: { jobTemplate: { spec: { template } } } },
            { apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: "monitoring", labels: LABELS }, spec: bad },
        ];
        for (const o of objects) expect(await runResourcePolicy(restrictedPodSecurity, o)).toEqual([expect.stringContaining("hostPID: true")]);
    });

    it("leaves workloads outside the configured namespaces alone, such as the agents namespace", async () => {
        const agent = withPodSpec((s) => (s.hostNetwork = true), { namespace: "monitoring-agents" });
        expect(await runResourcePolicy(restrictedPodSecurity, agent)).toEqual([]);
    });

    it("applies to the namespaces the pack's config names instead of the default", async () => {
        const agent = withPodSpec((s) => (s.hostNetwork = true), { namespace: "observability" });
        expect(await runResourcePolicy(restrictedPodSecurity, agent, { namespaces: ["observability"] })).toEqual([expect.stringContaining("hostNetwork")]);
        expect(await runResourcePolicy(restrictedPodSecurity, withPodSpec((s) => (s.hostNetwork = true)), { namespaces: ["observability"] })).toEqual([]);
    });

    it("ignores resources that are not workloads", async () => {
        const svc: KubeObject = { apiVersion: "v1", kind: "Service", metadata: { name: "app", namespace: "monitoring" }, spec: { hostNetwork: true } };
        expect(await runResourcePolicy(restrictedPodSecurity, svc)).toEqual([]);
    });
});

describe("container-requests-and-limits", () => {
    it("accepts containers with CPU and memory requests and limits", async () => {
        expect(await runResourcePolicy(containerRequestsAndLimits, deployment())).toEqual([]);
    });

    const cases: [string, (spec: any) => void, string][] = [
        ["no resources at all", (s) => delete container(s).resources, 'container "app": resources requests.cpu, requests.memory, limits.cpu, limits.memory must be set'],
        ["no CPU request", (s) => delete container(s).resources.requests.cpu, "resources requests.cpu must be set"],
        ["no memory limit", (s) => delete container(s).resources.limits.memory, "resources limits.memory must be set"],
        ["a memory limit below the request", (s) => (container(s).resources.limits.memory = "32Mi"), "resources.limits.memory 32Mi is below requests.memory 64Mi"],
        ["a CPU limit that is not a quantity", (s) => (container(s).resources.limits.cpu = "two"), "resources.limits.cpu is not a cpu quantity"],
        ["an init container without limits", (s) => (s.initContainers = [{ ...goodContainer("init"), resources: { requests: { cpu: "1m", memory: "1Mi" } } }]), 'initContainer "init": resources limits.cpu, limits.memory must be set'],
    ];
    it.each(cases)("rejects %s", async (_title, change, message) => {
        const reported = await runResourcePolicy(containerRequestsAndLimits, withPodSpec(change));
        expect(reported).toEqual([expect.stringContaining(message)]);
    });

    it("applies in every namespace, not only the monitoring one", async () => {
        const d = withPodSpec((s) => delete container(s).resources, { namespace: "monitoring-agents" });
        expect(await runResourcePolicy(containerRequestsAndLimits, d)).toHaveLength(1);
    });
});

describe("pinned-container-images", () => {
    it.each(["quay.io/prometheus/prometheus:v2.53.5", "localhost:5000/team/app:1.0", "grafana/grafana@sha256:" + "a".repeat(64)])("accepts %s", async (image) => {
        const d = withPodSpec((s) => (container(s).image = image));
        expect(await runResourcePolicy(pinnedContainerImages, d)).toEqual([]);
    });

    it.each([
        ["grafana/grafana:latest", "is tagged latest"],
        ["grafana/grafana:LATEST", "is tagged latest"],
        ["grafana/grafana", "has no tag (pulls latest)"],
        ["localhost:5000/otelcol", "has no tag (pulls latest)"],
        ["grafana/grafana:", "is tagged with nothing"],
        ["", "has no image"],
    ])("rejects the image %j", async (image, message) => {
        const d = withPodSpec((s) => (container(s).image = image));
        expect(await runResourcePolicy(pinnedContainerImages, d)).toEqual([expect.stringContaining(message)]);
    });

    it("rejects an unpinned init container image next to a pinned main one", async () => {
        const d = withPodSpec((s) => (s.initContainers = [{ ...goodContainer("init"), image: "busybox" }]));
        expect(await runResourcePolicy(pinnedContainerImages, d)).toEqual([expect.stringContaining('initContainer "init": image "busybox" has no tag')]);
    });
});

describe("no-secrets-in-configmaps", () => {
    it("accepts config files that reference credentials by file, environment or template, and settings that only sound secret", async () => {
        const cm = configMap({
            "alertmanager.yml": [
                "receivers:",
                "  - name: pager",
                "    pagerduty_configs:",
                "      - routing_key_file: /etc/alertmanager/secrets/pagerduty",
                "    webhook_configs: []",
                "    slack_configs:",
                "      - api_url_file: /etc/alertmanager/secrets/slack",
                "        send_resolved: true",
                "    email_configs:",
                "      - auth_password_file: /etc/alertmanager/secrets/smtp",
                "        auth_username: alertmanager@example.com",
            ].join("\n"),
            "grafana.ini": "[security]\nadmin_password = $__file{/etc/secrets/admin-password}\nsecret_key = ${GF_SECRET_KEY}\ntoken_rotation_interval_minutes = 10\n",
            "datasources.yml": "basicAuthPassword: $PROM_PASSWORD\njsonData:\n  tokenUri: {{ .TokenUri }}\n",
            "dashboard.json": JSON.stringify({ title: "Tokens issued", panels: [{ targets: [{ expr: 'sum(rate(tokens_total[5m]))' }] }] }),
            "gateway.yaml": "exporters:\n  loadbalancing:\n    routing_key: traceID\n    protocol:\n      otlp: {}\n",
        });
        expect(await runResourcePolicy(noSecretsInConfigMaps, cm)).toEqual([]);
    });

    const cases: [string, Record<string, string>, string][] = [
        ["a data key named password with a literal value", { password: "hunter2" }, 'data key "password" is named like a credential and holds a literal value'],
        ["a short password setting", { "app.ini": "[db]\npassword = admin\n" }, 'setting "password" holds a literal value'],
        ["a token setting", { "app.yml": "token: 8f14e45fceea167a5a36dedd4bea2543\n" }, 'setting "token" holds a literal value'],
        ["a YAML password setting", { "app.yml": "db:\n  user: app\n  password: hunter2\n" }, 'data key "app.yml" line 3: setting "password" holds a literal value'],
        ["an API key in one-line JSON", { "cfg.json": '{"url":"https://x","apiKey":"sk-0123456789abcdef"}' }, 'setting "apiKey" holds a literal value'],
        ["an INI client secret", { "oauth.ini": "[auth]\nclient_secret = abcdef0123456789\n" }, 'setting "client_secret" holds a literal value'],
        ["a PagerDuty routing key", { "am.yml": "pagerduty_configs:\n  - routing_key: 0123456789abcdef0123456789abcdef\n" }, 'setting "routing_key" holds a literal value'],
        ["a private key", { "tls.key": "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----\n" }, 'data key "tls.key" contains a private key'],
        ["a Slack webhook URL under a neutral name", { "am.yml": "slack_configs:\n  - url: https://hooks.slack.com/services/T000/B000/XXXXXXXX\n" }, "contains a Slack webhook URL"],
        ["a Teams webhook URL", { "am.yml": "msteams_configs:\n  - url: https://contoso.webhook.office.com/webhookb2/abc@def/IncomingWebhook/123\n" }, "contains a Microsoft Teams webhook URL"],
        ["a bearer token in a header", { "otel.yaml": "headers:\n  Authorization: Bearer abcdefghijklmnopqrstuvwxyz123456\n" }, "contains a bearer token"],
        ["a password inside a URL", { "es.yml": "hosts: [https://elastic:changeme123@es:9200]\n" }, "contains a password in a URL"],
        ["a GitHub token", { "env": "GITHUB=ghp_" + "a".repeat(36) }, "contains a GitHub token"],
    ];
    it.each(cases)("rejects %s", async (_title, data, message) => {
        const reported = await runResourcePolicy(noSecretsInConfigMaps, configMap(data));
        expect(reported).toEqual(expect.arrayContaining([expect.stringContaining(message)]));
        expect(reported.every((m) => m.startsWith("ConfigMap monitoring/app-config: "))).toBe(true);
    });

    it("ignores Secrets, where credentials belong", async () => {
        const secret: KubeObject = { apiVersion: "v1", kind: "Secret", metadata: { name: "s", namespace: "monitoring" }, data: { password: "aHVudGVyMg==" } };
        expect(await runResourcePolicy(noSecretsInConfigMaps, secret)).toEqual([]);
    });
});

describe("network-policy-per-workload", () => {
    const app = deployment();
    const own = networkPolicy("app", "monitoring", { matchLabels: LABELS });
    const defaultDeny = networkPolicy("default-deny-ingress", "monitoring", {});

    it("accepts a workload that a NetworkPolicy of its namespace selects", async () => {
        expect(await runStackPolicy(networkPolicyPerWorkload, [defaultDeny, own, app])).toEqual([]);
    });

    it("accepts a selection by matchExpressions", async () => {
        const np = networkPolicy("app", "monitoring", { matchExpressions: [{ key: "app.kubernetes.io/name", operator: "In", values: ["app", "other"] }] });
        expect(await runStackPolicy(networkPolicyPerWorkload, [np, app])).toEqual([]);
    });

    it("reports a workload no NetworkPolicy selects, against the workload's URN", async () => {
        const other = networkPolicy("other", "monitoring", { matchLabels: { "app.kubernetes.io/name": "other" } });
        expect(await runStackPolicy(networkPolicyPerWorkload, [other, app])).toEqual([
            { message: expect.stringContaining("Deployment monitoring/app: no NetworkPolicy in namespace monitoring selects its pods"), urn: urnOf(app) },
        ]);
    });

    it("does not count a namespace-wide default-deny for a workload that listens on a port", async () => {
        const reported = await runStackPolicy(networkPolicyPerWorkload, [defaultDeny, app]);
        expect(reported).toEqual([{ message: expect.stringContaining("only namespace-wide default-deny-ingress"), urn: urnOf(app) }]);
    });

    it("counts a namespace-wide default-deny for a workload that listens on no port", async () => {
        const quiet = withPodSpec((s) => delete container(s).ports);
        expect(await runStackPolicy(networkPolicyPerWorkload, [defaultDeny, quiet])).toEqual([]);
    });

    it("does not count a policy of another namespace or one that governs only egress", async () => {
        const elsewhere = networkPolicy("app", "default", { matchLabels: LABELS });
        const egressOnly = networkPolicy("app-egress", "monitoring", { matchLabels: LABELS }, ["Egress"]);
        expect(await runStackPolicy(networkPolicyPerWorkload, [elsewhere, egressOnly, clone(app)])).toHaveLength(1);
    });
});
