// The differential judge: one manifest, read by the real API server (dry-run) and by `render`, and the children dry-run too.
import { isDeepStrictEqual } from "node:util";
import { parseAllDocuments } from "yaml";
import { FIELD_MANAGER, parseStatelessApp } from "../../../src/api/index.ts";
import { desired } from "../../../src/app/render/index.ts";
import type { CommandIo } from "../../../src/cli/io.ts";
import { GENERATED_NAME, render } from "../../../src/cli/render.ts";
import { applyBody, type HttpTransport } from "../../../src/runtime/index.ts";
import { objectPath } from "../../support/operator.ts";

/** A manifest as a user would write it: JSON, or YAML in some dialect. */
export interface FuzzCase {
  readonly format: "json" | "yaml";
  readonly text: string;
}

export interface Verdict {
  /** Undefined when the API server admits the app; else its message. */
  readonly api: string | undefined;
  /** The object the API server would store (dry-run), when it admits it. */
  readonly stored?: Record<string, unknown>;
  readonly render: { readonly code: number; readonly stderr: string };
  /** Each child the operator would apply, with the API server's refusal (undefined: admitted). */
  readonly children: readonly { readonly child: string; readonly refusal: string | undefined }[];
  /** What is wrong, in words; empty when the three agree. */
  readonly disagreements: readonly string[];
}

/** Messages that tell the user nothing: the API server's own failures to evaluate a rule. */
const UNHELPFUL = /type conversion error|no such overload|internal error|panic/i;

/** `render` refused because the YAML reads differently to kubectl: allowed whatever the API says. */
const isAmbiguityRefusal = (v: Verdict["render"]) =>
  v.code === 2 && /\(YAML 1\.1\)|YAML 1\.2 only/.test(v.stderr);

/**
 * Refusals only `render` makes, rightly, of apps the API server admits: YAML that kubectl reads
 * otherwise, and an app named only by generateName (the API server names it on create).
 */
const isRenderOnlyRefusal = (v: Verdict["render"]) =>
  isAmbiguityRefusal(v) || (v.code === 1 && v.stderr.includes(GENERATED_NAME));

export async function judge(
  transport: HttpTransport,
  namespace: string,
  fuzzCase: FuzzCase,
): Promise<Verdict> {
  const [api, stored] = await createDryRun(transport, namespace, fuzzCase);
  const rendered = await renderCase(fuzzCase);
  const disagreements: string[] = [];
  const children: { child: string; refusal: string | undefined }[] = [];
  const renderAccepts = rendered.code === 0;
  if (api !== undefined && UNHELPFUL.test(api))
    disagreements.push(`the API server's message does not help: ${api}`);
  if (api === undefined && !renderAccepts && !isRenderOnlyRefusal(rendered))
    disagreements.push("the API admits the app, render refuses it");
  if (api !== undefined && renderAccepts)
    disagreements.push("render accepts an app the API refuses");
  if (!renderAccepts && !/: /.test(rendered.stderr))
    disagreements.push("render refuses without naming a field or line");
  if (api === undefined && stored !== undefined) {
    // The operator's side: it parses what the API server stored and applies its children.
    const parsed = parseStatelessApp(stored);
    if (!parsed.ok) {
      disagreements.push(
        `the operator cannot parse the stored app: ${parsed.error.map((p) => `${p.path}: ${p.message}`).join("; ")}`,
      );
    } else {
      const objects = desired(parsed.value).objects;
      if (renderAccepts && !sameChildren(objects, rendered.objects))
        disagreements.push("render prints other children than the operator applies");
      for (const object of objects) {
        const refusal = await applyDryRun(transport, namespace, object);
        const child = `${object.kind}/${object.metadata?.name}`;
        children.push({ child, refusal });
        if (refusal !== undefined)
          disagreements.push(`the API refuses the ${child} the operator renders: ${refusal}`);
      }
    }
  }
  return {
    api,
    ...(stored === undefined ? {} : { stored }),
    render: { code: rendered.code, stderr: rendered.stderr },
    children,
    disagreements,
  };
}

async function createDryRun(
  transport: HttpTransport,
  namespace: string,
  { format, text }: FuzzCase,
): Promise<[string | undefined, Record<string, unknown> | undefined]> {
  const response = await transport({
    method: "POST",
    path: objectPath({ kind: "StatelessApp", metadata: { namespace } }),
    query: { dryRun: "All", fieldValidation: "Strict", fieldManager: "fuzz" },
    contentType: format === "json" ? "application/json" : "application/yaml",
    body: text,
  });
  const body = await response.text();
  if (response.status >= 200 && response.status < 300)
    return [undefined, JSON.parse(body) as Record<string, unknown>];
  return [messageOf(body, response.status), undefined];
}

/** Server-side apply with dry-run, as the operator applies (its field manager, force). */
async function applyDryRun(
  transport: HttpTransport,
  namespace: string,
  object: { kind?: string; metadata?: { name?: string } },
): Promise<string | undefined> {
  const response = await transport({
    method: "PATCH",
    path: objectPath({ kind: object.kind, metadata: { namespace, name: object.metadata?.name } }),
    query: { dryRun: "All", fieldValidation: "Strict", fieldManager: FIELD_MANAGER, force: true },
    contentType: "application/apply-patch+yaml",
    body: applyBody({ ...object, metadata: { ...object.metadata, namespace } }),
  });
  const body = await response.text();
  return response.status >= 200 && response.status < 300
    ? undefined
    : messageOf(body, response.status);
}

function messageOf(body: string, status: number): string {
  try {
    return String((JSON.parse(body) as { message?: unknown }).message ?? `HTTP ${status}`);
  } catch {
    return `HTTP ${status}: ${body.slice(0, 300)}`;
  }
}

async function renderCase({ text }: FuzzCase) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CommandIo = {
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    readInput: async () => text,
  };
  const code = await render(["-f", "-", "-o", "yaml"], io);
  const objects =
    code === 0
      ? parseAllDocuments(out.join("")).flatMap((d) => (Array.isArray(d) ? [] : [d.toJS()]))
      : [];
  return { code, stderr: err.join(""), objects: objects as Record<string, unknown>[] };
}

/** The same children, but for what only the stored app has: owner references and namespace. */
function sameChildren(operator: readonly object[], printed: readonly object[]): boolean {
  const strip = (o: object) => {
    const { metadata, ...rest } = o as { metadata?: Record<string, unknown> };
    const { ownerReferences: _o, namespace: _n, ...meta } = metadata ?? {};
    return { ...rest, metadata: meta };
  };
  return isDeepStrictEqual(operator.map(strip), printed.map(strip));
}

/** The case as a corpus fixture: header comments, then the manifest as it was sent. */
export function asFixture(fuzzCase: FuzzCase, verdict: Verdict): string {
  const expect =
    verdict.api !== undefined
      ? "refused"
      : isRenderOnlyRefusal(verdict.render)
        ? "render-only"
        : "admitted";
  return [
    "# class: <what the case shows>",
    "# wrong side: <API | render | children> (before the fix)",
    `# format: ${fuzzCase.format}`,
    `# expect: ${expect}`,
    `# api said: ${(verdict.api ?? "admitted").split("\n")[0]}`,
    `# render said: ${verdict.render.stderr.split("\n")[0] || "accepted"}`,
    ...verdict.disagreements.map((d) => `# disagreement: ${d.split("\n")[0]}`),
    fuzzCase.text,
  ].join("\n");
}
