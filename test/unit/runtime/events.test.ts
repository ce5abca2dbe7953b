import { describe, expect, test } from "vitest";
import {
  type EventInput,
  EventRecorder,
  type EventRecorderOptions,
} from "../../../src/runtime/events.ts";
import type { HttpRequest, HttpTransport } from "../../../src/runtime/transport.ts";
import { FakeClock, flushPromises } from "../../support/fake-clock.ts";

const app = {
  apiVersion: "twelvefactor.dev/v1alpha1",
  kind: "StatelessApp",
  metadata: { name: "shop", namespace: "web", uid: "u1", resourceVersion: "7" },
};

const drift = (note = "restored image"): EventInput => ({
  regarding: app,
  type: "Warning",
  reason: "DriftCorrected",
  action: "Apply",
  note,
});

function setup(
  extra: Partial<EventRecorderOptions> = {},
  status: (req: HttpRequest) => number = () => 201,
) {
  const clock = new FakeClock();
  const requests: HttpRequest[] = [];
  const transport: HttpTransport = async (req) => {
    requests.push(req);
    const code = status(req);
    const body = code < 300 ? (req.body ?? "{}") : JSON.stringify({ kind: "Status", code });
    return { status: code, text: async () => body, lines: async function* () {} };
  };
  const recorder = new EventRecorder({
    transport,
    reportingController: "twelvefactor.dev/stateless-operator",
    reportingInstance: "pod-1",
    clock,
    ...extra,
  });
  const bodies = () => requests.map((r) => JSON.parse(r.body ?? "{}"));
  return { clock, requests, recorder, bodies };
}

describe("EventRecorder", () => {
  test("creates an events.k8s.io/v1 Event on the regarding object", async () => {
    const { recorder, requests, bodies } = setup();
    recorder.record(drift());
    await recorder.flush();
    expect(requests).toHaveLength(1);
    expect(requests[0]?.method).toBe("POST");
    expect(requests[0]?.path).toBe("/apis/events.k8s.io/v1/namespaces/web/events");
    const body = bodies()[0];
    expect(body).toMatchObject({
      apiVersion: "events.k8s.io/v1",
      kind: "Event",
      metadata: { namespace: "web" },
      eventTime: "2026-01-01T00:00:00.000000Z",
      reportingController: "twelvefactor.dev/stateless-operator",
      reportingInstance: "pod-1",
      type: "Warning",
      reason: "DriftCorrected",
      action: "Apply",
      note: "restored image",
      regarding: { kind: "StatelessApp", name: "shop", namespace: "web", uid: "u1" },
    });
    expect(body.metadata.name).toMatch(/^shop\.[0-9a-f]+$/);
  });

  test("repeats within the window become one series update per interval", async () => {
    const { clock, recorder, requests, bodies } = setup({ seriesUpdateIntervalMs: 30_000 });
    recorder.record(drift());
    await recorder.flush();
    for (let i = 0; i < 4; i++) {
      await clock.advance(5_000);
      recorder.record(drift());
    }
    await recorder.flush();
    expect(requests).toHaveLength(1);
    await clock.advance(10_000);
    await recorder.flush();
    expect(requests).toHaveLength(2);
    expect(requests[1]?.method).toBe("PATCH");
    expect(requests[1]?.path).toBe(
      `/apis/events.k8s.io/v1/namespaces/web/events/${bodies()[0].metadata.name}`,
    );
    expect(requests[1]?.contentType).toBe("application/merge-patch+json");
    expect(bodies()[1]).toEqual({
      series: { count: 5, lastObservedTime: "2026-01-01T00:00:20.000000Z" },
    });
    // Nothing new: no further writes.
    await clock.advance(60_000);
    await recorder.flush();
    expect(requests).toHaveLength(2);
  });

  test("a different reason or note is a different event; a repeat after the window is a new one", async () => {
    const { clock, recorder, requests } = setup({ seriesWindowMs: 60_000 });
    recorder.record(drift("a"));
    recorder.record(drift("b"));
    await recorder.flush();
    expect(requests.map((r) => r.method)).toEqual(["POST", "POST"]);
    await clock.advance(61_000);
    recorder.record(drift("a"));
    await recorder.flush();
    expect(requests.map((r) => r.method)).toEqual(["POST", "POST", "POST"]);
  });

  test("rate limits new events per object", async () => {
    const { clock, recorder, requests } = setup({ burst: 3, refillIntervalMs: 60_000 });
    for (let i = 0; i < 10; i++) recorder.record(drift(`n${i}`));
    await recorder.flush();
    expect(requests).toHaveLength(3);
    await clock.advance(60_000);
    recorder.record(drift("later"));
    recorder.record(drift("later2"));
    await recorder.flush();
    expect(requests).toHaveLength(4);
  });

  test("never throws into the caller when the apiserver fails", async () => {
    const { recorder, requests } = setup({}, () => 500);
    expect(() => recorder.record(drift())).not.toThrow();
    await recorder.flush();
    expect(requests).toHaveLength(1);
    expect(() => recorder.record({ ...drift(), regarding: {} })).not.toThrow();
    await flushPromises();
  });

  test("records nothing while the write gate is closed", async () => {
    const { recorder, requests } = setup({ writeGate: () => false });
    recorder.record(drift());
    await recorder.flush();
    expect(requests).toHaveLength(0);
  });

  test("truncates the note to 1024 bytes", async () => {
    const { recorder, bodies } = setup();
    recorder.record(drift("é".repeat(2000)));
    await recorder.flush();
    const note: string = bodies()[0].note;
    expect(Buffer.byteLength(note)).toBeLessThanOrEqual(1024);
    expect(note.endsWith("...")).toBe(true);
  });

  test("starts a new event when the series' event expired (404)", async () => {
    const { clock, recorder, requests } = setup({ seriesUpdateIntervalMs: 1_000 }, (req) =>
      req.method === "PATCH" ? 404 : 201,
    );
    recorder.record(drift());
    await recorder.flush();
    recorder.record(drift());
    await clock.advance(1_000);
    await recorder.flush();
    expect(requests.map((r) => r.method)).toEqual(["POST", "PATCH", "POST"]);
  });
});
