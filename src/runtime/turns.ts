// Long synchronous loops (a list page's objects, a relist's events) give the event loop a turn every few milliseconds.

/** How much back-to-back work a loop does before it lets timers, sockets and probes run. */
const SLICE_MS = 10;

/**
 * Tracks how long a loop has run since it last gave the event loop a turn. A loop checks `due()`
 * after each unit of work (cheap: one clock read) and awaits `yield()` only when it is due, so a
 * small list never waits at all, while a list of 20 000 objects never holds `/healthz`, the
 * Lease renewal or the watch sockets for more than about one slice.
 */
export class EventLoopTurns {
  readonly #sliceMs: number;
  readonly #now: () => number;
  #since: number;

  constructor(sliceMs = SLICE_MS, now: () => number = () => performance.now()) {
    this.#sliceMs = sliceMs;
    this.#now = now;
    this.#since = now();
  }

  /** The loop has run for a slice since its last turn. */
  due(): boolean {
    return this.#now() - this.#since >= this.#sliceMs;
  }

  /** Resolves on the event loop's next turn (after pending I/O and timers), starting a new slice. */
  async yield(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.#since = this.#now();
  }
}

/**
 * Runs synchronous jobs one per turn of the event loop, in the order asked. Nine reflectors
 * listing at once can have several pages arrive in one poll of the sockets; parsing them all in
 * that turn would hold the loop for their sum, so each parse waits for the turn after the last.
 */
export class OnePerTurn {
  #tail: Promise<void> = Promise.resolve();

  run<T>(job: () => T): Promise<T> {
    const result = this.#tail.then(job);
    const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
    this.#tail = result.then(nextTurn, nextTurn);
    return result;
  }
}
