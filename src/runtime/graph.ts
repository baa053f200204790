/**
 * The running graph: everything one configuration generation runs (the L4 proxy and its health
 * checks today; VRRP and the admin app join it as they are built). A reload builds a new graph from
 * the new config and swaps it whole: listening sockets that stay are handed over, so no
 * connection is refused, and the previous generation drains in the background.
 *
 * @module
 */
import type { Config } from "../config/types.ts";
import type { Logger } from "../log/logger.ts";
import { type Proxy, startProxy } from "../proxy/proxy.ts";
import { vrrpStatus } from "./vrrp_status.ts";
import { startHealthChecks } from "./health.ts";

/** One running configuration generation. */
export interface Graph {
  readonly config: Config;
  readonly proxy: Proxy;
  /** Graceful stop of this generation: in-flight connections get up to `graceMs`. */
  stop(options: { graceMs: number }): Promise<void>;
}

/** Options for {@linkcode buildGraph}. */
export interface BuildOptions {
  logger: Logger;
  /** The running generation, on reload: its listeners are taken over, then it drains. */
  previous?: Graph;
}

/**
 * Builds and starts a graph. On failure nothing of the new graph is left running and the
 * previous graph (if any) keeps serving; the error says what failed.
 */
export async function buildGraph(config: Config, options: BuildOptions): Promise<Graph> {
  const { logger, previous } = options;
  const listeners = previous?.proxy.releaseListeners();
  let proxy: Proxy;
  try {
    proxy = await startProxy(config, { logger, listeners });
  } catch (e) {
    previous?.proxy.reclaimListeners();
    throw e;
  }
  // Listeners the new config no longer has: close them now, drain their connections below.
  for (const bl of listeners?.values() ?? []) bl.close();
  for (const fe of proxy.snapshot().frontends) {
    if (fe.started) {
      logger.log(
        "notice",
        `Proxy ${fe.name} started (${fe.binds.map((b) => b.bound).join(", ")}).`,
      );
    } else {
      logger.log(
        "warning",
        `frontend '${fe.name}': mode http is not served yet (HTTP engine not built); frontend idle`,
      );
    }
  }
  if (config.admin !== null) {
    logger.log("warning", "[admin]: the stats/admin endpoint is not built yet; section ignored");
  }
  const checkers = startHealthChecks(config, { proxy, logger });
  const vrrp = vrrpStatus(config);
  if (vrrp !== null) logger.log(vrrp.level, vrrp.message);
  if (previous) {
    previous.stop({ graceMs: previous.config.global.gracePeriod }).catch((e) =>
      logger.log("err", `draining the previous configuration failed: ${e}`)
    );
  }
  return {
    config,
    proxy,
    async stop(o) {
      for (const c of checkers) c.stop();
      await proxy.stop(o);
    },
  };
}
