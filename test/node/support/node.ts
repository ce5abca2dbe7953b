// Helpers of the real-pod scenarios: the installed operator, a tenant's namespace, Redis and the
// session-counter app from our own images, and an HTTP client that goes through kube-proxy.

import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Redis } from "ioredis";
import { parseAllDocuments } from "yaml";
import type { KubeObject } from "../../../src/runtime/index.ts";
import type { ImageName } from "../../../tools/images/images.ts";
import { Kube } from "../../e2e/support/kube.ts";
import { kubectl, kubectlOk } from "../../integration/install/kubectl.ts";
import { createTestNamespace, eventually, providedCluster } from "../../support/cluster.ts";

const root = resolve(import.meta.dirname, "../../..");

export const OPERATOR_NAMESPACE = "stateless-operator-system";
/** The tenant: a user who may edit objects in their own namespace (the aggregated `edit` role). */
export const TENANT = "tenant-alice";

export function kube(): Kube {
  return new Kube(providedCluster().kubeconfig);
}

/** The name pods use for one of the images the node project imported. */
export function image(name: ImageName): string {
  const ref = providedCluster().node?.images[name];
  if (!ref) throw new Error(`the node tier has no ${name} image (test/support/node.global.ts)`);
  return ref;
}

/** kubectl as the tenant (impersonated by the admin, with the tenant's own RBAC). */
export function asTenant(args: readonly string[]): Promise<string> {
  return kubectlOk([`--as=${TENANT}`, ...args]);
}

/**
 * Installs dist/install.yaml unchanged (server-side apply: the same again changes nothing) and
 * waits until the operator's Deployment has rolled out.
 */
export async function installOperator(): Promise<void> {
  await kubectlOk(["apply", "--server-side", "-f", join(root, "dist/install.yaml")]);
  await kubectlOk([
    "-n",
    OPERATOR_NAMESPACE,
    "rollout",
    "status",
    "deployment/stateless-operator",
    "--timeout=180s",
  ]);
}

/**
 * A namespace of the tenant's, under Pod Security `restricted` (as a careful admin sets it), with
 * the tenant bound to `edit` there and nowhere else.
 */
export async function tenantNamespace(prefix: string): Promise<string> {
  const namespace = await createTestNamespace(prefix);
  await kubectlOk([
    "label",
    "namespace",
    namespace,
    "pod-security.kubernetes.io/enforce=restricted",
    "pod-security.kubernetes.io/warn=restricted",
  ]);
  await kubectlOk([
    "-n",
    namespace,
    "create",
    "rolebinding",
    "tenant-edit",
    "--clusterrole=edit",
    `--user=${TENANT}`,
  ]);
  return namespace;
}

/** The securityContext Pod Security `restricted` asks of a container we write ourselves. */
const restricted = {
  pod: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
  container: {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ["ALL"] },
  },
};

/** Applies objects as the tenant (server-side apply, so the same again changes nothing). */
export async function applyAsTenant(namespace: string, objects: readonly object[]): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "node-apply-"));
  const path = join(dir, "objects.json");
  writeFileSync(path, JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }));
  try {
    await asTenant([
      "-n",
      namespace,
      "apply",
      "--server-side",
      "--field-manager=tenant",
      "-f",
      path,
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export type RedisEndpoint = { host: string; port: number };

/** Redis from our Debian image, as the tenant deploys it: a Deployment and a ClusterIP Service. */
export async function deployRedis(namespace: string, password: string): Promise<RedisEndpoint> {
  const labels = { app: "redis" };
  await applyAsTenant(namespace, [
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "redis" },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            terminationGracePeriodSeconds: 1,
            securityContext: restricted.pod,
            containers: [
              {
                name: "redis",
                image: image("redis"),
                imagePullPolicy: "Never",
                args: [
                  "--bind",
                  "0.0.0.0",
                  "--protected-mode",
                  "no",
                  "--save",
                  "",
                  "--appendonly",
                  "no",
                  "--requirepass",
                  password,
                ],
                ports: [{ containerPort: 6379 }],
                securityContext: restricted.container,
              },
            ],
          },
        },
      },
    },
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "redis" },
      spec: { selector: labels, ports: [{ port: 6379 }] },
    },
  ]);
  await kubectlOk(["-n", namespace, "rollout", "status", "deployment/redis", "--timeout=120s"]);
  const svc = JSON.parse(
    await kubectlOk(["-n", namespace, "get", "service", "redis", "-o", "json"]),
  ) as { spec: { clusterIP: string } };
  return { host: svc.spec.clusterIP, port: 6379 };
}

/**
 * The example's own manifest (examples/session-counter/statelessapp.yaml): its Secret pointed at
 * `redis` (no cluster DNS here: the Service's ClusterIP), its image the one we built.
 */
export function sessionCounterObjects(
  namespace: string,
  redis: RedisEndpoint,
  password: string,
  spec: Record<string, unknown> = {},
): KubeObject[] {
  const text = readFileSync(join(root, "examples/session-counter/statelessapp.yaml"), "utf8");
  const objects = parseAllDocuments(text)
    .map((d) => d.toJS() as KubeObject | null)
    .filter((o): o is KubeObject => o !== null);
  return objects.map((o) => {
    const copy = structuredClone(o) as KubeObject & {
      stringData?: Record<string, string>;
      spec?: Record<string, unknown>;
    };
    copy.metadata = { ...copy.metadata, namespace };
    if (copy.kind === "Secret") {
      copy.stringData = {
        ...copy.stringData,
        host: redis.host,
        port: String(redis.port),
        password,
      };
    } else {
      copy.spec = { ...copy.spec, image: image("session-counter"), ...spec };
    }
    return copy;
  });
}

type App = {
  metadata: { generation: number };
  status?: {
    observedGeneration?: number;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
};

/** Waits until a StatelessApp is Ready for its latest generation; returns it. */
export async function waitReady(
  namespace: string,
  name: string,
  timeoutMs = 180_000,
): Promise<App> {
  let last = "";
  return eventually(
    async () => {
      const app = JSON.parse(
        await kubectlOk(["-n", namespace, "get", "statelessapp", name, "-o", "json"]),
      ) as App;
      const ready = app.status?.conditions?.find((c) => c.type === "Ready");
      last = `${ready?.status} ${ready?.reason}: ${ready?.message}`;
      return app.status?.observedGeneration === app.metadata.generation && ready?.status === "True"
        ? app
        : undefined;
    },
    { timeoutMs, intervalMs: 500, what: `StatelessApp ${namespace}/${name} Ready (last: ${last})` },
  );
}

export type Pod = {
  metadata: { name: string; uid: string; creationTimestamp: string; deletionTimestamp?: string };
  status?: { phase?: string; podIP?: string; reason?: string; message?: string };
};

/** The app's pods (any phase). */
export async function appPods(namespace: string, instance: string): Promise<Pod[]> {
  const list = JSON.parse(
    await kubectlOk([
      "-n",
      namespace,
      "get",
      "pods",
      "-l",
      `app.kubernetes.io/instance=${instance}`,
      "-o",
      "json",
    ]),
  ) as { items: Pod[] };
  return list.items;
}

/** `kubectl exec` in a pod; resolves with its exit code and output (never throws on exit codes). */
export function exec(namespace: string, pod: string, command: readonly string[]) {
  return kubectl(["-n", namespace, "exec", pod, "--", ...command]);
}

export type Visit = { session: string; count: number; servedBy: string };

/** What visit() saw: the body, and how many connections were not established first. */
export type VisitResult = { visit: Visit; refused: number };

/** A request that failed before its connection was established: no server got it. */
class NotConnected extends Error {}

/**
 * One GET / through the Service's ClusterIP (kube-proxy's rules), on a new connection, with the
 * session in `X-Session-Id`. The documented retry: a connection that was not established —
 * refused (a pod closed its listener before kube-proxy removed its endpoint), unreachable or
 * unanswered within 3 s (the pod and its address already gone) — is tried again, up to 40
 * times; no server got that request, so it cannot have counted. Any failure after the
 * connection is established (a reset, a timeout, a status other than 200) is thrown.
 */
export async function visit(host: string, port: number, session: string): Promise<VisitResult> {
  for (let refused = 0; ; refused++) {
    try {
      return { visit: await getOnce(host, port, session), refused };
    } catch (err) {
      if (!(err instanceof NotConnected) || refused >= 40) {
        throw new Error(
          `${new Date().toISOString()} GET http://${host}:${port}/ (${session}): ${(err as Error).message}`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/**
 * One GET / through the Service's ClusterIP on a new connection, with no retry: any failure —
 * a refused or unanswered connection included — is thrown (the rollout test counts them all).
 */
export function visitOnce(host: string, port: number, session: string): Promise<Visit> {
  return getOnce(host, port, session);
}

function getOnce(host: string, port: number, session: string): Promise<Visit> {
  return new Promise<Visit>((resolvePromise, reject) => {
    let connected = false;
    const req = request(
      { host, port, path: "/", agent: false, headers: { "x-session-id": session } },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => {
          body += d;
        });
        res.on("end", () => {
          if (res.statusCode !== 200) reject(new Error(`HTTP ${res.statusCode}: ${body}`));
          else resolvePromise(JSON.parse(body) as Visit);
        });
      },
    );
    const connectTimer = setTimeout(
      () => req.destroy(new NotConnected("not connected in 3 s")),
      3000,
    );
    const responseTimer = setTimeout(() => req.destroy(new Error("no response in 10 s")), 10_000);
    req.on("socket", (socket) =>
      socket.once("connect", () => {
        connected = true;
        clearTimeout(connectTimer);
      }),
    );
    req.on("close", () => {
      clearTimeout(connectTimer);
      clearTimeout(responseTimer);
    });
    req.on("error", (err) =>
      reject(connected || err instanceof NotConnected ? err : new NotConnected(err.message)),
    );
    req.end();
  });
}

/** A container's log as `kubectl logs -f` streams it, until the container exits or stop(). */
export type LogFollower = {
  readonly lines: { at: number; line: string }[];
  /** Resolves when the stream ends (the container exited, or stop()). */
  readonly ended: Promise<void>;
  stop(): void;
};

/** Follows a pod's log from its start (`kubectl logs -f`), each line with the time it arrived. */
export function followLogs(namespace: string, pod: string): LogFollower {
  const cluster = providedCluster();
  const kubectlBinary = cluster.kubectl ?? "kubectl";
  const child = spawn(kubectlBinary, ["-n", namespace, "logs", "-f", pod], {
    env: { ...process.env, KUBECONFIG: cluster.kubeconfig },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: { at: number; line: string }[] = [];
  let partial = "";
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (chunk: string) => {
    const parts = (partial + chunk).split("\n");
    partial = parts.pop() ?? "";
    for (const line of parts) lines.push({ at: Date.now(), line });
  });
  const ended = new Promise<void>((resolveEnded) => {
    child.on("close", () => {
      if (partial !== "") lines.push({ at: Date.now(), line: partial });
      resolveEnded();
    });
    child.on("error", () => resolveEnded());
  });
  return { lines, ended, stop: () => child.kill() };
}

/** Runs `fn` with a client of the test's Redis (from the host, through kube-proxy), then closes it. */
export async function withRedis<T>(
  redis: RedisEndpoint,
  password: string,
  fn: (client: Redis) => Promise<T>,
): Promise<T> {
  const client = new Redis({ host: redis.host, port: redis.port, password, lazyConnect: true });
  try {
    await client.connect();
    return await fn(client);
  } finally {
    client.disconnect();
  }
}

/** The session-counter's count of each session in Redis (its key: `session-counter:<session>`). */
export function storedCounts(
  redis: RedisEndpoint,
  password: string,
  sessions: readonly string[],
): Promise<(string | null)[]> {
  return withRedis(redis, password, (client) =>
    Promise.all(sessions.map((s) => client.get(`session-counter:${s}`))),
  );
}

/**
 * The ClusterIP and port of an HTTP Service, once kube-proxy routes it: `/readyz` answered by
 * the app itself (its JSON body) through the ClusterIP. Until kube-proxy has written the
 * Service's rules, a packet to the ClusterIP follows the machine's default route, and on these
 * machines the gateway there answers any HTTP request itself (`404`, empty body) — a visit
 * counted against that would fail for a reason that is not the app's. 60 s, then it throws
 * with what answered last.
 */
export async function serviceAddress(namespace: string, name: string): Promise<RedisEndpoint> {
  const svc = JSON.parse(
    await kubectlOk(["-n", namespace, "get", "service", name, "-o", "json"]),
  ) as { spec: { clusterIP: string; ports: { port: number }[] } };
  const address = { host: svc.spec.clusterIP, port: svc.spec.ports[0]?.port ?? 80 };
  await eventually(() => probeApp(address.host, address.port, "/readyz"), {
    timeoutMs: 60_000,
    intervalMs: 200,
    what: `Service ${namespace}/${name} (${address.host}:${address.port}) to route to the app`,
  });
  return address;
}

/** Resolves true when the app answered `path` (a JSON body); rejects with what happened instead. */
function probeApp(host: string, port: number, path: string): Promise<true> {
  return new Promise((resolvePromise, reject) => {
    const req = request({ host, port, path, agent: false, timeout: 2000 }, (res) => {
      res.resume();
      const type = String(res.headers["content-type"] ?? "");
      res.on("end", () => {
        if (type.startsWith("application/json")) resolvePromise(true);
        else {
          const server = String(res.headers.server ?? "unnamed");
          reject(
            new Error(`HTTP ${res.statusCode} (${type || "no content-type"}, server ${server})`),
          );
        }
      });
    });
    req.on("timeout", () => req.destroy(new Error("no answer in 2 s")));
    req.on("error", reject);
    req.end();
  });
}
