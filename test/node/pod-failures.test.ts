// Real pods 5: pod failures are reported. An image that does not exist, a container that exits at
// start, an image with a non-numeric USER: within 30 s the app's Ready=False names the process
// type, the kubelet's reason and its message.
//
// Not in the node project's default run: the operator reads no Pods yet (issue 19 changes the
// reconciler), so this fails today. `STATELESS_OPERATOR_POD_FAILURES=1 npx vitest run --project
// node test/node/pod-failures.test.ts` runs it; test/support/node.global.ts says so in each run.

import { beforeAll, describe, expect, test } from "vitest";
import { kubectlOk } from "../integration/install/kubectl.ts";
import { eventually, printClusterLogsOnFailure } from "../support/cluster.ts";
import { applyAsTenant, image, installOperator, tenantNamespace } from "./support/node.ts";

printClusterLogsOnFailure();

let namespace: string;

beforeAll(async () => {
  await installOperator();
  namespace = await tenantNamespace("failures");
});

type Ready = { status: string; reason?: string; message?: string };

/** Creates an app with one `web` process and resolves with its Ready condition once it is False
 * for a reason the kubelet gave (`expected` in the message), timing it from the create. */
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
  const ready = await eventually(
    async () => {
      const app = JSON.parse(
        await kubectlOk(["-n", namespace, "get", "statelessapp", name, "-o", "json"]),
      ) as { status?: { conditions?: ({ type: string } & Ready)[] } };
      const c = app.status?.conditions?.find((x) => x.type === "Ready");
      return c?.status === "False" && expected.test(c.message ?? "") ? c : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 500, what: `${name}: Ready=False matching ${expected}` },
  );
  return { ready, ms: Date.now() - started };
}

describe("pod failures in the app's status", () => {
  test("an image that does not exist: ImagePullBackOff / ErrImagePull, with the kubelet's message", async () => {
    const { ready } = await failureReported(
      "missing-image",
      { image: "localhost/stateless-operator/does-not-exist:1" },
      /web.*(ImagePullBackOff|ErrImagePull|ErrImageNeverPull)/s,
    );
    expect(ready.message).toContain("does-not-exist");
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
