// Converts a zod schema into a structural OpenAPI v3 schema, the only kind a CRD accepts.
import { z } from "zod";

export type JsonSchema = { [key: string]: unknown };

const FORBIDDEN = ["$ref", "$defs", "definitions", "oneOf", "allOf", "not", "anyOf"] as const;

/**
 * Renders the input side of a zod schema (defaults apply, so fields with defaults are optional)
 * and rewrites what JSON Schema allows but a structural schema does not.
 */
export function toStructuralSchema(schema: z.ZodType): JsonSchema {
  const raw = z.toJSONSchema(schema, {
    target: "openapi-3.0",
    io: "input",
    unrepresentable: "throw",
  }) as JsonSchema;
  delete raw.$schema;
  return structural(raw, "");
}

function structural(node: JsonSchema, at: string): JsonSchema {
  if (node["x-kubernetes-int-or-string"] === true) return intOrString(node);
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) {
    if ((FORBIDDEN as readonly string[]).includes(key)) {
      throw new Error(`${at || "<root>"}: "${key}" cannot appear in a structural schema`);
    }
    if (key === "properties") {
      out.properties = Object.fromEntries(
        Object.entries(value as Record<string, JsonSchema>).map(([name, child]) => [
          name,
          structural(child, `${at}.${name}`),
        ]),
      );
    } else if (key === "items") {
      out.items = structural(value as JsonSchema, `${at}[]`);
    } else if (key === "additionalProperties") {
      // A closed object is the structural default (unknown fields are pruned or rejected);
      // only a map's value schema survives.
      if (typeof value === "object" && value !== null && node.properties === undefined) {
        out.additionalProperties = structural(value as JsonSchema, `${at}{}`);
      }
    } else {
      out[key] = value;
    }
  }
  if (out.type === undefined)
    throw new Error(`${at || "<root>"}: every node of a structural schema needs a type`);
  return out;
}

/** Keywords of an int-or-string node: each value validation applies to its own type only. */
const INT_OR_STRING_KEYS = [
  "description",
  "default",
  "minimum",
  "maximum",
  "maxLength",
  "x-kubernetes-validations",
] as const;

function intOrString(node: JsonSchema): JsonSchema {
  const out: JsonSchema = {
    "x-kubernetes-int-or-string": true,
    anyOf: [{ type: "integer" }, { type: "string" }],
  };
  for (const key of INT_OR_STRING_KEYS) if (node[key] !== undefined) out[key] = node[key];
  return out;
}
