/**
 * Connects health checking to the proxy: one checker per backend that has checked servers; each
 * state change sets the server usable or not, and its effective weight (slowstart), in the
 * backend's server pool, which recomputes the load-balancing set. On reload the previous
 * generation's checker states carry over for servers whose settings did not change.
 *
 * @module
 */
import type { Config } from "../config/types.ts";
import type { Logger } from "../log/logger.ts";
import { type BackendChecker, createChecker } from "../proxy/health/checker.ts";
import type { Proxy } from "../proxy/proxy.ts";

/**
 * Starts the checkers of every proxied backend with at least one `check = true` server.
 * Returns them so the graph can stop them (and the admin layer can read their snapshots).
 */
export function startHealthChecks(
  config: Config,
  options: { proxy: Proxy; logger: Logger; previous?: readonly BackendChecker[] },
): BackendChecker[] {
  const checkers: BackendChecker[] = [];
  for (const backend of config.backends) {
    const pool = options.proxy.pools.get(backend.name);
    if (pool === undefined || !backend.servers.some((s) => s.check)) continue;
    const old = options.previous?.find((c) => c.backend === backend.name);
    const checker = createChecker(backend, {
      logger: options.logger,
      // Reload: servers whose settings did not change keep their state (no flap, no re-rise).
      initial: old ? (name) => old.state(name) : undefined,
      onChange(name, snap) {
        const server = pool.server(name);
        if (server === undefined) return;
        // Slowstart weights are fractional; the balancers keep HAProxy's 1/16 resolution.
        pool.setWeight(server, snap.weight);
        pool.setUsable(server, snap.usable);
      },
      serverLoad(name) {
        const server = pool.server(name);
        return { sessions: server?.cur ?? 0, requeued: 0, queued: server?.queue.length ?? 0 };
      },
    });
    checker.start();
    checkers.push(checker);
  }
  return checkers;
}
