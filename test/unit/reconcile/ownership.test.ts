import { describe, expect, test } from "vitest";
import { nameInUse, type Ownership, ownershipOf } from "../../../src/app/reconcile/ownership.ts";
import type { KubeObject, OwnerReference } from "../../../src/runtime/index.ts";

const UID = "0b9a8c1e-0000-4000-8000-000000000001";
const OTHER = "7f3e2d1c-0000-4000-8000-000000000002";

const ref = (over: Partial<OwnerReference> = {}): OwnerReference => ({
  apiVersion: "twelvefactor.dev/v1alpha1",
  kind: "StatelessApp",
  name: "shop",
  uid: UID,
  controller: true,
  ...over,
});

const service = (
  ownerReferences?: OwnerReference[],
  labels?: Record<string, string>,
): KubeObject => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: {
    name: "shop-web",
    namespace: "web",
    ...(labels ? { labels } : {}),
    ...(ownerReferences ? { ownerReferences } : {}),
  },
});

const OUR_LABELS = {
  "app.kubernetes.io/managed-by": "stateless-operator",
  "app.kubernetes.io/instance": "shop",
};

describe("ownershipOf: a child is written or deleted only when absent or controlled by this app's UID", () => {
  test.each<[string, KubeObject | undefined, string, Ownership]>([
    ["no object has the name", undefined, UID, { state: "absent" }],
    ["controlled by this app", service([ref()]), UID, { state: "ours" }],
    [
      "controlled by this app, beside other non-controller owners",
      service([ref({ kind: "Team", name: "payments", uid: "t", controller: false }), ref()]),
      UID,
      { state: "ours" },
    ],
    [
      "another team's object without owner references",
      service(),
      UID,
      { state: "foreign", holder: "it has no controller" },
    ],
    [
      "our labels copied onto it do not make it ours",
      service(undefined, OUR_LABELS),
      UID,
      { state: "foreign", holder: "it has no controller" },
    ],
    [
      "this app is an owner but not the controller",
      service([ref({ controller: false })]),
      UID,
      { state: "foreign", holder: "it has no controller" },
    ],
    [
      "controlled by another app whose generated name collides",
      service([ref({ name: "shop-web", uid: OTHER })], OUR_LABELS),
      UID,
      {
        state: "foreign",
        holder: `it is controlled by StatelessApp shop-web (uid ${OTHER})`,
      },
    ],
    [
      "controlled by an earlier app of the same name (deleted, not yet collected)",
      service([ref({ uid: OTHER })], OUR_LABELS),
      UID,
      { state: "foreign", holder: `it is controlled by StatelessApp shop (uid ${OTHER})` },
    ],
    [
      "controlled by another controller",
      service([
        {
          apiVersion: "apps/v1",
          kind: "Deployment",
          name: "payments",
          uid: OTHER,
          controller: true,
        },
      ]),
      UID,
      { state: "foreign", holder: "it is controlled by Deployment payments" },
    ],
    [
      "an app without a UID owns nothing, even an object controlled by an empty UID",
      service([ref({ uid: "" })]),
      "",
      { state: "foreign", holder: "it is controlled by StatelessApp shop (uid )" },
    ],
  ])("%s", (_, found, uid, expected) => {
    expect(ownershipOf(found, uid)).toEqual(expected);
  });

  test("the refusal names the kind, the name and whose it is", () => {
    expect(nameInUse("Service", "pay-api", "it has no controller")).toBe(
      "Service pay-api already exists and is not this app's (it has no controller); rename the app, the process or the binding, or remove the other object",
    );
  });
});
