/**
 * The persistence characters of httplog's termination state (3rd: what the request's cookie
 * said, 4th: what the response did). Expected lines were observed on haproxy 2.6.12 with
 * `cookie SRV insert indirect maxidle 30m maxlife 8h` and the same requests: `--NI`, `--VU`,
 * `--VN`, `--EI`, `--II`, `--OI`; a backend without persistence logs `----`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { compileConfig } from "../src/config/load.ts";
import { createLogger, memorySink } from "../src/log/logger.ts";
import { startProxy } from "../src/proxy/proxy.ts";
import { encodeDate30 } from "../src/proxy/http/cookie.ts";
import { freePort } from "./helpers/backends.ts";

function origin(): { port: number; server: Deno.HttpServer } {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response("ok"),
  );
  return { port: (server.addr as Deno.NetAddr).port, server };
}

Deno.test("httplog termination state carries the cookie flags (N/V/E/O/I, I/U/N)", async () => {
  const [o1, o2] = [origin(), origin()];
  const port = freePort();
  const plain = freePort();
  const { config, diagnostics } = compileConfig(
    `[defaults]
mode = "http"
log = true
httplog = true
timeout = { connect = "1s", client = "5s", server = "5s" }
[frontend.fe]
bind = ["127.0.0.1:${port}"]
default_backend = "be"
[frontend.plain]
bind = ["127.0.0.1:${plain}"]
default_backend = "nocookie"
[backend.be]
cookie = { name = "SRV", insert = true, indirect = true, maxidle = "30m", maxlife = "8h" }
server = [
  { name = "s1", address = "127.0.0.1:${o1.port}", cookie = "s1" },
  { name = "s2", address = "127.0.0.1:${o2.port}", cookie = "s2" },
]
[backend.nocookie]
server = [{ name = "s1", address = "127.0.0.1:${o1.port}" }]
`,
    { file: "cookie_log.toml" },
  );
  assert.ok(config, JSON.stringify(diagnostics));
  const sink = memorySink();
  const proxy = await startProxy(config, { logger: createLogger({ sink, level: "info" }) });
  const now = Date.now() / 1000;
  const date = (at: number) => encodeDate30(Math.floor(at / 4));
  const recent = date(now - 60);
  try {
    const cookies = [
      null,
      `SRV=s1|${recent}|${recent}`,
      `SRV=s1|${date(now + 40)}|${recent}`,
      `SRV=s1|${date(now - 4000)}`,
      "SRV=zz",
      `SRV=s1|${recent}|${date(now - 40_000)}`,
    ];
    for (const cookie of cookies) {
      const headers: Record<string, string> = cookie === null ? {} : { cookie };
      await (await fetch(`http://127.0.0.1:${port}/`, { headers })).text();
    }
    await (await fetch(`http://127.0.0.1:${plain}/`)).text();
    const states = sink.lines.filter((l) => l.kind === "traffic")
      .map((l) => / - - (\S{4}) /.exec(l.line)?.[1]);
    assert.deepEqual(states, ["--NI", "--VU", "--VN", "--EI", "--II", "--OI", "----"]);
  } finally {
    await proxy.stop({ graceMs: 0 });
    await Promise.all([o1.server.shutdown(), o2.server.shutdown()]);
  }
});
