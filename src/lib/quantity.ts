// Kubernetes resource quantities, read exactly as the API server's resource.ParseQuantity reads them.

/** Suffix → power of ten (decimal SI and the empty suffix). */
const DECIMAL_SUFFIX: Readonly<Record<string, number>> = {
  n: -9,
  u: -6,
  m: -3,
  "": 0,
  k: 3,
  M: 6,
  G: 9,
  T: 12,
  P: 15,
  E: 18,
};
/** Suffix → power of two (binary SI). */
const BINARY_SUFFIX: Readonly<Record<string, number>> = {
  Ki: 10,
  Mi: 20,
  Gi: 30,
  Ti: 40,
  Pi: 50,
  Ei: 60,
};

const GRAMMAR =
  /^([+-]?)([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9]{1,9})?$/;
const NANO = 10n ** 9n;
/** ParseQuantity caps binary-SI amounts at the largest int64. */
const MAX_BINARY = 2n ** 63n - 1n;

/**
 * The value of a quantity in nano-units (10⁻⁹), as the API server holds it: a non-zero amount
 * below one nano rounds up (away from zero) to one, and binary-SI amounts above 2⁶³−1 are
 * capped there. Undefined when the text is not a quantity. Exact: no floating point.
 */
export function quantityNanos(q: string | number): bigint | undefined {
  if (typeof q === "number") {
    if (!Number.isSafeInteger(q)) return undefined;
    return BigInt(q) * NANO;
  }
  const m = GRAMMAR.exec(q);
  if (m === null) return undefined;
  const [, sign = "", number = "", suffix = ""] = m;
  const [whole = "", fraction = ""] = number.split(".");
  const digits = BigInt(`${whole}${fraction}` || "0");
  let exponent10 = -fraction.length + 9;
  let exponent2 = 0;
  const binary = BINARY_SUFFIX[suffix];
  if (binary !== undefined) exponent2 = binary;
  else if (suffix.startsWith("e") || suffix.startsWith("E")) exponent10 += Number(suffix.slice(1));
  else exponent10 += DECIMAL_SUFFIX[suffix] ?? 0;
  let numerator = digits << BigInt(exponent2);
  let denominator = 1n;
  if (exponent10 >= 0) numerator *= 10n ** BigInt(exponent10);
  else denominator = 10n ** BigInt(-exponent10);
  let nanos = (numerator + denominator - 1n) / denominator;
  if (binary !== undefined && nanos > MAX_BINARY * NANO) nanos = MAX_BINARY * NANO;
  return sign === "-" ? -nanos : nanos;
}

/** -1, 0 or 1 as `a` is below, equal to or above `b`; undefined when either is not a quantity. */
export function compareQuantities(a: string | number, b: string | number): number | undefined {
  const x = quantityNanos(a);
  const y = quantityNanos(b);
  if (x === undefined || y === undefined) return undefined;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The value of a Kubernetes quantity ("128Mi", "0.5", "100m", "1e3") as a number, or undefined. */
export function parseQuantity(q: unknown): number | undefined {
  if (typeof q === "number") return q;
  if (typeof q !== "string") return undefined;
  const nanos = quantityNanos(q.trim());
  return nanos === undefined ? undefined : Number(nanos) / 1e9;
}

const BINARY_UNITS = [
  ["Ei", 60n],
  ["Pi", 50n],
  ["Ti", 40n],
  ["Gi", 30n],
  ["Mi", 20n],
  ["Ki", 10n],
] as const;

/**
 * A quantity of nano-units, exactly, as the API server prints it: whole units in the largest
 * binary suffix that states them exactly (`1073741824` → `1Gi`), fractions with m, u or n.
 */
export function formatQuantity(nanos: bigint): string {
  const sign = nanos < 0n ? "-" : "";
  const abs = nanos < 0n ? -nanos : nanos;
  if (abs % NANO === 0n) {
    const whole = abs / NANO;
    for (const [suffix, shift] of BINARY_UNITS) {
      const size = 1n << shift;
      if (whole >= size && whole % size === 0n) return `${sign}${whole / size}${suffix}`;
    }
    return `${sign}${whole}`;
  }
  for (const [suffix, size] of [
    ["m", 1_000_000n],
    ["u", 1_000n],
  ] as const)
    if (abs % size === 0n) return `${sign}${abs / size}${suffix}`;
  return `${sign}${abs}n`;
}
