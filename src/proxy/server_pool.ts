/**
 * The runtime side of one backend: its servers with their state (operational, maintenance,
 * drain, weight), live connection counts, `maxconn` slots with FIFO queues bounded by `timeout
 * queue` and `maxqueue`, and the counters the stats page reads. The pool decides which servers
 * are eligible (actives when one is usable, else the first usable backup, or all of them with
 * `allbackups`) and hands that set to the backend's {@linkcode Balancer}.
 *
 * Queues follow HAProxy: a connection that no server can take now waits in the backend queue; one
 * bound to a full server (hash algorithms) waits in that server's queue. A freed slot goes at once
 * to the oldest waiter of the server's queue or the backend queue.
 *
 * @module
 */
import type { BackendConfig, ServerConfig } from "../config/types.ts";
import type { Balancer, BalancerHooks, LbEntry } from "./balance/balancer.ts";

/** Builds the balancer of a backend; the pool supplies the load hooks. */
export type BalancerFactory = (
  backend: BackendConfig,
  hooks: BalancerHooks<PoolServer>,
) => Balancer<PoolServer>;

/** A FIFO of waiting connections with O(1) removal (lazy) and HAProxy's log positions. */
export class WaitQueue {
  #items: (QueueTicket | null)[] = [];
  #head = 0;
  /** Live entries. */
  length = 0;
  /** Highest length seen. */
  max = 0;
  /** Entries taken out so far (served or timed out); gives `%sq`/`%bq` positions. */
  idx = 0;

  /** Appends a ticket. */
  push(ticket: QueueTicket): void {
    ticket.slot = this.#items.length;
    this.#items.push(ticket);
    if (++this.length > this.max) this.max = this.length;
  }

  /** The oldest live ticket, if any. */
  peek(): QueueTicket | undefined {
    const items = this.#items;
    while (this.#head < items.length && items[this.#head] === null) this.#head++;
    return this.#head < items.length ? items[this.#head]! : undefined;
  }

  /** Removes a ticket wherever it is. */
  remove(ticket: QueueTicket): void {
    if (this.#items[ticket.slot] !== ticket) return;
    this.#items[ticket.slot] = null;
    this.length--;
    if (this.length === 0) {
      this.#items = [];
      this.#head = 0;
    }
  }
}

let ticketSeq = 0;

/** A connection waiting for a server slot. `promise` yields the server, or null on timeout. */
export class QueueTicket {
  /** Resolves with the server whose slot was reserved, or null (queue timeout / pool closed). */
  readonly promise: Promise<PoolServer | null>;
  /** Global arrival order, to serve the older of a server queue and the backend queue. */
  readonly seq = ++ticketSeq;
  /** The server whose own queue holds it; null for the backend queue. */
  owner: PoolServer | null;
  /** `%sq` once out of a server queue. */
  srvQueuePos = 0;
  /** `%bq` once out of the backend queue. */
  backendQueuePos = 0;
  /** @internal index in the queue's array. */
  slot = 0;
  /** @internal the queue's `idx` at enqueue time, minus one (HAProxy's logging rule). */
  mark = 0;
  /** @internal */
  timer: ReturnType<typeof setTimeout> | undefined = undefined;
  /** @internal */
  resolve: (server: PoolServer | null) => void;

  constructor(owner: PoolServer | null) {
    this.owner = owner;
    const { promise, resolve } = Promise.withResolvers<PoolServer | null>();
    this.promise = promise;
    this.resolve = resolve;
  }
}

/** Administrative/operational state of a server as shown on the stats page. */
export type ServerStatus = "UP" | "DOWN" | "MAINT" | "DRAIN";

/** One server of a backend at run time. */
export class PoolServer {
  readonly config: ServerConfig;
  readonly name: string;
  readonly id: number;
  readonly backup: boolean;
  /** Operational state (health checks): true when UP. Servers start UP, as in HAProxy. */
  up = true;
  /** Admin maintenance (`disabled`, runtime API). */
  maint: boolean;
  /** Admin drain: no new load-balanced traffic. */
  drain = false;
  /** Current effective weight (0..256). */
  weight: number;
  /** True when in the backend's current load-balancing set. */
  eligible = false;
  /** Connections currently holding a slot. */
  cur = 0;
  /** Highest `cur` seen. */
  max = 0;
  /** Connections ever assigned. */
  total = 0;
  /** Bytes client → server. */
  bytesIn = 0;
  /** Bytes server → client. */
  bytesOut = 0;
  /** Failed connection attempts (HAProxy `econ`). */
  connectErrors = 0;
  /** Retries (HAProxy `wretr`). */
  retries = 0;
  /** Redispatches away from this server (HAProxy `wredis`). */
  redispatches = 0;
  /** Sessions whose data phase ended on an error/timeout (HAProxy `eresp`/`cli_abrt`/`srv_abrt`). */
  aborts = 0;
  /** This server's own queue. */
  readonly queue = new WaitQueue();

  constructor(config: ServerConfig) {
    this.config = config;
    this.name = config.name;
    this.id = config.id;
    this.backup = config.backup;
    this.maint = config.disabled;
    this.weight = config.weight;
  }

  /** True when the server has no free slot. */
  full(): boolean {
    return this.config.maxconn > 0 && this.cur >= this.config.maxconn;
  }

  /** Status as shown on the stats page. */
  status(): ServerStatus {
    if (this.maint) return "MAINT";
    if (!this.up) return "DOWN";
    return this.drain ? "DRAIN" : "UP";
  }
}

/** A server's operational and admin state, as copied between proxy threads. */
export interface ServerStateCopy {
  name: string;
  up: boolean;
  maint: boolean;
  drain: boolean;
  weight: number;
}

/** What {@linkcode ServerPool.assign} can answer besides a server or a ticket. */
export type AssignFailure = "no-server" | "queue-full";

/** Plain-data view of a server for stats and the admin API. */
export interface ServerSnapshot {
  name: string;
  id: number;
  address: string;
  status: ServerStatus;
  backup: boolean;
  eligible: boolean;
  weight: number;
  cur: number;
  max: number;
  limit: number;
  total: number;
  queueCur: number;
  queueMax: number;
  queueLimit: number;
  bytesIn: number;
  bytesOut: number;
  connectErrors: number;
  retries: number;
  redispatches: number;
  aborts: number;
}

/** Plain-data view of a backend. */
export interface BackendSnapshot {
  name: string;
  mode: "tcp" | "http";
  /** True when at least one server can take traffic. */
  usable: boolean;
  activeServers: number;
  backupServers: number;
  cur: number;
  max: number;
  total: number;
  queueCur: number;
  queueMax: number;
  bytesIn: number;
  bytesOut: number;
  connectErrors: number;
  retries: number;
  redispatches: number;
  queueTimeouts: number;
  /** Sessions that ended without a server (no server usable, queue timeout, connect failure). */
  noServer: number;
  servers: ServerSnapshot[];
}

/** Options for {@linkcode ServerPool}. */
export interface ServerPoolOptions {
  /** Builds the load-balancing algorithm. */
  balancer: BalancerFactory;
}

/** The servers, queues and counters of one backend. */
export class ServerPool {
  readonly backend: BackendConfig;
  readonly name: string;
  readonly servers: readonly PoolServer[];
  /** The backend queue. */
  readonly queue = new WaitQueue();
  /** Sessions attached to this backend (HAProxy `beconn`). */
  cur = 0;
  max = 0;
  total = 0;
  bytesIn = 0;
  bytesOut = 0;
  connectErrors = 0;
  retries = 0;
  redispatches = 0;
  queueTimeouts = 0;
  noServer = 0;
  /** Called after every change of a server's state or weight (proxy threads mirror it). */
  onChange: (() => void) | null = null;
  #eligible: PoolServer[] = [];
  #balancer: Balancer<PoolServer>;
  #queueTimeout: number | null;
  #closed = false;

  constructor(backend: BackendConfig, options: ServerPoolOptions) {
    this.backend = backend;
    this.name = backend.name;
    this.servers = backend.servers.map((s) => new PoolServer(s));
    this.#queueTimeout = backend.timeout.queue ?? backend.timeout.connect;
    this.#balancer = options.balancer(backend, {
      load: serverLoad,
      full: serverFull,
    });
    this.#recompute();
  }

  /** True when at least one server may take traffic now (for VRRP tracking and stats). */
  hasUsableServer(): boolean {
    return this.#eligible.length > 0;
  }

  /** Finds a server by name. */
  server(name: string): PoolServer | undefined {
    return this.servers.find((s) => s.name === name);
  }

  /**
   * Picks a server and reserves a slot on it. Returns the server; a {@linkcode QueueTicket} when
   * the connection must wait; "no-server" when no server is usable; "queue-full" when the chosen
   * server's queue is at `maxqueue`. `key` is the hash input (client address bytes for `source`).
   */
  assign(key: Uint8Array | null, avoid?: PoolServer): PoolServer | QueueTicket | AssignFailure {
    if (this.#eligible.length === 0) return "no-server";
    let server = this.#balancer.pick(key, avoid);
    if (server === null) return this.#enqueue(null);
    if (server.config.maxconn > 0 && (server.queue.length > 0 || server.full())) {
      const maxqueue = server.config.maxqueue;
      if (maxqueue === 0 || server.queue.length < maxqueue) return this.#enqueue(server);
      if (!this.backend.redispatch) return "queue-full";
      const other = this.#balancer.pick(key, server);
      if (other === null || other === server || other.full() || other.queue.length > 0) {
        return "queue-full";
      }
      server = other;
    }
    this.#take(server);
    return server;
  }

  /**
   * Persistence (cookie): reserves a slot on `server` itself, or queues in its own queue when it
   * is full. Null when the server cannot take persistent traffic (down or in maintenance; drain
   * and weight 0 still can, as in HAProxy), and the caller load-balances instead.
   */
  assignTo(server: PoolServer): PoolServer | QueueTicket | null {
    if (!server.up || server.maint) return null;
    if (server.config.maxconn > 0 && (server.queue.length > 0 || server.full())) {
      const maxqueue = server.config.maxqueue;
      if (maxqueue !== 0 && server.queue.length >= maxqueue) return null;
      return this.#enqueue(server);
    }
    this.#take(server);
    return server;
  }

  /** Frees a slot taken by `assign` or a ticket and hands it to the oldest waiter. */
  release(server: PoolServer): void {
    server.cur--;
    this.#serve(server);
  }

  /** Withdraws a ticket that will not be used (the session ended while queued). */
  cancel(ticket: QueueTicket): void {
    clearTimeout(ticket.timer);
    (ticket.owner ? ticket.owner.queue : this.queue).remove(ticket);
  }

  /** Sets the operational state (health checks). */
  setUsable(server: PoolServer, up: boolean): void {
    if (server.up === up) return;
    server.up = up;
    this.#recompute();
  }

  /** Sets or clears admin maintenance. */
  setMaintenance(server: PoolServer, maint: boolean): void {
    if (server.maint === maint) return;
    server.maint = maint;
    this.#recompute();
  }

  /** Sets or clears admin drain (no new load-balanced connections). */
  setDrain(server: PoolServer, drain: boolean): void {
    if (server.drain === drain) return;
    server.drain = drain;
    this.#recompute();
  }

  /**
   * Sets the effective weight (0..256, fractional during slowstart); 0 removes the server from
   * load balancing.
   */
  setWeight(server: PoolServer, weight: number): void {
    const w = Math.max(0, Math.min(256, weight));
    if (server.weight === w) return;
    server.weight = w;
    this.#recompute();
  }

  /**
   * Reload: takes over the counters of the previous generation's pool of the same backend, and
   * the state (up, maintenance, drain, weight) and counters of each server whose settings did
   * not change, so the stats stay continuous and no server flaps.
   */
  inheritFrom(old: ServerPool): void {
    this.max = old.max;
    this.total = old.total;
    this.bytesIn = old.bytesIn;
    this.bytesOut = old.bytesOut;
    this.connectErrors = old.connectErrors;
    this.retries = old.retries;
    this.redispatches = old.redispatches;
    this.queueTimeouts = old.queueTimeouts;
    this.noServer = old.noServer;
    for (const s of this.servers) {
      const o = old.server(s.name);
      if (o === undefined || JSON.stringify(o.config) !== JSON.stringify(s.config)) continue;
      s.up = o.up;
      s.maint = o.maint;
      s.drain = o.drain;
      s.weight = o.weight;
      s.max = o.max;
      s.total = o.total;
      s.bytesIn = o.bytesIn;
      s.bytesOut = o.bytesOut;
      s.connectErrors = o.connectErrors;
      s.retries = o.retries;
      s.redispatches = o.redispatches;
      s.aborts = o.aborts;
    }
    this.#recompute();
  }

  /** Wakes every waiter with null (timeout path) and stops queue timers; for shutdown. */
  close(): void {
    this.#closed = true;
    for (const q of [this.queue, ...this.servers.map((s) => s.queue)]) {
      for (let t = q.peek(); t !== undefined; t = q.peek()) this.#expire(t);
    }
  }

  /** Plain-data counters and states. */
  snapshot(): BackendSnapshot {
    let active = 0;
    let backup = 0;
    for (const s of this.servers) {
      if (!s.up || s.maint) continue;
      if (s.backup) backup++;
      else active++;
    }
    return {
      name: this.name,
      mode: this.backend.mode,
      usable: this.hasUsableServer(),
      activeServers: active,
      backupServers: backup,
      cur: this.cur,
      max: this.max,
      total: this.total,
      queueCur: this.queue.length,
      queueMax: this.queue.max,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      connectErrors: this.connectErrors,
      retries: this.retries,
      redispatches: this.redispatches,
      queueTimeouts: this.queueTimeouts,
      noServer: this.noServer,
      servers: this.servers.map(snapshotServer),
    };
  }

  #take(server: PoolServer): void {
    if (++server.cur > server.max) server.max = server.cur;
    server.total++;
  }

  #enqueue(owner: PoolServer | null): QueueTicket {
    const ticket = new QueueTicket(owner);
    const queue = owner ? owner.queue : this.queue;
    ticket.mark = queue.idx - 1;
    queue.push(ticket);
    const ms = this.#queueTimeout;
    if (ms !== null) ticket.timer = setTimeout(() => this.#expire(ticket), ms);
    if (this.#closed) this.#expire(ticket);
    return ticket;
  }

  #expire(ticket: QueueTicket): void {
    clearTimeout(ticket.timer);
    const queue = ticket.owner ? ticket.owner.queue : this.queue;
    queue.remove(ticket);
    this.#recordPos(ticket, queue);
    this.queueTimeouts++;
    ticket.resolve(null);
  }

  #recordPos(ticket: QueueTicket, queue: WaitQueue): void {
    const pos = queue.idx - ticket.mark;
    if (ticket.owner) ticket.srvQueuePos = pos;
    else ticket.backendQueuePos = pos;
  }

  /** Gives the server's free slots to the oldest waiters (its own queue, else the backend's). */
  #serve(server: PoolServer): void {
    while (!server.full()) {
      const own = server.queue.peek();
      const shared = server.eligible ? this.queue.peek() : undefined;
      let ticket: QueueTicket;
      let queue: WaitQueue;
      if (own !== undefined && (shared === undefined || own.seq < shared.seq)) {
        ticket = own;
        queue = server.queue;
      } else if (shared !== undefined) {
        ticket = shared;
        queue = this.queue;
      } else {
        return;
      }
      clearTimeout(ticket.timer);
      queue.remove(ticket);
      this.#recordPos(ticket, queue);
      queue.idx++;
      ticket.owner = server;
      this.#take(server);
      ticket.resolve(server);
    }
  }

  #recompute(): void {
    const usable = (s: PoolServer) => s.up && !s.maint && !s.drain && s.weight > 0;
    let set = this.servers.filter((s) => !s.backup && usable(s));
    if (set.length === 0) {
      const backups = this.servers.filter((s) => s.backup && usable(s));
      set = this.backend.allbackups ? backups : backups.slice(0, 1);
    }
    for (const s of this.servers) s.eligible = false;
    for (const s of set) s.eligible = true;
    this.#eligible = set;
    const entries: LbEntry<PoolServer>[] = set.map((s) => ({
      server: s,
      id: s.id,
      weight: s.weight,
    }));
    this.#balancer.update(entries);
    // Waiters bound to a server that left the set move to the backend queue.
    for (const s of this.servers) {
      if (s.eligible || s.queue.length === 0) continue;
      for (let t = s.queue.peek(); t !== undefined; t = s.queue.peek()) {
        s.queue.remove(t);
        t.owner = null;
        t.mark = this.queue.idx - 1;
        this.queue.push(t);
      }
    }
    for (const s of set) this.#serve(s);
    this.onChange?.();
  }

  /** Server states as plain data, for mirroring into another thread's pool. */
  states(): ServerStateCopy[] {
    return this.servers.map((s) => ({
      name: s.name,
      up: s.up,
      maint: s.maint,
      drain: s.drain,
      weight: s.weight,
    }));
  }

  /** Applies states taken with {@linkcode states} from the same backend in another thread. */
  applyStates(states: readonly ServerStateCopy[]): void {
    for (const st of states) {
      const s = this.server(st.name);
      if (s === undefined) continue;
      s.up = st.up;
      s.maint = st.maint;
      s.drain = st.drain;
      s.weight = st.weight;
    }
    this.#recompute();
  }
}

function serverLoad(server: PoolServer): number {
  return server.cur + server.queue.length;
}

function serverFull(server: PoolServer): boolean {
  return server.full();
}

function snapshotServer(s: PoolServer): ServerSnapshot {
  return {
    name: s.name,
    id: s.id,
    address: s.config.address.text,
    status: s.status(),
    backup: s.backup,
    eligible: s.eligible,
    weight: s.weight,
    cur: s.cur,
    max: s.max,
    limit: s.config.maxconn,
    total: s.total,
    queueCur: s.queue.length,
    queueMax: s.queue.max,
    queueLimit: s.config.maxqueue,
    bytesIn: s.bytesIn,
    bytesOut: s.bytesOut,
    connectErrors: s.connectErrors,
    retries: s.retries,
    redispatches: s.redispatches,
    aborts: s.aborts,
  };
}
