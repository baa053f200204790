import assert from "node:assert/strict";
import { testBackend, testConfig, testFrontend, testServer } from "../../tests/helpers/config.ts";
import { configuredBalancer } from "../proxy/proxy.ts";
import { ServerPool } from "../proxy/server_pool.ts";
import { createChecker } from "../proxy/health/checker.ts";
import type { ProbeResult } from "../proxy/health/server_state.ts";
import type { VrrpSnapshot } from "../vrrp/instance.ts";
import { applyServerAction, STATIC_WEIGHT_ERROR } from "./actions.ts";
import { buildModel, RateMeter } from "./model.ts";

function fixture() {
  const checked = testBackend("web", [
    testServer("a", 9001, { check: true, weight: 2 }),
    testServer("b", 9002, { check: true }),
  ]);
  const plain = testBackend("db", [testServer("d1", 9003, { maxconn: 10 })], {
    balance: { algorithm: "static-rr" },
  });
  const config = testConfig({
    frontends: [testFrontend("fe_web", "web", { mode: "http" }), testFrontend("fe_db", "db")],
    backends: [checked, plain],
  });
  const pools = new Map(
    config.backends.map((b) => [b.name, new ServerPool(b, { balancer: configuredBalancer })]),
  );
  let now = 1_000_000;
  const probe = (): Promise<ProbeResult> =>
    Promise.resolve({ status: "L4OK", durationMs: 1, description: "" });
  const webPool = pools.get("web")!;
  const checker = createChecker(checked, {
    clock: () => now,
    probe,
    onChange(name, snap) {
      const s = webPool.server(name)!;
      webPool.setWeight(s, snap.weight > 0 ? Math.max(1, Math.round(snap.weight)) : 0);
      webPool.setUsable(s, snap.usable);
    },
  });
  const vrrp: VrrpSnapshot[] = [{
    name: "VI_1",
    state: "master",
    priority: 100,
    effectivePriority: 110,
    masterAddress: null,
    vips: ["192.0.2.1/24"],
    lastTransition: 5000,
    counters: { advertsSent: 3, advertsReceived: 1, drops: { ttl: 1 } },
  }];
  const model = () =>
    buildModel({
      config,
      proxy: {
        actconn: 1,
        maxconn: 4000,
        frontends: [{
          name: "fe_web",
          listening: true,
          backend: "web",
          binds: [{ address: "127.0.0.1:0", bound: "127.0.0.1:4321" }],
          cur: 1,
          max: 2,
          limit: 0,
          total: 7,
          bytesIn: 10,
          bytesOut: 20,
          http: { requests: 9, denied: 1, invalid: 2, responses: [0, 0, 8, 0, 1, 0] },
        }],
        backends: [...pools.values()].map((p) => p.snapshot()),
      },
      checks: checker.snapshots(),
      vrrp,
      now,
      startedAt: now - 10_000,
      version: "9.9.9",
      pid: 77,
    });
  return {
    pools,
    checker,
    model,
    advance: (ms: number) => (now += ms),
    targets: { pools, checkers: new Map([["web", checker]]) },
  };
}

Deno.test("buildModel: rows for every configured object, health from the checker", () => {
  const f = fixture();
  try {
    const m = f.model();
    assert.deepEqual(m.frontends.map((x) => [x.id, x.name, x.status]), [
      [1, "fe_web", "OPEN"],
      [2, "fe_db", "STOP"],
    ]);
    assert.deepEqual(m.frontends[0].binds, ["127.0.0.1:4321"]);
    assert.equal(m.frontends[0].total, 7);
    assert.equal(m.frontends[0].deniedReq, 1);
    assert.equal(m.frontends[0].errorsReq, 2);
    assert.equal(m.frontends[0].requests, 9);
    assert.deepEqual(m.frontends[0].responses, {
      "1xx": 0,
      "2xx": 8,
      "3xx": 0,
      "4xx": 1,
      "5xx": 0,
      other: 0,
    });
    assert.equal(m.frontends[1].requests, null, "tcp frontend");
    assert.deepEqual(m.backends.map((b) => [b.id, b.name, b.status, b.algo]), [
      [3, "web", "UP", "roundrobin"],
      [4, "db", "UP", "static-rr"],
    ]);
    const [a, b] = m.backends[0].servers;
    assert.equal(a.status, "UP 1/3", "a checked server starts UP with health = rise");
    assert.equal(a.iweight, 2);
    assert.equal(a.check?.status, "INI");
    assert.equal(a.check?.description, "Initializing");
    assert.equal(b.checked, true);
    const d1 = m.backends[1].servers[0];
    assert.equal(d1.status, "no check");
    assert.equal(d1.check, null);
    assert.equal(d1.limit, 10);
    assert.equal(d1.lastChangeSec, 10);
    assert.equal(m.backends[0].weight, 3);
    assert.equal(m.process.pid, 77);
    assert.equal(m.process.cumConns, 7);
    assert.deepEqual(m.vrrp[0], {
      name: "VI_1",
      state: "master",
      priority: 100,
      effectivePriority: 110,
      master: null,
      vips: ["192.0.2.1/24"],
      lastTransition: 5000,
      advertsSent: 3,
      advertsReceived: 1,
      drops: { ttl: 1 },
    });
    JSON.parse(JSON.stringify(m));
  } finally {
    f.checker.stop();
  }
});

Deno.test("applyServerAction: through the checker where there is one, the pool otherwise", () => {
  const f = fixture();
  try {
    const act = (
      backend: string,
      server: string,
      action: Parameters<typeof applyServerAction>[2],
    ) => applyServerAction(f.targets, { backend, server }, action);
    assert.equal(act("web", "a", "maint"), null);
    let m = f.model();
    assert.equal(m.backends[0].servers[0].status, "MAINT");
    assert.equal(m.backends[0].servers[0].check, null);
    assert.equal(f.pools.get("web")!.server("a")!.eligible, false);
    assert.equal(act("web", "a", "drain"), null);
    m = f.model();
    assert.equal(m.backends[0].servers[0].status, "DRAIN 1/3");
    assert.equal(act("web", "a", "ready"), null);
    assert.equal(act("web", "b", { weight: 7 }), null);
    m = f.model();
    assert.equal(m.backends[0].servers[0].status, "UP 1/3");
    assert.equal(m.backends[0].servers[1].uweight, 7);
    assert.equal(f.pools.get("web")!.server("b")!.weight, 7);

    assert.equal(act("db", "d1", "maint"), null);
    assert.equal(f.model().backends[1].servers[0].status, "MAINT");
    assert.equal(act("db", "d1", "drain"), null);
    assert.equal(f.model().backends[1].servers[0].status, "DRAIN");
    assert.equal(act("db", "d1", "ready"), null);
    assert.equal(f.model().backends[1].servers[0].status, "no check");
    assert.equal(act("db", "d1", { weight: 0 }), null);
    assert.equal(act("db", "d1", { weight: 1 }), null);
    assert.equal(act("db", "d1", { weight: 5 }), STATIC_WEIGHT_ERROR);

    assert.equal(act("nope", "a", "maint"), "No such backend.");
    assert.equal(act("web", "zz", "maint"), "No such server.");
    assert.equal(
      act("web", "a", { weight: 257 }),
      "Absolute weight can only be between 0 and 256 inclusive.",
    );
  } finally {
    f.checker.stop();
  }
});

Deno.test("RateMeter: sessions per second over full seconds, with the maximum", () => {
  const r = new RateMeter();
  assert.deepEqual(r.sample("x", 0, 0), { rate: 0, max: 0 });
  assert.deepEqual(r.sample("x", 5, 500), { rate: 0, max: 0 });
  assert.deepEqual(r.sample("x", 10, 1000), { rate: 10, max: 10 });
  assert.deepEqual(r.sample("x", 14, 3000), { rate: 2, max: 10 });
  assert.deepEqual(r.sample("x", 2, 4000), { rate: 0, max: 10 }, "counter reset");
});
