/**
 * The admin endpoint in the running process: one {@linkcode AdminSource} over whatever graph is
 * current (so the endpoint survives reloads), started when `[admin]` is configured and restarted
 * only when the `[admin]` section itself changes.
 *
 * @module
 */
import type { AdminConfig } from "../config/types.ts";
import type { Logger } from "../log/logger.ts";
import { applyServerAction } from "../admin/actions.ts";
import { type AdminSource, buildModel, type ProcessInfo, RateMeter } from "../admin/model.ts";
import { type AdminServer, startAdmin } from "../admin/server.ts";
import { HALB_VERSION } from "../cli/version.ts";
import type { Graph } from "./graph.ts";

/** What the admin layer needs from the process. */
export interface AdminHost {
  /** The graph serving now. */
  graph(): Graph;
  /** Re-reads the config file and swaps the graph when valid (SIGHUP does the same). */
  reload(): Promise<{ ok: boolean; errors: string[] }>;
  /** The last reload's outcome, or null. */
  lastReload(): ProcessInfo["lastReload"];
}

/** The source the admin app and runtime API render from and act through. */
export function adminSource(host: AdminHost): AdminSource {
  const startedAt = Date.now();
  const rates = new RateMeter();
  return {
    model() {
      const graph = host.graph();
      return buildModel({
        config: graph.config,
        proxy: graph.proxy.snapshot(),
        checks: graph.checkers.flatMap((c) => c.snapshots()),
        vrrp: graph.vrrp?.snapshot() ?? [],
        now: Date.now(),
        startedAt,
        version: HALB_VERSION,
        lastReload: host.lastReload(),
        rates,
      });
    },
    serverAction(backend, server, action) {
      const graph = host.graph();
      return applyServerAction(
        {
          pools: graph.proxy.pools,
          checkers: new Map(graph.checkers.map((c) => [c.backend, c])),
        },
        { backend, server },
        action,
      );
    },
    reload: () => host.reload(),
  };
}

/** The admin endpoint across reloads. */
export class AdminEndpoint {
  #server: AdminServer | null = null;
  #config: AdminConfig | null = null;
  readonly #source: AdminSource;
  readonly #logger: Logger;

  constructor(source: AdminSource, logger: Logger) {
    this.#source = source;
    this.#logger = logger;
  }

  /** Starts, restarts or stops the endpoint to match `config` (null: no `[admin]`). */
  async update(config: AdminConfig | null): Promise<void> {
    if (JSON.stringify(config) === JSON.stringify(this.#config)) return;
    await this.stop();
    if (config === null) return;
    try {
      this.#server = await startAdmin(config, { source: this.#source, logger: this.#logger });
      this.#config = config;
    } catch (e) {
      this.#logger.log("err", `admin endpoint not started: ${e instanceof Error ? e.message : e}`);
    }
  }

  /** Stops serving. */
  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    this.#config = null;
    await server?.stop();
  }
}
