// Time as an injectable dependency: the wall clock here; tests use a fake one they advance by hand (test/support/fake-clock.ts).

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

/** `Clock.sleep` on any clock's timers. */
export function sleepOn(
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
