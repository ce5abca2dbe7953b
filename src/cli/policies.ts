// `policies`: prints the admission policies, over the shipped workload kinds and any added ones.
import { renderPolicySet } from "../app/policies/index.ts";
import { flag, parseArgs } from "./args.ts";
import type { Command } from "./io.ts";
import { loadRuleSet } from "./workload-kinds.ts";
import { toYamlDocuments } from "./yaml.ts";

const USAGE = `usage: stateless-operator policies [--workload-kinds <file>]

Prints the ValidatingAdmissionPolicies and their bindings (what manifests/policies holds) as
YAML, for kubectl apply. With --workload-kinds, they also check the kinds the file lists (a
YAML or JSON list of group, kind, resource, template; see docs/enforcement.md).
`;

export const policies: Command = async (argv, io) => {
  const parsed = parseArgs(argv, [
    { name: "workload-kinds", value: true },
    { name: "help", short: "h" },
  ]);
  if (!parsed.ok || parsed.args.positionals.length > 0) {
    io.stderr(`policies: ${parsed.ok ? "unexpected arguments" : parsed.message}\n${USAGE}`);
    return 2;
  }
  if (parsed.args.flags.has("help")) {
    io.stdout(USAGE);
    return 0;
  }
  const set = await loadRuleSet(flag(parsed.args, "workload-kinds"), io, "policies");
  if (set === undefined) return 2;
  io.stdout(toYamlDocuments(renderPolicySet(set).flatMap((g) => [g.policy, ...g.bindings])));
  return 0;
};
