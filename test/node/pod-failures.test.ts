// Real pods 5: pod failures are reported. An image that does not exist, a container that exits at
// start, an image with a non-numeric USER: within 30 s the app's Ready=False names the process
// type, the kubelet's reason and its message, with a PodFailing Warning; the app that is fixed
// becomes Ready.

import { beforeAll, describe, expect, test } from "vitest";
import { kubectlOk } from "../integration/install/kubectl.ts";
import { eventually, printClusterLogsOnFailure } from "../support/cluster.ts";
import {
  applyAsTenant,
  image,
  installOperator,
  tenantNamespace,
  waitReady,
} from "./support/node.ts";

printClusterLogsOnFailure();

let namespace: string;

beforeAll(async () => {
  await installOperator();
  namespace = await tenantNamespace("failures");
});

type Ready = { status: string; reason?: string; message?: string };

/** The kubelet's waiting reasons on the pods of app `name` right now. */
async function waitingReasons(name: string): Promise<string[]> {
  const pods = JSON.parse(
    await kubectlOk([
      "-n",
      namespace,
      "get",
      "pods",
      "-l",
      `app.kubernetes.io/instance=${name}`,
      "-o",
      "json",
    ]),
  ) as {
    items: { status?: { containerStatuses?: { state?: { waiting?: { reason?: string } } }[] } }[];
  };
  return pods.items.flatMap((p) =>
    (p.status?.containerStatuses ?? []).flatMap((c) => c.state?.waiting?.reason ?? []),
  );
}

/**
 * Creates an app with one `web` process and resolves with its Ready condition once it is False
 * for a reason the kubelet gave (`expected` in the message). The bound is the issue's: within
 * 30 s of a pod showing that reason (how long the kubelet takes to get there — a container must
 * start and exit before it crash-loops — is not the operator's); both times are printed.
 */
async function failureReported(
  name: string,
  spec: Record<string, unknown>,
  expected: RegExp,
): Promise<{ ready: Ready; ms: number }> {
  const started = Date.now();
  await applyAsTenant(namespace, [
    {
      apiVersion: "twelvefactor.dev/v1alpha1",
      kind: "StatelessApp",
      metadata: { name },
      spec: {
        processes: [{ name: "web", replicas: 1, ports: [{ name: "http", containerPort: 8080 }] }],
        ...spec,
      },
    },
  ]);
  let podShowedAt: number | undefined;
  // Ends at the report, or 30 s after a pod showed the reason without one (a failure below).
  const seen = await eventually(
    async () => {
      const app = JSON.parse(
        await kubectlOk(["-n", namespace, "get", "statelessapp", name, "-o", "json"]),
      ) as { status?: { conditions?: ({ type: string } & Ready)[] } };
      const c = app.status?.conditions?.find((x) => x.type === "Ready");
      if (c?.status === "False" && expected.test(c.message ?? "")) return { ready: c };
      if (podShowedAt === undefined) {
        const reasons = await waitingReasons(name);
        if (reasons.some((r) => expected.test(`web: ${r}`))) podShowedAt = Date.now();
      } else if (Date.now() - podShowedAt > 30_000) {
        return { late: `${name}: a pod showed ${expected} 30 s ago; Ready says ${c?.message}` };
      }
      return undefined;
    },
    { timeoutMs: 150_000, intervalMs: 500, what: `${name}: Ready=False matching ${expected}` },
  );
  if ("late" in seen) throw new Error(seen.late);
  const { ready } = seen;
  const ms = Date.now() - started;
  const afterPod =
    podShowedAt === undefined
      ? "seen before the pod poll saw it"
      : `${Math.round((Date.now() - podShowedAt) / 1000)} s after a pod showed it`;
  console.error(
    `[node] ${name}: ${ready.message} (${afterPod}, ${Math.round(ms / 1000)} s after the create)`,
  );
  return { ready, ms };
}

/** The PodFailing Warnings recorded on app `name`. */
async function podFailingWarnings(name: string): Promise<string[]> {
  const list = JSON.parse(
    await kubectlOk(["-n", namespace, "get", "events.events.k8s.io", "-o", "json"]),
  ) as { items: { reason?: string; note?: string; regarding?: { name?: string } }[] };
  return list.items
    .filter((e) => e.reason === "PodFailing" && e.regarding?.name === name)
    .map((e) => e.note ?? "");
}

describe("pod failures in the app's status", () => {
  test("an image that does not exist: ImagePullBackOff / ErrImagePull, with the kubelet's message", async () => {
    const { ready } = await failureReported(
      "missing-image",
      { image: "localhost/stateless-operator/does-not-exist:1" },
      /web.*(ImagePullBackOff|ErrImagePull|ErrImageNeverPull)/s,
    );
    expect(ready.message).toContain("does-not-exist");
    const warnings = await eventually(
      async () => {
        const found = await podFailingWarnings("missing-image");
        return found.length > 0 ? found : undefined;
      },
      { what: "a PodFailing Warning on missing-image" },
    );
    expect(warnings.join("\n")).toMatch(/web: (ImagePullBackOff|ErrImagePull|ErrImageNeverPull): /);
    // Distinct messages only: each Warning's note is another one (repeats join their series).
    expect(new Set(warnings).size).toBe(warnings.length);
    // Fixed: an image that exists. The failure clears and the app becomes Ready.
    await applyAsTenant(namespace, [
      {
        apiVersion: "twelvefactor.dev/v1alpha1",
        kind: "StatelessApp",
        metadata: { name: "missing-image" },
        spec: {
          image: image("session-counter"),
          processes: [
            { name: "web", replicas: 1, command: ["node", "-e", "setInterval(() => {}, 1000)"] },
          ],
        },
      },
    ]);
    const fixed = await waitReady(namespace, "missing-image", 120_000);
    expect(fixed.status?.conditions?.find((c) => c.type === "Ready")?.message).not.toMatch(
      /ImagePull|ErrImage/,
    );
  });

  test("a container that exits at start: CrashLoopBackOff", async () => {
    const { ready } = await failureReported(
      "exits",
      {
        image: image("session-counter"),
        processes: [{ name: "web", replicas: 1, command: ["node", "-e", "process.exit(3)"] }],
      },
      /web.*CrashLoopBackOff/s,
    );
    expect(ready.message).toMatch(/back-off|exit/i);
  });

  test("an image with a non-numeric USER: CreateContainerConfigError", async () => {
    const { ready } = await failureReported(
      "named-user",
      { image: image("named-user") },
      /web.*CreateContainerConfigError/s,
    );
    expect(ready.message).toMatch(/non-numeric user/);
  });
});
