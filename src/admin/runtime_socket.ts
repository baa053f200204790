/**
 * The runtime API on a unix stream socket, as HAProxy's `stats socket ... level admin`: a client
 * sends one line of commands, gets the answers and the connection closes; after `prompt` the
 * connection stays open and every answer is followed by `> ` until `quit` or end of input. The
 * socket file is created with mode 0600; a stale file left by a dead process is replaced, a live
 * one is an error.
 *
 * @module
 */
import type { Logger } from "../log/logger.ts";
import type { AdminSource } from "./model.ts";
import { executeLine, newSession } from "./runtime_api.ts";

/** Longest accepted command line (bytes); longer lines are answered with an error. */
export const MAX_LINE = 64 * 1024;

/** A connection idle this long (ms) is closed, as HAProxy's `stats timeout` (10 s). */
export const IDLE_TIMEOUT = 10_000;

/** Options of {@linkcode serveRuntimeSocket}. */
export interface RuntimeSocketOptions {
  source: AdminSource;
  logger: Logger;
  /** Changes allowed (default true: the socket file's mode restricts who may connect). */
  allowChanges?: boolean;
  /** Idle timeout in ms; default {@linkcode IDLE_TIMEOUT}. */
  idleTimeoutMs?: number;
}

/** A serving runtime socket. */
export interface RuntimeSocket {
  readonly path: string;
  /** Stops accepting, closes open connections and removes the socket file. */
  stop(): Promise<void>;
}

async function isLive(path: string): Promise<boolean> {
  try {
    const conn = await Deno.connect({ transport: "unix", path });
    conn.close();
    return true;
  } catch {
    return false;
  }
}

/** Removes a stale socket file at `path`; throws when a live process serves it. */
async function clearStale(path: string): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    throw e;
  }
  if (!info.isSocket) throw new Error(`runtime socket ${path}: exists and is not a socket`);
  if (await isLive(path)) throw new Error(`runtime socket ${path}: already in use`);
  await Deno.remove(path);
}

/** Starts serving the runtime API on `path`. */
export async function serveRuntimeSocket(
  path: string,
  options: RuntimeSocketOptions,
): Promise<RuntimeSocket> {
  await clearStale(path);
  const listener = Deno.listen({ transport: "unix", path });
  try {
    await Deno.chmod(path, 0o600);
  } catch (e) {
    listener.close();
    throw e;
  }
  const conns = new Set<Deno.Conn>();
  const handlers = new Set<Promise<void>>();
  const accepting = (async () => {
    for await (const conn of listener) {
      conns.add(conn);
      const p = serveConn(conn, options)
        .catch((e) => options.logger.log("warning", `runtime socket: ${e}`))
        .finally(() => {
          conns.delete(conn);
          handlers.delete(p);
          try {
            conn.close();
          } catch {
            // already closed
          }
        });
      handlers.add(p);
    }
  })().catch(() => {
    // the listener was closed
  });
  let stopping: Promise<void> | null = null;
  return {
    path,
    stop() {
      stopping ??= (async () => {
        listener.close();
        await accepting;
        for (const c of conns) {
          try {
            c.close();
          } catch {
            // already closed
          }
        }
        await Promise.all(handlers);
        await Deno.remove(path).catch(() => {});
      })();
      return stopping;
    },
  };
}

/** Reads lines from a connection and answers them. */
async function serveConn(conn: Deno.Conn, options: RuntimeSocketOptions): Promise<void> {
  const session = newSession();
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const context = {
    source: options.source,
    session,
    options: { allowChanges: options.allowChanges ?? true },
  };
  const idle = options.idleTimeoutMs ?? IDLE_TIMEOUT;
  const buf = new Uint8Array(4096);
  let pending: Uint8Array = new Uint8Array(0);
  const write = async (text: string) => {
    const bytes = encoder.encode(text);
    for (let off = 0; off < bytes.length;) off += await conn.write(bytes.subarray(off));
  };
  while (true) {
    const nl = pending.indexOf(10);
    if (nl < 0) {
      if (pending.length > MAX_LINE) {
        await write("Command line too long.\n\n");
        return;
      }
      const timer = setTimeout(() => conn.close(), idle);
      let n: number | null;
      try {
        n = await conn.read(buf);
      } catch {
        return;
      } finally {
        clearTimeout(timer);
      }
      if (n === null) {
        // End of input: a last line without a newline still counts, as in HAProxy.
        if (pending.length === 0) return;
        pending = concat(pending, new Uint8Array([10]));
        continue;
      }
      pending = concat(pending, buf.subarray(0, n));
      continue;
    }
    const line = decoder.decode(pending.subarray(0, nl));
    pending = pending.slice(nl + 1);
    const result = await executeLine(line, context);
    const prompt = session.interactive ? "> " : "";
    await write(result.parts.map((p) => p + prompt).join(""));
    if (session.quit) return;
    if (!session.interactive) return;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
