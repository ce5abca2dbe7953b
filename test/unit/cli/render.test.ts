import { execFile, spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { describe, expect, test } from "vitest";
import { parseAllDocuments } from "yaml";
import type { CommandIo } from "../../../src/cli/io.ts";
import { render } from "../../../src/cli/render.ts";

const root = resolve(import.meta.dirname, "../../..");
const run = promisify(execFile);

function fakeIo(files: Record<string, string>) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CommandIo = {
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    readInput: async (path) => {
      const text = files[path];
      if (text === undefined) throw Object.assign(new Error("nope"), { code: "ENOENT" });
      return text;
    },
  };
  return { io, out: () => out.join(""), err: () => err.join("") };
}

const BAD = `apiVersion: twelvefactor.dev/v1alpha1
kind: StatelessApp
metadata: {name: shop}
spec:
  image: shop:1
  processes:
    - name: web
    - name: api
      ports: [{name: http, containerPort: 70000}]
  scratch: [{name: tmp, mountPath: /tmp}]
`;

describe("render", () => {
  test("prints the children of every StatelessApp in a sample as YAML, skipping other kinds", async () => {
    const { io, out, err } = fakeIo({});
    const real: CommandIo = {
      ...io,
      readInput: async (p) => (await import("node:fs/promises")).readFile(p, "utf8"),
    };
    expect(await render(["-f", resolve(root, "manifests/samples/shop.yaml")], real)).toBe(0);
    const docs = parseAllDocuments(out()).map((d) => (Array.isArray(d) ? undefined : d.toJS()));
    expect(docs.map((d) => `${d.kind}/${d.metadata.name}`)).toEqual([
      "Deployment/shop-web",
      "Service/shop-web",
      "PodDisruptionBudget/shop-web",
      "Deployment/shop-worker",
    ]);
    expect(err()).toBe("");
    // The web+worker sample binds Redis: every process mounts the binding and reads it by secretKeyRef.
    for (const d of docs.filter((x) => x.kind === "Deployment")) {
      const pod = d.spec.template.spec;
      expect(pod.volumes).toContainEqual({
        name: "binding-sessions",
        secret: { secretName: "shop-binding-sessions" },
      });
      expect(pod.containers[0].volumeMounts).toContainEqual({
        name: "binding-sessions",
        mountPath: "/bindings/sessions",
        readOnly: true,
      });
      expect(pod.containers[0].env).toContainEqual({
        name: "REDIS_URL",
        valueFrom: { secretKeyRef: { name: "shop-binding-sessions", key: "uri" } },
      });
    }
  });

  test("prints every problem with its field path and exits 1", async () => {
    const { io, out, err } = fakeIo({ "app.yaml": BAD });
    expect(await render(["-f", "app.yaml"], io)).toBe(1);
    expect(out()).toBe("");
    expect(err()).toBe(
      [
        'app.yaml: StatelessApp "shop": spec.processes[1].ports[0].containerPort: must be ≤ 65535',
        'app.yaml: StatelessApp "shop": spec.scratch[0].sizeLimit: required',
        "",
      ].join("\n"),
    );
  });

  test("prints a List in JSON with -o json", async () => {
    const { io, out } = fakeIo({
      "-": "apiVersion: twelvefactor.dev/v1alpha1\nkind: StatelessApp\nmetadata: {name: a}\nspec: {image: x, processes: [{name: web}]}\n",
    });
    expect(await render(["-f", "-", "-o", "json"], io)).toBe(0);
    const list = JSON.parse(out());
    expect(list.kind).toBe("List");
    expect(list.items.map((o: { kind: string }) => o.kind)).toEqual(["Deployment"]);
  });

  const APP =
    "apiVersion: twelvefactor.dev/v1alpha1\nkind: StatelessApp\nmetadata: {name: a}\nspec: {image: x, processes: [{name: web}]}\n";

  test.each<[string, string, string]>([
    [
      "render was wrong: a document without kind was skipped with exit 0",
      "apiVersion: twelvefactor.dev/v1alpha1\nmetadata: {name: a}\nspec: {image: x}\n",
      "x.yaml: document 1: kind: required\n",
    ],
    [
      "a document without apiVersion",
      "kind: StatelessApp\nmetadata: {name: a}\n",
      'x.yaml: StatelessApp "a": apiVersion: required\n',
    ],
    [
      "a StatelessApp of another version",
      APP.replace("v1alpha1", "v1"),
      'x.yaml: StatelessApp "a": apiVersion: StatelessApp is served as twelvefactor.dev/v1alpha1, not twelvefactor.dev/v1\n',
    ],
    [
      "another kind in our group",
      APP.replace("kind: StatelessApp", "kind: StatelesApp"),
      'x.yaml: StatelesApp "a": kind: StatelesApp is not a kind of twelvefactor.dev: did you mean StatelessApp?\n',
    ],
    ["a scalar document", "just text\n", "x.yaml: document 1: not a Kubernetes object\n"],
    [
      "an app named only by generateName (the API server names it on create)",
      APP.replace("metadata: {name: a}", "metadata: {generateName: a-}"),
      "x.yaml: document 1: metadata.name: required: the children are named after the app, and generateName gets a name only when the API server creates it\n",
    ],
  ])("exits 1 on %s, naming it", async (_, text, message) => {
    const { io, err } = fakeIo({ "x.yaml": text });
    expect(await render(["-f", "x.yaml"], io)).toBe(1);
    expect(err()).toBe(message);
  });

  test("renders the items of a List, and skips other kinds and empty documents", async () => {
    const list = `apiVersion: v1\nkind: List\nitems:\n${APP.split("\n")
      .filter((l) => l !== "")
      .map((l, i) => (i === 0 ? `  - ${l}` : `    ${l}`))
      .join("\n")}\n---\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: s}\n`;
    const { io, out, err } = fakeIo({ "x.yaml": list });
    expect(await render(["-f", "x.yaml", "-o", "json"], io)).toBe(0);
    expect(err()).toBe("");
    expect(JSON.parse(out()).items.map((o: { kind: string }) => o.kind)).toEqual(["Deployment"]);
  });

  test("render was wrong: `paused: yes` is true to kubectl; it is refused, naming the line", async () => {
    const { io, err } = fakeIo({
      "x.yaml": `${APP.replace("processes: [{name: web}]", "processes: [{name: web}], paused: yes")}`,
    });
    expect(await render(["-f", "x.yaml"], io)).toBe(2);
    expect(err()).toBe(
      'render: x.yaml:4: "yes" is true to kubectl (YAML 1.1) but the string "yes" in YAML 1.2: quote it, or write it as both read it\n',
    );
  });

  test.each<[string, string[], Record<string, string>, string]>([
    ["no input", [], {}, "render: no input"],
    ["an unreadable file", ["-f", "missing.yaml"], {}, "render: cannot read missing.yaml: ENOENT"],
    [
      "malformed YAML, with its line",
      ["-f", "x.yaml"],
      { "x.yaml": "a: 1\nb: [\n" },
      "render: x.yaml:",
    ],
    [
      "an unknown output format",
      ["-f", "x.yaml", "-o", "xml"],
      { "x.yaml": "" },
      "render: -o must be yaml or json",
    ],
    ["an unknown flag", ["--frobnicate"], {}, "render: unknown flag --frobnicate"],
  ])("exits 2 on %s", async (_, args, files, message) => {
    const { io, err } = fakeIo(files);
    expect(await render(args, io)).toBe(2);
    expect(err()).toContain(message);
  });

  test("the installed command renders a sample from a file and from stdin, offline", async () => {
    const cli = resolve(root, "src/cli/main.ts");
    const { stdout } = await run(process.execPath, [
      cli,
      "render",
      "-f",
      resolve(root, "manifests/samples/web.yaml"),
    ]);
    expect(stdout).toContain("kind: Deployment");
    expect(stdout).toContain("sessionAffinity: None");
    const piped = spawnSync(process.execPath, [cli, "render", "-f", "-"], {
      input: BAD,
      encoding: "utf8",
    });
    expect(piped.status).toBe(1);
    expect(piped.stderr).toContain(
      '<stdin>: StatelessApp "shop": spec.processes[1].ports[0].containerPort: must be ≤ 65535',
    );
  }, 60_000);
});
