// Jittered exponential backoff: how long to wait before the next attempt after consecutive failures.

export interface BackoffOptions {
  /** Delay after the first failure. @default 500 */
  readonly baseMs?: number;
  /** Upper bound of the delay before jitter. @default 300_000 (5 min) */
  readonly capMs?: number;
  /** Growth per consecutive failure. @default 2 */
  readonly factor?: number;
  /**
   * Fraction of the delay that is randomized, both ways: 0.2 gives `delay * [0.8, 1.2)`.
   * Jitter spreads retries of many keys (or many replicas) so they do not hit the apiserver together.
   * @default 0.2
   */
  readonly jitter?: number;
  /** Source of randomness in [0, 1). @default Math.random */
  readonly random?: () => number;
}

const defaults = { baseMs: 500, capMs: 300_000, factor: 2, jitter: 0.2 } as const;

/** The delay before retry number `attempt` (0 = after the first failure). */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const baseMs = options.baseMs ?? defaults.baseMs;
  const capMs = options.capMs ?? defaults.capMs;
  const factor = options.factor ?? defaults.factor;
  const jitter = Math.min(1, Math.max(0, options.jitter ?? defaults.jitter));
  const random = options.random ?? Math.random;
  // Math.min before the power would overflow to Infinity for large attempts.
  const exponent = Math.min(Math.max(0, attempt), 64);
  const raw = Math.min(capMs, baseMs * factor ** exponent);
  return Math.max(0, Math.round(raw * (1 + jitter * (2 * random() - 1))));
}

/** Backoff state for one retried thing: grows on each `next()`, starts over on `reset()`. */
export class Backoff {
  readonly #options: BackoffOptions;
  #attempts = 0;

  constructor(options: BackoffOptions = {}) {
    this.#options = options;
  }

  /** Consecutive failures since the last reset. */
  get attempts(): number {
    return this.#attempts;
  }

  /** Records a failure and returns how long to wait before retrying. */
  next(): number {
    return backoffDelay(this.#attempts++, this.#options);
  }

  reset(): void {
    this.#attempts = 0;
  }
}
