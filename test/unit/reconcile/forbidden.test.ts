import type { V1Deployment, V1Service } from "@kubernetes/client-node";
import { describe, expect, test } from "vitest";
import { forbiddenAdditions, type JsonPatchOp } from "../../../src/app/reconcile/forbidden.ts";
import { desired } from "../../../src/app/render/index.ts";
import {
  checkObject,
  defaultWorkloadKinds,
  isViolation,
  POD_TEMPLATES,
  type Rule,
} from "../../../src/app/rules/index.ts";
import { networkVolumeSources } from "../../../src/app/rules/network-volume.ts";
import { stickyServiceAnnotations } from "../../../src/app/rules/sticky-annotations.ts";
import { app } from "../../fixtures/apps.ts";

const rendered = desired(
  app({
    scratch: [{ name: "tmp", mountPath: "/tmp", sizeLimit: "64Mi" }],
    processes: [{ name: "web", replicas: 2, ports: [{ name: "http", containerPort: 8080 }] }],
  }),
).objects;
const deployment = rendered.find((o) => o.kind === "Deployment") as V1Deployment;
const service = rendered.find((o) => o.kind === "Service") as V1Service;

type Pod = NonNullable<V1Deployment["spec"]>["template"]["spec"] & object;

/** The rendered Deployment with `edit` applied to a copy of its pod template, as another manager would. */
function edited(edit: (pod: Pod, template: V1Deployment["spec"] & object) => void): V1Deployment {
  const copy = structuredClone(deployment);
  const spec = copy.spec;
  if (spec?.template.spec === undefined) throw new Error("no pod spec");
  edit(spec.template.spec, spec);
  return copy;
}

function editedService(edit: (svc: V1Service) => void): V1Service {
  const copy = structuredClone(service);
  edit(copy);
  return copy;
}

/** Applies an RFC 6902 patch of test/remove/replace the way the API server does (a failed test fails it all). */
function applyPatch<T>(document: T, patch: readonly JsonPatchOp[]): T {
  const doc = structuredClone(document) as unknown;
  const parse = (pointer: string) =>
    pointer
      .split("/")
      .slice(1)
      .map((s) => s.replaceAll("~1", "/").replaceAll("~0", "~"));
  for (const op of patch) {
    const keys = parse(op.path);
    const last = keys.pop() as string;
    let parent = doc as Record<string, unknown> | unknown[];
    for (const k of keys) parent = (parent as Record<string, unknown>)[k] as typeof parent;
    const current = Array.isArray(parent) ? parent[Number(last)] : parent[last];
    if (op.op === "test") {
      expect(current, `test ${op.path}`).toEqual(op.value);
    } else if (op.op === "remove") {
      expect(current, `remove ${op.path}`).toBeDefined();
      if (Array.isArray(parent)) parent.splice(Number(last), 1);
      else delete parent[last];
    } else if (Array.isArray(parent)) parent[Number(last)] = op.value;
    else parent[last] = op.value;
  }
  return doc as T;
}

const violations = (o: unknown) => checkObject(o).filter(isViolation);
const names = (items: readonly { name?: string }[] | undefined) => (items ?? []).map((i) => i.name);

/** The volume and a mount of it in our container: the usual way a volume is added. */
const mounted = (volume: Record<string, unknown>) =>
  edited((pod) => {
    pod.volumes?.push({ name: "added", ...volume });
    pod.containers[0]?.volumeMounts?.push({ name: "added", mountPath: "/added" });
  });

const writableSidecars: [string, V1Deployment][] = [
  [
    "a privileged root sidecar",
    edited((pod) =>
      pod.containers.push({
        name: "shell",
        image: "busybox",
        securityContext: { privileged: true, runAsUser: 0, runAsNonRoot: false },
      }),
    ),
  ],
  [
    "a native sidecar (init container restarting always) with a writable root",
    edited((pod) => {
      pod.initContainers = [{ name: "agent", image: "agent", restartPolicy: "Always" }];
    }),
  ],
];

const deploymentAdditions: [string, V1Deployment][] = [
  ...networkVolumeSources.map((source): [string, V1Deployment] => [
    `a ${source} volume`,
    mounted({ [source]: { server: "nfs.example", path: "/share", volumeID: "v" } }),
  ]),
  ["a hostPath volume", mounted({ hostPath: { path: "/var/data" } })],
  ["a persistentVolumeClaim volume", mounted({ persistentVolumeClaim: { claimName: "data" } })],
  [
    "an ephemeral volume claim",
    mounted({ ephemeral: { volumeClaimTemplate: { spec: { accessModes: ["ReadWriteOnce"] } } } }),
  ],
  ["an unbounded emptyDir", mounted({ emptyDir: {} })],
  [
    "an inline CSI volume of an NFS driver",
    mounted({ csi: { driver: "nfs.csi.k8s.io", volumeAttributes: { server: "nfs", share: "/" } } }),
  ],
  ...writableSidecars,
  ...(["hostNetwork", "hostPID", "hostIPC"] as const).map((field): [string, V1Deployment] => [
    field,
    edited((pod) => {
      pod[field] = true;
    }),
  ]),
];

/** An annotation each sticky-session entry of the catalogue matches. */
const stickyAnnotation = (match: (typeof stickyServiceAnnotations)[number]["match"]) =>
  "prefix" in match
    ? { [`${match.prefix}name`]: "sticky" }
    : "listItem" in match
      ? { [match.key]: `${match.listItem},deregistration_delay.timeout_seconds=30` }
      : { [match.key]: match.values?.[0] ?? "true" };

const serviceAdditions: [string, V1Service][] = [
  ...stickyServiceAnnotations.map((a): [string, V1Service] => [
    `${a.controller}: ${Object.keys(stickyAnnotation(a.match))[0]}`,
    editedService((svc) => {
      svc.metadata = {
        ...svc.metadata,
        annotations: { ...svc.metadata?.annotations, ...stickyAnnotation(a.match) },
      };
    }),
  ]),
  [
    "sessionAffinity ClientIP with its config",
    editedService((svc) => {
      if (svc.spec === undefined) throw new Error("no spec");
      svc.spec.sessionAffinity = "ClientIP";
      svc.spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: 10 } };
    }),
  ],
];

describe("forbiddenAdditions, derived from the rules", () => {
  test("finds nothing on the children as rendered, or when they do not exist", () => {
    expect(violations(deployment)).toEqual([]);
    expect(violations(service)).toEqual([]);
    expect(forbiddenAdditions(deployment, deployment)).toEqual({ findings: [], patch: [] });
    expect(forbiddenAdditions(service, service)).toEqual({ findings: [], patch: [] });
    expect(forbiddenAdditions(deployment, undefined)).toEqual({ findings: [], patch: [] });
  });

  test.each([
    ...deploymentAdditions.map(([what, live]) => [what, deployment, live] as const),
    ...serviceAdditions.map(([what, live]) => [what, service, live] as const),
  ])("%s: removed, leaving nothing the rules flag and everything we render", (_, ours, live) => {
    expect(violations(live).length).toBeGreaterThan(0);
    const fix = forbiddenAdditions(ours, live);
    expect(fix.findings.length).toBeGreaterThan(0);
    for (const finding of fix.findings) expect(finding).toMatch(/\(TF-PROC-\d{3} \S/);
    const fixed = applyPatch(live, fix.patch);
    expect(violations(fixed)).toEqual([]);
    if (ours.kind === "Deployment") {
      const pod = (fixed as V1Deployment).spec?.template.spec;
      const want = (ours as V1Deployment).spec?.template.spec;
      expect(names(pod?.containers)).toEqual(names(want?.containers));
      expect(names(pod?.volumes)).toEqual(names(want?.volumes));
      expect(pod?.containers[0]?.volumeMounts).toEqual(want?.containers[0]?.volumeMounts);
    } else {
      expect((fixed as V1Service).spec).toMatchObject((ours as V1Service).spec ?? {});
      expect((fixed as V1Service).metadata?.annotations ?? {}).toEqual(
        (ours as V1Service).metadata?.annotations ?? {},
      );
    }
  });

  test("a hostPath volume and its mount: each removal guarded by a test of the item's name, highest index first", () => {
    const live = mounted({ hostPath: { path: "/var/data" } });
    expect(forbiddenAdditions(deployment, live)).toEqual({
      findings: ['volumes "added" (TF-PROC-006 hostPath volume)'],
      patch: [
        {
          op: "test",
          path: "/spec/template/spec/containers/0/volumeMounts/1/name",
          value: "added",
        },
        { op: "remove", path: "/spec/template/spec/containers/0/volumeMounts/1" },
        { op: "test", path: "/spec/template/spec/volumes/1/name", value: "added" },
        { op: "remove", path: "/spec/template/spec/volumes/1" },
      ],
    });
  });

  test("a sticky annotation: removed by its escaped key, guarded by its value", () => {
    const key = "traefik.ingress.kubernetes.io/service.sticky.cookie";
    const live = editedService((svc) => {
      svc.metadata = { ...svc.metadata, annotations: { [key]: "true", team: "shop" } };
    });
    const fix = forbiddenAdditions(service, live);
    expect(fix.patch).toEqual([
      { op: "test", path: `/metadata/annotations/${key.replace("/", "~1")}`, value: "true" },
      { op: "remove", path: `/metadata/annotations/${key.replace("/", "~1")}` },
    ]);
    expect(fix.findings).toEqual([
      `metadata.annotations[${key}] (TF-PROC-003 sticky-session Service annotation)`,
    ]);
  });

  test("sessionAffinity: ours is set back and the config removed in one patch", () => {
    const [, live] = serviceAdditions.at(-1) as [string, V1Service];
    expect(forbiddenAdditions(service, live).patch).toEqual([
      { op: "replace", path: "/spec/sessionAffinity", value: "None" },
      {
        op: "test",
        path: "/spec/sessionAffinityConfig",
        value: { clientIP: { timeoutSeconds: 10 } },
      },
      { op: "remove", path: "/spec/sessionAffinityConfig" },
    ]);
  });

  test("two additions in one list are removed highest index first", () => {
    const live = edited((pod) => {
      pod.volumes?.push(
        { name: "a", hostPath: { path: "/a" } },
        { name: "b", nfs: { server: "n", path: "/" } },
      );
    });
    const fixed = applyPatch(live, forbiddenAdditions(deployment, live).patch);
    expect(names(fixed.spec?.template.spec?.volumes)).toEqual(
      names(deployment.spec?.template.spec?.volumes),
    );
  });

  test("a child that sets no volumes at all: the added volume goes, not the whole list, and its mounts with it", () => {
    const bare = desired(app({ processes: [{ name: "web", replicas: 1 }] })).objects.find(
      (o) => o.kind === "Deployment",
    ) as V1Deployment;
    expect(bare.spec?.template.spec?.volumes ?? []).toEqual([]);
    const live = structuredClone(bare);
    const pod = live.spec?.template.spec;
    if (pod === undefined) throw new Error("no pod spec");
    pod.volumes = [
      { name: "share", nfs: { server: "nfs", path: "/" } },
      { name: "cfg", configMap: { name: "c" } },
    ];
    pod.containers[0] = {
      ...pod.containers[0],
      name: pod.containers[0]?.name ?? "web",
      volumeMounts: [
        { name: "share", mountPath: "/share" },
        { name: "cfg", mountPath: "/cfg" },
      ],
    };
    const fixed = applyPatch(live, forbiddenAdditions(bare, live).patch);
    expect(names(fixed.spec?.template.spec?.volumes)).toEqual(["cfg"]);
    expect(names(fixed.spec?.template.spec?.containers[0]?.volumeMounts)).toEqual(["cfg"]);
  });

  test("harmless additions stay: a configMap, a bounded emptyDir, a read-only sidecar, a Linkerd-injected proxy, another annotation", () => {
    const live = edited((pod, spec) => {
      pod.volumes?.push(
        { name: "cfg", configMap: { name: "c" } },
        { name: "small", emptyDir: { sizeLimit: "1Mi" } },
        { name: "linkerd-identity-end-entity", emptyDir: { medium: "Memory" } },
      );
      pod.containers.push(
        { name: "ok", image: "y", securityContext: { readOnlyRootFilesystem: true } },
        { name: "linkerd-proxy", image: "cr.l5d.io/linkerd/proxy" },
      );
      spec.template.metadata = {
        ...spec.template.metadata,
        annotations: {
          ...spec.template.metadata?.annotations,
          "linkerd.io/created-by": "linkerd/proxy-injector stable-2.14.10",
        },
      };
    });
    expect(violations(live)).toEqual([]);
    expect(forbiddenAdditions(deployment, live).patch).toEqual([]);
    const annotated = editedService((svc) => {
      svc.metadata = { ...svc.metadata, annotations: { "example.com/owner": "shop" } };
    });
    expect(forbiddenAdditions(service, annotated).patch).toEqual([]);
  });

  test("what someone changed in our own fields is left to the server-side apply, which puts it back", () => {
    const live = edited((pod) => {
      const ours = pod.containers[0];
      if (ours?.securityContext) ours.securityContext.readOnlyRootFilesystem = false;
      const scratch = pod.volumes?.find((v) => v.emptyDir?.sizeLimit !== undefined);
      if (scratch?.emptyDir) delete scratch.emptyDir.sizeLimit;
    });
    expect(
      violations(live)
        .map((f) => f.ruleId)
        .sort(),
    ).toEqual(["TF-PROC-010", "TF-PROC-011"]);
    expect(forbiddenAdditions(deployment, live).patch).toEqual([]);
  });

  test("one source: a rule added to the set is enforced on the children without another list", () => {
    const gitRepo: Rule = {
      id: "TF-TEST-001",
      title: "gitRepo volume",
      severity: "error",
      why: "a test rule",
      fix: "remove it",
      targets: POD_TEMPLATES,
      check: ({ template }) =>
        ((template?.spec.volumes as { name: string; gitRepo?: unknown }[] | undefined) ?? [])
          .map((v, i) => ({ v, i }))
          .filter(({ v }) => v.gitRepo !== undefined)
          .map(({ v, i }) => ({
            path: [...(template?.specPath ?? []), "volumes", i, "gitRepo"],
            message: `volume ${v.name} clones a repository`,
          })),
      cel: [],
    };
    const live = mounted({ gitRepo: { repository: "https://example.com/x.git" } });
    const set = { rules: [gitRepo], workloadKinds: defaultWorkloadKinds };
    expect(forbiddenAdditions(deployment, live).patch).toEqual([]);
    const fix = forbiddenAdditions(deployment, live, set);
    expect(fix.findings).toEqual(['volumes "added" (TF-TEST-001 gitRepo volume)']);
    expect(names(applyPatch(live, fix.patch).spec?.template.spec?.volumes)).toEqual(
      names(deployment.spec?.template.spec?.volumes),
    );
  });
});
