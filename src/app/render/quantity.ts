// Quantities as the renderer writes them: ephemeral-storage sums of scratch sizes.
import { parseQuantity } from "../../api/index.ts";

const BINARY = [
  ["Ei", 2 ** 60],
  ["Pi", 2 ** 50],
  ["Ti", 2 ** 40],
  ["Gi", 2 ** 30],
  ["Mi", 2 ** 20],
  ["Ki", 2 ** 10],
] as const;

/** A byte count in the largest binary unit that states it exactly, as the API server would print it. */
export function formatBytes(bytes: number): string {
  const whole = Math.ceil(bytes);
  for (const [suffix, size] of BINARY)
    if (whole >= size && whole % size === 0) return `${whole / size}${suffix}`;
  return String(whole);
}

export const sumQuantities = (values: readonly string[]): number =>
  values.reduce((total, v) => total + (parseQuantity(v) ?? 0), 0);
