// `audit`'s command line, parsed into options or a usage error. Pure.
import { err, ok, type Result } from "../../api/index.ts";
import { type Severity, severities } from "../../app/rules/index.ts";
import { flag, flags, parseArgs } from "../args.ts";

export const outputs = ["table", "json", "sarif"] as const;
export type Output = (typeof outputs)[number];

export type AuditSource =
  | { readonly kind: "files"; readonly inputs: readonly string[] }
  | {
      readonly kind: "cluster";
      readonly namespace?: string;
      readonly kubeconfig?: string;
      readonly context?: string;
      /** Also write the findings as PolicyReports, one per namespace. */
      readonly report: boolean;
    };

export interface AuditOptions {
  readonly source: AuditSource;
  readonly output: Output;
  readonly failOn: Severity;
  /** Honour objects' own exemptions where their Namespace is not known. */
  readonly allowExemptions: boolean;
  /** A file listing more workload kinds (see workload-kinds.ts). */
  readonly workloadKinds?: string;
  readonly help: boolean;
}

export const USAGE = `usage: stateless-operator audit -f <file|dir|-> [-f …] [options]
       stateless-operator audit --cluster [-n <namespace>] [options]

Checks Kubernetes objects against the twelve-factor processes rules (the same rules the
admission policies in manifests/policies enforce): YAML or JSON files, directories (walked for
*.yaml, *.yml, *.json), standard input (kustomize build | helm template | audit -f -),
multi-document files and List kinds; or a live cluster, read-only.

options:
  -f, --file <path>        a file, a directory, or - for standard input (repeatable)
      --cluster            read the objects from the cluster instead
  -n, --namespace <name>   with --cluster: one namespace (default: all)
      --kubeconfig <path>  with --cluster: kubeconfig file (default: $KUBECONFIG, ~/.kube/config)
      --context <name>     with --cluster: kubeconfig context
      --report             with --cluster: also write a PolicyReport (wgpolicyk8s.io/v1alpha2)
                           per namespace, for Kyverno and Policy Reporter UIs
  -o, --output <format>    table (default), json, or sarif (SARIF 2.1.0)
      --fail-on <severity> exit 1 on findings at or above: error (default), warning, info
      --allow-exemptions   honour objects' twelvefactor.dev/exempt annotations where their
                           Namespace is not known, as in a namespace labelled
                           twelvefactor.dev/exemptions=allowed (default: not honoured)
      --workload-kinds <file>
                           more kinds with a pod template (YAML or JSON list of group, kind,
                           resource, template); see docs/enforcement.md
  -h, --help               this text

exit status: 0 no finding at or above --fail-on, 1 findings, 2 unreadable input or usage error.
`;

function oneOf<T extends string>(
  value: string,
  allowed: readonly T[],
  what: string,
): Result<T, string> {
  return (allowed as readonly string[]).includes(value)
    ? ok(value as T)
    : err(`${what} must be one of ${allowed.join(", ")}, not "${value}"`);
}

export function parseAuditArgs(argv: readonly string[]): Result<AuditOptions, string> {
  const parsed = parseArgs(argv, [
    { name: "file", short: "f", value: true, repeatable: true },
    { name: "cluster" },
    { name: "namespace", short: "n", value: true },
    { name: "kubeconfig", value: true },
    { name: "context", value: true },
    { name: "report" },
    { name: "allow-exemptions" },
    { name: "workload-kinds", value: true },
    { name: "output", short: "o", value: true },
    { name: "fail-on", value: true },
    { name: "help", short: "h" },
  ]);
  if (!parsed.ok) return err(parsed.message);
  const { args } = parsed;
  const output = oneOf(flag(args, "output") ?? "table", outputs, "-o");
  if (!output.ok) return output;
  const failOn = oneOf(flag(args, "fail-on") ?? "error", severities, "--fail-on");
  if (!failOn.ok) return failOn;
  const workloadKinds = flag(args, "workload-kinds");
  const common = {
    output: output.value,
    failOn: failOn.value,
    allowExemptions: args.flags.has("allow-exemptions"),
    ...(workloadKinds === undefined ? {} : { workloadKinds }),
    help: args.flags.has("help"),
  };

  const inputs = [...flags(args, "file"), ...args.positionals];
  const cluster = args.flags.has("cluster");
  const clusterOnly = ["namespace", "kubeconfig", "context", "report"].filter((f) =>
    args.flags.has(f),
  );
  if (common.help) return ok({ ...common, source: { kind: "files", inputs } });
  if (cluster && inputs.length > 0) return err("give either -f or --cluster, not both");
  if (!cluster && clusterOnly.length > 0) return err(`--${clusterOnly[0]} needs --cluster`);
  if (!cluster && inputs.length === 0) return err("no input: give -f <file|dir|-> or --cluster");
  if (!cluster) return ok({ ...common, source: { kind: "files", inputs } });
  const namespace = flag(args, "namespace");
  const kubeconfig = flag(args, "kubeconfig");
  const context = flag(args, "context");
  return ok({
    ...common,
    source: {
      kind: "cluster",
      report: args.flags.has("report"),
      ...(namespace === undefined ? {} : { namespace }),
      ...(kubeconfig === undefined ? {} : { kubeconfig }),
      ...(context === undefined ? {} : { context }),
    },
  });
}
