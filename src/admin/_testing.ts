/**
 * Test helpers for the admin layer: an {@linkcode AdminSource} over an in-memory model whose
 * server actions really change the state (MAINT, DRAIN, READY, weight) and that records calls,
 * and an {@linkcode AdminConfig} builder.
 *
 * @module
 */
import type { AdminConfig } from "../config/types.ts";
import type {
  AdminSource,
  BackendRow,
  ServerAction,
  ServerRow,
  StatsModel,
  VrrpRow,
} from "./model.ts";

/** An admin config on 127.0.0.1:0 with overrides. */
export function testAdminConfig(overrides: Partial<AdminConfig> = {}): AdminConfig {
  return {
    bind: { kind: "inet", host: "127.0.0.1", port: 0, family: 4, text: "127.0.0.1:0" },
    statsUri: "/stats",
    realm: "halb",
    auth: [],
    refresh: null,
    allowChanges: false,
    socket: null,
    ...overrides,
  };
}

function server(
  backend: string,
  id: number,
  name: string,
  overrides: Partial<ServerRow> = {},
): ServerRow {
  return {
    backend,
    id,
    name,
    address: `127.0.0.1:${9000 + id}`,
    status: "UP",
    op: "running",
    maint: false,
    drain: false,
    backup: false,
    weight: 1,
    uweight: 1,
    iweight: 1,
    checked: true,
    cur: 0,
    max: 3,
    limit: 0,
    total: 42,
    rate: 0,
    rateMax: 2,
    queueCur: 0,
    queueMax: 0,
    queueLimit: 0,
    bytesIn: 1000,
    bytesOut: 5000,
    connectErrors: 0,
    responseErrors: 0,
    retries: 0,
    redispatches: 0,
    check: {
      status: "L4OK",
      code: null,
      durationMs: 1,
      info: "",
      description: "Layer4 check passed",
      inProgress: false,
      rise: 2,
      fall: 3,
      health: 4,
    },
    chkfail: 0,
    chkdown: 0,
    lastChangeSec: 75,
    downtimeSec: 0,
    throttle: null,
    ...overrides,
  };
}

function backend(id: number, name: string, servers: ServerRow[], algo = "roundrobin"): BackendRow {
  return {
    id,
    name,
    mode: "tcp",
    algo,
    status: "UP",
    activeServers: 0,
    backupServers: 0,
    weight: 0,
    uweight: 0,
    cur: 0,
    max: 3,
    total: 84,
    rate: 0,
    rateMax: 2,
    queueCur: 0,
    queueMax: 0,
    bytesIn: 2000,
    bytesOut: 10000,
    connectErrors: 1,
    responseErrors: 0,
    retries: 1,
    redispatches: 0,
    servers,
  };
}

/** Recomputes a backend's derived fields from its servers. */
function refresh(be: BackendRow): void {
  const usable = be.servers.filter((s) => !s.maint && !s.status.startsWith("DOWN"));
  be.activeServers = usable.filter((s) => !s.backup).length;
  be.backupServers = usable.filter((s) => s.backup).length;
  const lb = usable.filter((s) => !s.drain && !s.backup);
  be.weight = lb.reduce((n, s) => n + s.weight, 0);
  be.uweight = lb.reduce((n, s) => n + s.uweight, 0);
  be.status = usable.length > 0 ? "UP" : "DOWN";
}

/** A fake source: its model, the calls it got, and what `reload` answers. */
export interface FakeSource extends AdminSource {
  readonly state: StatsModel;
  readonly calls: { backend: string; server: string; action: ServerAction }[];
  reloads: number;
  reloadResult: { ok: boolean; errors: string[] };
}

/**
 * A source with frontends `web` (http) and `db` (tcp), backends `web` (app1 UP, app2 DOWN
 * L4CON, app3 no check, spare backup) and `db` (static-rr, db1), and VRRP instances VI_1
 * (master) and VI_2 (backup). Actions change the model as the runtime would.
 */
export function fakeSource(): FakeSource {
  const now = Date.parse("2026-05-01T12:00:00Z");
  const vrrp: VrrpRow[] = [
    {
      name: "VI_1",
      state: "master",
      priority: 150,
      effectivePriority: 150,
      master: null,
      vips: ["192.0.2.10/24"],
      lastTransition: now - 60_000,
      advertsSent: 60,
      advertsReceived: 0,
      drops: {},
    },
    {
      name: "VI_2",
      state: "backup",
      priority: 100,
      effectivePriority: 90,
      master: "192.0.2.2",
      vips: [],
      lastTransition: now - 120_000,
      advertsSent: 0,
      advertsReceived: 120,
      drops: { "bad-auth": 2 },
    },
  ];
  const web = backend(3, "web", [
    server("web", 1, "app1"),
    server("web", 2, "app2", {
      status: "DOWN",
      op: "stopped",
      weight: 0,
      chkfail: 3,
      chkdown: 1,
      downtimeSec: 30,
      check: {
        status: "L4CON",
        code: null,
        durationMs: 0,
        info: "Connection refused",
        description: "Layer4 connection problem",
        inProgress: false,
        rise: 2,
        fall: 3,
        health: 0,
      },
    }),
    server("web", 3, "app3", {
      checked: false,
      check: null,
      status: "no check",
      weight: 2,
      uweight: 2,
      iweight: 2,
    }),
    server("web", 4, "spare", { backup: true }),
  ]);
  web.mode = "http";
  const db = backend(
    4,
    "db",
    [server("db", 1, "db1", { weight: 3, uweight: 3, iweight: 3 })],
    "static-rr",
  );
  refresh(web);
  refresh(db);
  const state: StatsModel = {
    process: {
      pid: 4242,
      version: "0.1.0",
      now,
      startedAt: now - 3_723_000,
      actconn: 2,
      maxconn: 4000,
      cumConns: 126,
      configFile: "/etc/halb/halb.toml",
      lastReload: null,
    },
    frontends: [
      {
        id: 1,
        name: "web",
        mode: "http",
        status: "OPEN",
        binds: ["127.0.0.1:8080"],
        backend: "web",
        cur: 2,
        max: 5,
        limit: 2000,
        total: 100,
        rate: 1,
        rateMax: 4,
        bytesIn: 3000,
        bytesOut: 15000,
        deniedReq: 1,
        deniedResp: 0,
        errorsReq: 2,
        requests: 120,
        responses: { "1xx": 0, "2xx": 110, "3xx": 5, "4xx": 4, "5xx": 1, other: 0 },
      },
      {
        id: 2,
        name: "db",
        mode: "tcp",
        status: "OPEN",
        binds: ["127.0.0.1:5432"],
        backend: "db",
        cur: 0,
        max: 1,
        limit: 0,
        total: 26,
        rate: 0,
        rateMax: 1,
        bytesIn: 10,
        bytesOut: 20,
        deniedReq: 0,
        deniedResp: 0,
        errorsReq: 0,
        requests: null,
        responses: null,
      },
    ],
    backends: [web, db],
    vrrp,
  };
  const source: FakeSource = {
    state,
    calls: [],
    reloads: 0,
    reloadResult: { ok: true, errors: [] },
    model: () => structuredClone(state),
    serverAction(b, s, action) {
      const be = state.backends.find((x) => x.name === b);
      if (be === undefined) return "No such backend.";
      const sv = be.servers.find((x) => x.name === s);
      if (sv === undefined) return "No such server.";
      source.calls.push({ backend: b, server: s, action });
      if (typeof action === "object") {
        if (action.weight < 0 || action.weight > 256) {
          return "Absolute weight can only be between 0 and 256 inclusive.";
        }
        sv.uweight = action.weight;
        if (!sv.maint && !sv.status.startsWith("DOWN")) sv.weight = action.weight;
      } else {
        sv.maint = action === "maint";
        sv.drain = action === "drain";
        sv.status = action === "maint"
          ? "MAINT"
          : action === "drain"
          ? "DRAIN"
          : sv.checked
          ? "UP"
          : "no check";
        sv.lastChangeSec = 0;
        sv.weight = action === "ready" ? sv.uweight : 0;
      }
      refresh(be);
      return null;
    },
    reload() {
      source.reloads++;
      const r = source.reloadResult;
      state.process.lastReload = { at: state.process.now, ok: r.ok, errors: r.errors };
      return Promise.resolve(r);
    },
  };
  return source;
}
