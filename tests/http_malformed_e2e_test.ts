/**
 * End to end: the malformed / smuggling corpus of src/proxy/http1/testdata/malformed (read
 * only) sent to halb and to a real HAProxy 2.6 configured the same way, each case on a new
 * connection. Cases HAProxy rejects must get HAProxy's exact answer from halb (same bytes, then
 * the close), reach no origin, and leave halb serving (a normal request after each case gets a
 * 200). Cases HAProxy accepts must be forwarded as HAProxy forwards them (request line, headers
 * with names compared case-insensitively, body) with the same response status and the same
 * connection outcome. Cases where halb deviates on purpose (recorded in the corpus as "halb
 * deviates") and cases that stay incomplete are left out. Needs /usr/sbin/haproxy.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  freePort,
  get,
  haveHaproxy,
  readResponse,
  startHalb,
  startHaproxy,
} from "./helpers/http_diff.ts";
import { ConnReader, latin1Bytes, type Origin, startOrigin } from "./helpers/origin.ts";

const CORPUS = new URL("../src/proxy/http1/testdata/malformed/", import.meta.url).pathname;

/** The corpus escape format: `\r \n \t \\ \xHH`; real newlines are layout only. */
function unescape(text: string): string {
  return text.replaceAll("\n", "").replace(
    /\\(r|n|t|\\|x[0-9a-fA-F]{2})/g,
    (_, e: string) =>
      e === "r"
        ? "\r"
        : e === "n"
        ? "\n"
        : e === "t"
        ? "\t"
        : e === "\\"
        ? "\\"
        : String.fromCharCode(parseInt(e.slice(1), 16)),
  );
}

interface Case {
  name: string;
  bytes: string;
  /** 400/422 for rejects, null for accepts. */
  rejectStatus: number | null;
}

function loadCases(): Case[] {
  const out: Case[] = [];
  for (const e of [...Deno.readDirSync(CORPUS)].sort((a, b) => a.name.localeCompare(b.name))) {
    if (!e.name.endsWith(".expected")) continue;
    const name = e.name.slice(0, -".expected".length);
    const expected = Deno.readTextFileSync(CORPUS + e.name);
    const first = expected.split("\n")[0];
    if (first === "incomplete" || expected.includes("halb deviates")) continue;
    const reject = /^reject: \S+ (\d+)$/.exec(first);
    out.push({
      name,
      bytes: unescape(Deno.readTextFileSync(`${CORPUS}${name}.txt`)),
      rejectStatus: reject ? Number(reject[1]) : null,
    });
  }
  return out;
}

const CASES = haveHaproxy ? loadCases() : [];

/** What one case did on one proxy. */
interface Outcome {
  /** Raw bytes received until EOF (rejects) or the parsed first response (accepts). */
  answer: string;
  closed: boolean;
  forwarded: string[];
}

async function send(port: number, c: Case, origin: Origin): Promise<Outcome> {
  const mark = origin.requests.length;
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const r = new ConnReader(conn);
  let answer = "";
  try {
    await conn.write(latin1Bytes(c.bytes));
    if (c.rejectStatus !== null) {
      const deadline = Date.now() + 2000;
      while (!r.eof && Date.now() < deadline) await r.fill(deadline - Date.now());
      answer = r.take(r.buf.length);
    } else {
      const res = await readResponse(r, { head: false, timeoutMs: 2000 });
      answer = typeof res === "string" ? res : res.status;
      if (!r.eof) await r.fill(200);
    }
  } finally {
    conn.close();
  }
  const forwarded = origin.requests.slice(mark).map((q) =>
    [
      `${q.method} ${q.target} ${q.version}`,
      ...q.headers.map(([n, v]) => `${n.toLowerCase()}: ${v}`),
    ]
      .join("\n") + `\n\n${q.body}`
  );
  return { answer, closed: r.eof, forwarded };
}

/** A normal request on a new connection; returns its status line. */
async function healthy(port: number): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(latin1Bytes(get("/after", [["Connection", "close"]])));
    const res = await readResponse(new ConnReader(conn), { head: false, timeoutMs: 2000 });
    return typeof res === "string" ? res : res.status;
  } finally {
    conn.close();
  }
}

function configs(ports: { halb: number; haproxy: number; oh: number; oa: number }) {
  const halb = `
[defaults]
mode = "http"
[defaults.timeout]
connect = "1s"
client = "5s"
server = "5s"
http_request = "1s"
[frontend.fe]
bind = ["127.0.0.1:${ports.halb}"]
default_backend = "be"
[backend.be]
server = [{ name = "o", address = "127.0.0.1:${ports.oh}" }]
`;
  const haproxy = `
global
  noreuseport
defaults
  mode http
  timeout connect 1s
  timeout client 5s
  timeout server 5s
  timeout http-request 1s
frontend fe
  bind 127.0.0.1:${ports.haproxy}
  default_backend be
backend be
  server o 127.0.0.1:${ports.oa}
`;
  return { halb, haproxy };
}

Deno.test({
  name: "malformed e2e: the corpus has at least 30 rejected cases to replay",
  ignore: !haveHaproxy,
  fn() {
    assert.ok(CASES.filter((c) => c.rejectStatus !== null).length >= 30);
  },
});

Deno.test({
  name: "malformed e2e: halb answers the corpus as HAProxy 2.6 does and stays up",
  ignore: !haveHaproxy,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const originHalb = startOrigin("o");
    const originHap = startOrigin("o");
    const ports = {
      halb: freePort(),
      haproxy: freePort(),
      oh: originHalb.port,
      oa: originHap.port,
    };
    const cfg = configs(ports);
    const hap = await startHaproxy(cfg.haproxy, [ports.haproxy]);
    let halb: Awaited<ReturnType<typeof startHalb>> | null = null;
    try {
      halb = await startHalb(cfg.halb, "/tmp/malformed.toml");
      for (const c of CASES) {
        await t.step(`${c.name} (${c.rejectStatus ?? "accepted"})`, async () => {
          const [want, got] = await Promise.all([
            send(ports.haproxy, c, originHap),
            send(ports.halb, c, originHalb),
          ]);
          if (c.rejectStatus !== null) {
            assert.match(want.answer, new RegExp(`^HTTP/1.1 ${c.rejectStatus} `), "haproxy");
            assert.deepEqual(want.forwarded, [], "haproxy forwarded a rejected request");
          }
          assert.equal(got.answer, want.answer, "answer");
          assert.equal(got.closed, want.closed, "connection closed");
          assert.deepEqual(got.forwarded, want.forwarded, "what the origin received");
          assert.equal(await healthy(ports.halb), "HTTP/1.1 200 OK", "halb serves afterwards");
        });
      }
    } finally {
      await halb?.stop();
      await hap.stop();
      await originHalb.close();
      await originHap.close();
    }
  },
});
