// What other field managers added to an owned object that the rules flag, and the JSON patch that removes it. Pure; derived from the rule set.
import {
  checkObject,
  defaultRuleSet,
  type FieldPath,
  formatPath,
  isViolation,
  type RuleSet,
} from "../rules/index.ts";

/** One RFC 6902 operation; `test` guards make a concurrent change fail the patch instead of hitting the wrong item. */
export type JsonPatchOp =
  | { readonly op: "test"; readonly path: string; readonly value: unknown }
  | { readonly op: "remove"; readonly path: string }
  | { readonly op: "replace"; readonly path: string; readonly value: unknown };

export interface ForbiddenFix {
  /** Human-readable: what was removed and which rule flags it, for the Warning Event. */
  readonly findings: string[];
  readonly patch: JsonPatchOp[];
}

type Obj = Record<string, unknown>;
type Path = readonly (string | number)[];
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Fields the API server requires to change together with a flagged field we render: a Service's
 * `sessionAffinity: None` is refused while another manager's `sessionAffinityConfig` is there,
 * and defaulting puts a removed config back while the affinity is ClientIP, so one patch sets
 * ours and removes the other.
 */
const companions: readonly { readonly flagged: string; readonly remove: Path }[] = [
  { flagged: "spec.sessionAffinity", remove: ["spec", "sessionAffinityConfig"] },
];

/** A list item is matched by its `name` (containers, volumes, mounts), else by its index. */
function counterpart(list: readonly unknown[], item: unknown, index: number): number | undefined {
  const name = isObj(item) ? item.name : undefined;
  if (name === undefined) return index < list.length ? index : undefined;
  const found = list.findIndex((other) => isObj(other) && other.name === name);
  return found < 0 ? undefined : found;
}

/** One field or list item of the live object with nothing like it in the desired one: what to remove. */
interface Addition {
  readonly path: Path;
  /** The same path as the rules spell it (annotation keys as map keys), for messages. */
  readonly field: FieldPath;
  readonly value: unknown;
}

/**
 * Follows a finding's path through the live object and, in step, the desired one: the first
 * node the desired object has no counterpart for is another manager's addition. Undefined when
 * the whole path is ours (a server-side apply with force puts our value back).
 */
function additionAt(desired: unknown, live: unknown, path: FieldPath): Addition | undefined {
  const at: (string | number)[] = [];
  let d: unknown = desired;
  let l: unknown = live;
  for (const [i, segment] of path.entries()) {
    const key = typeof segment === "object" ? segment.key : segment;
    // A map (annotations) or a list (volumes, containers) is shared with other managers: what
    // we lack is the key or the item, never the whole map or list, even when we set none.
    const next = path[i + 1];
    const shared = typeof next === "number" || (typeof next === "object" && next !== null);
    if (typeof key === "number") {
      if (!Array.isArray(l) || key >= l.length) return undefined;
      const item = l[key];
      const match = Array.isArray(d) ? counterpart(d, item, key) : undefined;
      at.push(key);
      if (match === undefined || !Array.isArray(d))
        return { path: at, field: path.slice(0, at.length), value: item };
      d = d[match];
      l = item;
      continue;
    }
    if (!isObj(l) || !(key in l)) return undefined; // the finding is about a field that is absent
    at.push(key);
    if (!shared && (!isObj(d) || !(key in d)))
      return { path: at, field: path.slice(0, at.length), value: l[key] };
    d = isObj(d) && key in d ? d[key] : typeof next === "number" ? [] : {};
    l = l[key];
  }
  return undefined;
}

const pointer = (path: Path) =>
  path.map((s) => `/${String(s).replaceAll("~", "~0").replaceAll("/", "~1")}`).join("");

const valueAt = (root: unknown, path: Path): unknown =>
  path.reduce<unknown>(
    (node, key) =>
      typeof key === "number"
        ? Array.isArray(node)
          ? node[key]
          : undefined
        : isObj(node)
          ? node[key]
          : undefined,
    root,
  );

/** `volumes "shared"`, `containers "shell"`, `metadata.annotations[example.com/sticky]`. */
const describe = (a: Addition) =>
  isObj(a.value) && typeof a.value.name === "string"
    ? `${String(a.path.at(-2))} ${JSON.stringify(a.value.name)}`
    : formatPath(a.field);

/** Deepest first, and within one list the highest index first, so each removal leaves the others' paths valid. */
function removalOrder(a: Path, b: Path): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x === y) continue;
    if (typeof x === "number" && typeof y === "number") return y - x;
    return String(x) < String(y) ? -1 : 1;
  }
  return b.length - a.length;
}

const isPrefix = (prefix: Path, path: Path) =>
  prefix.length <= path.length && prefix.every((s, i) => path[i] === s);

/**
 * The JSON patch that removes from `live` (an owned object whose applied form is `desired`) what
 * the rules flag and we did not render: a volume of any source a rule flags (and its mounts), a
 * container, a host namespace, an annotation. Our own fields are not patched: a server-side
 * apply with force puts those back. Platform-owned additions the rules exempt (an injected mesh
 * sidecar) are not findings, so they stay.
 */
export function forbiddenAdditions(
  desired: { readonly kind?: string | undefined },
  live: object | undefined,
  rules: RuleSet = defaultRuleSet,
): ForbiddenFix {
  const fix: ForbiddenFix = { findings: [], patch: [] };
  if (live === undefined) return fix;
  const removals = new Map<string, Addition>();
  const replaced: JsonPatchOp[] = [];
  for (const finding of checkObject(live, rules).filter(isViolation)) {
    const addition = additionAt(desired, live, finding.path);
    const rule = `${finding.ruleId} ${finding.title}`;
    if (addition !== undefined) {
      const key = pointer(addition.path);
      if (!removals.has(key)) {
        removals.set(key, addition);
        fix.findings.push(`${describe(addition)} (${rule})`);
      }
      continue;
    }
    const flagged = formatPath(finding.path);
    for (const c of companions.filter((c) => c.flagged === flagged)) {
      const extra = valueAt(live, c.remove);
      if (extra === undefined || valueAt(desired, c.remove) !== undefined) continue;
      const ours = valueAt(desired, finding.path as Path);
      replaced.push({ op: "replace", path: pointer(finding.path as Path), value: ours });
      removals.set(pointer(c.remove), { path: c.remove, field: c.remove, value: extra });
      fix.findings.push(`${formatPath(c.remove)} (${rule})`);
    }
  }
  // A removed volume takes its mounts along: a mount of a missing volume is refused.
  for (const addition of [...removals.values()]) {
    const [list, index] = addition.path.slice(-2);
    const volume = isObj(addition.value) ? addition.value.name : undefined;
    if (list !== "volumes" || typeof index !== "number" || volume === undefined) continue;
    const spec = addition.path.slice(0, -2);
    for (const containers of ["initContainers", "containers"]) {
      const items = valueAt(live, [...spec, containers]);
      for (const [c, container] of (Array.isArray(items) ? items : []).entries()) {
        const mounts = isObj(container) ? container.volumeMounts : undefined;
        for (const [m, mount] of (Array.isArray(mounts) ? mounts : []).entries()) {
          if (!isObj(mount) || mount.name !== volume) continue;
          const path = [...spec, containers, c, "volumeMounts", m];
          removals.set(pointer(path), { path, field: path, value: mount });
        }
      }
    }
  }
  const paths = [...removals.values()].map((r) => r.path);
  const kept = [...removals.values()].filter(
    (r) => !paths.some((p) => p !== r.path && isPrefix(p, r.path)),
  );
  fix.patch.push(...replaced);
  for (const r of kept.sort((a, b) => removalOrder(a.path, b.path))) {
    const at = pointer(r.path);
    const guard: JsonPatchOp =
      typeof r.path.at(-1) === "number" && isObj(r.value) && r.value.name !== undefined
        ? { op: "test", path: `${at}/name`, value: r.value.name }
        : { op: "test", path: at, value: r.value };
    fix.patch.push(guard, { op: "remove", path: at });
  }
  return fix;
}
