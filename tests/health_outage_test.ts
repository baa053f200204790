/**
 * Issue #4 acceptance, end to end in TCP mode: a halb tcp frontend in front of two real nginx
 * backends under a wrk run (throughput) plus a per-connection Deno client that timestamps every
 * request. One nginx is SIGKILLed mid-run: failed requests occur only inside the detection
 * window (≤ fall × inter + timeout check) and none after the DOWN; restarted, it is UP again
 * after `rise` checks and gets traffic; with `slowstart = "10s"` its share of new connections
 * ramps over ten seconds. The measured numbers are printed.
 *
 * Needs /usr/sbin/nginx and /usr/bin/wrk (skipped with the reason otherwise).
 */
import assert from "node:assert/strict";
import {
  freePort,
  haveFile,
  loadLoop,
  type NginxBackend,
  type Sample,
  startHalb,
  startNginx,
  until,
} from "./helpers/backends.ts";
import { sleep } from "./helpers/net.ts";

const INTER = 500;
const TIMEOUT_CHECK = 500;
const RISE = 2;
const FALL = 2;
const SLOWSTART = 10_000;
/**
 * Server weight 16: the pool takes whole weights, so a weight-1 server could not show the
 * 1/16 steps of the slowstart ramp (see the report on src/runtime/health.ts).
 */
const WEIGHT = 16;
/** Scheduling slack: the suite runs files in parallel on 2 shared cores. */
const SLACK = 1000;

const haveNginx = haveFile("/usr/sbin/nginx");
const haveWrk = haveFile("/usr/bin/wrk");
const missing = [!haveNginx && "/usr/sbin/nginx", !haveWrk && "/usr/bin/wrk"].filter(Boolean);

function config(fe: number, s1: number, s2: number): string {
  const server = (name: string, port: number) =>
    `  { name = "${name}", address = "127.0.0.1:${port}", check = true, inter = "${INTER}ms", ` +
    `rise = ${RISE}, fall = ${FALL}, weight = ${WEIGHT}, slowstart = "${SLOWSTART / 1000}s" },`;
  return `
[defaults]
mode = "tcp"
retries = 0
[defaults.timeout]
connect = "${TIMEOUT_CHECK}ms"
client = "30s"
server = "30s"
check = "${TIMEOUT_CHECK}ms"
[frontend.fe]
bind = ["127.0.0.1:${fe}"]
default_backend = "be"
[backend.be]
balance = "roundrobin"
health_check = { type = "http", method = "GET", uri = "/health" }
server = [
${server("s1", s1)}
${server("s2", s2)}
]
`;
}

/** wrk's summary figures. */
interface WrkResult {
  requests: number;
  rps: number;
  socketErrors: { connect: number; read: number; write: number; timeout: number };
  non2xx: number;
  text: string;
}

async function runWrk(port: number, seconds: number): Promise<WrkResult> {
  const out = await new Deno.Command("/usr/bin/wrk", {
    args: ["-t1", "-c2", `-d${seconds}s`, `http://127.0.0.1:${port}/`],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  const num = (re: RegExp) => Number(re.exec(text)?.[1] ?? 0);
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  return {
    requests: num(/(\d+) requests in/),
    rps: num(/Requests\/sec:\s+([\d.]+)/),
    socketErrors: {
      connect: Number(errors?.[1] ?? 0),
      read: Number(errors?.[2] ?? 0),
      write: Number(errors?.[3] ?? 0),
      timeout: Number(errors?.[4] ?? 0),
    },
    non2xx: num(/Non-2xx or 3xx responses: (\d+)/),
    text,
  };
}

/** HAProxy's slowstart weight after `elapsed` ms, as a fraction of the full weight. */
function expectedRamp(elapsed: number): number {
  if (elapsed >= SLOWSTART) return 1;
  return Math.floor((16 * elapsed + SLOWSTART) / SLOWSTART) / 16;
}

Deno.test({
  name: "backend killed under wrk load: errors only in the detection window; rise; slowstart ramp",
  ignore: missing.length > 0,
  async fn() {
    const [p1, p2] = [freePort(), freePort()];
    const nginx: NginxBackend[] = [];
    nginx.push(await startNginx("s1", p1));
    nginx.push(await startNginx("s2", p2));
    const [s1] = nginx;
    const halb = await startHalb(config(freePort(), p1, p2));
    const checker = halb.checker("be");
    const stop = { stopped: false };
    try {
      await until(
        "first checks passed",
        () => checker.snapshots().every((s) => s.check?.status === "L7OK"),
      );
      // Slowstart does not apply at process start.
      assert.equal(checker.snapshot("s1")!.throttle, null);
      assert.equal(checker.snapshot("s1")!.weight, WEIGHT);

      const port = halb.port("fe");
      const t0 = performance.now();
      const wrkSeconds = 18;
      const wrk = runWrk(port, wrkSeconds);
      const load = loadLoop(port, {
        stop,
        maxMs: (wrkSeconds + 2) * 1000,
        maxRequests: 200_000,
        workers: 2,
      });
      const statuses: string[] = [];
      const watcher = setInterval(() => {
        const s = checker.snapshot("s1")!.status;
        if (statuses.at(-1) !== s) statuses.push(s);
      }, 5);

      await sleep(2000);
      const killedAt = performance.now();
      await s1.kill();
      await until("s1 DOWN", () => halb.events(/^Server be\/s1 is DOWN/).length > 0, 5000);
      const downAt = halb.events(/^Server be\/s1 is DOWN/)[0].at;

      await sleep(1500);
      const restartAt = performance.now();
      await s1.restart();
      await until("s1 UP", () => halb.events(/^Server be\/s1 is UP/).length > 0, 5000);
      const upAt = halb.events(/^Server be\/s1 is UP/)[0].at;

      // Follow the ramp: the snapshot's throttle each second, then a little past the end.
      const throttles: (number | null)[] = [];
      while (performance.now() < upAt + SLOWSTART + 1500) {
        throttles.push(checker.snapshot("s1")!.throttle);
        await sleep(1000);
      }
      stop.stopped = true;
      clearInterval(watcher);
      const samples: Sample[] = await load;
      const w = await wrk;

      // --- 1. errors only inside the detection window.
      const bound = FALL * INTER + TIMEOUT_CHECK;
      const detection = downAt - killedAt;
      const failures = samples.filter((s) => !s.ok);
      const rel = (t: number) => (t - killedAt).toFixed(0);
      console.log(
        `load: ${samples.length} client requests (${failures.length} failed); wrk ` +
          `${w.requests} requests, ${w.rps} req/s, socket errors ${
            JSON.stringify(w.socketErrors)
          }, ` +
          `non-2xx ${w.non2xx}`,
      );
      console.log(
        `detection: DOWN ${detection.toFixed(0)} ms after the kill ` +
          `(bound fall×inter + timeout check = ${bound} ms)`,
      );
      if (failures.length > 0) {
        console.log(
          `failures started between +${rel(failures[0].start)} and ` +
            `+${rel(Math.max(...failures.map((f) => f.start)))} ms after the kill ` +
            `(${[...new Set(failures.map((f) => f.error))].join(", ")})`,
        );
      }
      assert.ok(detection <= bound + SLACK, `detected after ${detection} ms`);
      for (const f of failures) {
        assert.ok(f.end >= killedAt, `failure before the kill at +${rel(f.start)} ms`);
        assert.ok(f.start <= downAt, `failure started after the DOWN at +${rel(f.start)} ms`);
      }
      assert.equal(w.non2xx, 0, w.text);
      assert.ok(w.requests > 0, w.text);
      assert.ok(samples.some((s) => s.ok && s.server === "s2" && s.start > downAt));

      // --- 2. restarted, it is UP after `rise` checks and serves again.
      const firstServed = samples.find((s) => s.ok && s.server === "s1" && s.start > restartAt);
      assert.ok(firstServed, "s1 served nothing after its restart");
      const recovery = upAt - restartAt;
      console.log(
        `recovery: UP ${recovery.toFixed(0)} ms after the restart, first request served by s1 ` +
          `${(firstServed.end - restartAt).toFixed(0)} ms after it (rise = ${RISE} checks, ` +
          `downinter = fastinter = ${INTER} ms); statuses ${statuses.join(" → ")}`,
      );
      assert.ok(recovery >= (RISE - 1) * INTER - 50, `UP after one check (${recovery} ms)`);
      assert.ok(recovery <= INTER + (RISE - 1) * INTER + SLACK, `UP after ${recovery} ms`);
      assert.ok(firstServed.start >= upAt - 5, "s1 served before it was UP");
      assert.deepEqual(
        statuses,
        ["UP", "UP 1/2", "DOWN", "DOWN 1/2", "UP"],
        "fall = 2 failures to go DOWN, rise = 2 passes to come back",
      );

      // --- 3. the slowstart ramp, second by second.
      const rows: string[] = [];
      const shares: number[] = [];
      const expected: number[] = [];
      for (let k = 0; k < Math.ceil((SLOWSTART + 1500) / 1000); k++) {
        const lo = upAt + k * 1000;
        const inSecond = samples.filter((s) => s.ok && s.start >= lo && s.start < lo + 1000);
        const mine = inSecond.filter((s) => s.server === "s1").length;
        const share = inSecond.length === 0 ? NaN : mine / inSecond.length;
        shares.push(share);
        // The weight steps at each 1 s warm-up tick after the UP and holds for that second.
        const r = expectedRamp(k * 1000);
        expected.push(r / (r + 1));
        rows.push(
          `  ${k}-${k + 1}s: s1 ${(100 * share).toFixed(1)}% of ${inSecond.length} ` +
            `(expected ${(100 * expected[k]).toFixed(1)}%, ` +
            `throttle ${throttles[k] ?? "-"}${throttles[k] === null ? "" : "%"})`,
        );
      }
      console.log(
        `slowstart ${SLOWSTART / 1000}s, s1 share of new connections per second:\n` +
          rows.join("\n"),
      );
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      assert.ok(shares.every((s) => !Number.isNaN(s)), "a second without client requests");
      for (const [k, share] of shares.entries()) {
        assert.ok(Math.abs(share - expected[k]) < 0.1, `second ${k}: ${share} vs ${expected[k]}`);
      }
      assert.ok(mean(shares.slice(0, 2)) < 0.2, `early share ${shares.slice(0, 2)}`);
      assert.ok(mean(shares.slice(0, 2)) < mean(shares.slice(4, 6)), `mid share ${shares}`);
      assert.ok(mean(shares.slice(4, 6)) < mean(shares.slice(8, 10)), `late share ${shares}`);
      assert.ok(shares[10] > 0.35 && shares[10] < 0.65, `full share ${shares[10]}`);
      assert.ok(throttles[0] !== null && throttles[0] < 30, `throttle ${throttles}`);
      assert.equal(throttles.at(-1), null, "slowstart over");

      // --- 4. log and snapshot: every transition once, with its reason.
      const lines = halb.events(/^Server be\//).map((e) => e.line);
      assert.equal(lines.length, 2, lines.join("\n"));
      assert.match(
        lines[0],
        /^Server be\/s1 is DOWN, reason: Layer4 connection problem, info: "Connection refused", check duration: \d+ms\. 1 active and 0 backup servers left\./,
      );
      assert.match(
        lines[1],
        /^Server be\/s1 is UP, reason: Layer7 check passed, code: 200, check duration: \d+ms\. 2 active and 0 backup servers online\./,
      );
      console.log(lines.join("\n"));
      const snap = checker.snapshot("s1")!;
      assert.equal(snap.status, "UP");
      assert.equal(snap.op, "running");
      assert.equal(snap.weight, WEIGHT);
      assert.equal(snap.chkdown, 1);
      assert.ok(snap.downtimeMs >= upAt - downAt - 50 && snap.downtimeMs <= upAt - downAt + 50);
      console.log(`total ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    } finally {
      stop.stopped = true;
      await halb.stop();
      for (const n of nginx) await n.close();
    }
  },
});

if (missing.length > 0) {
  console.log(`health_outage_test: skipped, missing ${missing.join(" and ")}`);
}
