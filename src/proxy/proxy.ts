/**
 * The proxy entry point the runtime uses: builds one {@linkcode ServerPool} per backend, binds
 * every frontend with its handler (the L4 engine for `mode tcp`, the HTTP engine for `mode
 * http`), and stops gracefully.
 *
 * Listeners are separate from the per-config handlers: {@linkcode Proxy.releaseListeners} hands
 * them to the next generation (pass them as {@linkcode ProxyOptions.listeners}) without closing
 * the sockets, so a reload loses no connection.
 *
 * @module
 */
import type { BackendConfig, BindConfig, Config, FrontendConfig } from "../config/types.ts";
import type { Logger } from "../log/logger.ts";
import { createBalancer } from "./balance/create.ts";
import {
  BindError,
  bindKey,
  bindListener,
  type BoundListener,
  ConnLimit,
  shareableBind,
} from "./listener.ts";
import {
  type BackendSnapshot,
  type BalancerFactory,
  type PoolServer,
  ServerPool,
} from "./server_pool.ts";
import { type FrontendCounters, TcpFrontend } from "./tcp_frontend.ts";
import { HttpFrontend } from "./http/http_frontend.ts";
import type { HttpBackend, HttpCounters } from "./http/http_session.ts";
import { IdlePool } from "./http/server_conn.ts";

/** Options for {@linkcode startProxy}. */
export interface ProxyOptions {
  logger: Logger;
  /**
   * Listeners to reuse on reload, keyed by {@linkcode bindKey}. Entries this proxy takes are
   * deleted from the map; the caller closes what is left.
   */
  listeners?: Map<string, BoundListener>;
  /** Builds each backend's balancer; default: the configured algorithm (`createBalancer`). */
  balancer?: BalancerFactory;
  /** The generation this one replaces: counters and server states carry over. */
  previous?: Proxy;
  /**
   * Proxy threads: bind plain TCP ports with SO_REUSEPORT; with `sharedOnly` (a worker thread)
   * bind only those, and skip frontends that have none (TLS and unix binds stay in the main
   * thread).
   */
  threads?: { sharedOnly: boolean };
}

/** One bind of a frontend in a snapshot. */
export interface BindSnapshot {
  /** The address as written. */
  address: string;
  /** The bound address (`ip:port` with the real port, or the unix path); null when not bound. */
  bound: string | null;
  listening: boolean;
}

/** Plain-data view of a frontend. */
export interface FrontendSnapshot extends FrontendCounters {
  name: string;
  mode: "tcp" | "http";
  /** True once its handler runs. */
  started: boolean;
  /** True while at least one of its listeners accepts. */
  listening: boolean;
  backend: string | null;
  binds: BindSnapshot[];
  /** HTTP request counters (mode http only). */
  http: HttpCounters | null;
}

/** Plain-data view of the whole proxy. */
export interface ProxySnapshot {
  /** Process-wide current connections (`actconn`). */
  actconn: number;
  maxconn: number;
  frontends: FrontendSnapshot[];
  backends: BackendSnapshot[];
}

/** A running L4 proxy generation. */
export interface Proxy {
  /**
   * Graceful stop: closes the listeners at once (unless released), lets in-flight connections
   * finish for up to `graceMs`, then closes the rest (termination `K`); resolves when all ended.
   */
  stop(options: { graceMs: number }): Promise<void>;
  /** Counters and states as plain data. */
  snapshot(): ProxySnapshot;
  /** Server pools by backend name (health checks and the admin API change server state here). */
  readonly pools: ReadonlyMap<string, ServerPool>;
  /** The running handler of a frontend (reload takes its counters over). */
  handler(frontend: string): TcpFrontend | HttpFrontend | undefined;
  /** The bound addresses of a frontend, in bind order (real ports when 0 was asked). */
  addresses(frontend: string): Deno.Addr[];
  /**
   * Detaches the listeners for the next generation: they stop handing connections to this one
   * (new ones wait in the backlog) until given to {@linkcode startProxy} via `listeners`.
   */
  releaseListeners(): Map<string, BoundListener>;
  /**
   * Undoes {@linkcode releaseListeners} when the next generation could not start: this
   * generation takes its listeners back and serves again.
   */
  reclaimListeners(): void;
}

/** The default balancer factory: the backend's configured algorithm. */
export function configuredBalancer(
  backend: BackendConfig,
  hooks: Parameters<BalancerFactory>[1],
): ReturnType<BalancerFactory> {
  return createBalancer<PoolServer>(backend.balance, backend.hashType, hooks);
}

interface RunningFrontend {
  config: FrontendConfig;
  handler: TcpFrontend | HttpFrontend;
  listeners: BoundListener[];
}

/**
 * Binds every tcp-mode frontend and starts serving. On a bind failure, closes what it opened and
 * throws `frontend 'NAME': cannot bind ADDRESS: REASON`.
 */
export async function startProxy(config: Config, options: ProxyOptions): Promise<Proxy> {
  const { logger } = options;
  const factory = options.balancer ?? configuredBalancer;
  const global = new ConnLimit(config.global.maxconn);
  const pools = new Map<string, ServerPool>();
  const httpBackends = new Map<string, HttpBackend>();
  const idlePools: IdlePool[] = [];
  for (const be of config.backends) {
    const pool = new ServerPool(be, { balancer: factory });
    const old = options.previous?.pools.get(be.name);
    if (old !== undefined && old.backend.mode === be.mode) pool.inheritFrom(old);
    pools.set(be.name, pool);
    if (be.mode === "http") {
      const idle = new IdlePool({ idleMs: Math.min(be.timeout.server ?? 10_000, 10_000) });
      idlePools.push(idle);
      httpBackends.set(be.name, { config: be, pool, idle });
    }
  }
  const tcpPools = new Map([...pools].filter(([, p]) => p.backend.mode === "tcp"));
  const running: RunningFrontend[] = [];
  const opened: BoundListener[] = [];
  const reused: BoundListener[] = [];
  const retuned: [BoundListener, BindConfig][] = [];
  try {
    for (const fe of config.frontends) {
      const threads = options.threads;
      const binds = fe.binds.filter((b) => !threads?.sharedOnly || shareableBind(b));
      if (binds.length === 0) continue;
      let handler: TcpFrontend | HttpFrontend;
      if (fe.mode === "http") {
        handler = new HttpFrontend(fe, { backends: httpBackends, global, logger });
      } else {
        if (fe.defaultBackend === null || !tcpPools.has(fe.defaultBackend)) {
          logger.log(
            "warning",
            `frontend '${fe.name}': no tcp default backend; unmatched connections will be closed`,
          );
        }
        handler = new TcpFrontend(fe, { pools: tcpPools, global, logger });
      }
      const listeners: BoundListener[] = [];
      for (const [i, bind] of binds.entries()) {
        const key = bindKey(bind.address);
        const old = options.listeners?.get(key);
        if (old !== undefined && !old.closed && (old.bind.tls === null) === (bind.tls === null)) {
          options.listeners!.delete(key);
          // Same address and kind: keep the socket; a TLS one takes the new certificates.
          const before = old.bind;
          if (old.updateBind(bind)) retuned.push([old, before]);
          reused.push(old);
          listeners.push(old);
          continue;
        }
        if (old !== undefined) {
          // Plain ↔ TLS on the same address: the old socket must go before the new one binds.
          options.listeners!.delete(key);
          old.close();
          await old.done;
        }
        try {
          const bl = await bindListener(bind, i + 1, {
            reusePort: threads !== undefined && shareableBind(bind),
          });
          opened.push(bl);
          listeners.push(bl);
        } catch (e) {
          if (e instanceof BindError) throw new Error(`frontend '${fe.name}': ${e.message}`);
          throw e;
        }
      }
      const oldHandler = options.previous?.handler(fe.name);
      if (oldHandler !== undefined && oldHandler.config.mode === fe.mode) {
        handler.inheritFrom(oldHandler);
      }
      running.push({ config: fe, handler, listeners });
    }
  } catch (e) {
    for (const bl of opened) bl.close();
    for (const [bl, before] of retuned) bl.updateBind(before);
    for (const bl of reused) options.listeners!.set(bl.key, bl);
    await Promise.all(opened.map((bl) => bl.done));
    for (const p of pools.values()) p.close();
    throw e;
  }
  for (const r of running) {
    for (const bl of r.listeners) bl.setHandler(r.handler);
  }
  return new RunningProxy({ global, pools, running, idlePools });
}

class RunningProxy implements Proxy {
  readonly pools: ReadonlyMap<string, ServerPool>;
  #global: ConnLimit;
  #running: RunningFrontend[];
  #idlePools: IdlePool[];
  #released = false;
  #stopped: Promise<void> | null = null;

  constructor(
    parts: {
      global: ConnLimit;
      pools: Map<string, ServerPool>;
      running: RunningFrontend[];
      idlePools: IdlePool[];
    },
  ) {
    this.#global = parts.global;
    this.pools = parts.pools;
    this.#running = parts.running;
    this.#idlePools = parts.idlePools;
  }

  handler(frontend: string): TcpFrontend | HttpFrontend | undefined {
    return this.#running.find((f) => f.config.name === frontend)?.handler;
  }

  addresses(frontend: string): Deno.Addr[] {
    const r = this.#running.find((f) => f.config.name === frontend);
    return r ? r.listeners.map((l) => l.addr) : [];
  }

  releaseListeners(): Map<string, BoundListener> {
    const out = new Map<string, BoundListener>();
    if (this.#released) return out;
    this.#released = true;
    for (const r of this.#running) {
      for (const bl of r.listeners) {
        bl.setHandler(null);
        out.set(bl.key, bl);
      }
    }
    return out;
  }

  reclaimListeners(): void {
    if (!this.#released || this.#stopped !== null) return;
    this.#released = false;
    for (const r of this.#running) {
      for (const bl of r.listeners) bl.setHandler(r.handler);
    }
  }

  stop(options: { graceMs: number }): Promise<void> {
    this.#stopped ??= this.#stop(options.graceMs);
    return this.#stopped;
  }

  async #stop(graceMs: number): Promise<void> {
    const listeners = this.#running.flatMap((r) => r.listeners);
    if (!this.#released) { for (const bl of listeners) bl.close(); }
    await Promise.all(this.#running.map((r) => r.handler.drain(graceMs)));
    for (const idle of this.#idlePools) idle.closeAll();
    for (const p of this.pools.values()) p.close();
    if (!this.#released) await Promise.all(listeners.map((bl) => bl.done));
  }

  snapshot(): ProxySnapshot {
    return {
      actconn: this.#global.cur,
      maxconn: this.#global.max,
      frontends: this.#running.map((r) => this.#frontendSnapshot(r)),
      backends: [...this.pools.values()].map((p) => p.snapshot()),
    };
  }

  #frontendSnapshot(r: RunningFrontend): FrontendSnapshot {
    const h = r.handler;
    const live = !this.#released && this.#stopped === null;
    const binds = r.config.binds.map((b, i): BindSnapshot => {
      const bl = r.listeners[i];
      return {
        address: b.address.text,
        bound: bl ? formatAddr(bl.addr) : null,
        listening: live && bl !== undefined && !bl.closed,
      };
    });
    return {
      name: r.config.name,
      mode: r.config.mode,
      started: true,
      listening: binds.some((b) => b.listening),
      backend: h.backendName,
      binds,
      http: h instanceof HttpFrontend ? structuredClone(h.httpCounters) : null,
      ...h.counters(),
    };
  }
}

function formatAddr(addr: Deno.Addr): string {
  if (addr.transport === "tcp" || addr.transport === "udp") {
    return addr.hostname.includes(":")
      ? `[${addr.hostname}]:${addr.port}`
      : `${addr.hostname}:${addr.port}`;
  }
  return (addr as Deno.UnixAddr).path;
}
