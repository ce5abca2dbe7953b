// The release phase on a real kube-apiserver: the release Job gates the rollout. This tier runs no
// controller-manager, so no Job controller races the test: it sets each Job's outcome through the status subresource.
import type { V1Deployment, V1Job } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { releaseJobName } from "../../../src/app/render/index.ts";
import { checkObject } from "../../../src/app/rules/index.ts";
import { type HttpTransport, type KubeObject, requestJson } from "../../../src/runtime/index.ts";
import { app as fixtureApp } from "../../fixtures/apps.ts";
import {
  createTestNamespace,
  eventually,
  printClusterLogsOnFailure,
} from "../../support/cluster.ts";
import {
  type AppView,
  adminTransport,
  applyAsUser,
  conditionOf,
  getObject,
  installCrd,
  listObjects,
  objectPath,
  settledApp,
  startTestOperator,
  type TestOperator,
  tenantTransport,
} from "../../support/operator.ts";

printClusterLogsOnFailure();

let ns: string;
let op: TestOperator;
/** A user with only the shipped stateless-operator-edit role in `ns`. */
let tenant: HttpTransport;

beforeAll(async () => {
  await installCrd();
  ns = await createTestNamespace("release");
  tenant = await tenantTransport(ns);
  op = await startTestOperator({ namespaces: [ns] });
});
afterAll(async () => {
  await op?.stop();
});

const V1 = "registry.example.com/shop:1.0.0";
const V2 = "registry.example.com/shop:2.0.0";
const migrate = { command: ["bin/migrate"], args: ["--up"] };

const shop = (image: string, release: { command: string[]; args?: string[] } = migrate) =>
  ({
    apiVersion: "twelvefactor.dev/v1alpha1",
    kind: "StatelessApp",
    metadata: { name: "shop", namespace: ns },
    spec: {
      image,
      scratch: [{ name: "tmp", mountPath: "/tmp", sizeLimit: "64Mi" }],
      processes: [{ name: "web", replicas: 1, ports: [{ name: "http", containerPort: 8080 }] }],
      release,
    },
  }) as unknown as KubeObject;

const jobName = (image: string, release = migrate) =>
  releaseJobName(fixtureApp({ image, release }), release);

const imageOf = (d: V1Deployment | undefined) => d?.spec?.template.spec?.containers[0]?.image;

/** The app once its status reflects its generation and `check` holds. */
const settled = (check: (a: AppView) => boolean) => settledApp(ns, "shop", check);

/** Plays the Job controller: the Job succeeded, or failed with BackoffLimitExceeded. */
async function finishJob(name: string, outcome: "succeeded" | "failed"): Promise<void> {
  const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  const condition = (type: string, reason: string, message: string) => ({
    type,
    status: "True",
    reason,
    message,
    lastProbeTime: now,
    lastTransitionTime: now,
  });
  const status =
    outcome === "succeeded"
      ? {
          startTime: now,
          completionTime: now,
          succeeded: 1,
          conditions: [
            condition(
              "SuccessCriteriaMet",
              "CompletionsReached",
              "Reached expected number of succeeded pods",
            ),
            condition(
              "Complete",
              "CompletionsReached",
              "Reached expected number of succeeded pods",
            ),
          ],
        }
      : {
          startTime: now,
          failed: 1,
          conditions: [
            condition(
              "FailureTarget",
              "BackoffLimitExceeded",
              "Job has reached the specified backoff limit",
            ),
            condition(
              "Failed",
              "BackoffLimitExceeded",
              "Job has reached the specified backoff limit",
            ),
          ],
        };
  await requestJson(adminTransport(), {
    method: "PATCH",
    path: `${objectPath({ kind: "Job", metadata: { namespace: ns, name } })}/status`,
    contentType: "application/merge-patch+json",
    body: JSON.stringify({ status }),
  });
}

/**
 * The Jobs are ordered by creationTimestamp, which has a resolution of one second: each new
 * release of this test starts in a later second than the one before, as real releases do.
 */
const nextSecond = () => new Promise((r) => setTimeout(r, 1_100));

const job = (name: string) =>
  eventually(() => getObject<V1Job>("Job", ns, name), { what: `Job ${ns}/${name}` });

/**
 * Plays the Job controller and the kubelet: a pod of the Job's template, controlled by the Job,
 * that failed. No node runs it (this tier has none), so there is no log to read: the API server
 * answers 204 No Content. `controller: false` makes a pod that only looks like the Job's: its
 * labels and name, no controller.
 */
async function failedPod(of: V1Job, name: string, controller = true): Promise<void> {
  const pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: ns,
      labels: {
        ...of.spec?.template.metadata?.labels,
        "batch.kubernetes.io/job-name": of.metadata?.name ?? "",
        "job-name": of.metadata?.name ?? "",
      },
      ...(controller
        ? {
            ownerReferences: [
              {
                apiVersion: "batch/v1",
                kind: "Job",
                name: of.metadata?.name ?? "",
                uid: of.metadata?.uid ?? "",
                controller: true,
                blockOwnerDeletion: true,
              },
            ],
          }
        : {}),
    },
    spec: of.spec?.template.spec,
  };
  const admin = adminTransport();
  await requestJson(admin, {
    method: "POST",
    path: objectPath({ kind: "Pod", metadata: { namespace: ns } }),
    contentType: "application/json",
    body: JSON.stringify(pod),
  });
  await requestJson(admin, {
    method: "PATCH",
    path: `${objectPath(pod)}/status`,
    contentType: "application/merge-patch+json",
    body: JSON.stringify({ status: { phase: "Failed" } }),
  });
}

describe("the release Job gates the rollout", () => {
  test("a new app: its Deployment waits for the first release, then is created", async () => {
    await applyAsUser([shop(V1)]);
    const first = await job(jobName(V1));
    expect(first.spec?.template.spec?.containers[0]?.image).toBe(V1);
    expect(first.spec?.template.spec?.restartPolicy).toBe("Never");
    expect(first.metadata?.ownerReferences?.[0]).toMatchObject({
      kind: "StatelessApp",
      name: "shop",
    });
    expect(checkObject(first)).toEqual([]);
    const running = await settled(
      (a) => conditionOf(a, "Reconciling")?.reason === "ReleaseRunning",
    );
    expect(conditionOf(running, "Ready")).toMatchObject({
      status: "False",
      reason: "ReleaseRunning",
    });
    expect(conditionOf(running, "Ready")?.message).toMatch(`release ${jobName(V1)} running`);
    expect(running.status?.release).toEqual({ image: V1, job: jobName(V1), state: "Running" });
    expect(await getObject("Deployment", ns, "shop-web")).toBeUndefined();

    await finishJob(jobName(V1), "succeeded");
    const d = await eventually(() => getObject<V1Deployment>("Deployment", ns, "shop-web"), {
      what: "the Deployment after the release",
    });
    expect(imageOf(d)).toBe(V1);
    await settled((a) => a.status?.release?.state === "Succeeded");
  });

  test("a new image: the old Deployment is untouched while the Job runs, Stalled when it fails, rolled once a fixed release succeeds", async () => {
    const before = await getObject<V1Deployment>("Deployment", ns, "shop-web");
    await nextSecond();
    await applyAsUser([shop(V2)]);
    await job(jobName(V2));
    await settled(
      (a) => a.status?.release?.job === jobName(V2) && a.status.release.state === "Running",
    );
    const held = await getObject<V1Deployment>("Deployment", ns, "shop-web");
    expect(imageOf(held)).toBe(V1);
    expect(held?.metadata?.generation).toBe(before?.metadata?.generation);
    expect(held?.spec?.template).toEqual(before?.spec?.template);

    // The Job's pod failed; a newer pod that only looks like the Job's is never read.
    const failing = await job(jobName(V2));
    await failedPod(failing, `${jobName(V2)}-abcde`);
    await nextSecond();
    await failedPod(failing, `${jobName(V2)}-zzzzz`, false);
    await finishJob(jobName(V2), "failed");
    const stalled = await settled((a) => conditionOf(a, "Stalled")?.reason === "ReleaseFailed");
    // No kubelet runs the pod, so its log cannot be read: the message says why, the reconcile goes on.
    expect(conditionOf(stalled, "Stalled")?.message).toBe(
      `release ${jobName(V2)} failed (BackoffLimitExceeded: Job has reached the specified backoff limit); no log line of pod ${jobName(V2)}-abcde: the pod was never scheduled on a node; nothing rolls until spec.image or spec.release changes`,
    );
    expect(stalled.status?.release).toEqual({ image: V2, job: jobName(V2), state: "Failed" });
    expect(imageOf(await getObject<V1Deployment>("Deployment", ns, "shop-web"))).toBe(V1);

    // A fixed release spec is a new release: a new Job; the failed one stays for its logs.
    const fixed = { command: ["bin/migrate"], args: ["--up", "--fixed"] };
    await nextSecond();
    await applyAsUser([shop(V2, fixed)]);
    await job(jobName(V2, fixed));
    await settled((a) => a.status?.release?.job === jobName(V2, fixed));
    expect(imageOf(await getObject<V1Deployment>("Deployment", ns, "shop-web"))).toBe(V1);
    await finishJob(jobName(V2, fixed), "succeeded");
    await eventually(
      async () =>
        imageOf(await getObject<V1Deployment>("Deployment", ns, "shop-web")) === V2 || undefined,
      { what: "the Deployment rolled onto V2" },
    );
    const names = (await listObjects<V1Job>("Job", ns)).map((j) => j.metadata?.name).sort();
    expect(names).toEqual([jobName(V1), jobName(V2), jobName(V2, fixed)].sort());
    // The failure was told once by a Warning; the held rollout that proceeded is not drift.
    const reasons = await eventually(
      async () => {
        const events = await listObjects<{ reason?: string; regarding?: { name?: string } }>(
          "Event",
          ns,
        );
        const about = events.filter((e) => e.regarding?.name === "shop").map((e) => e.reason);
        return about.includes("ReleaseFailed") ? about : undefined;
      },
      { what: "the ReleaseFailed Event" },
    );
    expect(reasons.filter((r) => r === "ReleaseFailed")).toHaveLength(1);
    const warning = (
      await listObjects<{ reason?: string; note?: string; regarding?: { name?: string } }>(
        "Event",
        ns,
      )
    ).find((e) => e.reason === "ReleaseFailed" && e.regarding?.name === "shop");
    expect(warning?.note).toBe(conditionOf(stalled, "Stalled")?.message);
    expect(reasons).not.toContain("DriftCorrected");
  });

  test("only the last 3 release Jobs are kept", async () => {
    const next = { command: ["bin/migrate"], args: ["--again"] };
    await nextSecond();
    await applyAsUser([shop(V2, next)]);
    await job(jobName(V2, next));
    const names = await eventually(
      async () => {
        const jobs = (await listObjects<V1Job>("Job", ns)).filter(
          (j) => j.metadata?.deletionTimestamp === undefined,
        );
        return jobs.length === 3 ? jobs.map((j) => j.metadata?.name).sort() : undefined;
      },
      { what: "3 release Jobs" },
    );
    expect(names).not.toContain(jobName(V1));
    expect(names).toContain(jobName(V2, next));
  });
});

describe("a tenant's release against another team's Job", () => {
  test("a Job of the release's name that is not the app's: never written, Stalled NameInUse, nothing rolls", async () => {
    const release = { command: ["bin/migrate"] };
    const name = releaseJobName(fixtureApp({ image: V1, release }, { name: "clash" }), release);
    const theirs = {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name, namespace: ns },
      spec: {
        template: {
          spec: {
            restartPolicy: "Never",
            containers: [{ name: "theirs", image: "registry.example.com/theirs:1" }],
          },
        },
      },
    } as KubeObject;
    await applyAsUser([theirs], "other-team");
    const before = JSON.stringify(await getObject("Job", ns, name));
    const mine = { ...shop(V1, release), metadata: { name: "clash", namespace: ns } };
    await requestJson(tenant, {
      method: "PATCH",
      path: objectPath(mine),
      query: { fieldManager: "kubectl", force: true },
      contentType: "application/apply-patch+yaml",
      body: JSON.stringify(mine),
    });
    const stalled = await settledApp(
      ns,
      "clash",
      (a) => conditionOf(a, "Stalled")?.reason === "NameInUse",
    );
    expect(conditionOf(stalled, "Stalled")?.message).toContain(
      `Job ${name} already exists and is not this app's`,
    );
    expect(JSON.stringify(await getObject("Job", ns, name))).toBe(before);
    expect(await getObject("Deployment", ns, "clash-web")).toBeUndefined();
  });
});
