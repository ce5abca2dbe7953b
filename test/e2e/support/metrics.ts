// Prometheus text exposition, parsed just enough to sum a metric's samples by label.

/** One sample: `name{labels} value`. */
export type Sample = { name: string; labels: Record<string, string>; value: number };

export type Metrics = readonly Sample[];

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parseMetrics(text: string): Metrics {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = SAMPLE.exec(line);
    if (m === null) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[3] ?? "").matchAll(LABEL)) labels[l[1] ?? ""] = l[2] ?? "";
    samples.push({ name: m[1] ?? "", labels, value: Number(m[4]) });
  }
  return samples;
}

/** Sum of a metric's samples whose labels match `where` (a value or a predicate per label). */
export function sumOf(
  metrics: Metrics,
  name: string,
  where: Readonly<Record<string, string | ((value: string) => boolean)>> = {},
): number {
  let total = 0;
  for (const s of metrics) {
    if (s.name !== name) continue;
    const match = Object.entries(where).every(([label, want]) => {
      const got = s.labels[label] ?? "";
      return typeof want === "function" ? want(got) : got === want;
    });
    if (match) total += s.value;
  }
  return total;
}

/** Verbs of the operator's requests that change something (`rest_client_requests_total{verb}`). */
export const WRITE_METHODS = new Set(["apply", "apply-status", "patch", "create", "delete"]);

/**
 * The operator's successful writes: requests with a write verb and a 2xx code. Lease renewals
 * (`update`) are left out, and so are refused writes (a 409 create of a Lease someone else made).
 */
export function writes(metrics: Metrics): number {
  return sumOf(metrics, "rest_client_requests_total", {
    verb: (v) => WRITE_METHODS.has(v),
    code: (c) => c.startsWith("2"),
  });
}

/** Reconciles finished, any result. */
export function reconciles(metrics: Metrics): number {
  return sumOf(metrics, "controller_runtime_reconcile_total");
}

/** Nothing queued and nothing in flight. */
export function idle(metrics: Metrics): boolean {
  return (
    sumOf(metrics, "workqueue_depth") === 0 &&
    sumOf(metrics, "controller_runtime_active_workers") === 0
  );
}

/** Server-side applies that wrote (children and status together), by `stateless_operator_apply_total`. */
export function appliesWritten(metrics: Metrics): number {
  return sumOf(metrics, "stateless_operator_apply_total", { outcome: "written" });
}

/**
 * Writes to objects (applies that wrote, deletes), leaving out Events: the recorder writes a
 * repeated event's series count up to 30 s later, on its own timer, which is not a reconcile.
 */
export function objectWrites(metrics: Metrics): number {
  return (
    appliesWritten(metrics) +
    sumOf(metrics, "rest_client_requests_total", {
      verb: "delete",
      code: (c) => c.startsWith("2"),
    })
  );
}
