// A round-robin HTTP proxy for tests: no stickiness, and a backend that refuses connections is skipped.
import { createServer, request, type Server } from "node:http";

export interface RoundRobinProxy {
  readonly url: string;
  /** Replaces the backend ports, as a Service's endpoints change. */
  setBackends(backends: readonly number[]): void;
  close(): Promise<void>;
}

/**
 * Each request goes to the next backend in turn. A refused connection means the request never
 * reached a process, so it is safe to try the next one, as a load balancer does; any other error
 * is returned as a 502 and the test sees it.
 */
export async function startProxy(initial: readonly number[]): Promise<RoundRobinProxy> {
  let backends = [...initial];
  let next = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const attempt = (tries: number) => {
        const port = backends[next++ % backends.length];
        if (port === undefined || tries >= backends.length) {
          res.writeHead(502).end("no backend");
          return;
        }
        const upstream = request(
          {
            host: "127.0.0.1",
            port,
            method: req.method,
            path: req.url,
            headers: req.headers,
            agent: false,
          },
          (response) => {
            res.writeHead(response.statusCode ?? 502, response.headers);
            response.pipe(res);
          },
        );
        upstream.on("error", (error: NodeJS.ErrnoException) => {
          if (error.code === "ECONNREFUSED") attempt(tries + 1);
          else if (!res.headersSent) res.writeHead(502).end(error.message);
        });
        upstream.end(body);
      };
      attempt(0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (typeof address !== "object" || address === null) throw new Error("no proxy port");
  return {
    url: `http://127.0.0.1:${address.port}`,
    setBackends: (ports) => {
      backends = [...ports];
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
