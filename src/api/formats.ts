// String formats shared by the schema: DNS names, quantities, durations.
import { z } from "zod";

export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const DNS_1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
export const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
export const QUANTITY =
  /^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$/;
/** Go's time.ParseDuration syntax, without a sign: `24h`, `1h30m`, `90s`. */
export const DURATION = /^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$/;
export const ENV_VAR_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/** A DNS-1123 label: what Kubernetes accepts as a container, port-less object or volume name. */
export const dnsLabel = (description: string, maxLength = 63) =>
  z
    .string()
    .min(1)
    .max(maxLength)
    .regex(
      DNS_LABEL,
      "must be a DNS label: lowercase letters, digits and '-', starting and ending with a letter or digit",
    )
    .describe(description);

/** A Kubernetes quantity: a number or a string such as `128Mi`, `0.5`, `500m`. */
export const quantity = (description: string) =>
  z
    .union([
      z.int(),
      z.string().max(64).regex(QUANTITY, "must be a Kubernetes quantity such as 128Mi, 1G or 500m"),
    ])
    .meta({ description, "x-kubernetes-int-or-string": true, pattern: QUANTITY.source });

/** A port given by number or by name (probe handlers). */
export const intOrString = (description: string) =>
  z.union([z.int(), z.string().min(1)]).meta({ description, "x-kubernetes-int-or-string": true });

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Milliseconds in a Go duration string (assumed to match DURATION). */
export function parseDuration(text: string): number {
  let total = 0;
  for (const m of text.matchAll(/([0-9]+(?:\.[0-9]+)?)(ns|us|µs|ms|s|m|h)/g)) {
    total += Number(m[1]) * (UNIT_MS[m[2] ?? "ms"] ?? 0);
  }
  return total;
}
