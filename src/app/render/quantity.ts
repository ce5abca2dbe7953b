// Quantities as the renderer writes them: exact sums of scratch sizes.
import { formatQuantity, quantityNanos } from "../../api/index.ts";

/** The exact sum of quantities, in nano-units. */
export const sumQuantities = (values: readonly (string | number)[]): bigint =>
  values.reduce<bigint>((total, v) => total + (quantityNanos(v) ?? 0n), 0n);

export const maxQuantity = (a: bigint, b: bigint): bigint => (a > b ? a : b);
export const minQuantity = (a: bigint, b: bigint): bigint => (a < b ? a : b);

export { formatQuantity };
