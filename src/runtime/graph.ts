/**
 * The running graph: everything one configuration generation runs (the L4 proxy, its health
 * checks and VRRP; the admin app joins it when built). A reload builds a new graph from the new
 * config and swaps it whole: listening sockets that stay are handed over, so no connection is
 * refused, and the previous generation drains in the background. VRRP whose configuration did
 * not change is carried over as it runs, so its VIPs never flap.
 *
 * @module
 */
import type { Config } from "../config/types.ts";
import type { Logger } from "../log/logger.ts";
import type { Proxy } from "../proxy/proxy.ts";
import { ProxyThreads, startMainProxy, threadCount } from "./threads.ts";
import { vrrpBlocker } from "./vrrp_status.ts";
import { startVrrp, type Vrrp } from "../vrrp/driver.ts";
import { startHealthChecks } from "./health.ts";
import type { BackendChecker } from "../proxy/health/checker.ts";

/** One running configuration generation. */
export interface Graph {
  /** Where VRRP's `track_proxy` looks: the proxy of the newest generation. */
  readonly proxyRef: { proxy: Proxy };
  /** Stops this generation after a reload; `keepVrrp` when the next one took its VRRP over. */
  retire(options: { graceMs: number; keepVrrp: boolean }): Promise<void>;
  readonly config: Config;
  readonly proxy: Proxy;
  /** The proxy worker isolates (`nbthread` > 1), kept for the process's life; else null. */
  readonly threads: ProxyThreads | null;
  /** The health checkers, one per backend with checked servers. */
  readonly checkers: readonly BackendChecker[];
  /** The running VRRP subsystem, or null (no instances, or no capabilities). */
  readonly vrrp: Vrrp | null;
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
  const threads = previous ? previous.threads : startThreads(config, logger);
  const running = threads?.count ?? 1;
  if (previous && threadCount(config).count !== running) {
    logger.log("warning", `nbthread changes take effect on restart; keeping ${running}`);
  }
  const listeners = previous?.proxy.releaseListeners();
  let proxy: Proxy;
  try {
    proxy = await startMainProxy(config, {
      logger,
      listeners,
      previous: previous?.proxy,
      threaded: threads !== null,
    });
  } catch (e) {
    previous?.proxy.reclaimListeners();
    if (!previous) await threads?.stop(0);
    throw e;
  }
  if (threads !== null) proxy = await threads.attach(config, proxy, previous === undefined);
  // Listeners the new config no longer has: close them now, drain their connections below.
  for (const bl of listeners?.values() ?? []) bl.close();
  for (const fe of proxy.snapshot().frontends) {
    logger.log("notice", `Proxy ${fe.name} started (${fe.binds.map((b) => b.bound).join(", ")}).`);
  }
  const checkers = startHealthChecks(config, { proxy, logger, previous: previous?.checkers });
  const proxyRef = previous?.proxyRef ?? { proxy };
  const vrrp = await vrrpFor(config, { logger, previous, proxyRef });
  proxyRef.proxy = proxy;
  if (previous) {
    previous.retire({
      graceMs: previous.config.global.gracePeriod,
      keepVrrp: vrrp === previous.vrrp,
    })
      .catch((e) => logger.log("err", `draining the previous configuration failed: ${e}`));
  }
  let stopping: Promise<void> | null = null;
  async function stopAll(o: { graceMs: number }): Promise<void> {
    await Promise.all([retire({ ...o, keepVrrp: false }), threads?.stop(o.graceMs)]);
  }
  async function retire(o: { graceMs: number; keepVrrp: boolean }): Promise<void> {
    for (const c of checkers) c.stop();
    const vrrpDone = o.keepVrrp ? Promise.resolve() : vrrp?.stop();
    await Promise.all([proxy.stop(o), vrrpDone]);
  }
  return {
    config,
    proxy,
    checkers,
    threads,
    vrrp,
    proxyRef,
    retire,
    stop(o) {
      // VRRP first in effect: masters send priority 0 at once while connections drain.
      stopping ??= stopAll(o);
      return stopping;
    },
  };
}

/** A frontend is tracked as up when it listens and its backend has a usable server. */
function proxyServes(proxy: Proxy, frontends: readonly string[]): boolean {
  const snap = proxy.snapshot();
  return frontends.every((name) => {
    const fe = snap.frontends.find((f) => f.name === name);
    if (fe === undefined || !fe.listening) return false;
    const be = snap.backends.find((b) => b.name === fe.backend);
    return be !== undefined && be.usable;
  });
}

/**
 * The VRRP of the new generation: the previous one when its configuration is unchanged, else a
 * new one (the previous one is stopped by `retire`). Null when the config has no instance or
 * the process cannot run VRRP (logged once, the proxy serves anyway).
 */
async function vrrpFor(
  config: Config,
  options: { logger: Logger; previous?: Graph; proxyRef: { proxy: Proxy } },
): Promise<Vrrp | null> {
  const { logger, previous, proxyRef } = options;
  if (!config.vrrp || config.vrrp.instances.length === 0) return null;
  const unchanged = previous?.vrrp &&
    JSON.stringify(previous.config.vrrp) === JSON.stringify(config.vrrp) &&
    JSON.stringify(previous.config.global.notify) === JSON.stringify(config.global.notify);
  if (unchanged) {
    logger.log("notice", "VRRP configuration unchanged: instances keep running");
    return previous!.vrrp;
  }
  const blocker = vrrpBlocker(config);
  if (blocker !== null) {
    logger.log("warning", blocker);
    return null;
  }
  if (previous?.vrrp) await previous.vrrp.stop();
  try {
    return await startVrrp(config.vrrp, {
      logger,
      mail: config.global.notify,
      trackProxy: (frontends) => proxyServes(proxyRef.proxy, frontends),
    });
  } catch (e) {
    logger.log(
      "err",
      `VRRP is off: ${e instanceof Error ? e.message : e}; the proxy serves without VIPs`,
    );
    return null;
  }
}

/** Starts the worker isolates when the config asks for threads (says why when it cannot). */
function startThreads(config: Config, logger: Logger): ProxyThreads | null {
  const { count, reason } = threadCount(config);
  if (reason !== null) {
    logger.log(
      "warning",
      `nbthread ${config.global.nbthread} needs shared state: ${reason}; running 1 thread`,
    );
  }
  if (count <= 1) return null;
  logger.log("notice", `running ${count} proxy threads`);
  return ProxyThreads.create(count, { url: Deno.mainModule, logger });
}
