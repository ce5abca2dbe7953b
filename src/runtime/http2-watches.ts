// Watches on shared HTTP/2 connections: sessions opened as the watches need them, each carrying up
// to the API server's stream limit, checked with PINGs, closed when idle.

import { once } from "node:events";
import * as http2 from "node:http2";
import { isIP } from "node:net";
import * as tls from "node:tls";
import { safeTimeout, type Timer } from "./clock.ts";
import { type Logger, silentLogger } from "./logger.ts";
import type { Connection } from "./transport.ts";

/** Where the API server is, and the connection's own TLS settings. */
export interface Http2WatchOptions
  extends Pick<Connection, "ca" | "cert" | "key" | "rejectUnauthorized" | "servername"> {
  readonly hostname: string;
  readonly port: number;
  /** How long connecting (TCP, TLS, the server's SETTINGS) may take. @default 30_000 */
  readonly connectTimeoutMs?: number;
  /** A session carrying watches is PINGed this often. @default 30_000 */
  readonly pingIntervalMs?: number;
  /** A PING unanswered this long ends the session and its watches (a dead peer). @default 15_000 */
  readonly pingTimeoutMs?: number;
  /** A session without streams is closed after this long. @default 30_000 */
  readonly idleMs?: number;
  readonly logger?: Logger;
  /** Called with the number of open sessions whenever it changes. */
  readonly onSessions?: (open: number) => void;
}

/** A stream reserved on a session, not yet sent. */
export interface Http2Slot {
  /** Sends the request on the reserved stream; `release` is called when the stream closes. */
  request(headers: http2.OutgoingHttpHeaders): http2.ClientHttp2Stream;
}

export interface Http2Watches {
  /**
   * Reserves a stream on a session for the client certificate `identity` (a per-request exec
   * plugin's certificate, or none), opening a session when every open one is full. Resolves
   * `undefined` when the server does not speak HTTP/2 (ALPN): the caller uses HTTP/1.1 for good.
   */
  reserve(identity?: {
    cert: Buffer | string;
    key: Buffer | string;
  }): Promise<Http2Slot | undefined>;
  /** Whether the server was found not to speak HTTP/2. */
  readonly unavailable: boolean;
  /** Open sessions (TCP connections) and the streams on them. */
  usage(): { sessions: number; streams: number };
  /** Closes every session (their streams end with an error). */
  close(): void;
}

interface Session {
  readonly session: http2.ClientHttp2Session;
  readonly max: number;
  streams: number;
  /** GOAWAY received or closing: no new streams. */
  draining: boolean;
  idle: Timer | undefined;
  ping: ReturnType<typeof setInterval>;
}

/** Streams kept free on each session, so the server's limit is never reached exactly. */
const HEADROOM = 1;
/** A server's limit above this is not used in full (kube-apiserver's is 100 by default). */
const MAX_STREAMS = 1000;
/**
 * Flow-control windows: how much a watch, and a connection's watches together, may have in
 * flight unread. HTTP/2's 64 KiB defaults would let a busy event loop hold up the API server's
 * writes to every watch of a connection (separate HTTP/1.1 sockets each had a kernel buffer);
 * client-go's transport takes 4 MiB per stream as well.
 */
const STREAM_WINDOW = 4 << 20;
const CONNECTION_WINDOW = 64 << 20;

/**
 * HTTP/2 sessions for watches, like client-go's shared connection: 1800 watches of 200
 * namespaces are 19 TCP connections (the API server's 100 streams each), not 1800 TLS
 * handshakes. A session whose PING goes unanswered is destroyed, ending its watches with an
 * error so that they are re-established on a new one.
 */
export function http2Watches(options: Http2WatchOptions): Http2Watches {
  const logger = options.logger ?? silentLogger;
  const connectTimeoutMs = options.connectTimeoutMs ?? 30_000;
  const pingIntervalMs = options.pingIntervalMs ?? 30_000;
  const pingTimeoutMs = options.pingTimeoutMs ?? 15_000;
  const idleMs = options.idleMs ?? 30_000;
  const host = options.hostname;
  const authority = `https://${isIP(host) === 6 ? `[${host}]` : host}:${options.port}`;
  const groups = new Map<string, Session[]>();
  const connecting = new Map<string, Promise<Session | undefined>>();
  let unavailable = false;
  let closed = false;
  let open = 0;
  const counted = (delta: number) => {
    open += delta;
    options.onSessions?.(open);
  };

  const release = (s: Session) => {
    s.streams--;
    if (s.streams > 0) return;
    s.session.unref();
    s.idle?.cancel();
    s.idle = safeTimeout(() => {
      if (s.streams > 0) return;
      s.draining = true; // closing: no new stream may be reserved on it
      s.session.close();
    }, idleMs);
  };

  const connect = async (
    groupKey: string,
    identity: { cert: Buffer | string; key: Buffer | string } | undefined,
  ): Promise<Session | undefined> => {
    const socket = tls.connect({
      host,
      port: options.port,
      ALPNProtocols: ["h2", "http/1.1"],
      ...(options.servername !== undefined
        ? { servername: options.servername }
        : isIP(host) === 0
          ? { servername: host }
          : {}),
      ...(options.ca ? { ca: options.ca } : {}),
      ...(identity ? { cert: identity.cert, key: identity.key } : {}),
      ...(!identity && options.cert ? { cert: options.cert } : {}),
      ...(!identity && options.key ? { key: options.key } : {}),
      ...(options.rejectUnauthorized === false ? { rejectUnauthorized: false } : {}),
    });
    const timeout = safeTimeout(
      () =>
        socket.destroy(
          new Error(`no HTTP/2 connection to ${authority} within ${connectTimeoutMs} ms`),
        ),
      connectTimeoutMs,
    );
    try {
      await once(socket, "secureConnect");
    } catch (error) {
      timeout.cancel();
      // A Node server refuses an unknown ALPN protocol with an alert; most others pick HTTP/1.1.
      if ((error as { code?: string }).code === "ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL") {
        return fallBack(`the TLS handshake refused h2: ${(error as Error).message}`);
      }
      throw error;
    }
    if (socket.alpnProtocol !== "h2") {
      timeout.cancel();
      socket.destroy();
      return fallBack(`the server chose ${socket.alpnProtocol || "no protocol"} over h2`);
    }
    const session = http2.connect(authority, {
      createConnection: () => socket,
      settings: { enablePush: false, initialWindowSize: STREAM_WINDOW },
    });
    session.setLocalWindowSize(CONNECTION_WINDOW);
    session.on("error", (error) =>
      logger.debug({ server: authority, err: error }, "HTTP/2 connection to the API server failed"),
    );
    try {
      await new Promise<void>((resolve, reject) => {
        session.once("remoteSettings", () => resolve());
        session.once("error", reject);
        session.once("close", () =>
          reject(new Error(`the HTTP/2 connection to ${authority} closed before its SETTINGS`)),
        );
      });
    } finally {
      timeout.cancel();
    }
    const limit = session.remoteSettings.maxConcurrentStreams ?? 100;
    const s: Session = {
      session,
      max: Math.max(1, Math.min(MAX_STREAMS, limit) - HEADROOM),
      streams: 0,
      draining: false,
      idle: undefined,
      ping: setInterval(() => {
        if (s.streams === 0 || session.destroyed) return;
        const deadline = safeTimeout(
          () =>
            session.destroy(
              new Error(`the API server did not answer an HTTP/2 PING within ${pingTimeoutMs} ms`),
            ),
          pingTimeoutMs,
        );
        session.ping((error) => {
          deadline.cancel();
          if (error && !session.destroyed) session.destroy(error);
        });
      }, pingIntervalMs),
    };
    s.ping.unref();
    const group = groups.get(groupKey) ?? [];
    groups.set(groupKey, group);
    group.push(s);
    counted(1);
    session.once("goaway", () => {
      s.draining = true;
    });
    session.once("close", () => {
      s.draining = true;
      counted(-1);
      clearInterval(s.ping);
      s.idle?.cancel();
      const at = group.indexOf(s);
      if (at >= 0) group.splice(at, 1);
      if (group.length === 0 && groups.get(groupKey) === group) groups.delete(groupKey);
    });
    return s;
  };

  const fallBack = (why: string): undefined => {
    if (!unavailable)
      logger.info(
        { server: authority, reason: why },
        "the API server does not speak HTTP/2: watches use a connection each (HTTP/1.1)",
      );
    unavailable = true;
    return undefined;
  };

  const reserve: Http2Watches["reserve"] = async (identity) => {
    const groupKey = identity === undefined ? "" : `${identity.cert}\n${identity.key}`;
    for (;;) {
      if (closed) throw new Error("the transport is closed");
      if (unavailable) return undefined;
      const group = groups.get(groupKey) ?? [];
      const free = group.find(
        (s) => !s.draining && !s.session.closed && !s.session.destroyed && s.streams < s.max,
      );
      if (free !== undefined) {
        free.streams++;
        free.idle?.cancel();
        free.idle = undefined;
        free.session.ref();
        return {
          request: (headers) => {
            let stream: http2.ClientHttp2Stream;
            try {
              // Throws when the session went away (GOAWAY, destroyed) since it was reserved.
              stream = free.session.request(headers, { endStream: true });
            } catch (error) {
              release(free);
              throw error;
            }
            stream.once("close", () => release(free));
            return stream;
          },
        };
      }
      // One connection at a time per identity: the watches waiting share it, and the rest
      // open the next one.
      let pending = connecting.get(groupKey);
      if (pending === undefined) {
        pending = connect(groupKey, identity).finally(() => connecting.delete(groupKey));
        connecting.set(groupKey, pending);
      }
      await pending;
    }
  };

  return {
    reserve,
    get unavailable() {
      return unavailable;
    },
    usage: () => {
      let sessions = 0;
      let streams = 0;
      for (const group of groups.values())
        for (const s of group) {
          sessions++;
          streams += s.streams;
        }
      return { sessions, streams };
    },
    close: () => {
      closed = true;
      for (const group of groups.values()) for (const s of [...group]) s.session.destroy();
    },
  };
}
