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

/**
 * The longest delay setTimeout honours (about 24.8 days). Node fires a longer one after 1 ms
 * (with a TimeoutOverflowWarning): a requeue after maxPodLifetime 600h would run every millisecond.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * setTimeout for any delay, the one place the runtime arms a timer: a delay beyond MAX_TIMER_MS is
 * waited in steps, Infinity never fires, a negative or NaN delay fires at once. Unref'd: a pending
 * retry must not keep a stopping process alive.
 */
export function safeTimeout(fn: () => void, ms: number): Timer {
  let handle: ReturnType<typeof setTimeout> | undefined;
  const arm = (remaining: number) => {
    const last = remaining <= MAX_TIMER_MS;
    handle = setTimeout(
      last ? fn : () => arm(remaining - MAX_TIMER_MS),
      last ? remaining : MAX_TIMER_MS,
    );
    handle.unref();
  };
  arm(Number.isNaN(ms) ? 0 : Math.max(0, ms));
  return { cancel: () => clearTimeout(handle) };
}

/** The wall clock, on safeTimeout. */
export const realClock: Clock = {
  now: () => Date.now(),
  setTimer: (ms, fn) => safeTimeout(fn, ms),
  sleep(ms, signal) {
    return sleepOn(realClock, ms, signal);
  },
};
