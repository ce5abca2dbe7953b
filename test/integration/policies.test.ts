// Differential test: the generated admission policies in a real kube-apiserver against
// `stateless-operator audit`, on one corpus. Same findings (rule and field), same verdict.
import { readFile } from "node:fs/promises";
import { request } from "node:https";
import { basename } from "node:path";
import type { KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { parseAllDocuments } from "yaml";
import { ENFORCE_LABEL, renderPolicyFiles } from "../../src/app/policies/index.ts";
import { desired } from "../../src/app/render/index.ts";
import {
  defaultRuleSet,
  EXEMPTIONS_ALLOWED,
  EXEMPTIONS_LABEL,
  groupOf,
  type Severity,
  targetsOf,
} from "../../src/app/rules/index.ts";
import { audit } from "../../src/cli/audit.ts";
import { app } from "../fixtures/apps.ts";
import {
  type CorpusEntry,
  corpusDir,
  findingsInMessage,
  loadCorpus,
} from "../fixtures/policy/corpus.ts";
import { pluralOf, stubCrds } from "../fixtures/policy/crds.ts";
import {
  adminKubeConfig,
  eventually,
  printClusterLogsOnFailure,
  uniqueName,
} from "../support/cluster.ts";

printClusterLogsOnFailure();

interface Reply {
  readonly status: number;
  readonly body: { message?: string; [key: string]: unknown };
  /** Warning headers (RFC 7234 text only), one per header. */
  readonly warnings: readonly string[];
}

/** A raw API call: the policies' verdicts arrive as status codes and Warning headers. */
async function call(
  kc: KubeConfig,
  method: string,
  path: string,
  body?: unknown,
  contentType = "application/json",
): Promise<Reply> {
  const server = kc.getCurrentCluster()?.server;
  if (server === undefined) throw new Error("no cluster in the kubeconfig");
  const options: import("node:https").RequestOptions = { method, headers: {} };
  await kc.applyToHTTPSOptions(options);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  options.headers = {
    ...options.headers,
    accept: "application/json",
    ...(payload === undefined ? {} : { "content-type": contentType }),
  };
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, server), options, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        text += chunk;
      });
      res.on("end", () => {
        const warnings: string[] = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) {
          if (res.rawHeaders[i]?.toLowerCase() !== "warning") continue;
          const m = /^\d{3} \S+ "(.*)"$/.exec(res.rawHeaders[i + 1] ?? "");
          if (m?.[1] !== undefined) warnings.push(m[1].replace(/\\(.)/g, "$1"));
        }
        resolve({
          status: res.statusCode ?? 0,
          body: text === "" ? {} : JSON.parse(text),
          warnings,
        });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(payload);
  });
}

/** The collection path of an object's kind in `namespace`. */
function collectionPath(object: { apiVersion: string; kind: string }, namespace: string): string {
  const group = groupOf(object.apiVersion);
  const base = group === "" ? `/api/${object.apiVersion}` : `/apis/${object.apiVersion}`;
  return `${base}/namespaces/${namespace}/${pluralOf(object.kind)}`;
}

interface Audited {
  readonly severity: Severity;
  readonly finding: string;
  /** An honoured exemption sets it aside. */
  readonly exempt: boolean;
}

/**
 * What `audit -f <corpus> -o json` reports, by fixture file: the verdict to compare with. With
 * `--allow-exemptions`, as for a namespace labelled twelvefactor.dev/exemptions=allowed.
 */
async function auditCorpus(extra: readonly string[] = []): Promise<Map<string, Audited[]>> {
  const out: string[] = [];
  const code = await audit(["-f", corpusDir, "-o", "json", ...extra], {
    stdout: (t) => out.push(t),
    stderr: () => {},
    readInput: (path) => readFile(path, "utf8"),
  });
  expect(code).toBe(1);
  const report = JSON.parse(out.join("")) as {
    findings: {
      ruleId: string;
      severity: Severity;
      path: string;
      location: { file: string };
      exemption?: { honoured: boolean };
    }[];
  };
  const byFile = new Map<string, Audited[]>();
  for (const f of report.findings) {
    const file = basename(f.location.file);
    byFile.set(file, [
      ...(byFile.get(file) ?? []),
      {
        severity: f.severity,
        finding: `${f.ruleId} ${f.path}`,
        exempt: f.exemption?.honoured === true,
      },
    ]);
  }
  return byFile;
}

/** audit's verdicts where objects' exemptions are not honoured, and where they are. */
let audited: { strict: Map<string, Audited[]>; exemptible: Map<string, Audited[]> };

/**
 * audit's findings for a fixture as `RULE-ID path`, sorted, for the severities asked for: the
 * ones that count, or (`exempt: true`) the ones an honoured exemption sets aside.
 */
function expectedFindings(
  entry: CorpusEntry,
  severities: readonly Severity[],
  options: { exemptible?: boolean; exempt?: boolean } = {},
): string[] {
  const verdict = options.exemptible === true ? audited.exemptible : audited.strict;
  return (verdict.get(entry.file) ?? [])
    .filter((f) => severities.includes(f.severity) && f.exempt === (options.exempt === true))
    .map((f) => f.finding)
    .sort();
}

const EXEMPTIONS_POLICY = "'twelvefactor-processes-exemptions'";

/** The findings the tier policies reported through Warning headers. */
const policyWarnings = (reply: Reply): string[] =>
  findingsInMessage(
    reply.warnings
      .filter((w) => w.includes("ValidatingAdmissionPolicy") && !w.includes(EXEMPTIONS_POLICY))
      .join("\n"),
  );

/** The exempted findings the exemptions policy reported through Warning headers. */
const exemptionWarnings = (reply: Reply): string[] =>
  findingsInMessage(reply.warnings.filter((w) => w.includes(EXEMPTIONS_POLICY)).join("\n"));

const kc = adminKubeConfig();
const corpus = loadCorpus();
const ordinary = corpus.filter((e) => e.admission === undefined);
const fieldManager = "policies-test";

/** A test-only label: its namespaces also get the advice (info) policy as warnings. */
const ADVICE_LABEL = "test.twelvefactor.dev/advice";
const adviceBinding = {
  apiVersion: "admissionregistration.k8s.io/v1",
  kind: "ValidatingAdmissionPolicyBinding",
  metadata: { name: "test-twelvefactor-processes-advice-warn" },
  spec: {
    policyName: "twelvefactor-processes-advice",
    validationActions: ["Warn"],
    matchResources: {
      namespaceSelector: { matchLabels: { [ADVICE_LABEL]: "warn" } },
    },
  },
};

/** Server-side apply, so a re-run against the same cluster updates instead of failing. */
async function apply(object: { apiVersion: string; kind: string; metadata: { name: string } }) {
  const group = groupOf(object.apiVersion);
  const base = group === "" ? `/api/${object.apiVersion}` : `/apis/${object.apiVersion}`;
  const path = `${base}/${pluralOf(object.kind)}/${object.metadata.name}?fieldManager=${fieldManager}&force=true`;
  const reply = await call(kc, "PATCH", path, object, "application/apply-patch+yaml");
  if (reply.status >= 300)
    throw new Error(`apply ${object.kind} ${object.metadata.name}: ${reply.body.message}`);
}

const policyObjects = renderPolicyFiles()
  .filter((f) => !f.path.endsWith("kustomization.yaml"))
  .flatMap((f) => parseAllDocuments(f.content).map((d) => d.toJS() as Parameters<typeof apply>[0]));

const namespaces: Record<"deny" | "denyExemptible" | "warn" | "audit" | "none", string> = {
  deny: uniqueName("policy-deny"),
  denyExemptible: uniqueName("policy-deny-exempt"),
  warn: uniqueName("policy-warn"),
  audit: uniqueName("policy-audit"),
  none: uniqueName("policy-none"),
};

const dryRunCreate = (entry: CorpusEntry, namespace: string) =>
  call(kc, "POST", `${collectionPath(entry.object, namespace)}?dryRun=All`, entry.object);

beforeAll(async () => {
  audited = {
    strict: await auditCorpus(),
    exemptible: await auditCorpus(["--allow-exemptions"]),
  };
  for (const crd of stubCrds(corpus)) await apply(crd as Parameters<typeof apply>[0]);
  for (const crd of stubCrds(corpus)) {
    const name = (crd.metadata as { name: string }).name;
    await eventually(
      async () => {
        const reply = await call(
          kc,
          "GET",
          `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`,
        );
        const conditions = (
          reply.body.status as { conditions?: { type: string; status: string }[] }
        )?.conditions;
        return conditions?.some((c) => c.type === "Established" && c.status === "True");
      },
      { what: `CRD ${name} to be established` },
    );
  }
  for (const object of [...policyObjects, adviceBinding]) await apply(object);

  for (const [mode, name] of Object.entries(namespaces)) {
    const labels: Record<string, string> =
      mode === "none" ? {} : { [ENFORCE_LABEL]: mode, [ADVICE_LABEL]: "warn" };
    if (mode === "audit") delete labels[ADVICE_LABEL];
    if (mode === "denyExemptible") {
      labels[ENFORCE_LABEL] = "deny";
      labels[EXEMPTIONS_LABEL] = EXEMPTIONS_ALLOWED;
    }
    const reply = await call(kc, "POST", "/api/v1/namespaces", { metadata: { name, labels } });
    expect(reply.status).toBe(201);
  }

  // The API server activates new policies through an informer: wait until a known-bad
  // object of every policy-matched shape is refused (a Service, and a custom kind).
  const probes = ["service-affinity-clientip.yaml", "httproute-session-persistence.yaml"];
  for (const file of probes) {
    const entry = corpus.find((e) => e.file === file);
    if (entry === undefined) throw new Error(`probe ${file} missing from the corpus`);
    await eventually(async () => (await dryRunCreate(entry, namespaces.deny)).status === 403, {
      what: `the policies to refuse ${file}`,
      timeoutMs: 60_000,
    });
  }
  // The warning-only policies have no refusal to wait for; wait for their warning instead.
  const statefulSet = corpus.find((e) => e.file === "statefulset-stateless-pods.yaml");
  if (statefulSet === undefined) throw new Error("statefulset fixture missing");
  await eventually(
    async () => policyWarnings(await dryRunCreate(statefulSet, namespaces.warn)).length > 0,
    {
      what: "the warning policy to be active",
      timeoutMs: 60_000,
    },
  );
  const barePod = corpus.find((e) => e.file === "pod-bare.yaml");
  if (barePod === undefined) throw new Error("pod-bare fixture missing");
  await eventually(
    async () => policyWarnings(await dryRunCreate(barePod, namespaces.warn)).length > 0,
    {
      what: "the advice policy's test binding to be active",
      timeoutMs: 60_000,
    },
  );
}, 180_000);

afterAll(async () => {
  for (const name of Object.values(namespaces))
    await call(kc, "DELETE", `/api/v1/namespaces/${name}`);
  await call(
    kc,
    "DELETE",
    `/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings/${adviceBinding.metadata.name}`,
  );
});

describe("admission policies vs. audit rules", () => {
  test("the stand-in CRDs serve the resources the policies match", () => {
    for (const target of targetsOf(defaultRuleSet)) {
      expect(pluralOf(target.kind), target.kind).toBe(target.resource);
    }
  });

  describe("in a deny namespace, refused exactly when audit finds an error, naming the same fields", () => {
    test.each(ordinary.map((e) => [e.file, e] as const))("%s", async (_file, entry) => {
      const reply = await dryRunCreate(entry, namespaces.deny);
      const errors = expectedFindings(entry, ["error"]);
      if (errors.length > 0) {
        expect(reply.status, reply.body.message).toBe(403);
        expect(reply.body.message).toContain("ValidatingAdmissionPolicy 'twelvefactor-processes'");
        expect(findingsInMessage(reply.body.message ?? "")).toEqual(errors);
      } else {
        expect(reply.status, reply.body.message).toBe(201);
        // Accepted objects still carry the warnings and (through the test binding) the advice.
        expect(policyWarnings(reply)).toEqual(expectedFindings(entry, ["warning", "info"]));
      }
    });
  });

  describe("in a deny namespace that allows exemptions, exempted findings are accepted and warned of", () => {
    test.each(ordinary.map((e) => [e.file, e] as const))("%s", async (_file, entry) => {
      const reply = await dryRunCreate(entry, namespaces.denyExemptible);
      const errors = expectedFindings(entry, ["error"], { exemptible: true });
      if (errors.length > 0) {
        expect(reply.status, reply.body.message).toBe(403);
        expect(findingsInMessage(reply.body.message ?? "")).toEqual(errors);
      } else {
        expect(reply.status, reply.body.message).toBe(201);
        expect(policyWarnings(reply)).toEqual(
          expectedFindings(entry, ["warning", "info"], { exemptible: true }),
        );
      }
      // Exemptions are never silent: each exempted finding is a warning, naming the reason.
      if (reply.status === 201)
        expect(exemptionWarnings(reply)).toEqual(
          expectedFindings(entry, ["error", "warning", "info"], { exemptible: true, exempt: true }),
        );
    });
  });

  describe("in a warn namespace, accepted with every finding as a warning", () => {
    test.each(ordinary.map((e) => [e.file, e] as const))("%s", async (_file, entry) => {
      const reply = await dryRunCreate(entry, namespaces.warn);
      expect(reply.status, reply.body.message).toBe(201);
      expect(policyWarnings(reply)).toEqual(expectedFindings(entry, ["error", "warning", "info"]));
    });
  });

  describe.each([
    ["an audit namespace", "audit"],
    ["an unlabelled namespace", "none"],
  ] as const)("in %s, everything is accepted without a warning", (_what, mode) => {
    test.each(ordinary.map((e) => [e.file, e] as const))("%s", async (_file, entry) => {
      const reply = await dryRunCreate(entry, namespaces[mode]);
      expect(reply.status, reply.body.message).toBe(201);
      expect(policyWarnings(reply)).toEqual([]);
    });
  });

  test("a Service with ClientIP affinity is refused with the rule id and the field", async () => {
    const entry = corpus.find((e) => e.file === "service-affinity-clientip.yaml");
    if (entry === undefined) throw new Error("fixture missing");
    const reply = await dryRunCreate(entry, namespaces.deny);
    expect(reply.status).toBe(403);
    expect(reply.body.reason).toBe("Forbidden");
    expect(reply.body.message).toContain("TF-PROC-001 spec.sessionAffinity");
  });

  test("every child the operator renders, the release Job too, is admitted where the policies deny", async () => {
    const rendered = desired(
      app({
        release: { command: ["bin/migrate"] },
        scratch: [{ name: "tmp", mountPath: "/tmp", sizeLimit: "64Mi" }],
        processes: [{ name: "web", replicas: 2, ports: [{ name: "http", containerPort: 8080 }] }],
      }),
    ).objects;
    expect(rendered.map((o) => o.kind)).toContain("Job");
    for (const object of rendered) {
      const { ownerReferences: _none, ...metadata } = object.metadata ?? {};
      const body = { ...object, metadata: { ...metadata, namespace: namespaces.deny } };
      const reply = await call(
        kc,
        "POST",
        `${collectionPath(body as { apiVersion: string; kind: string }, namespaces.deny)}?dryRun=All`,
        body,
      );
      expect(reply.status, `${object.kind}: ${String(reply.body.message)}`).toBe(201);
    }
  });

  describe("ephemeral containers, added through the pods/ephemeralcontainers subresource", () => {
    const entry = corpus.find((e) => e.admission === "ephemeral-containers");
    if (entry === undefined) throw new Error("no fixture marked ephemeral-containers");
    const { ephemeralContainers, ...spec } = entry.object.spec as Record<string, unknown>;
    const [debugger_] = ephemeralContainers as Record<string, unknown>[];

    /** Creates the pod without them, then asks for them as `kubectl debug` does. */
    async function debug(namespace: string, name: string, containers: unknown[]) {
      const pods = `/api/v1/namespaces/${namespace}/pods`;
      const created = await call(kc, "POST", pods, {
        ...entry?.object,
        metadata: { ...entry?.object.metadata, name },
        spec,
      });
      expect(created.status, created.body.message).toBe(201);
      const pod = created.body as { spec: Record<string, unknown> };
      const reply = await call(kc, "PUT", `${pods}/${name}/ephemeralcontainers`, {
        ...created.body,
        spec: { ...pod.spec, ephemeralContainers: containers },
      });
      return { reply, pods };
    }

    test("audit finds the writable one", () => {
      expect(expectedFindings(entry, ["error"])).toEqual(entry.expected);
    });

    test("in a deny namespace, a writable one is refused, naming the field", async () => {
      const { reply } = await debug(namespaces.deny, "debug-writable", [debugger_]);
      expect(reply.status, reply.body.message).toBe(403);
      expect(findingsInMessage(reply.body.message ?? "")).toEqual(
        expectedFindings(entry, ["error"]),
      );
    });

    test("in a deny namespace, a read-only one is accepted, and the pod still updates", async () => {
      const readOnly = { ...debugger_, securityContext: { readOnlyRootFilesystem: true } };
      const { reply, pods } = await debug(namespaces.deny, "debug-read-only", [readOnly]);
      expect(reply.status, reply.body.message).toBe(200);
      const relabelled = await call(
        kc,
        "PATCH",
        `${pods}/debug-read-only?dryRun=All`,
        { metadata: { labels: { debugged: "true" } } },
        "application/merge-patch+json",
      );
      expect(relabelled.status, relabelled.body.message).toBe(200);
      expect(policyWarnings(relabelled)).toEqual([]);
    });

    test("in a warn namespace, a writable one is accepted with the finding as a warning", async () => {
      const { reply } = await debug(namespaces.warn, "debug-warned", [debugger_]);
      expect(reply.status, reply.body.message).toBe(200);
      expect(policyWarnings(reply)).toEqual(expectedFindings(entry, ["error"]));
    });
  });
});
