// `render`: prints the objects the operator would apply for StatelessApp manifests, offline.
import { parseAllDocuments } from "yaml";
import { API_VERSION, formatProblem, KIND, parseStatelessApp } from "../api/index.ts";
import { desired } from "../app/render/index.ts";
import { flag, flags, parseArgs } from "./args.ts";
import type { Command } from "./io.ts";
import { toYamlDocuments } from "./yaml.ts";

const USAGE = `usage: stateless-operator render -f <file|-> [-f …] [-o yaml|json]

Prints the Deployments, Services, PodDisruptionBudgets and HorizontalPodAutoscalers the
operator would apply for each StatelessApp in the input. Works offline: binding Secrets and the
bindings hash need the cluster and are left out. Exit 0 when every app is valid, 1 when one is
not (each problem printed with its field path), 2 when the input cannot be read.
`;

export const render: Command = async (argv, io) => {
  const parsed = parseArgs(argv, [
    { name: "file", short: "f", value: true, repeatable: true },
    { name: "output", short: "o", value: true },
    { name: "help", short: "h" },
  ]);
  if (!parsed.ok) {
    io.stderr(`render: ${parsed.message}\n${USAGE}`);
    return 2;
  }
  const { args } = parsed;
  if (args.flags.has("help")) {
    io.stdout(USAGE);
    return 0;
  }
  const output = flag(args, "output") ?? "yaml";
  if (output !== "yaml" && output !== "json") {
    io.stderr(`render: -o must be yaml or json, not "${output}"\n`);
    return 2;
  }
  const files = [...flags(args, "file"), ...args.positionals];
  if (files.length === 0) {
    io.stderr(`render: no input: give -f <file> or -f - for standard input\n${USAGE}`);
    return 2;
  }

  const objects: unknown[] = [];
  let invalid = false;
  for (const file of files) {
    let text: string;
    try {
      text = await io.readInput(file);
    } catch (error) {
      io.stderr(
        `render: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}\n`,
      );
      return 2;
    }
    const label = file === "-" ? "<stdin>" : file;
    const docs = parseAllDocuments(text);
    if (!Array.isArray(docs)) return 2;
    for (const [index, doc] of docs.entries()) {
      const yamlError = doc.errors[0];
      if (yamlError !== undefined) {
        const line = yamlError.linePos?.[0].line;
        io.stderr(
          `render: ${label}${line === undefined ? "" : `:${line}`}: ${yamlError.message.split("\n")[0]}\n`,
        );
        return 2;
      }
      const value: unknown = doc.toJS();
      if (!isStatelessApp(value)) continue;
      const app = parseStatelessApp(value);
      if (!app.ok) {
        invalid = true;
        const name = describeDocument(value, index);
        for (const problem of app.error)
          io.stderr(`${label}: ${name}: ${formatProblem(problem)}\n`);
        continue;
      }
      const result = desired(app.value);
      for (const w of result.warnings) io.stderr(`${label}: warning: ${w.message}\n`);
      objects.push(...result.objects);
    }
  }
  if (invalid) return 1;
  io.stdout(
    output === "json" ? `${JSON.stringify(listOf(objects), null, 2)}\n` : toYamlDocuments(objects),
  );
  return 0;
};

function isStatelessApp(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return false;
  const v = value as { apiVersion?: unknown; kind?: unknown };
  return v.kind === KIND && (v.apiVersion === API_VERSION || typeof v.apiVersion !== "string");
}

function describeDocument(value: unknown, index: number): string {
  const name = (value as { metadata?: { name?: unknown } }).metadata?.name;
  return typeof name === "string" ? `StatelessApp "${name}"` : `document ${index + 1}`;
}

const listOf = (items: unknown[]) => ({ apiVersion: "v1", kind: "List", items });
