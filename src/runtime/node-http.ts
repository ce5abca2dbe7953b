// node:http loaded through require, so that loading it does not also load the bundled fetch client.
import { createRequire } from "node:module";

/**
 * An ESM import of `node:http` (named or `* as`) builds its module namespace from every export,
 * and reading the lazy `WebSocket`, `CloseEvent` and `MessageEvent` exports loads Node's bundled
 * undici: 0.75 MiB of source in the heap and its code, which the operator never uses (Node 24).
 * `require` hands out the exports object without touching those getters.
 */
export const http = createRequire(import.meta.url)("node:http") as typeof import("node:http");
