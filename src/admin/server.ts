/**
 * Serves the admin app ({@linkcode createAdminApp}) with `Deno.serve` on `[admin] bind` (an
 * inet address, port 0 allowed for tests, or a unix socket path), and the runtime API on
 * `[admin] socket` when configured.
 *
 * @module
 */
import type { AdminConfig } from "../config/types.ts";
import type { Logger } from "../log/logger.ts";
import { type AdminAppOptions, createAdminApp } from "./app.ts";
import type { AdminSource } from "./model.ts";
import { type RuntimeSocket, serveRuntimeSocket } from "./runtime_socket.ts";

/** Options of {@linkcode startAdmin}. */
export interface StartAdminOptions extends AdminAppOptions {
  source: AdminSource;
  logger: Logger;
  /** Serve the runtime API socket too when `config.socket` is set (default true). */
  runtimeSocket?: boolean;
}

/** A running admin endpoint. */
export interface AdminServer {
  /** Where the HTTP app listens (the real port when 0 was asked). */
  readonly addr: Deno.NetAddr | Deno.UnixAddr;
  /** The runtime API socket, or null. */
  readonly socket: RuntimeSocket | null;
  /** Stops serving (open SSE streams are closed); removes the runtime socket file. */
  stop(): Promise<void>;
}

/**
 * Starts the admin endpoint. Throws `[admin] bind ADDRESS: REASON` when the address cannot be
 * bound (and starts nothing).
 */
export async function startAdmin(
  config: AdminConfig,
  options: StartAdminOptions,
): Promise<AdminServer> {
  const { logger } = options;
  const abort = new AbortController();
  const streams = new AbortController();
  const app = createAdminApp(config, options.source, { ...options, signal: streams.signal });
  const listening = Promise.withResolvers<Deno.NetAddr | Deno.UnixAddr>();
  const common = {
    signal: abort.signal,
    onListen: (addr: Deno.NetAddr | Deno.UnixAddr) => listening.resolve(addr),
    onError: (e: unknown) => {
      logger.log("err", `admin: ${e instanceof Error ? e.message : String(e)}`);
      return new Response("internal error\n", { status: 500 });
    },
  };
  let server: Deno.HttpServer;
  try {
    server = config.bind.kind === "inet"
      ? Deno.serve({
        ...common,
        hostname: config.bind.host,
        port: config.bind.port,
      }, app.fetch)
      : Deno.serve({ ...common, path: config.bind.path }, app.fetch);
  } catch (e) {
    throw new Error(`[admin] bind ${config.bind.text}: ${e instanceof Error ? e.message : e}`);
  }
  const addr = await listening.promise;
  let socket: RuntimeSocket | null = null;
  if (config.socket !== null && options.runtimeSocket !== false) {
    try {
      socket = await serveRuntimeSocket(config.socket, {
        source: options.source,
        logger,
      });
    } catch (e) {
      abort.abort();
      await server.finished;
      throw e;
    }
  }
  logger.log("notice", `admin: stats on http://${formatAddr(addr)}${config.statsUri}`);
  let stopping: Promise<void> | null = null;
  return {
    addr,
    socket,
    stop() {
      stopping ??= (async () => {
        await socket?.stop();
        streams.abort();
        await server.shutdown();
      })();
      return stopping;
    },
  };
}

function formatAddr(addr: Deno.NetAddr | Deno.UnixAddr): string {
  if (!("hostname" in addr)) return `unix:${addr.path}`;
  return addr.hostname.includes(":")
    ? `[${addr.hostname}]:${addr.port}`
    : `${addr.hostname}:${addr.port}`;
}
