/**
 * Proxy threads (`[global] nbthread`, HAProxy's keyword): N−1 worker isolates each run the same
 * proxy generation as the main isolate on the same plain TCP ports (SO_REUSEPORT), so the
 * kernel spreads connections over N event loops and N cores. The main isolate stays the only
 * owner of everything stateful: health checks, admin actions and VRRP change the main pools,
 * whose server states are mirrored into every worker; workers send their traffic logs and, once
 * a second, their counters, which the main proxy's snapshot adds up. TLS and unix binds are
 * served by the main isolate only.
 *
 * Threads need state that one isolate cannot share with another; a config whose semantics
 * depend on it (server `maxconn`/`maxqueue`, `balance first`/`leastconn`) runs one thread, and
 * {@linkcode threadCount} says why.
 *
 * @module
 */
import type { Config } from "../config/types.ts";
import type { LogEntry, Logger } from "../log/logger.ts";
import type { BoundListener } from "../proxy/listener.ts";
import type {
  BackendSnapshot,
  ServerPool,
  ServerSnapshot,
  ServerStateCopy,
} from "../proxy/server_pool.ts";
import {
  type FrontendSnapshot,
  type Proxy,
  type ProxySnapshot,
  startProxy,
} from "../proxy/proxy.ts";
import type { SwitchThreads } from "../sys/privileges.ts";

/** The `name` of proxy worker isolates (main.ts starts the worker loop under it). */
export const WORKER_NAME = "halb-proxy-thread";

/** Messages main → worker. */
export type ToWorker =
  | { type: "start"; config: Config; states: PoolStates }
  | { type: "reload"; config: Config; states: PoolStates }
  | { type: "states"; states: PoolStates }
  | { type: "snapshot" }
  | { type: "stop"; graceMs: number }
  | { type: "privileges"; gate: SharedArrayBuffer; keep: number[] };

/** Messages worker → main. */
export type FromWorker =
  | { type: "started"; error: string | null }
  | { type: "log"; entry: LogEntry }
  | { type: "snapshot"; snapshot: ProxySnapshot }
  | { type: "stopped" }
  | { type: "held"; error: string | null }
  | { type: "privileges"; error: string | null };

/** Server states of every backend, by backend name. */
export type PoolStates = Record<string, ServerStateCopy[]>;

/** How many threads `config` runs with, and why fewer than asked (null when as asked). */
export function threadCount(config: Config): { count: number; reason: string | null } {
  const asked = config.global.nbthread;
  if (asked <= 1) return { count: 1, reason: null };
  for (const be of config.backends) {
    const algo = be.balance.algorithm;
    if (algo === "first" || algo === "leastconn") {
      return { count: 1, reason: `backend '${be.name}' uses balance ${algo}` };
    }
    const s = be.servers.find((s) => s.maxconn > 0 || s.maxqueue > 0);
    if (s !== undefined) {
      return { count: 1, reason: `server '${be.name}/${s.name}' sets maxconn/maxqueue` };
    }
  }
  return { count: asked, reason: null };
}

function poolStates(proxy: Proxy): PoolStates {
  const out: PoolStates = {};
  for (const [name, pool] of proxy.pools) out[name] = pool.states();
  return out;
}

/** One worker isolate with its message plumbing. */
class ProxyWorker {
  readonly worker: Worker;
  snapshot: ProxySnapshot | null = null;
  #waiting: ((m: FromWorker) => void)[] = [];

  constructor(url: string, logger: Logger) {
    this.worker = new Worker(url, { type: "module", name: WORKER_NAME });
    this.worker.onmessage = (e: MessageEvent<FromWorker>) => {
      const m = e.data;
      if (m.type === "log") {
        if (m.entry.kind === "traffic") logger.traffic(m.entry.line, m.entry.fields);
        else logger.log(m.entry.level, m.entry.line);
      } else if (m.type === "snapshot") this.snapshot = m.snapshot;
      if (
        m.type === "started" || m.type === "stopped" || m.type === "held" || m.type === "privileges"
      ) {
        this.#waiting.shift()?.(m);
      }
    };
    this.worker.onerror = (e) => {
      e.preventDefault();
      logger.log("err", `proxy thread failed: ${e.message}`);
    };
  }

  send(m: ToWorker): void {
    this.worker.postMessage(m);
  }

  /** Sends `m` and waits for the worker's next answer (started, stopped, held, privileges). */
  ask(m: ToWorker): Promise<FromWorker> {
    const answer = this.next();
    this.send(m);
    return answer;
  }

  /** The answer after those already awaited. */
  next(): Promise<FromWorker> {
    const { promise, resolve } = Promise.withResolvers<FromWorker>();
    this.#waiting.push(resolve);
    return promise;
  }
}

/** The worker isolates of the process, carried across reloads. */
export class ProxyThreads implements SwitchThreads {
  readonly #workers: ProxyWorker[];
  readonly #logger: Logger;
  #timer: ReturnType<typeof setInterval> | undefined;
  /** The main generation whose pool changes are mirrored. */
  #watched: Proxy | null = null;

  private constructor(workers: ProxyWorker[], logger: Logger) {
    this.#workers = workers;
    this.#logger = logger;
  }

  /** Starts `count − 1` workers running `url` (the main module: it detects the worker name). */
  static create(count: number, options: { url: string; logger: Logger }): ProxyThreads {
    const workers: ProxyWorker[] = [];
    for (let i = 1; i < count; i++) workers.push(new ProxyWorker(options.url, options.logger));
    return new ProxyThreads(workers, options.logger);
  }

  /** Number of threads including the main isolate. */
  get count(): number {
    return this.#workers.length + 1;
  }

  /**
   * Starts (first time) or reloads every worker on `config`, mirroring the server states of the
   * main generation `main`; then the returned proxy is `main` with the workers' counters added.
   */
  async attach(config: Config, main: Proxy, first: boolean): Promise<Proxy> {
    const states = poolStates(main);
    const answers = await Promise.all(
      this.#workers.map((w) =>
        w.ask(first ? { type: "start", config, states } : { type: "reload", config, states })
      ),
    );
    for (const a of answers) {
      if (a.type === "started" && a.error !== null) {
        this.#logger.log("err", `proxy thread: ${a.error}; it keeps its previous configuration`);
      }
    }
    this.#watch(main);
    return new ThreadedProxy(main, this);
  }

  /** Mirrors server state changes of the main pools into the workers. */
  #watch(main: Proxy): void {
    let pending = false;
    const push = () => {
      if (pending) return;
      pending = true;
      queueMicrotask(() => {
        pending = false;
        const states = poolStates(main);
        for (const w of this.#workers) w.send({ type: "states", states });
      });
    };
    // Only the newest generation's pools speak for the workers.
    for (const pool of this.#watched?.pools.values() ?? []) pool.onChange = null;
    this.#watched = main;
    for (const pool of main.pools.values()) pool.onChange = push;
    this.#timer ??= setInterval(() => {
      for (const w of this.#workers) w.send({ type: "snapshot" });
    }, 1000);
  }

  /** The workers' latest snapshots. */
  snapshots(): ProxySnapshot[] {
    return this.#workers.flatMap((w) => w.snapshot === null ? [] : [w.snapshot]);
  }

  /**
   * Has every worker hold through the `[global] user` switch on its own thread (capabilities
   * are per thread; see src/sys/privileges.ts): `held` once all hold, `done` once all are past
   * the gate; each resolves to the workers' errors.
   */
  hold(
    gate: SharedArrayBuffer,
    keep: readonly number[],
  ): { held: Promise<string[]>; done: Promise<string[]> } {
    const asked = this.#workers.map((w) => ({
      held: w.ask({ type: "privileges", gate, keep: [...keep] }),
      done: w.next(),
    }));
    const errors = async (answers: Promise<FromWorker>[]) =>
      (await Promise.all(answers)).flatMap((a) =>
        (a.type === "held" || a.type === "privileges") && a.error !== null ? [a.error] : []
      );
    return { held: errors(asked.map((a) => a.held)), done: errors(asked.map((a) => a.done)) };
  }

  /** Stops every worker gracefully and ends them. */
  async stop(graceMs: number): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await Promise.all(this.#workers.map((w) => w.ask({ type: "stop", graceMs })));
    for (const w of this.#workers) w.worker.terminate();
  }
}

/** The main generation seen with the workers' counters added (stats, admin, metrics). */
class ThreadedProxy implements Proxy {
  readonly #main: Proxy;
  readonly #threads: ProxyThreads;

  constructor(main: Proxy, threads: ProxyThreads) {
    this.#main = main;
    this.#threads = threads;
  }

  get pools(): ReadonlyMap<string, ServerPool> {
    return this.#main.pools;
  }

  handler(frontend: string) {
    return this.#main.handler(frontend);
  }

  addresses(frontend: string): Deno.Addr[] {
    return this.#main.addresses(frontend);
  }

  releaseListeners(): Map<string, BoundListener> {
    return this.#main.releaseListeners();
  }

  reclaimListeners(): void {
    this.#main.reclaimListeners();
  }

  stop(options: { graceMs: number }): Promise<void> {
    return this.#main.stop(options);
  }

  snapshot(): ProxySnapshot {
    return addSnapshots(this.#main.snapshot(), this.#threads.snapshots());
  }
}

/** `base` with the counters of `others` added (states, limits and binds stay `base`'s). */
export function addSnapshots(base: ProxySnapshot, others: readonly ProxySnapshot[]): ProxySnapshot {
  const out = structuredClone(base);
  for (const o of others) {
    out.actconn += o.actconn;
    for (const f of o.frontends) {
      const t = out.frontends.find((x) => x.name === f.name);
      if (t !== undefined) addFrontend(t, f);
    }
    for (const b of o.backends) {
      const t = out.backends.find((x) => x.name === b.name);
      if (t !== undefined) addBackend(t, b);
    }
  }
  return out;
}

function addFrontend(t: FrontendSnapshot, f: FrontendSnapshot): void {
  t.cur += f.cur;
  t.max += f.max;
  t.total += f.total;
  t.bytesIn += f.bytesIn;
  t.bytesOut += f.bytesOut;
  if (t.http !== null && f.http !== null) {
    t.http.requests += f.http.requests;
    t.http.denied += f.http.denied;
    t.http.invalid += f.http.invalid;
    f.http.responses.forEach((n, i) => t.http!.responses[i] += n);
  }
}

const BACKEND_SUMS = [
  "cur",
  "max",
  "total",
  "queueCur",
  "queueMax",
  "bytesIn",
  "bytesOut",
  "connectErrors",
  "retries",
  "redispatches",
  "queueTimeouts",
  "noServer",
] as const;

const SERVER_SUMS = [
  "cur",
  "max",
  "total",
  "queueCur",
  "queueMax",
  "bytesIn",
  "bytesOut",
  "connectErrors",
  "retries",
  "redispatches",
  "aborts",
] as const;

function addBackend(t: BackendSnapshot, b: BackendSnapshot): void {
  for (const k of BACKEND_SUMS) t[k] += b[k];
  for (const s of b.servers) {
    const ts: ServerSnapshot | undefined = t.servers.find((x) => x.name === s.name);
    if (ts === undefined) continue;
    for (const k of SERVER_SUMS) ts[k] += s[k];
  }
}

/** Starts the main generation with the options threads need. */
export function startMainProxy(
  config: Config,
  options: {
    logger: Logger;
    listeners?: Map<string, BoundListener>;
    previous?: Proxy;
    threaded: boolean;
  },
): Promise<Proxy> {
  return startProxy(config, {
    logger: options.logger,
    listeners: options.listeners,
    previous: options.previous,
    threads: options.threaded ? { sharedOnly: false } : undefined,
  });
}
