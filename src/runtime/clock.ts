// Time as an injectable dependency: a real clock for production, a fake one that tests advance by hand.

/** A scheduled callback that can be cancelled before it fires. */
export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Runs `fn` once after `ms` milliseconds. */
  setTimer(ms: number, fn: () => void): Timer;
  /**
   * Waits `ms` milliseconds. Resolves `true` when the time elapsed and `false` when `signal`
   * aborted first; it never rejects, so loops can check their own stop flag afterwards.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<boolean>;
}

function sleepOn(
  clock: Pick<Clock, "setTimer">,
  ms: number,
  signal?: AbortSignal,
): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = () => {
      timer.cancel();
      resolve(false);
    };
    const timer = clock.setTimer(ms, () => {
      signal?.removeEventListener("abort", onAbort);
      resolve(true);
    });
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** The wall clock. Timers are unref'd: a pending retry must not keep a stopping process alive. */
export const realClock: Clock = {
  now: () => Date.now(),
  setTimer(ms, fn) {
    const handle = setTimeout(fn, Math.max(0, ms));
    handle.unref();
    return { cancel: () => clearTimeout(handle) };
  },
  sleep(ms, signal) {
    return sleepOn(realClock, ms, signal);
  },
};

interface PendingTimer {
  readonly due: number;
  readonly seq: number;
  readonly fn: () => void;
}

/** Lets every queued promise continuation run (a macrotask runs only after the microtask queue drains). */
export async function flushPromises(rounds = 3): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** A clock that only moves when a test calls `advance`; timers fire in due order, ties in creation order. */
export class FakeClock implements Clock {
  #now: number;
  #seq = 0;
  #timers = new Set<PendingTimer>();

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimer(ms: number, fn: () => void): Timer {
    const timer: PendingTimer = { due: this.#now + Math.max(0, ms), seq: this.#seq++, fn };
    this.#timers.add(timer);
    return { cancel: () => this.#timers.delete(timer) };
  }

  sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
    return sleepOn(this, ms, signal);
  }

  /** Number of timers waiting to fire. */
  get pendingTimers(): number {
    return this.#timers.size;
  }

  /** When the next timer fires, or undefined when none is pending. */
  nextTimerAt(): number | undefined {
    return this.#earliest()?.due;
  }

  /**
   * Moves time forward by `ms`, firing every timer that falls due on the way, in order, and
   * letting the promise continuations each one triggers run before the next fires (so a loop
   * that sleeps again inside the window is honoured).
   */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    await flushPromises();
    for (;;) {
      const next = this.#earliest();
      if (next === undefined || next.due > target) break;
      this.#timers.delete(next);
      this.#now = Math.max(this.#now, next.due);
      next.fn();
      await flushPromises();
    }
    this.#now = target;
    await flushPromises();
  }

  #earliest(): PendingTimer | undefined {
    let best: PendingTimer | undefined;
    for (const t of this.#timers) {
      if (best === undefined || t.due < best.due || (t.due === best.due && t.seq < best.seq)) {
        best = t;
      }
    }
    return best;
  }
}
