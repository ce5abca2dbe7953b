// TF-PROC-012: a pod sharing the node's network, process or IPC namespace.
import { celString } from "./cel.ts";
import { POD_TEMPLATES, type Rule } from "./rule.ts";

const hostNamespaces = ["hostNetwork", "hostPID", "hostIPC"] as const;

export const hostNamespace: Rule = {
  id: "TF-PROC-012",
  title: "host namespace",
  severity: "error",
  why:
    "A pod in the node's network, PID or IPC namespace shares ports, processes and shared " +
    "memory with everything else on the node: it is tied to that node and can share state " +
    "with its neighbours, the opposite of a share-nothing process.",
  fix: "Remove hostNetwork, hostPID and hostIPC; expose ports through a Service.",
  targets: POD_TEMPLATES,
  check: ({ template }) => {
    if (template === undefined) return [];
    return hostNamespaces
      .filter((field) => template.spec[field] === true)
      .map((field) => ({ path: [...template.specPath, field], message: `${field} is true` }));
  },
  cel: [
    {
      targets: POD_TEMPLATES,
      paths: hostNamespaces
        .map(
          (field) =>
            `(variables.podSpec.?${field}.orValue(false) == true ? [variables.podSpecPath + ${celString(`.${field}`)}] : [])`,
        )
        .join(" +\n"),
    },
  ],
};
