// Evaluates the Flux healthCheckExprs with the API server's CEL on the statuses the operator writes.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { V1Deployment } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { parse, stringify } from "yaml";
import type { StatelessApp, StatelessAppStatus } from "../../../src/api/index.ts";
import { type BindingOutcome, computeStatus } from "../../../src/app/status/index.ts";
import { app } from "../../fixtures/apps.ts";
import { createTestNamespace, eventually, uniqueName } from "../../support/cluster.ts";
import { kubectl, kubectlOk } from "./kubectl.ts";

const root = resolve(import.meta.dirname, "../../..");
const scratch = mkdtempSync(join(tmpdir(), "flux-cel-"));
const LABEL = "test.twelvefactor.dev/flux-cel";

interface Exprs {
  inProgress: string;
  failed: string;
  current: string;
}
const exprs = (
  parse(readFileSync(join(root, "gitops/flux-kustomization.yaml"), "utf8")) as {
    spec: { healthCheckExprs: Exprs[] };
  }
).spec.healthCheckExprs[0] as Exprs;

/** Flux binds the object's top-level fields as variables; a policy sees them under `object`. */
const asPolicyExpression = (flux: string) =>
  flux.replace(/(^|[^.\w])(status|metadata)\b/g, "$1object.$2");

const verdictExpression = (["inProgress", "failed", "current"] as const)
  .map((k) => `'${k}=' + string(${asPolicyExpression(exprs[k])})`)
  .join(" + ' ' + ");

/** A ValidatingAdmissionPolicy that warns with the three verdicts on every status write. */
function policy(name: string, value: string): unknown[] {
  return [
    {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingAdmissionPolicy",
      metadata: { name },
      spec: {
        failurePolicy: "Fail",
        matchConstraints: {
          resourceRules: [
            {
              apiGroups: ["twelvefactor.dev"],
              apiVersions: ["*"],
              operations: ["UPDATE"],
              resources: ["statelessapps/status"],
            },
          ],
        },
        validations: [{ expression: "false", messageExpression: verdictExpression }],
      },
    },
    {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingAdmissionPolicyBinding",
      metadata: { name },
      spec: {
        policyName: name,
        validationActions: ["Warn"],
        matchResources: { namespaceSelector: { matchLabels: { [LABEL]: value } } },
      },
    },
  ];
}

const deployment = (replicas: number, ready = replicas): V1Deployment => ({
  metadata: { generation: 1 },
  spec: { replicas, selector: {}, template: {} },
  status: {
    observedGeneration: 1,
    replicas,
    updatedReplicas: ready,
    readyReplicas: ready,
    availableReplicas: ready,
  },
});
const shop = (spec: Partial<StatelessApp["spec"]> = {}): StatelessApp =>
  app(
    {
      processes: [{ name: "web", replicas: 2 }],
      backingServices: [{ name: "sessions", type: "redis", secretRef: { name: "shop-redis" } }],
      ...spec,
    },
    { generation: 1 },
  );
const resolved: BindingOutcome[] = [
  { name: "sessions", type: "redis", secretName: "shop-binding-sessions" },
];
const status = (
  a: StatelessApp,
  ready: number,
  bindings: BindingOutcome[] = resolved,
): StatelessAppStatus =>
  computeStatus({
    app: a,
    deployments: new Map([["web", deployment(2, ready)]]),
    bindings,
    now: "2026-11-28T12:00:00Z",
  });

describe("the Flux healthCheckExprs, in the API server's CEL", () => {
  let namespace = "";
  const name = uniqueName("flux-cel");

  beforeAll(async () => {
    await kubectlOk([
      "apply",
      "--server-side",
      "-f",
      join(root, "manifests/crd/twelvefactor.dev_statelessapps.yaml"),
    ]);
    await kubectlOk(["wait", "--for=condition=Established", "crd/statelessapps.twelvefactor.dev"]);
    namespace = await createTestNamespace("flux-cel");
    await kubectlOk(["label", "namespace", namespace, `${LABEL}=${name}`]);
    const file = join(scratch, "policy.yaml");
    writeFileSync(
      file,
      policy(name, name)
        .map((o) => `---\n${stringify(o)}`)
        .join(""),
    );
    await kubectlOk(["apply", "--server-side", "-f", file]);
    const manifest = join(scratch, "app.yaml");
    writeFileSync(manifest, stringify({ ...shop(), metadata: { name: "shop", namespace } }));
    await kubectlOk(["apply", "--server-side", "-f", manifest]);
  }, 60_000);

  afterAll(async () => {
    await kubectl(["delete", "validatingadmissionpolicybinding", name, "--ignore-not-found"]);
    await kubectl(["delete", "validatingadmissionpolicy", name, "--ignore-not-found"]);
  });

  /** The verdicts for a status written (dry run) onto the live app, whose generation is 1. */
  async function verdicts(s: StatelessAppStatus): Promise<string> {
    const r = await kubectl([
      "patch",
      "statelessapp",
      "shop",
      "-n",
      namespace,
      "--subresource=status",
      "--type=merge",
      "--dry-run=server",
      "-p",
      JSON.stringify({ status: s }),
    ]);
    expect(r.code, r.stderr).toBe(0);
    const warning = /inProgress=\w+ failed=\w+ current=\w+/.exec(r.stderr);
    if (warning === null) throw new Error(`no verdict in: ${r.stderr}`);
    return warning[0];
  }

  test("every status the operator writes gets the health it should", async () => {
    // The policy becomes active through an informer: wait for its first verdict.
    await eventually(() => verdicts(status(shop(), 2)), { what: "the policy to be active" });
    const cases: [string, StatelessAppStatus, string][] = [
      ["rolled out", status(shop(), 2), "inProgress=false failed=false current=true"],
      ["rolling out", status(shop(), 1), "inProgress=true failed=false current=false"],
      [
        "a missing Secret",
        status(shop(), 2, [{ name: "sessions", type: "redis", problem: "Secret not found" }]),
        "inProgress=false failed=true current=false",
      ],
      [
        "paused, what runs is available",
        status(shop({ paused: true }), 2),
        "inProgress=false failed=false current=true",
      ],
      [
        "a status for an older generation",
        { ...status(shop(), 2), observedGeneration: 0 },
        "inProgress=true failed=false current=false",
      ],
      ["no status fields yet", {}, "inProgress=true failed=false current=false"],
    ];
    for (const [what, s, expected] of cases) expect(await verdicts(s), what).toBe(expected);
  }, 60_000);
});
