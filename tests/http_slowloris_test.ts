/**
 * Slowloris acceptance test of issue #3: 200 connections send a partial request head and then
 * one byte a second; with `timeout http_request = "2s"` each must get HAProxy's exact 408
 * response (src/proxy/http1/errors.ts ERROR_408) and the close, at about 2 s, while a
 * concurrent wrk run (4 s, 10 connections) is served without a single error. The same run
 * against HAProxy 2.6 prints comparison numbers (and must pass too). halb runs in this process,
 * like the origin; wrk is a separate process. Needs /usr/bin/wrk (and haproxy for the
 * comparison).
 *
 * @module
 */
import assert from "node:assert/strict";
import { ERROR_408 } from "../src/proxy/http1/errors.ts";
import { freePort, haveHaproxy, startHalb, startHaproxy } from "./helpers/http_diff.ts";
import { ConnReader, latin1, latin1Bytes, startOrigin } from "./helpers/origin.ts";

const WRK = "/usr/bin/wrk";
const haveWrk = (() => {
  try {
    return Deno.statSync(WRK).isFile;
  } catch {
    return false;
  }
})();

const SLOW = 200;
const EXPECTED = latin1(ERROR_408);

/** One slowloris connection: what it received and when the proxy closed it. */
interface Slow {
  answer: string;
  closedAfterMs: number;
}

async function slowloris(port: number): Promise<Slow> {
  const start = Date.now();
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const r = new ConnReader(conn);
  let stop = false;
  const drip = (async () => {
    try {
      await conn.write(latin1Bytes("GET /slow HTTP/1.1\r\nHost: lb.test\r\nX-Slow: "));
      for (let i = 0; i < 10 && !stop; i++) {
        await new Promise((res) => setTimeout(res, 1000));
        if (!stop) await conn.write(latin1Bytes("a"));
      }
    } catch {
      // the proxy closed the connection
    }
  })();
  const deadline = start + 10_000;
  while (!r.eof && Date.now() < deadline) await r.fill(deadline - Date.now());
  stop = true;
  const closedAfterMs = Date.now() - start;
  conn.close();
  await drip;
  return { answer: r.take(r.buf.length), closedAfterMs };
}

interface WrkResult {
  requests: number;
  rps: number;
  errors: string;
  p50: string;
  p99: string;
}

async function runWrk(port: number): Promise<WrkResult> {
  const out = await new Deno.Command(WRK, {
    args: ["-t1", "-c10", "-d4s", "--latency", `http://127.0.0.1:${port}/load`],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const requests = Number(/(\d+) requests in/.exec(text)?.[1] ?? "0");
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1] ?? "0");
  const errs = [
    /Socket errors:.*$/m.exec(text)?.[0],
    /Non-2xx or 3xx responses:.*$/m.exec(text)?.[0],
  ]
    .filter((e) => e !== undefined).join("; ");
  const p50 = /^\s+50%\s+(\S+)/m.exec(text)?.[1] ?? "?";
  const p99 = /^\s+99%\s+(\S+)/m.exec(text)?.[1] ?? "?";
  return { requests, rps, errors: errs, p50, p99 };
}

/** Runs 200 slowloris connections and wrk at once against `port`; returns both results. */
async function attack(port: number): Promise<{ slow: Slow[]; wrk: WrkResult }> {
  const slowRuns = Array.from({ length: SLOW }, () => slowloris(port));
  const wrk = runWrk(port);
  const [slow, w] = await Promise.all([Promise.all(slowRuns), wrk]);
  return { slow, wrk: w };
}

function report(side: string, result: { slow: Slow[]; wrk: WrkResult }): void {
  const times = result.slow.map((s) => s.closedAfterMs).sort((a, b) => a - b);
  const exact = result.slow.filter((s) => s.answer === EXPECTED).length;
  console.log(
    `${side}: ${exact}/${SLOW} exact 408; closed after min ${times[0]} ms, median ` +
      `${times[Math.floor(SLOW / 2)]} ms, max ${times[SLOW - 1]} ms; wrk ${result.wrk.requests} ` +
      `requests (${result.wrk.rps}/s, p50 ${result.wrk.p50}, p99 ${result.wrk.p99}) ` +
      `errors: ${result.wrk.errors || "none"}`,
  );
}

function check(side: string, result: { slow: Slow[]; wrk: WrkResult }): void {
  const wrong = result.slow.filter((s) => s.answer !== EXPECTED);
  assert.equal(wrong.length, 0, `${side}: not the 408 bytes: ${JSON.stringify(wrong[0])}`);
  for (const s of result.slow) {
    assert.ok(s.closedAfterMs >= 1800 && s.closedAfterMs < 5000, `${side}: ${s.closedAfterMs} ms`);
  }
  assert.ok(result.wrk.requests > 0, `${side}: wrk made no request`);
  assert.equal(result.wrk.errors, "", `${side}: wrk errors`);
}

Deno.test({
  name: "slowloris: 200 slow heads get 408 at timeout http_request while wrk is served",
  ignore: !haveWrk,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const origin = startOrigin("o");
    const port = freePort();
    const halb = await startHalb(
      `
[defaults]
mode = "http"
[defaults.timeout]
connect = "1s"
client = "10s"
server = "5s"
http_request = "2s"
[frontend.fe]
bind = ["127.0.0.1:${port}"]
maxconn = 1000
default_backend = "be"
[backend.be]
server = [{ name = "o", address = "127.0.0.1:${origin.port}" }]
`,
      "/tmp/slowloris.toml",
    );
    let result;
    try {
      result = await attack(port);
    } finally {
      await halb.stop();
      await origin.close();
    }
    report("halb", result);
    check("halb", result);
  },
});

Deno.test({
  name: "slowloris: the same run against HAProxy 2.6 (comparison numbers)",
  ignore: !haveWrk || !haveHaproxy,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const origin = startOrigin("o");
    const port = freePort();
    const hap = await startHaproxy(
      `
global
  maxconn 4000
  noreuseport
defaults
  mode http
  timeout connect 1s
  timeout client 10s
  timeout server 5s
  timeout http-request 2s
frontend fe
  bind 127.0.0.1:${port}
  maxconn 1000
  default_backend be
backend be
  server o 127.0.0.1:${origin.port}
`,
      [port],
    );
    let result;
    try {
      result = await attack(port);
    } finally {
      await hap.stop();
      await origin.close();
    }
    report("haproxy", result);
    check("haproxy", result);
  },
});
