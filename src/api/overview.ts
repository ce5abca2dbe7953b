// The validation rules in words, for docs/api.md: what the API server and the operator both refuse.

import {
  BUILTIN_API_GROUPS,
  FORBIDDEN_BOUND_KINDS,
  SERVICE_BINDING_ROOT,
  SERVICE_BINDING_ROOT_ENV,
} from "./group.ts";
import { MAX_POD_LIFETIME, MAX_PROCESS_ENV, MIN_POD_LIFETIME } from "./spec.ts";

const groups = BUILTIN_API_GROUPS.filter((g) => g !== "")
  .map((g) => `\`${g}\``)
  .join(", ");

/** Markdown: one truth about validity, stated once for the reference. */
export const VALIDATION_OVERVIEW = `## What is valid

The API server (the CRD's schema and CEL rules) and the operator (and \`stateless-operator render\`)
check the same rules, generated from one schema: an app the API server admits is one the operator
renders, and the children it renders are objects the API server admits. A differential fuzz in
the test suite holds them to that.

- **Names are unique** in every list: \`processes\`, \`ports\`, \`env\` (each list), \`scratch\` and
  \`backingServices\` are list maps keyed by \`name\`. Within a process, \`containerPort\` and the
  Service port (\`servicePort\`, else \`containerPort\`) are unique too; two scratch volumes never
  share a \`mountPath\`.
- **Paths** (\`scratch[].mountPath\`, \`bindingRoot\`) are clean absolute paths: no empty, \`.\` or \`..\`
  segment, no trailing \`/\`, no \`:\` or control character, and never \`/\`. As every path is in normal
  form, comparing strings compares directories. A scratch volume must not be the binding root
  (\`spec.bindingRoot\`, \`${SERVICE_BINDING_ROOT}\` by default), lie under it or contain it.
  \`${SERVICE_BINDING_ROOT_ENV}\` is set by the operator from \`spec.bindingRoot\`: \`env\` must not set it.
- **Quantities** (\`sizeLimit\`, \`resources\`, \`divisor\`) are an integer from 0 to 2⁵³−1 or a string of
  at most 64 characters such as \`128Mi\`, \`0.5\`, \`500m\` or \`1e3\`: no sign but \`+\`, an integer
  exponent of at most three digits. They are compared exactly (\`1000m\` is \`1\`), as Kubernetes does.
  \`sizeLimit\` is above zero. A request is at most the limit of the same resource. Resource names are
  \`cpu\`, \`memory\`, \`ephemeral-storage\` or an extended resource \`<domain>/<name>\` outside
  \`kubernetes.io\`, whose amount is a whole number and whose request needs an equal limit. A divisor
  is \`1m\` or \`1\` for cpu, and \`1\`, \`1k\` … \`1E\` or \`1Ki\` … \`1Ei\` for memory and ephemeral-storage.
- **Integers** are within 2⁵³−1 everywhere, and ports within 1–65535. A probe port is a number or
  the name of one of the process's ports (an IANA service name: lowercase letters, digits and single
  \`-\`, with a letter, at most 15 characters). Liveness and startup probes have \`successThreshold\` 1;
  only they may set \`terminationGracePeriodSeconds\`. HTTP header names are letters, digits and \`-\`.
- **Durations** (\`maxPodLifetime\`) are Go durations such as \`24h\` or \`1h30m\`, each number of at most
  five digits, from ${MIN_POD_LIFETIME} to ${MAX_POD_LIFETIME}.
- **References** to objects in the app's namespace (\`secretRef.name\`, \`service.name\`,
  \`secretKeyRef.name\`, \`configMapKeyRef.name\`) are DNS subdomains: no namespace, no \`/\`. Keys are
  letters, digits, \`-\`, \`_\` and \`.\`, not \`.\` or starting with \`..\`. A \`fieldRef\` selects what the
  downward API offers to env (\`metadata.name\`, \`metadata.namespace\`, \`metadata.uid\`,
  \`metadata.labels['…']\`, \`metadata.annotations['…']\`, \`spec.nodeName\`,
  \`spec.serviceAccountName\`, \`status.hostIP(s)\`, \`status.podIP(s)\`), in \`apiVersion\` \`v1\`; a
  \`resourceFieldRef.containerName\` is the process's own container.
- **Bound kinds**: \`backingServices[].service.apiVersion\` is \`<group>/<version>\` of an extension API:
  its group has a dot and lies outside \`k8s.io\` and \`kubernetes.io\`, so core (\`v1\`) and every
  built-in group (${groups}) are refused; \`kind\` is never ${FORBIDDEN_BOUND_KINDS.join(" or ")}.
- **Binding env**: a binding named after a type's alias variable (a memcached binding named \`redis\`
  sets \`REDIS_URL\`) cannot sit beside the app's only binding of that type, whose alias it is.
- **Strings** are counted in Unicode code points (as the API server counts them); the image is
  letters, digits and \`. _ - : / @ + [ ]\`.
- **Metadata**: \`name\` is a DNS-1035 label that, with each process name, leaves room for
  \`<app>-<process>\` (63 characters); labels, annotations, \`generateName\` and finalizers follow
  Kubernetes' syntax. A null field counts as absent and the status of a new app is ignored, as the
  API server does.
- **Size**: each process has at most ${MAX_PROCESS_ENV} env variables of its own beside the 256 of
  \`spec.env\`: the API server's budget for CEL rules is shared by every item of every list.

\`stateless-operator render\` reads YAML as kubectl does, and refuses, naming the line, what YAML 1.1
(kubectl) and YAML 1.2 read differently: \`yes\`/\`no\`/\`on\`/\`off\`/\`y\`/\`n\`, \`0b101\`, \`012\`, \`1_000\`,
\`0X1F\`, a NEL or LS line break, a \`<<\` merge key, explicit tags. Quote such values.
`;
