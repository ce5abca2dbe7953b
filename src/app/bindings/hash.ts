// bindingsHash: a stable digest of all bound data, for the pod-template annotation that rolls pods on rotation.
import { createHash } from "node:crypto";
import type { NormalizedBinding } from "./types.ts";

/**
 * sha256 over bindings sorted by name and entries sorted by key, as hex (first 16 characters).
 * Independent of input order, so only a change of data changes it. Like Helm's checksum
 * annotations it is a plain digest of the data: strong passwords stay safe, guessable ones
 * could be confirmed by anyone who can read the Deployment.
 */
export function bindingsHash(normalized: readonly NormalizedBinding[]): string {
  const canonical = [...normalized]
    .sort((a, b) => compare(a.name, b.name))
    .map((binding) => [
      binding.name,
      binding.type,
      Object.keys(binding.entries)
        .sort(compare)
        .map((key) => [key, binding.entries[key]]),
    ]);
  return createHash("sha256").update(JSON.stringify(canonical)).digest("hex").slice(0, 16);
}

/** Code-unit order: locale-independent, so every operator replica computes the same hash. */
const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
