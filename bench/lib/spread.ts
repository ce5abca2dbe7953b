// Spreading N apps over M namespaces, and running jobs with a bounded number in flight.

/** An app the benchmark creates: its namespace and name. */
export interface AppRef {
  readonly namespace: string;
  readonly name: string;
}

/** The key the trackers use for an app: `namespace/name`. */
export const keyOf = (ref: AppRef): string => `${ref.namespace}/${ref.name}`;

/**
 * `n` apps spread as evenly as possible over `namespaces` (the first `n mod M` namespaces hold one
 * more), named `appName(i)` with i counting from 0 within each namespace, namespace by namespace.
 */
export function spreadApps(
  n: number,
  namespaces: readonly string[],
  appName: (i: number) => string,
): AppRef[] {
  if (!Number.isInteger(n) || n < 0) throw new Error(`spreadApps: n must be a count, got ${n}`);
  if (namespaces.length === 0) {
    if (n === 0) return [];
    throw new Error("spreadApps: no namespace to put the apps in");
  }
  const base = Math.floor(n / namespaces.length);
  const extra = n % namespaces.length;
  return namespaces.flatMap((namespace, j) =>
    Array.from({ length: base + (j < extra ? 1 : 0) }, (_, i) => ({ namespace, name: appName(i) })),
  );
}

/** `m` namespace names: `${prefix}-0` … `${prefix}-(m-1)`. */
export const namespaceNames = (prefix: string, m: number): string[] =>
  Array.from({ length: m }, (_, i) => `${prefix}-${i}`);

/**
 * Calls `job` on every item with at most `concurrency` in flight, in the items' order; the first
 * failure rejects (the jobs already started still run to their end).
 */
export async function forEachConcurrently<T>(
  items: readonly T[],
  concurrency: number,
  job: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failed = false;
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, async () => {
      while (!failed && next < items.length) {
        const i = next++;
        try {
          await job(items[i] as T, i);
        } catch (error) {
          failed = true;
          throw error;
        }
      }
    }),
  );
}
