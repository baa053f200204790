import assert from "node:assert/strict";
import {
  type CheckStatus,
  effectiveMaxconn,
  effectiveWeight,
  initialState,
  isDynamicBalance,
  isUsable,
  type ServerAction,
  type ServerEvent,
  type ServerParams,
  type ServerState,
  snapshot,
  statusText,
  step,
  throttle,
} from "./server_state.ts";

function params(over: Partial<ServerParams> = {}): ServerParams {
  return {
    name: "s1",
    backend: "be",
    backup: false,
    checked: true,
    rise: 2,
    fall: 3,
    inter: 2000,
    fastinter: 500,
    downinter: 5000,
    slowstart: 0,
    weight: 1,
    maxconn: 0,
    dynamicWeights: true,
    disabled: false,
    ...over,
  };
}

function check(status: CheckStatus, code?: number, description = ""): ServerEvent {
  return { type: "check", result: { status, code, durationMs: 3, description } };
}
const OK = check("L4OK");
const FAIL = check("L4CON", undefined, "Connection refused");

/** Runs events at the given clock values; returns the final state and every step's actions. */
function run(
  state: ServerState,
  events: readonly (readonly [number, ServerEvent])[],
): { state: ServerState; actions: ServerAction[][] } {
  const actions: ServerAction[][] = [];
  for (const [now, ev] of events) {
    const r = step(state, ev, now);
    state = r.state;
    actions.push([...r.actions]);
  }
  return { state, actions };
}

function kinds(actions: readonly ServerAction[]): string[] {
  return actions.flatMap((a) => a.type === "changed" ? [a.transition.kind] : []);
}

function nextCheck(actions: readonly ServerAction[]): number | null {
  const a = actions.find((x) => x.type === "schedule-check");
  return a?.type === "schedule-check" ? a.at : null;
}

Deno.test("server starts UP with health=rise; status UP 1/3 and first check at the delay", () => {
  const s = initialState(params(), 0);
  assert.equal(s.op, "running");
  assert.equal(s.health, 2);
  assert.equal(statusText(s), "UP 1/3");
  assert.equal(s.check.status, "INI");
  assert.deepEqual(step(s, { type: "start", delay: 250 }, 1000).actions, [
    { type: "schedule-check", at: 1250 },
  ]);
});

Deno.test("startup rule: first failure marks DOWN at once, then rise successes bring it UP", () => {
  const r = run(initialState(params(), 0), [[100, FAIL], [5100, OK], [5600, OK]]);
  // [time of step, status text after, transitions, next check time]
  assert.deepEqual(kinds(r.actions[0]), ["down"]);
  assert.equal(nextCheck(r.actions[0]), 100 + 5000, "fully DOWN → downinter");
  assert.deepEqual(kinds(r.actions[1]), []);
  assert.equal(nextCheck(r.actions[1]), 5100 + 500, "going up → fastinter");
  assert.deepEqual(kinds(r.actions[2]), ["up"]);
  assert.equal(nextCheck(r.actions[2]), 5600 + 2000, "fully UP → inter");
  assert.equal(statusText(r.state), "UP");
  assert.equal(r.state.chkfail, 1);
  assert.equal(r.state.chkdown, 1);
  assert.equal(r.state.downtimeMs, 5500);
});

Deno.test("rise/fall counting and status strings, table", () => {
  const table: [string, ServerEvent[], string, number][] = [
    // name, events from a fresh server, expected status, expected health
    ["one success from start → UP", [OK], "UP", 4],
    ["fail → DOWN", [FAIL], "DOWN", 0],
    ["fail, ok → DOWN 1/2", [FAIL, OK], "DOWN 1/2", 1],
    ["fail, ok, fail → DOWN (reset)", [FAIL, OK, FAIL], "DOWN", 0],
    ["up, fail → UP 2/3", [OK, FAIL], "UP 2/3", 3],
    ["up, fail, fail → UP 1/3", [OK, FAIL, FAIL], "UP 1/3", 2],
    ["up, fail×2, ok → UP", [OK, FAIL, FAIL, OK], "UP", 4],
    ["up, fail×3 → DOWN", [OK, FAIL, FAIL, FAIL], "DOWN", 0],
  ];
  for (const [name, events, status, health] of table) {
    const r = run(initialState(params(), 0), events.map((e, i) => [i * 1000, e] as const));
    assert.equal(statusText(r.state), status, name);
    assert.equal(r.state.health, health, name);
  }
});

Deno.test("check interval: fastinter in transition, downinter when DOWN, inter when UP", () => {
  const table: [ServerEvent[], number][] = [
    [[OK], 2000],
    [[OK, FAIL], 500],
    [[FAIL], 5000],
    [[FAIL, OK], 500],
  ];
  for (const [events, inter] of table) {
    const r = run(initialState(params(), 0), events.map((e) => [0, e] as const));
    assert.equal(nextCheck(r.actions[r.actions.length - 1]), inter, JSON.stringify(events));
  }
});

Deno.test("MAINT pauses checks; ready brings the server back UP and re-checks", () => {
  let s = run(initialState(params(), 0), [[0, OK]]).state;
  let r = step(s, { type: "admin", action: "maint" }, 1000);
  assert.deepEqual(r.actions.map((a) => a.type), ["cancel-check", "changed"]);
  assert.deepEqual(kinds(r.actions), ["maint"]);
  s = r.state;
  assert.equal(statusText(s), "MAINT");
  assert.equal(s.op, "stopped");
  assert.equal(s.chkdown, 1);
  assert.equal(snapshot(s, 1000).check, null);
  assert.deepEqual(step(s, FAIL, 1500).actions, [], "checks ignored in MAINT");
  assert.deepEqual(step(s, { type: "check-start" }, 1500).actions, []);
  r = step(s, { type: "admin", action: "ready" }, 3000);
  assert.deepEqual(kinds(r.actions), ["leave-maint"]);
  assert.equal(nextCheck(r.actions), 3500);
  assert.equal(statusText(r.state), "UP 1/3");
  assert.equal(r.state.downtimeMs, 2000);
});

Deno.test("MAINT while DOWN reports maint-was-down", () => {
  const s = run(initialState(params(), 0), [[0, FAIL]]).state;
  const r = step(s, { type: "admin", action: "maint" }, 10);
  assert.deepEqual(kinds(r.actions), ["maint-was-down"]);
  assert.equal(r.state.chkdown, 1);
});

Deno.test("DRAIN is layered: not usable, status DRAIN, maint clears it, ready restores", () => {
  const up = run(initialState(params({ weight: 3 }), 0), [[0, OK]]).state;
  const table: [string, ("ready" | "drain" | "maint")[], string, string[], boolean][] = [
    ["drain", ["drain"], "DRAIN", ["drain"], false],
    ["drain, ready", ["drain", "ready"], "UP", ["drain", "leave-drain"], true],
    ["drain, maint", ["drain", "maint"], "MAINT", ["drain", "maint"], false],
    ["drain, maint, ready", ["drain", "maint", "ready"], "UP 1/3", [
      "drain",
      "maint",
      "leave-maint",
    ], true],
    ["maint, drain → UP/DRAIN", ["maint", "drain"], "DRAIN 1/3", ["maint", "leave-maint"], false],
  ];
  for (const [name, adm, status, seen, usable] of table) {
    const r = run(up, adm.map((action) => [100, { type: "admin", action }] as const));
    assert.equal(statusText(r.state), status, name);
    assert.deepEqual(r.actions.flatMap(kinds), seen, name);
    assert.equal(isUsable(r.state), usable, name);
    assert.equal(effectiveWeight(r.state, 100), usable ? 3 : 0, name);
  }
  const leave = run(up, [[0, { type: "admin", action: "maint" }], [1, {
    type: "admin",
    action: "drain",
  }]]).actions[1].find((a) => a.type === "changed");
  assert.ok(leave?.type === "changed" && leave.transition.drain, "leave-maint carries DRAIN");
});

Deno.test("NOLB: 404 with disable-on-404 (L7OKC) → stopping, L7OK → UP, failures → DOWN", () => {
  const okc = check("L7OKC", 404);
  const ok = check("L7OK", 200);
  const sts = check("L7STS", 500, "Internal Server Error");
  const r = run(initialState(params(), 0), [[0, ok], [1, okc], [2, okc], [3, ok]]);
  assert.deepEqual(r.actions.map(kinds), [[], ["stopping"], [], ["up"]]);
  const nolb = run(initialState(params(), 0), [[0, okc]]).state;
  assert.equal(statusText(nolb), "NOLB");
  assert.equal(isUsable(nolb), false);
  const going = run(nolb, [[1, sts]]);
  assert.equal(statusText(going.state), "NOLB 2/3");
  const down = run(going.state, [[2, sts], [3, sts]]);
  const t = down.actions[1].find((a) => a.type === "changed");
  assert.ok(t?.type === "changed");
  assert.equal(t.transition.kind, "down");
  assert.equal(t.transition.wasStopping, true);
  assert.equal(t.transition.check?.code, 500);
});

Deno.test("no check: always UP, shown as 'no check', check events ignored", () => {
  const s = initialState(params({ checked: false }), 0);
  assert.equal(statusText(s), "no check");
  assert.deepEqual(step(s, { type: "start", delay: 0 }, 0).actions, []);
  assert.deepEqual(step(s, FAIL, 0), { state: s, actions: [] });
  const drained = step(s, { type: "admin", action: "drain" }, 0).state;
  assert.equal(statusText(drained), "DRAIN");
});

Deno.test("disabled servers start in MAINT and come UP on ready", () => {
  const s = initialState(params({ disabled: true }), 0);
  assert.equal(statusText(s), "MAINT");
  assert.deepEqual(step(s, { type: "start", delay: 0 }, 0).actions, []);
  const r = step(s, { type: "admin", action: "ready" }, 50);
  assert.deepEqual(kinds(r.actions), ["leave-maint"]);
  assert.equal(r.state.op, "running");
});

Deno.test("slowstart ramp after DOWN→UP: weight, maxconn and throttle at 0/25/50/100%", () => {
  const p = params({ slowstart: 10_000, weight: 16, maxconn: 100, rise: 1, fall: 1 });
  const fresh = initialState(p, 0);
  assert.equal(effectiveWeight(fresh, 0), 16, "not applied at process start");
  const r = run(fresh, [[0, FAIL], [20_000, OK]]);
  const up = r.state;
  assert.equal(up.op, "starting");
  assert.deepEqual(r.actions[1].filter((a) => a.type === "schedule-warmup"), [
    { type: "schedule-warmup", at: 21_000 },
  ]);
  const table: [number, number, number, number | null][] = [
    // elapsed, weight (of 16), maxconn (of 100), throttle %
    [0, 1, 1, 7],
    [2_500, 5, 25, 32],
    [5_000, 9, 50, 57],
    [9_000, 15, 90, 94],
    [9_999, 16, 99, 100],
    [10_000, 16, 100, 100],
  ];
  for (const [elapsed, w, mc, th] of table) {
    assert.equal(effectiveWeight(up, 20_000 + elapsed), w, `weight at ${elapsed}`);
    assert.equal(effectiveMaxconn(up, 20_000 + elapsed), mc, `maxconn at ${elapsed}`);
    assert.equal(throttle(up, 20_000 + elapsed), th, `throttle at ${elapsed}`);
  }
  const one = { ...up, uweight: 1 };
  assert.equal(effectiveWeight(one, 20_000), 1 / 16);
  assert.equal(effectiveWeight(one, 25_000), 9 / 16);
  const mid = step(up, { type: "warmup" }, 21_000);
  assert.equal(mid.state.op, "starting");
  assert.deepEqual(mid.actions.map((a) => a.type), ["schedule-warmup", "changed"]);
  const end = step(up, { type: "warmup" }, 30_000);
  assert.equal(end.state.op, "running");
  assert.equal(throttle(end.state, 30_000), null);
  const unlimited = run(initialState({ ...p, maxconn: 0 }, 0), [[0, FAIL], [1, OK]]).state;
  assert.equal(effectiveMaxconn(unlimited, 1), 0, "unlimited stays unlimited");
  const stat = run(initialState({ ...p, dynamicWeights: false }, 0), [[0, FAIL], [1, OK]]).state;
  assert.equal(effectiveWeight(stat, 1), 16, "static algorithms do not ramp weights");
  assert.equal(effectiveMaxconn(stat, 1), 1, "but maxconn still ramps");
});

Deno.test("weight changes: 0 makes the server unusable, clamped to 0..256", () => {
  const s = initialState(params({ weight: 10 }), 0);
  const z = step(s, { type: "weight", weight: 0 }, 0);
  assert.deepEqual(kinds(z.actions), ["weight"]);
  assert.equal(isUsable(z.state), false);
  assert.equal(step(s, { type: "weight", weight: 999 }, 0).state.uweight, 256);
  assert.deepEqual(step(s, { type: "weight", weight: 10 }, 0).actions, []);
});

Deno.test("check results record code only for L7OK/L7OKC/L7STS and set inProgress", () => {
  const s = initialState(params(), 0);
  const started = step(s, { type: "check-start" }, 0).state;
  assert.equal(started.check.inProgress, true);
  assert.equal(snapshot(started, 0).check?.inProgress, true);
  const done = step(started, check("L7STS", 503, "Service Unavailable"), 7).state;
  assert.deepEqual(done.check, {
    status: "L7STS",
    code: 503,
    durationMs: 3,
    description: "Service Unavailable",
    inProgress: false,
  });
  assert.equal(step(s, check("L7TOUT", 200), 0).state.check.code, null);
});

Deno.test("isDynamicBalance follows HAProxy's BE_LB_PROP_DYN", () => {
  const map = { method: "map-based", fn: "sdbm", avalanche: false } as const;
  const cons = { ...map, method: "consistent" } as const;
  assert.equal(isDynamicBalance({ balance: { algorithm: "roundrobin" }, hashType: map }), true);
  assert.equal(isDynamicBalance({ balance: { algorithm: "static-rr" }, hashType: map }), false);
  assert.equal(isDynamicBalance({ balance: { algorithm: "leastconn" }, hashType: map }), true);
  assert.equal(isDynamicBalance({ balance: { algorithm: "source" }, hashType: map }), false);
  assert.equal(isDynamicBalance({ balance: { algorithm: "source" }, hashType: cons }), true);
});
