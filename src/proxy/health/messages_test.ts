import assert from "node:assert/strict";
import {
  asciiEncode,
  checkReason,
  noServerMessage,
  RATE_INITIAL,
  rateAdmit,
  rateFlush,
  type RateState,
  suppressedMessage,
  transitionMessage,
} from "./messages.ts";
import {
  type CheckStatus,
  initialState,
  type LastCheck,
  type ServerParams,
  step,
  type Transition,
  type TransitionKind,
} from "./server_state.ts";

function chk(status: CheckStatus, durationMs: number, code: number | null, desc = ""): LastCheck {
  return { status, code, durationMs, description: desc, inProgress: false };
}

function tr(kind: TransitionKind, over: Partial<Transition> = {}): Transition {
  return {
    kind,
    wasStopping: false,
    check: null,
    down: kind === "down" || kind === "maint" || kind === "maint-was-down",
    drain: false,
    ...over,
  };
}

const LEFT = " 0 sessions active, 0 requeued, 0 remaining in queue.";
const ONLINE = " 0 sessions requeued, 0 total in queue.";

// Every expected line below was printed by haproxy 2.6.12 (log stdout format raw).
Deno.test("transition lines match HAProxy 2.6 byte for byte", () => {
  const table: [string, Transition, string, boolean, [number, number], string][] = [
    [
      "be2/t1",
      tr("down", { check: chk("L4CON", 0, null, "Connection refused") }),
      "alert",
      false,
      [0, 0],
      `Server be2/t1 is DOWN, reason: Layer4 connection problem, info: "Connection refused", check duration: 0ms. 0 active and 0 backup servers left.${LEFT}`,
    ],
    [
      "be/s1",
      tr("down", { check: chk("L7STS", 0, 500, "Internal Server Error") }),
      "alert",
      false,
      [1, 1],
      `Server be/s1 is DOWN, reason: Layer7 wrong status, code: 500, info: "Internal Server Error", check duration: 0ms. 1 active and 1 backup servers left.${LEFT}`,
    ],
    [
      "be/s2",
      tr("stopping", { check: chk("L7OKC", 0, 404) }),
      "notice",
      false,
      [0, 1],
      `Server be/s2 is stopping, reason: Layer7 check conditionally passed, code: 404, check duration: 0ms. 0 active and 1 backup servers online. Running on backup.${ONLINE}`,
    ],
    [
      "be/s1",
      tr("up", { check: chk("L7OK", 1, 200) }),
      "notice",
      false,
      [2, 1],
      `Server be/s1 is UP, reason: Layer7 check passed, code: 200, check duration: 1ms. 2 active and 1 backup servers online.${ONLINE}`,
    ],
    [
      "be/b1",
      tr("down", { check: chk("L4CON", 0, null, "Connection refused") }),
      "alert",
      true,
      [2, 0],
      `Backup Server be/b1 is DOWN, reason: Layer4 connection problem, info: "Connection refused", check duration: 0ms. 2 active and 0 backup servers left.${LEFT}`,
    ],
    [
      "be/s1",
      tr("drain", { drain: true }),
      "notice",
      false,
      [1, 0],
      `Server be/s1 enters drain state. 1 active and 0 backup servers online.${ONLINE}`,
    ],
    [
      "be/s1",
      tr("maint", { wasStopping: true }),
      "notice",
      false,
      [1, 0],
      `Server be/s1 is going DOWN for maintenance. 1 active and 0 backup servers left.${LEFT}`,
    ],
    [
      "be/s2",
      tr("maint"),
      "alert",
      false,
      [0, 0],
      `Server be/s2 is going DOWN for maintenance. 0 active and 0 backup servers left.${LEFT}`,
    ],
    [
      "be/s1",
      tr("leave-maint"),
      "notice",
      false,
      [2, 0],
      "Server be/s1 is UP/READY (leaving forced maintenance).",
    ],
    [
      "be/s1",
      tr("leave-maint", { drain: true }),
      "notice",
      false,
      [2, 0],
      "Server be/s1 is UP/DRAIN (leaving forced maintenance).",
    ],
    [
      "be/s1",
      tr("leave-drain"),
      "notice",
      false,
      [2, 0],
      "Server be/s1 is UP (leaving forced drain).",
    ],
    [
      "silent/a",
      tr("down", { check: chk("L7TOUT", 501, null) }),
      "alert",
      false,
      [0, 0],
      `Server silent/a is DOWN, reason: Layer7 timeout, check duration: 501ms. 0 active and 0 backup servers left.${LEFT}`,
    ],
    [
      "closer/a",
      tr("down", { check: chk("SOCKERR", 1, null, "Connection reset by peer") }),
      "alert",
      false,
      [0, 0],
      `Server closer/a is DOWN, reason: Socket error, info: "Connection reset by peer", check duration: 1ms. 0 active and 0 backup servers left.${LEFT}`,
    ],
    [
      "exstr/a",
      tr("down", { check: chk("L7RSP", 1, null, "HTTP content check did not match") }),
      "alert",
      false,
      [0, 0],
      `Server exstr/a is DOWN, reason: Layer7 invalid response, info: "HTTP content check did not match", check duration: 1ms. 0 active and 0 backup servers left.${LEFT}`,
    ],
    [
      "E2/a",
      tr("down", { check: chk("L7STS", 0, 503) }),
      "alert",
      false,
      [0, 0],
      `Server E2/a is DOWN, reason: Layer7 wrong status, code: 503, check duration: 0ms. 0 active and 0 backup servers left.${LEFT}`,
    ],
  ];
  for (const [who, transition, level, backup, [active, bck], expected] of table) {
    const [backend, server] = who.split("/");
    const line = transitionMessage(transition, {
      backend,
      server,
      backup,
      counts: { active, backup: bck },
    });
    assert.deepEqual(line, { level, message: expected }, expected);
  }
});

Deno.test("session figures and the no-server line", () => {
  const line = transitionMessage(tr("down", { check: chk("L4TOUT", 2002, null) }), {
    backend: "redis_backend",
    server: "redis",
    backup: false,
    counts: { active: 0, backup: 0 },
    load: { sessions: 10, requeued: 0, queued: 0 },
  });
  assert.equal(
    line?.message,
    "Server redis_backend/redis is DOWN, reason: Layer4 timeout, check duration: 2002ms. 0 active and 0 backup servers left. 10 sessions active, 0 requeued, 0 remaining in queue.",
  );
  assert.equal(
    transitionMessage(tr("weight"), {
      backend: "b",
      server: "s",
      backup: false,
      counts: { active: 1, backup: 0 },
    }),
    null,
  );
  assert.deepEqual(noServerMessage("be"), {
    level: "emerg",
    message: "backend be has no server available!",
  });
});

Deno.test("a transition from the state machine formats as HAProxy's first-failure line", () => {
  const p: ServerParams = {
    name: "mysql4",
    backend: "mysqlro-back",
    backup: false,
    checked: true,
    rise: 2,
    fall: 3,
    inter: 2000,
    fastinter: 2000,
    downinter: 2000,
    slowstart: 0,
    weight: 1,
    maxconn: 0,
    dynamicWeights: true,
    disabled: false,
  };
  const r = step(initialState(p, 0), {
    type: "check",
    result: { status: "L4CON", durationMs: 1.2, description: "Connection refused" },
  }, 5);
  const changed = r.actions.find((a) => a.type === "changed");
  assert.ok(changed?.type === "changed");
  assert.equal(
    transitionMessage(changed.transition, {
      backend: p.backend,
      server: p.name,
      backup: false,
      counts: { active: 0, backup: 0 },
    })?.message,
    'Server mysqlro-back/mysql4 is DOWN, reason: Layer4 connection problem, info: "Connection refused", check duration: 1ms. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.',
  );
});

Deno.test("descriptions are ascii-encoded like chunk_asciiencode and cut at 127 bytes", () => {
  assert.equal(asciiEncode('a"b<c>\n\u00e9'), "a<22>b<3C>c<3E><0A><C3><A9>");
  const long = "x".repeat(200);
  assert.equal(
    checkReason(chk("L7RSP", 0, null, long)),
    `, reason: Layer7 invalid response, info: "${"x".repeat(127)}", check duration: 0ms`,
  );
  assert.equal(checkReason(null), "");
});

Deno.test("flap limiter: burst per window, then one summary when the next window opens", () => {
  const limit = { burst: 2, windowMs: 1000 };
  let s: RateState = RATE_INITIAL;
  const seen: [boolean, number][] = [];
  for (const t of [0, 10, 20, 30, 1000, 1010]) {
    const v = rateAdmit(s, t, limit);
    s = v.state;
    seen.push([v.pass, v.summarize]);
  }
  assert.deepEqual(seen, [[true, 0], [true, 0], [false, 0], [false, 0], [true, 2], [true, 0]]);
  let f = { state: RATE_INITIAL, summarize: 0 };
  s = RATE_INITIAL;
  for (const t of [0, 1, 2, 3]) s = rateAdmit(s, t, limit).state;
  f = rateFlush(s, 500, limit);
  assert.equal(f.summarize, 0, "window still open");
  f = rateFlush(s, 1000, limit);
  assert.equal(f.summarize, 2);
  assert.deepEqual(f.state, RATE_INITIAL);
  assert.equal(
    suppressedMessage("Server be/s1", 2, limit).message,
    "Server be/s1: 2 state change messages suppressed in the last 1s (flapping).",
  );
});
