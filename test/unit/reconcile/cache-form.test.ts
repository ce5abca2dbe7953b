// The caches keep a trimmed form of every object (cacheForm, shared strings): the reconciler must decide the same on it as on the full object.
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import type { StatelessApp } from "../../../src/api/index.ts";
import { type ChildAction, type Observation, planApp } from "../../../src/app/reconcile/index.ts";
import { desired } from "../../../src/app/render/index.ts";
import {
  applyNeeded,
  cacheForm,
  isRecord,
  type KubeObject,
  LAST_APPLIED_ANNOTATION,
  objectKey,
} from "../../../src/runtime/index.ts";
import { StringInterner, shareStrings } from "../../../src/runtime/intern.ts";
import { validApp } from "../../fixtures/apps.ts";

const MANAGER = "stateless-operator";

/** The field set an apply of `value` owns, as the API server writes it (lists of named items keyed by name). */
function fieldSet(value: unknown): Record<string, unknown> {
  if (Array.isArray(value)) {
    if (!value.every((v) => isRecord(v) && typeof v.name === "string")) return {};
    return Object.fromEntries(
      value.map((v) => [`k:${JSON.stringify({ name: v.name })}`, { ".": {}, ...fieldSet(v) }]),
    );
  }
  if (!isRecord(value)) return {};
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [`f:${k}`, fieldSet(v)]));
}

/** What someone else may have done to a child since our last apply. */
const drift = fc.constantFrom(
  "none",
  "image",
  "replicas",
  "hostNetwork",
  "label",
  "sessionAffinityConfig",
  "dropped-field",
);

type Loose = { [field: string]: Loose } & Loose[];

function driftOf(live: KubeObject, what: string): void {
  const spec = live.spec as Loose | undefined;
  const pod = spec?.template?.spec;
  const container = pod?.containers?.[0];
  if (what === "image" && container) Object.assign(container, { image: "other:1" });
  if (what === "replicas" && spec) Object.assign(spec, { replicas: 7 });
  if (what === "hostNetwork" && pod) Object.assign(pod, { hostNetwork: true });
  if (what === "label" && live.metadata?.labels) live.metadata.labels.extra = "yes";
  if (what === "sessionAffinityConfig" && live.kind === "Service" && spec)
    Object.assign(spec, { sessionAffinityConfig: { clientIP: { timeoutSeconds: 10 } } });
  if (what === "dropped-field" && spec) delete spec.replicas;
}

/** A rendered child as the API server holds it after our apply: server fields, others' entries, a kubectl annotation. */
function serverCopy(object: KubeObject, app: StatelessApp, i: number, what: string): KubeObject {
  const live = structuredClone(object);
  live.metadata = {
    ...live.metadata,
    uid: `child-${i}`,
    resourceVersion: String(100 + i),
    creationTimestamp: "2026-01-01T00:00:00Z",
    annotations: {
      ...live.metadata?.annotations,
      [LAST_APPLIED_ANNOTATION]: JSON.stringify(object),
      "deployment.kubernetes.io/revision": "1",
    },
    ownerReferences: [
      {
        apiVersion: app.apiVersion,
        kind: app.kind,
        name: app.metadata.name,
        uid: app.metadata.uid ?? "",
        controller: true,
      },
    ],
    managedFields: [
      {
        manager: MANAGER,
        operation: "Apply",
        apiVersion: object.apiVersion,
        fieldsV1: fieldSet(object),
      },
      {
        manager: "kubectl-edit",
        operation: "Update",
        apiVersion: object.apiVersion,
        fieldsV1: { "f:spec": {} },
      },
      {
        manager: "kube-controller-manager",
        operation: "Update",
        subresource: "status",
        fieldsV1: { "f:status": {} },
      },
    ],
  };
  driftOf(live, what);
  return JSON.parse(JSON.stringify(live)) as KubeObject;
}

function observation(app: StatelessApp, children: readonly KubeObject[]): Observation {
  const byKey = new Map(children.map((o) => [`${o.kind}|${objectKey(o)}`, o]));
  return {
    raw: {
      ...app,
      status: { observedGeneration: app.metadata.generation },
    } as unknown as KubeObject,
    spec: { valid: true, app },
    bindings: { outcomes: [], resolved: [], ready: true },
    cached: (kind, key) => byKey.get(`${kind}|${key}`),
    owned: children,
    pods: [],
    lookedUp: { get: () => null },
    fieldManager: MANAGER,
    now: Date.UTC(2026, 0, 1),
  };
}

/** Everything the reconciler decides from a child action, the applier's write-or-skip included. */
function decisions(actions: readonly ChildAction[]) {
  return actions.map((c) => {
    const { object, live, ...rest } = c as ChildAction & { live?: KubeObject };
    return {
      ...rest,
      id: `${object.kind}/${object.metadata?.name}`,
      ...(c.action === "apply"
        ? { write: applyNeeded(object, live, { fieldManager: MANAGER }) }
        : {}),
    };
  });
}

describe("the cached form of a child", () => {
  test("leads to the same plan and the same apply decisions as the full object", () => {
    fc.assert(
      fc.property(
        validApp,
        fc.array(drift, { minLength: 6, maxLength: 6 }),
        fc.integer({ min: 1, max: 64 }),
        (app, drifts, capacity) => {
          const rendered = desired(app, { bindings: { resolved: [], hash: "h" } }).objects.filter(
            (o) => o.kind !== "Secret",
          ) as unknown as KubeObject[];
          const full = rendered.map((o, i) =>
            serverCopy(o, app, i, drifts[i % drifts.length] ?? "none"),
          );
          const interner = new StringInterner(capacity);
          const cached = full.map((o) =>
            shareStrings(cacheForm(structuredClone(o), [MANAGER]), interner),
          );
          const fromFull = planApp(observation(app, full));
          const fromCache = planApp(observation(app, cached));
          expect(decisions(fromCache.children)).toEqual(decisions(fromFull.children));
          expect(fromCache.lookUp).toEqual(fromFull.lookUp);
        },
      ),
      { numRuns: 100 },
    );
    // Rendering and planning a hundred apps: seconds on a busy machine.
  }, 30_000);

  test("is smaller: no other manager's entries, no last-applied copy", () => {
    const app = fc.sample(validApp, { numRuns: 1, seed: 7 })[0] as StatelessApp;
    const object = desired(app, { bindings: { resolved: [], hash: "h" } })
      .objects[0] as unknown as KubeObject;
    const full = serverCopy(object, app, 0, "none");
    const cached = cacheForm(full, [MANAGER]);
    expect(cached.metadata?.managedFields?.map((e) => e.manager)).toEqual([MANAGER]);
    expect(cached.metadata?.annotations?.[LAST_APPLIED_ANNOTATION]).toBeUndefined();
    expect(JSON.stringify(cached).length).toBeLessThan(JSON.stringify(full).length);
  });
});
