/**
 * Health checks end to end in TCP mode (issue #4 acceptance): real checks against controllable
 * loopback backends drive the proxy. A refused check marks the server DOWN (L4CON) within the
 * detection window; a check target that never answers is marked DOWN by the timeout (L7TOUT,
 * or L4TOUT when the handshake never completes) instead of hanging; a 500 gives L7STS; a 404
 * with `disable_on_404` gives NOLB. Every transition is logged once, in HAProxy's words, and
 * the checker's exported snapshot shows the state. Measured times are printed.
 */
import assert from "node:assert/strict";
import {
  blackholePort,
  type ControlledBackend,
  controlledBackend,
  freePort,
  getOnce,
  type Halb,
  startHalb,
  until,
} from "./helpers/backends.ts";
import { sleep } from "./helpers/net.ts";

const INTER = 200;
const TIMEOUT_CHECK = 300;
const RISE = 2;
const FALL = 2;
/** Scheduling slack for a loaded 2-core machine running the suite in parallel. */
const SLACK = 700;

/** A tcp frontend "fe" → backend "be" over `servers` (name → address), HTTP-checked. */
function config(servers: Record<string, string>, options: { disable404?: boolean } = {}): string {
  const list = Object.entries(servers).map(([name, address]) =>
    `  { name = "${name}", address = "${address}", check = true, inter = "${INTER}ms", ` +
    `rise = ${RISE}, fall = ${FALL} },`
  ).join("\n");
  return `
[defaults]
mode = "tcp"
retries = 0
[defaults.timeout]
connect = "${TIMEOUT_CHECK}ms"
client = "5s"
server = "5s"
check = "${TIMEOUT_CHECK}ms"
[frontend.fe]
bind = ["127.0.0.1:${freePort()}"]
default_backend = "be"
[backend.be]
health_check = { type = "http", method = "GET", uri = "/health"${
    options.disable404 ? ", disable_on_404 = true" : ""
  } }
server = [
${list}
]
`;
}

/** Runs `fn` with halb in front of two controllable backends s1 and s2; stops all after. */
async function withTwo(
  options: { disable404?: boolean },
  fn: (halb: Halb, s1: ControlledBackend, s2: ControlledBackend) => Promise<void>,
): Promise<void> {
  const s1 = controlledBackend("s1");
  const s2 = controlledBackend("s2");
  const halb = await startHalb(
    config({ s1: `127.0.0.1:${s1.port}`, s2: `127.0.0.1:${s2.port}` }, options),
  );
  try {
    await until(
      "first checks passed",
      () => halb.checker("be").snapshots().every((s) => s.check?.status === "L7OK"),
    );
    await fn(halb, s1, s2);
  } finally {
    await halb.stop();
    await s1.close();
    await s2.close();
  }
}

/** The server transition lines logged for `be/<server>`. */
function transitions(halb: Halb, server: string): string[] {
  return halb.events(new RegExp(`^(Backup )?Server be/${server} `)).map((e) => e.line);
}

/** Waits for the first event line matching `re`; returns the time it was logged. */
async function waitLine(halb: Halb, re: RegExp, timeoutMs: number): Promise<number> {
  await until(`log line ${re}`, () => halb.events(re).length > 0, timeoutMs);
  return halb.events(re)[0].at;
}

/** Names answering `count` fresh connections through the frontend. */
async function served(halb: Halb, count: number): Promise<(string | null)[]> {
  const out: (string | null)[] = [];
  for (let i = 0; i < count; i++) out.push((await getOnce(halb.port("fe"))).server);
  return out;
}

/** Polls the snapshot status of a server until `stop` says so; returns the distinct sequence. */
function watchStatus(halb: Halb, server: string): { stop(): string[] } {
  const seen: string[] = [];
  const sample = () => {
    const s = halb.checker("be").snapshot(server)?.status ?? "?";
    if (seen.at(-1) !== s) seen.push(s);
  };
  const timer = setInterval(sample, 5);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return seen;
    },
  };
}

Deno.test("refused checks: DOWN (L4CON) inside fall × inter + timeout, UP after rise checks", async () => {
  await withTwo({}, async (halb, s1) => {
    const checker = halb.checker("be");
    const watch = watchStatus(halb, "s1");
    const killedAt = performance.now();
    s1.set("refuse");
    const bound = FALL * INTER + TIMEOUT_CHECK;
    const downAt = await waitLine(halb, /^Server be\/s1 is DOWN/, bound + 3000);
    console.log(
      `refused: DOWN ${(downAt - killedAt).toFixed(0)} ms after the kill ` +
        `(bound fall×inter + timeout check = ${bound} ms)`,
    );
    assert.ok(downAt - killedAt <= bound + SLACK, `detected in ${downAt - killedAt} ms`);
    assert.match(
      transitions(halb, "s1")[0],
      /^Server be\/s1 is DOWN, reason: Layer4 connection problem, info: "Connection refused", check duration: \d+ms\. 1 active and 0 backup servers left\. 0 sessions active, 0 requeued, 0 remaining in queue\.$/,
    );
    const down = checker.snapshot("s1")!;
    assert.equal(down.status, "DOWN");
    assert.equal(down.op, "stopped");
    assert.equal(down.usable, false);
    assert.equal(down.weight, 0);
    assert.equal(down.check?.status, "L4CON");
    assert.equal(down.check?.description, "Connection refused");
    assert.equal(down.chkdown, 1);
    assert.ok(down.chkfail >= FALL);
    assert.deepEqual(await served(halb, 6), ["s2", "s2", "s2", "s2", "s2", "s2"]);

    const healedAt = performance.now();
    s1.set("ok");
    const upAt = await waitLine(halb, /^Server be\/s1 is UP/, 3000 + RISE * INTER);
    console.log(
      `refused: UP ${(upAt - healedAt).toFixed(0)} ms after the restart ` +
        `(rise = ${RISE} checks at ${INTER} ms)`,
    );
    assert.ok(upAt - healedAt >= (RISE - 1) * INTER - 20, `UP after ${upAt - healedAt} ms`);
    const statuses = watch.stop();
    // fall = 2: one failure gives "UP 1/2", the second DOWN; rise = 2 likewise coming back.
    assert.deepEqual(statuses, [
      "UP",
      "UP 1/2",
      "DOWN",
      "DOWN 1/2",
      "UP",
    ]);
    assert.match(
      transitions(halb, "s1")[1],
      /^Server be\/s1 is UP, reason: Layer7 check passed, code: 200, check duration: \d+ms\. 2 active and 0 backup servers online\. 0 sessions requeued, 0 total in queue\.$/,
    );
    const up = checker.snapshot("s1")!;
    assert.equal(up.status, "UP");
    assert.equal(up.usable, true);
    assert.equal(up.check?.status, "L7OK");
    assert.equal(up.check?.code, 200);
    assert.ok(up.downtimeMs > 0);
    assert.deepEqual(new Set(await served(halb, 4)), new Set(["s1", "s2"]));
    // A few more check rounds: no line is repeated.
    await sleep(3 * INTER);
    assert.equal(transitions(halb, "s1").length, 2, transitions(halb, "s1").join("\n"));
    assert.equal(transitions(halb, "s2").length, 0);
  });
});

Deno.test("a check target that accepts but never answers is DOWN by the timeout (L7TOUT)", async () => {
  await withTwo({}, async (halb, s1) => {
    const hungAt = performance.now();
    s1.set("hang");
    // Each hung check lasts `timeout check`, the next starts `inter` after it ended.
    const bound = FALL * (INTER + TIMEOUT_CHECK);
    const downAt = await waitLine(halb, /^Server be\/s1 is DOWN/, bound + 3000);
    const line = transitions(halb, "s1")[0];
    const m =
      /^Server be\/s1 is DOWN, reason: Layer7 timeout, check duration: (\d+)ms\. 1 active and 0 backup servers left\. 0 sessions active, 0 requeued, 0 remaining in queue\.$/
        .exec(line);
    assert.ok(m, line);
    const duration = Number(m[1]);
    console.log(
      `hang: DOWN ${(downAt - hungAt).toFixed(0)} ms after the hang (bound fall×(inter + ` +
        `timeout check) = ${bound} ms); last check lasted ${duration} ms (timeout ${TIMEOUT_CHECK} ms)`,
    );
    assert.ok(duration >= TIMEOUT_CHECK - 5 && duration <= TIMEOUT_CHECK + SLACK, line);
    assert.ok(downAt - hungAt <= bound + SLACK);
    const snap = halb.checker("be").snapshot("s1")!;
    assert.equal(snap.status, "DOWN");
    assert.equal(snap.check?.status, "L7TOUT");
    assert.ok(s1.checks >= 2, "the hung backend saw the check requests");
    assert.deepEqual(await served(halb, 4), ["s2", "s2", "s2", "s2"]);
    // Checks keep running (and timing out) without piling up: still exactly one line.
    await sleep(2 * (INTER + TIMEOUT_CHECK));
    assert.equal(halb.checker("be").snapshot("s1")!.check?.status, "L7TOUT");
    assert.equal(transitions(halb, "s1").length, 1);
  });
});

Deno.test("a check whose handshake never completes is DOWN by the connect timeout (L4TOUT)", async () => {
  const hole = await blackholePort();
  const s2 = controlledBackend("s2");
  const startedAt = performance.now();
  const halb = await startHalb(
    config({ s1: `127.0.0.1:${hole.port}`, s2: `127.0.0.1:${s2.port}` }),
  );
  try {
    // The server starts UP; its first failed check marks it DOWN at once (HAProxy's rule).
    const downAt = await waitLine(halb, /^Server be\/s1 is DOWN/, TIMEOUT_CHECK + 3000);
    const line = transitions(halb, "s1")[0];
    const m =
      /^Server be\/s1 is DOWN, reason: Layer4 timeout, check duration: (\d+)ms\. 1 active and 0 backup servers left\. 0 sessions active, 0 requeued, 0 remaining in queue\.$/
        .exec(line);
    assert.ok(m, line);
    // Connect timeout of a check = min(timeout connect, inter) when `timeout check` is set.
    const connectTimeout = Math.min(TIMEOUT_CHECK, INTER);
    console.log(
      `blackhole: DOWN ${(downAt - startedAt).toFixed(0)} ms after start; check lasted ` +
        `${m[1]} ms (connect timeout min(connect, inter) = ${connectTimeout} ms)`,
    );
    assert.ok(Number(m[1]) >= connectTimeout - 5 && Number(m[1]) <= connectTimeout + SLACK);
    const snap = halb.checker("be").snapshot("s1")!;
    assert.equal(snap.status, "DOWN");
    assert.equal(snap.check?.status, "L4TOUT");
    assert.deepEqual(await served(halb, 3), ["s2", "s2", "s2"]);
    assert.equal(transitions(halb, "s1").length, 1);
  } finally {
    await halb.stop();
    hole.close();
    await s2.close();
  }
});

Deno.test("a check answered 500 is L7STS DOWN; when every server fails the backend says so once", async () => {
  await withTwo({}, async (halb, s1, s2) => {
    s1.checkStatus = 500;
    await waitLine(halb, /^Server be\/s1 is DOWN/, FALL * INTER + 3000);
    assert.match(
      transitions(halb, "s1")[0],
      /^Server be\/s1 is DOWN, reason: Layer7 wrong status, code: 500, info: "Internal Server Error", check duration: \d+ms\. 1 active and 0 backup servers left\./,
    );
    const snap = halb.checker("be").snapshot("s1")!;
    assert.equal(snap.check?.status, "L7STS");
    assert.equal(snap.check?.code, 500);
    assert.equal(snap.check?.description, "Internal Server Error");
    // s1 still answers traffic, but no longer gets any.
    assert.deepEqual(await served(halb, 4), ["s2", "s2", "s2", "s2"]);

    s2.checkStatus = 500;
    await waitLine(halb, /^Server be\/s2 is DOWN/, FALL * INTER + 3000);
    assert.match(transitions(halb, "s2")[0], /0 active and 0 backup servers left\./);
    assert.equal(halb.events(/^backend be has no server available!$/).length, 1);
    const none = await getOnce(halb.port("fe"));
    assert.equal(none.ok, false, "no usable server: the connection is closed");
    assert.equal(halb.proxy.snapshot().backends[0].usable, false);

    s1.checkStatus = 200;
    s2.checkStatus = 200;
    await waitLine(halb, /^Server be\/s2 is UP/, RISE * INTER + 3000);
    await waitLine(halb, /^Server be\/s1 is UP/, RISE * INTER + 3000);
    await sleep(2 * INTER);
    assert.deepEqual(transitions(halb, "s1").map(kind), ["DOWN", "UP"]);
    assert.deepEqual(transitions(halb, "s2").map(kind), ["DOWN", "UP"]);
    assert.equal(halb.events(/no server available/).length, 1);
  });
});

Deno.test("404 with disable_on_404 puts the server in NOLB (stopping), not DOWN", async () => {
  await withTwo({ disable404: true }, async (halb, s1) => {
    const checker = halb.checker("be");
    s1.checkStatus = 404;
    await waitLine(halb, /^Server be\/s1 is stopping/, INTER + 3000);
    const line = transitions(halb, "s1")[0];
    assert.match(
      line,
      /^Server be\/s1 is stopping, reason: Layer7 check conditionally passed, code: 404, check duration: \d+ms\. 1 active and 0 backup servers online\./,
    );
    console.log(`404: ${line}`);
    const nolb = checker.snapshot("s1")!;
    assert.equal(nolb.status, "NOLB");
    assert.equal(nolb.op, "stopping");
    assert.equal(nolb.usable, false);
    assert.equal(nolb.check?.status, "L7OKC");
    assert.equal(nolb.check?.code, 404);
    const pooled = halb.proxy.snapshot().backends[0].servers.find((s) => s.name === "s1")!;
    assert.equal(pooled.eligible, false, "NOLB takes no new load-balanced traffic");
    assert.deepEqual(await served(halb, 4), ["s2", "s2", "s2", "s2"]);

    // A 404 while DOWN is a plain failure: the server stays DOWN (L7STS).
    s1.set("refuse");
    await waitLine(halb, /^Server be\/s1 is DOWN/, FALL * INTER + 3000);
    assert.match(
      transitions(halb, "s1")[1],
      /^Server be\/s1 is DOWN, reason: Layer4 connection problem/,
    );
    s1.set("ok");
    await until("a 404 check while DOWN", () => checker.snapshot("s1")!.check?.code === 404, 3000);
    assert.equal(checker.snapshot("s1")!.check?.status, "L7STS");
    assert.equal(checker.snapshot("s1")!.status, "DOWN");

    s1.checkStatus = 200;
    await waitLine(halb, /^Server be\/s1 is UP/, RISE * INTER + 3000);
    await sleep(2 * INTER);
    assert.deepEqual(transitions(halb, "s1").map(kind), ["stopping", "DOWN", "UP"]);
    assert.equal(checker.snapshot("s1")!.status, "UP");
  });
});

/** The transition word of a server line ("DOWN", "UP", "stopping", ...). */
function kind(line: string): string {
  return /^(?:Backup )?Server \S+ is (\S+?),? /.exec(line)?.[1] ?? line;
}
