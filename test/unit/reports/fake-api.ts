// A scripted API server for the reports module's unit tests: GET answers by path, writes recorded.
import type { HttpRequest, HttpTransport } from "../../../src/runtime/index.ts";

export interface FakeApi {
  readonly transport: HttpTransport;
  readonly requests: HttpRequest[];
}

/** Answers each GET from `routes` (path → body, or a status with body); 404 otherwise. */
export function fakeApi(
  routes: Record<string, unknown | { status: number; body: unknown }>,
  onWrite: (request: HttpRequest) => { status: number; body: unknown } = () => ({
    status: 200,
    body: {},
  }),
): FakeApi {
  const requests: HttpRequest[] = [];
  const transport: HttpTransport = async (request) => {
    requests.push(request);
    let reply: { status: number; body: unknown };
    if (request.method !== "GET") reply = onWrite(request);
    else {
      const route = routes[request.path];
      reply =
        route === undefined
          ? { status: 404, body: { kind: "Status", code: 404, message: "not found" } }
          : typeof route === "object" && route !== null && "status" in route
            ? (route as { status: number; body: unknown })
            : { status: 200, body: route };
    }
    const text = JSON.stringify(reply.body);
    return {
      status: reply.status,
      text: async () => text,
      lines: async function* () {
        yield text;
      },
    };
  };
  return { transport, requests };
}
