/**
 * The admin layer's own view of a running halb: {@linkcode StatsModel}, plain data that the stats
 * page, the CSV/JSON exports, `/metrics` and the runtime API all render from, and
 * {@linkcode AdminSource}, what the runtime gives the admin layer (a model on demand, one server
 * action entry point, reload). {@linkcode buildModel} assembles the model from the running
 * graph's snapshots (proxy, health checkers, VRRP) and its config, so the wiring is one call.
 *
 * @module
 */
import type { BackendConfig, Config } from "../config/types.ts";
import type { ServerSnapshot as CheckSnapshot } from "../proxy/health/server_state.ts";
import { CHECK_STATUSES } from "../proxy/health/server_state.ts";
import type { BackendSnapshot, ServerSnapshot as PoolSnapshot } from "../proxy/server_pool.ts";
import type { VrrpSnapshot } from "../vrrp/instance.ts";

/** A server action as the stats page and the runtime API ask for it. */
export type ServerAction = "ready" | "drain" | "maint" | { readonly weight: number };

/** HTTP response counts by class (HTTP-mode rows only). */
export interface HttpResponses {
  "1xx": number;
  "2xx": number;
  "3xx": number;
  "4xx": number;
  "5xx": number;
  other: number;
}

/** The process block of the stats page and `show info`. */
export interface ProcessInfo {
  pid: number;
  version: string;
  /** Wall clock ms when the model was built. */
  now: number;
  /** Wall clock ms when the process started. */
  startedAt: number;
  /** Process-wide current connections. */
  actconn: number;
  maxconn: number;
  /** Connections accepted since start (sum of frontend totals). */
  cumConns: number;
  configFile: string;
  /** The last reload, or null when none happened. */
  lastReload: { at: number; ok: boolean; errors: string[] } | null;
}

/** One frontend row. */
export interface FrontendRow {
  /** HAProxy's proxy id (`iid`). */
  id: number;
  name: string;
  mode: "tcp" | "http";
  /** "OPEN" while listening, else "STOP". */
  status: "OPEN" | "STOP";
  binds: string[];
  backend: string | null;
  cur: number;
  max: number;
  /** 0 = unlimited. */
  limit: number;
  total: number;
  rate: number;
  rateMax: number;
  bytesIn: number;
  bytesOut: number;
  deniedReq: number;
  deniedResp: number;
  errorsReq: number;
  /** HTTP frontends only. */
  requests: number | null;
  /** HTTP frontends only. */
  responses: HttpResponses | null;
}

/** The health check part of a server row. */
export interface CheckInfo {
  /** HAProxy's short status, e.g. "L4OK", "L7STS". */
  status: string;
  /** HTTP status for L7 checks, else null. */
  code: number | null;
  /** Null until a check completed. */
  durationMs: number | null;
  /** HAProxy's `last_chk` text (e.g. "Connection refused"); "" when none. */
  info: string;
  /** HAProxy's long description of `status` (CSV `check_desc`). */
  description: string;
  inProgress: boolean;
  rise: number;
  fall: number;
  health: number;
}

/** One server row. */
export interface ServerRow {
  backend: string;
  id: number;
  name: string;
  address: string;
  /** HAProxy's status text: "UP", "UP 1/3", "DOWN", "DOWN 1/2", "NOLB", "DRAIN", "MAINT", "no check". */
  status: string;
  /** Operational state: "stopped" | "starting" | "running" | "stopping". */
  op: string;
  maint: boolean;
  drain: boolean;
  backup: boolean;
  /** Effective weight now (slowstart, 0 when not usable). */
  weight: number;
  /** Weight set by the user (`set weight`). */
  uweight: number;
  /** Weight from the config. */
  iweight: number;
  cur: number;
  max: number;
  /** 0 = unlimited. */
  limit: number;
  total: number;
  rate: number;
  rateMax: number;
  queueCur: number;
  queueMax: number;
  /** 0 = unlimited. */
  queueLimit: number;
  bytesIn: number;
  bytesOut: number;
  connectErrors: number;
  responseErrors: number;
  retries: number;
  redispatches: number;
  /** `check = true` in the config. */
  checked: boolean;
  /** Null without health checks (or while in MAINT, when checks pause). */
  check: CheckInfo | null;
  chkfail: number;
  chkdown: number;
  /** Seconds since the last state change. */
  lastChangeSec: number;
  /** Total seconds spent DOWN. */
  downtimeSec: number;
  /** Slowstart throttle in percent, null when not throttled. */
  throttle: number | null;
}

/** One backend row with its servers. */
export interface BackendRow {
  id: number;
  name: string;
  mode: "tcp" | "http";
  algo: string;
  /** "UP" when a server can take traffic, else "DOWN". */
  status: "UP" | "DOWN";
  activeServers: number;
  backupServers: number;
  /** Sum of the effective weights of the servers in the load-balancing set. */
  weight: number;
  /** Sum of the user weights of the same servers. */
  uweight: number;
  cur: number;
  max: number;
  total: number;
  rate: number;
  rateMax: number;
  queueCur: number;
  queueMax: number;
  bytesIn: number;
  bytesOut: number;
  connectErrors: number;
  responseErrors: number;
  retries: number;
  redispatches: number;
  servers: ServerRow[];
}

/** One VRRP instance row. */
export interface VrrpRow {
  name: string;
  /** "initialize" | "backup" | "master" | "fault" | "stopped". */
  state: string;
  priority: number;
  effectivePriority: number;
  /** The master heard last; null when we are master or none was heard. */
  master: string | null;
  vips: string[];
  /** Wall clock ms of the last transition, or null. */
  lastTransition: number | null;
  advertsSent: number;
  advertsReceived: number;
  drops: Record<string, number>;
}

/** Everything the admin layer shows, as plain JSON-able data. */
export interface StatsModel {
  process: ProcessInfo;
  frontends: FrontendRow[];
  backends: BackendRow[];
  vrrp: VrrpRow[];
}

/** What the runtime gives the admin layer. */
export interface AdminSource {
  /** The current state. */
  model(): StatsModel;
  /**
   * Applies a server action through the runtime's one entry point; returns null on success or
   * the error text (HAProxy's wording, e.g. "No such server.").
   */
  serverAction(backend: string, server: string, action: ServerAction): string | null;
  /** Validates the config file again and swaps the running graph when it is valid. */
  reload(): Promise<{ ok: boolean; errors: string[] }>;
}

/**
 * The frontend fields {@linkcode buildModel} reads (`FrontendSnapshot` of `Proxy.snapshot()`
 * fits): L4 counters, and the HTTP engine's counters for mode http frontends.
 */
export interface FrontendInput {
  name: string;
  listening: boolean;
  backend: string | null;
  binds: readonly { address: string; bound: string | null }[];
  cur: number;
  max: number;
  limit: number;
  total: number;
  bytesIn: number;
  bytesOut: number;
  /** HAProxy's req_tot, dreq, ereq and hrsp_* (responses: index 0 other, 1..5 for 1xx..5xx). */
  http?: {
    requests: number;
    denied: number;
    invalid: number;
    responses: readonly number[];
  } | null;
}

/**
 * Per-object session rates (sessions per second over the last full second, and the highest seen)
 * computed from the growth of cumulative totals between models. Keep one per process.
 */
export class RateMeter {
  #last = new Map<string, { at: number; total: number; rate: number; max: number }>();

  /** Records `total` for `key` at `now` (ms); returns the current and max rate. */
  sample(key: string, total: number, now: number): { rate: number; max: number } {
    const prev = this.#last.get(key);
    if (prev === undefined || total < prev.total) {
      this.#last.set(key, { at: now, total, rate: 0, max: prev?.max ?? 0 });
      return { rate: 0, max: prev?.max ?? 0 };
    }
    const dt = now - prev.at;
    if (dt < 1000) return { rate: prev.rate, max: prev.max };
    const rate = Math.round((total - prev.total) * 1000 / dt);
    const max = Math.max(prev.max, rate);
    this.#last.set(key, { at: now, total, rate, max });
    return { rate, max };
  }
}

/** What {@linkcode buildModel} assembles. */
export interface ModelParts {
  config: Config;
  /** `Proxy.snapshot()`. */
  proxy: {
    actconn: number;
    maxconn: number;
    frontends: readonly FrontendInput[];
    backends: readonly BackendSnapshot[];
  };
  /** Every `BackendChecker.snapshots()`, concatenated (they carry their backend's name). */
  checks: readonly CheckSnapshot[];
  /** `Vrrp.snapshot()`, or [] without VRRP. */
  vrrp: readonly VrrpSnapshot[];
  /** Wall clock ms now. */
  now: number;
  /** Wall clock ms when the process started. */
  startedAt: number;
  version: string;
  pid?: number;
  lastReload?: ProcessInfo["lastReload"];
  /** Session rates; without it, rates are 0. */
  rates?: RateMeter;
}

const NO_RATE = { rate: 0, max: 0 };

/**
 * Assembles a {@linkcode StatsModel}: one frontend row per configured frontend, one backend row
 * per configured backend (zeros where the engine keeps no counters), health state from the
 * checkers where a backend has one, VRRP as the driver reports it. Proxy ids follow HAProxy's
 * order: frontends first, then backends, from 1.
 */
export function buildModel(parts: ModelParts): StatsModel {
  const { config, proxy, now, rates } = parts;
  const rate = (key: string, total: number) => rates?.sample(key, total, now) ?? NO_RATE;
  const frontends = config.frontends.map((fe, i): FrontendRow => {
    const snap = proxy.frontends.find((f) => f.name === fe.name);
    const total = snap?.total ?? 0;
    const r = rate(`f/${fe.name}`, total);
    return {
      id: i + 1,
      name: fe.name,
      mode: fe.mode,
      status: snap?.listening ? "OPEN" : "STOP",
      binds: snap?.binds.map((b) => b.bound ?? b.address) ?? fe.binds.map((b) => b.address.text),
      backend: snap?.backend ?? fe.defaultBackend,
      cur: snap?.cur ?? 0,
      max: snap?.max ?? 0,
      limit: snap?.limit ?? fe.maxconn,
      total,
      rate: r.rate,
      rateMax: r.max,
      bytesIn: snap?.bytesIn ?? 0,
      bytesOut: snap?.bytesOut ?? 0,
      deniedReq: snap?.http?.denied ?? 0,
      deniedResp: 0,
      errorsReq: snap?.http?.invalid ?? 0,
      requests: fe.mode === "http" ? snap?.http?.requests ?? 0 : null,
      responses: fe.mode === "http" ? responseClasses(snap?.http?.responses ?? []) : null,
    };
  });
  const checks = new Map(parts.checks.map((c) => [`${c.backend}/${c.name}`, c]));
  const backends = config.backends.map((be, i) =>
    backendRow(be, {
      id: config.frontends.length + i + 1,
      snap: proxy.backends.find((b) => b.name === be.name),
      checks,
      now,
      startedAt: parts.startedAt,
      rate,
    })
  );
  return {
    process: {
      pid: parts.pid ?? Deno.pid,
      version: parts.version,
      now,
      startedAt: parts.startedAt,
      actconn: proxy.actconn,
      maxconn: proxy.maxconn,
      cumConns: frontends.reduce((n, f) => n + f.total, 0),
      configFile: config.file,
      lastReload: parts.lastReload ?? null,
    },
    frontends,
    backends,
    vrrp: parts.vrrp.map(vrrpRow),
  };
}

function responseClasses(counts: readonly number[]): HttpResponses {
  const n = (i: number) => counts[i] ?? 0;
  return { "1xx": n(1), "2xx": n(2), "3xx": n(3), "4xx": n(4), "5xx": n(5), other: n(0) };
}

function backendRow(
  be: BackendConfig,
  ctx: {
    id: number;
    snap: BackendSnapshot | undefined;
    checks: ReadonlyMap<string, CheckSnapshot>;
    now: number;
    startedAt: number;
    rate: (key: string, total: number) => { rate: number; max: number };
  },
): BackendRow {
  const { snap } = ctx;
  const servers = be.servers.map((sc): ServerRow => {
    const pool = snap?.servers.find((s) => s.name === sc.name);
    const check = ctx.checks.get(`${be.name}/${sc.name}`);
    const total = pool?.total ?? 0;
    const r = ctx.rate(`s/${be.name}/${sc.name}`, total);
    const base = {
      backend: be.name,
      id: sc.id,
      name: sc.name,
      address: sc.address.text,
      backup: sc.backup,
      iweight: sc.weight,
      checked: sc.check,
      cur: pool?.cur ?? 0,
      max: pool?.max ?? 0,
      limit: sc.maxconn,
      total,
      rate: r.rate,
      rateMax: r.max,
      queueCur: pool?.queueCur ?? 0,
      queueMax: pool?.queueMax ?? 0,
      queueLimit: sc.maxqueue,
      bytesIn: pool?.bytesIn ?? 0,
      bytesOut: pool?.bytesOut ?? 0,
      connectErrors: pool?.connectErrors ?? 0,
      responseErrors: pool?.aborts ?? 0,
      retries: pool?.retries ?? 0,
      redispatches: pool?.redispatches ?? 0,
    };
    return check !== undefined
      ? { ...base, ...fromChecker(check, ctx.now) }
      : { ...base, ...fromPool(pool, sc, ctx) };
  });
  const inSet = servers.filter((s) => snap?.servers.find((p) => p.name === s.name)?.eligible);
  const usable = servers.filter((s) => s.status !== "MAINT" && !s.status.startsWith("DOWN"));
  const total = snap?.total ?? 0;
  const r = ctx.rate(`b/${be.name}`, total);
  return {
    id: ctx.id,
    name: be.name,
    mode: be.mode,
    algo: be.balance.algorithm,
    status: snap === undefined
      ? (usable.length > 0 ? "UP" : "DOWN")
      : (snap.usable ? "UP" : "DOWN"),
    activeServers: usable.filter((s) => !s.backup).length,
    backupServers: usable.filter((s) => s.backup).length,
    weight: inSet.reduce((n, s) => n + s.weight, 0),
    uweight: inSet.reduce((n, s) => n + s.uweight, 0),
    cur: snap?.cur ?? 0,
    max: snap?.max ?? 0,
    total,
    rate: r.rate,
    rateMax: r.max,
    queueCur: snap?.queueCur ?? 0,
    queueMax: snap?.queueMax ?? 0,
    bytesIn: snap?.bytesIn ?? 0,
    bytesOut: snap?.bytesOut ?? 0,
    connectErrors: snap?.connectErrors ?? 0,
    responseErrors: servers.reduce((n, s) => n + s.responseErrors, 0),
    retries: snap?.retries ?? 0,
    redispatches: snap?.redispatches ?? 0,
    servers,
  };
}

type StateFields = Pick<
  ServerRow,
  | "status"
  | "op"
  | "maint"
  | "drain"
  | "weight"
  | "uweight"
  | "check"
  | "chkfail"
  | "chkdown"
  | "lastChangeSec"
  | "downtimeSec"
  | "throttle"
>;

function fromChecker(c: CheckSnapshot, now: number): StateFields {
  return {
    status: c.status,
    op: c.op,
    maint: c.maint,
    drain: c.drain,
    weight: Math.round(c.weight),
    uweight: c.uweight,
    check: c.check === null ? null : {
      status: c.check.status,
      code: c.check.code,
      durationMs: c.check.durationMs,
      info: c.check.description,
      description: CHECK_STATUSES[c.check.status].description,
      inProgress: c.check.inProgress,
      rise: c.check.rise,
      fall: c.check.fall,
      health: c.check.health,
    },
    chkfail: c.chkfail,
    chkdown: c.chkdown,
    lastChangeSec: Math.max(0, Math.floor((now - c.lastChange) / 1000)),
    downtimeSec: Math.floor(c.downtimeMs / 1000),
    throttle: c.throttle,
  };
}

function fromPool(
  pool: PoolSnapshot | undefined,
  sc: BackendConfig["servers"][number],
  ctx: { now: number; startedAt: number },
): StateFields {
  const status = pool?.status ?? (sc.disabled ? "MAINT" : "UP");
  const uweight = pool?.weight ?? sc.weight;
  return {
    status: status === "UP" ? "no check" : status,
    op: status === "DOWN" ? "stopped" : "running",
    maint: status === "MAINT",
    drain: status === "DRAIN",
    weight: status === "UP" ? uweight : 0,
    uweight,
    check: null,
    chkfail: 0,
    chkdown: 0,
    lastChangeSec: Math.max(0, Math.floor((ctx.now - ctx.startedAt) / 1000)),
    downtimeSec: 0,
    throttle: null,
  };
}

function vrrpRow(v: VrrpSnapshot): VrrpRow {
  const drops: Record<string, number> = {};
  for (const [reason, n] of Object.entries(v.counters.drops)) {
    if (n !== undefined) drops[reason] = n;
  }
  return {
    name: v.name,
    state: v.state,
    priority: v.priority,
    effectivePriority: v.effectivePriority,
    master: v.masterAddress,
    vips: [...v.vips],
    lastTransition: v.lastTransition,
    advertsSent: v.counters.advertsSent,
    advertsReceived: v.counters.advertsReceived,
    drops,
  };
}

/** Finds a backend by name or `#<id>` (HAProxy's syntax). */
export function findBackend(model: StatsModel, ref: string): BackendRow | undefined {
  if (ref.startsWith("#")) {
    const id = Number(ref.slice(1));
    return model.backends.find((b) => b.id === id);
  }
  return model.backends.find((b) => b.name === ref);
}

/** Finds a server of a backend by name or `#<id>`. */
export function findServer(backend: BackendRow, ref: string): ServerRow | undefined {
  if (ref.startsWith("#")) {
    const id = Number(ref.slice(1));
    return backend.servers.find((s) => s.id === id);
  }
  return backend.servers.find((s) => s.name === ref);
}
