// Exemptions: rules an object's annotation (where its namespace allows) or its Namespace sets aside.
import { GROUP } from "../../api/index.ts";
import { isObject, type JsonObject, objectAt } from "./json.ts";
import type { PodTemplate } from "./pod-template.ts";

/** Rule ids, comma-separated: `TF-PROC-010,TF-PROC-011`. On an object or on a Namespace. */
export const EXEMPT_ANNOTATION = `${GROUP}/exempt`;
/** Why: required, an exemption without a reason is not honoured. */
export const EXEMPT_REASON_ANNOTATION = `${GROUP}/exempt-reason`;
/** The Namespace label, set by an admin, that lets objects in it exempt themselves. */
export const EXEMPTIONS_LABEL = `${GROUP}/exemptions`;
export const EXEMPTIONS_ALLOWED = "allowed";

/** What the rules need to know of an object's namespace. */
export interface NamespaceFacts {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

export interface ExemptionContext {
  /** The object's Namespace, when known (a live cluster, a Namespace in the same input). */
  readonly namespace?: NamespaceFacts;
  /** Honour objects' own exemptions as if the namespace allowed them (`audit --allow-exemptions`). */
  readonly allowObjectExemptions?: boolean;
}

/** An exemption that names a finding's rule. */
export interface Exemption {
  /** The object's own annotations, or its Namespace's (an admin's). */
  readonly by: "object" | "namespace";
  readonly reason: string;
  /** Whether it counts: the finding is then not a violation. */
  readonly honoured: boolean;
  /** Why it does not count, when it does not. */
  readonly note?: string;
}

/** `"TF-PROC-010, TF-PROC-011,"` → ["TF-PROC-010", "TF-PROC-011"]. */
export function parseRuleList(text: string): string[] {
  return text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

const text = (map: unknown, key: string): string | undefined => {
  const value = isObject(map) ? map[key] : undefined;
  return typeof value === "string" ? value : undefined;
};

/**
 * The metadata whose annotations exempt an object's findings: the pod template's for workload
 * kinds (the pods admission also checks carry the same annotations), the object's own otherwise.
 */
export function exemptionMetadata(
  object: JsonObject,
  template: PodTemplate | undefined,
): JsonObject | undefined {
  return template === undefined ? objectAt(object, "metadata") : template.metadata;
}

/** Exemptions by rule id; the Namespace's win over the object's. */
export function exemptionsOf(
  object: JsonObject,
  template: PodTemplate | undefined,
  context: ExemptionContext,
): Map<string, Exemption> {
  const out = new Map<string, Exemption>();
  const annotations = objectAt(exemptionMetadata(object, template), "annotations");
  const rules = text(annotations, EXEMPT_ANNOTATION);
  if (rules !== undefined) {
    const reason = (text(annotations, EXEMPT_REASON_ANNOTATION) ?? "").trim();
    const allowed =
      context.allowObjectExemptions === true ||
      context.namespace?.labels[EXEMPTIONS_LABEL] === EXEMPTIONS_ALLOWED;
    const note =
      reason === ""
        ? `${EXEMPT_ANNOTATION} without ${EXEMPT_REASON_ANNOTATION} is not honoured`
        : allowed
          ? undefined
          : `${EXEMPT_ANNOTATION} is honoured only in namespaces an admin labelled ${EXEMPTIONS_LABEL}=${EXEMPTIONS_ALLOWED}`;
    for (const id of parseRuleList(rules))
      out.set(id, {
        by: "object",
        reason,
        honoured: note === undefined,
        ...(note ? { note } : {}),
      });
  }
  const ns = context.namespace;
  const nsRules = ns?.annotations[EXEMPT_ANNOTATION];
  const nsReason = (ns?.annotations[EXEMPT_REASON_ANNOTATION] ?? "").trim();
  if (nsRules !== undefined) {
    const note =
      nsReason === ""
        ? `the Namespace's ${EXEMPT_ANNOTATION} without ${EXEMPT_REASON_ANNOTATION} is not honoured`
        : undefined;
    for (const id of parseRuleList(nsRules)) {
      if (note !== undefined && out.get(id)?.honoured === true) continue;
      out.set(id, {
        by: "namespace",
        reason: nsReason,
        honoured: note === undefined,
        ...(note ? { note } : {}),
      });
    }
  }
  return out;
}

/** The labels and annotations of a Namespace object, as the rules need them. */
export function namespaceFacts(namespace: JsonObject): NamespaceFacts | undefined {
  const metadata = objectAt(namespace, "metadata");
  const name = text(metadata, "name");
  if (name === undefined) return undefined;
  const strings = (map: JsonObject | undefined) =>
    Object.fromEntries(
      Object.entries(map ?? {}).filter((e): e is [string, string] => typeof e[1] === "string"),
    );
  return {
    name,
    labels: strings(objectAt(metadata, "labels")),
    annotations: strings(objectAt(metadata, "annotations")),
  };
}
