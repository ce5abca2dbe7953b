// Enforcement on a cluster with an injector: in a `deny` namespace, an app whose pods Istio's
// injector (simulated by a MutatingAdmissionPolicy) changes runs; a violation nobody injected is
// refused; pods an unknown injector breaks are refused and the app's status says why; the
// operator's periodic PolicyReport shows the namespace's results.

import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { renderPolicySet } from "../../src/app/policies/index.ts";
import { type PolicyReport, REPORT_NAME } from "../../src/app/reports/index.ts";
import { type KubeObject, requestJson } from "../../src/runtime/index.ts";
import { findingsInMessage } from "../fixtures/policy/corpus.ts";
import { installPolicyReportCrd } from "../fixtures/policy/policy-report-crd.ts";
import { printClusterLogsOnFailure, providedCluster } from "../support/cluster.ts";
import { type App, condition, statelessApp, waitConverged } from "./support/apps.ts";
import {
  ISTIO_INJECTION_LABEL,
  istioInjector,
  istioStatus,
  ROGUE_INJECTION_LABEL,
  rogueInjector,
} from "./support/injector.ts";
import { codeOf, Kube } from "./support/kube.ts";
import { OperatorProcess, printOperatorLogsOnFailure } from "./support/operator-process.ts";
import { installCrd, uniqueName, until } from "./support/setup.ts";

printClusterLogsOnFailure();
printOperatorLogsOnFailure();

const kube = new Kube(providedCluster().kubeconfig);
const MANAGER = "e2e-enforcement";

/** Server-side apply of any object by its API path. */
async function apply(object: KubeObject, path: string): Promise<void> {
  await requestJson(kube.transport, {
    method: "PATCH",
    path: `${path}/${object.metadata?.name}`,
    query: { fieldManager: MANAGER, force: true },
    contentType: "application/apply-patch+yaml",
    body: JSON.stringify(object),
  });
}

const admission = "/apis/admissionregistration.k8s.io/v1";
const plural: Record<string, string> = {
  ValidatingAdmissionPolicy: "validatingadmissionpolicies",
  ValidatingAdmissionPolicyBinding: "validatingadmissionpolicybindings",
  MutatingAdmissionPolicy: "mutatingadmissionpolicies",
  MutatingAdmissionPolicyBinding: "mutatingadmissionpolicybindings",
};
const applyAdmission = (o: KubeObject) => apply(o, `${admission}/${plural[o.kind ?? ""]}`);

/** A POST as a user would send it; the reply's status and message, for refusals. */
async function create(path: string, body: unknown, dryRun = false) {
  try {
    await requestJson(kube.transport, {
      method: "POST",
      path,
      ...(dryRun ? { query: { dryRun: "All" } } : {}),
      contentType: "application/json",
      body: JSON.stringify(body),
    });
    return { status: 201, message: "" };
  } catch (error) {
    const status = (error as { status?: { message?: string } }).status;
    return { status: codeOf(error) ?? 0, message: status?.message ?? String(error) };
  }
}

async function namespace(prefix: string, labels: Record<string, string>): Promise<string> {
  const name = uniqueName(prefix);
  await kube.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name, labels } }, MANAGER);
  await until(`ServiceAccount ${name}/default`, () =>
    requestJson(kube.transport, {
      method: "GET",
      path: `/api/v1/namespaces/${name}/serviceaccounts/default`,
    }),
  );
  return name;
}

const podsPath = (ns: string) => `/api/v1/namespaces/${ns}/pods`;
const readOnly = { readOnlyRootFilesystem: true };
const appSpec = {
  image: "registry.example.com/shop:1.0.0",
  processes: [{ name: "web", replicas: 2, ports: [{ name: "http", containerPort: 8080 }] }],
  scratch: [{ name: "tmp", mountPath: "/tmp", sizeLimit: "64Mi" }],
};

let meshed: string;
let rogue: string;
let operator: OperatorProcess | undefined;

beforeAll(async () => {
  await installCrd(kube);
  await installPolicyReportCrd(kube.transport, MANAGER);
  for (const group of renderPolicySet())
    for (const o of [group.policy, ...group.bindings]) await applyAdmission(o as KubeObject);
  for (const o of [...istioInjector(), ...rogueInjector()]) await applyAdmission(o);

  // The admin allows exemptions here, so the legacy Service below may exempt itself.
  meshed = await namespace("enforce-mesh", {
    "twelvefactor.dev/enforce": "deny",
    "twelvefactor.dev/exemptions": "allowed",
    [ISTIO_INJECTION_LABEL]: "enabled",
  });
  rogue = await namespace("enforce-rogue", {
    "twelvefactor.dev/enforce": "deny",
    [ROGUE_INJECTION_LABEL]: "enabled",
  });

  // Policies become active through informers: wait until both the injector and the policies act.
  const probe = {
    metadata: { name: "probe" },
    spec: { containers: [{ name: "c", image: "busybox", securityContext: readOnly }] },
  };
  await until(
    "the injector and the policies to be active",
    async () => {
      const injected = await requestJson<{ metadata: { annotations?: Record<string, string> } }>(
        kube.transport,
        {
          method: "POST",
          path: podsPath(meshed),
          query: { dryRun: "All" },
          contentType: "application/json",
          body: JSON.stringify(probe),
        },
      ).catch(() => undefined);
      const sticky = await create(
        `/api/v1/namespaces/${meshed}/services`,
        {
          metadata: { name: "probe" },
          spec: { sessionAffinity: "ClientIP", ports: [{ port: 80 }] },
        },
        true,
      );
      const rogueRefused = await create(podsPath(rogue), probe, true);
      return (
        injected?.metadata.annotations?.["sidecar.istio.io/status"] === istioStatus &&
        sticky.status === 403 &&
        rogueRefused.status === 403
      );
    },
    { timeoutMs: 90_000 },
  );

  operator = await OperatorProcess.start({
    name: "enforcement",
    kubeconfig: kube.kubeconfigPath,
    namespaces: [meshed, rogue],
    env: { POLICY_REPORT_INTERVAL: "5s" },
  });
}, 240_000);

afterAll(async () => {
  await operator?.stop();
  for (const ns of [meshed, rogue])
    if (ns !== undefined) await kube.delete("Namespace", undefined, ns);
  for (const o of [...istioInjector(), ...rogueInjector()])
    await requestJson(kube.transport, {
      method: "DELETE",
      path: `${admission}/${plural[o.kind ?? ""]}/${o.metadata?.name}`,
    }).catch(() => {});
});

describe("a deny namespace with Istio injection", () => {
  test("the operator's app runs: its injected pods are admitted", async () => {
    await kube.apply(statelessApp(meshed, "shop", appSpec), "e2e-user");
    const [app] = await waitConverged(kube, meshed, { names: ["shop"], timeoutMs: 120_000 });
    expect(condition(app, "Ready")?.status).toBe("True");
    const pods = await kube.list<{
      metadata: { annotations?: Record<string, string> };
      spec: { initContainers?: { name: string }[]; volumes?: { name: string }[] };
    }>("Pod", meshed, "app.kubernetes.io/instance=shop");
    expect(pods.length).toBe(2);
    for (const pod of pods) {
      // What Istio adds, which the rules alone would refuse: a writable istio-init, unbounded emptyDirs.
      expect(pod.metadata.annotations?.["sidecar.istio.io/status"]).toBe(istioStatus);
      expect(pod.spec.initContainers?.map((c) => c.name)).toEqual(["istio-init", "istio-proxy"]);
      expect(pod.spec.volumes?.map((v) => v.name)).toEqual(
        expect.arrayContaining(["istio-envoy", "istio-data", "workload-socket"]),
      );
    }
  });

  test("a container that only borrows Istio's names, in a pod Istio did not inject, is refused", async () => {
    const reply = await create(podsPath(meshed), {
      metadata: { name: "disguised", annotations: { "sidecar.istio.io/inject": "false" } },
      spec: {
        containers: [
          { name: "web", image: "registry.example.com/shop:1.0.0", securityContext: readOnly },
          { name: "istio-proxy", image: "registry.example.com/cache:2.0" },
        ],
        volumes: [{ name: "istio-data", emptyDir: {} }],
      },
    });
    expect(reply.status, reply.message).toBe(403);
    expect(findingsInMessage(reply.message)).toEqual([
      "TF-PROC-010 spec.volumes[0].emptyDir.sizeLimit",
      "TF-PROC-011 spec.containers[1].securityContext.readOnlyRootFilesystem",
    ]);
  });

  test("a Deployment that breaks a rule is refused at the Deployment, naming the field", async () => {
    const reply = await create(`/apis/apps/v1/namespaces/${meshed}/deployments`, {
      metadata: { name: "uploads" },
      spec: {
        selector: { matchLabels: { app: "uploads" } },
        template: {
          metadata: { labels: { app: "uploads" } },
          spec: {
            containers: [{ name: "web", image: "shop:1", securityContext: readOnly }],
            volumes: [{ name: "data", hostPath: { path: "/srv" } }],
          },
        },
      },
    });
    expect(reply.status, reply.message).toBe(403);
    expect(findingsInMessage(reply.message)).toEqual([
      "TF-PROC-006 spec.template.spec.volumes[0].hostPath",
    ]);
  });

  test("an object's exemption, allowed by the namespace's admin, is admitted", async () => {
    const reply = await create(`/api/v1/namespaces/${meshed}/services`, {
      metadata: {
        name: "legacy-sticky",
        annotations: {
          "twelvefactor.dev/exempt": "TF-PROC-001",
          "twelvefactor.dev/exempt-reason": "in-memory sessions until the Redis move",
        },
      },
      spec: { sessionAffinity: "ClientIP", selector: { app: "legacy" }, ports: [{ port: 80 }] },
    });
    expect(reply.status, reply.message).toBe(201);
  });
});

describe("pods that an unknown injector breaks", () => {
  test("are refused, and the app's Ready message names the process type and the API server's reason", async () => {
    await kube.apply(statelessApp(rogue, "shop", appSpec), "e2e-user");
    const app = await until(
      "the app to report the refused pods",
      async () => {
        const a = await kube.get<App>("StatelessApp", rogue, "shop");
        const ready = condition(a, "Ready");
        return ready?.status === "False" && (ready.message ?? "").includes("pods cannot be created")
          ? a
          : undefined;
      },
      { timeoutMs: 120_000 },
    );
    const ready = condition(app, "Ready");
    expect(ready?.reason).toBe("Progressing");
    expect(ready?.message).toMatch(/^rolling out: web 0\/2; web: pods cannot be created: /);
    expect(ready?.message).toContain("ValidatingAdmissionPolicy 'twelvefactor-processes'");
    expect(findingsInMessage(ready?.message ?? "")).toEqual([
      "TF-PROC-010 spec.volumes[1].emptyDir.sizeLimit",
    ]);
  });
});

describe("the operator's periodic PolicyReport", () => {
  test("appears in the opted-in namespace with a result per rule and object", async () => {
    const report = await until(
      `PolicyReport ${meshed}/${REPORT_NAME} with the exempted Service`,
      async () => {
        const r = await requestJson<PolicyReport>(kube.transport, {
          method: "GET",
          path: `/apis/wgpolicyk8s.io/v1alpha2/namespaces/${meshed}/policyreports/${REPORT_NAME}`,
        }).catch(() => undefined);
        return r?.results.some((x) => x.resources[0]?.name === "legacy-sticky") ? r : undefined;
      },
      { timeoutMs: 60_000 },
    );
    const outcome = (kind: string, name: string, rule: string) =>
      report.results.find(
        (r) => r.resources[0]?.kind === kind && r.resources[0]?.name === name && r.rule === rule,
      )?.result;
    expect(outcome("Deployment", "shop-web", "TF-PROC-011")).toBe("pass");
    expect(outcome("Deployment", "shop-web", "TF-PROC-010")).toBe("pass");
    expect(outcome("Service", "shop-web", "TF-PROC-001")).toBe("pass");
    expect(outcome("Service", "legacy-sticky", "TF-PROC-001")).toBe("skip");
    // The injected pods are their Deployment's: reported once, through it.
    expect(report.results.some((r) => r.resources[0]?.kind === "Pod")).toBe(false);
    expect(report.summary.skip).toBe(1);
    expect(report.summary.fail).toBe(0);
  });
});
