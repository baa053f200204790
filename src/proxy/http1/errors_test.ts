/**
 * Byte-exact checks of HAProxy's default error responses, plus a live comparison with the real
 * HAProxy 2.6 when it is installed (ignored otherwise).
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  authRequiredResponse,
  ERROR_400,
  ERROR_403,
  ERROR_408,
  ERROR_429,
  ERROR_502,
  ERROR_503,
  ERROR_504,
  errorResponse,
  HAPROXY_ERROR_TEXTS,
  parseErrorResponse,
  rawErrorResponse,
} from "./errors.ts";

const dec = (b: Uint8Array) => new TextDecoder().decode(b);

Deno.test("400 and 408: mixed case, Connection: close (reference §1.17)", () => {
  assert.equal(
    dec(ERROR_400),
    "HTTP/1.1 400 Bad request\r\nContent-length: 90\r\nCache-Control: no-cache\r\n" +
      "Connection: close\r\nContent-Type: text/html\r\n\r\n" +
      "<html><body><h1>400 Bad request</h1>\nYour browser sent an invalid request.\n</body></html>\n",
  );
  assert.equal(
    dec(ERROR_408),
    "HTTP/1.1 408 Request Time-out\r\nContent-length: 110\r\nCache-Control: no-cache\r\n" +
      "Connection: close\r\nContent-Type: text/html\r\n\r\n" +
      "<html><body><h1>408 Request Time-out</h1>\n" +
      "Your browser didn't send a complete request in time.\n</body></html>\n",
  );
  assert.equal(parseErrorResponse(400), ERROR_400);
  assert.match(dec(parseErrorResponse(422)), /^HTTP\/1\.1 422 Unprocessable Content\r\n/);
});

Deno.test("HTX errors: lower-case names and reference content-lengths", () => {
  const cases: [Uint8Array, string, number][] = [
    [ERROR_503, "503 Service Unavailable", 107],
    [ERROR_502, "502 Bad Gateway", 107],
    [ERROR_504, "504 Gateway Time-out", 92],
    [ERROR_403, "403 Forbidden", 93],
    [ERROR_429, "429 Too Many Requests", 117],
  ];
  for (const [bytes, line, len] of cases) {
    const text = dec(bytes);
    assert.ok(
      text.startsWith(
        `HTTP/1.1 ${line}\r\ncontent-length: ${len}\r\ncache-control: no-cache\r\n` +
          "content-type: text/html\r\n\r\n<html><body><h1>",
      ),
      text,
    );
    assert.equal(bytes.length - text.indexOf("\r\n\r\n") - 4, len);
  }
  assert.equal(
    dec(authRequiredResponse("My Realm")).split("\r\n\r\n")[0],
    "HTTP/1.1 401 Unauthorized\r\ncontent-length: 112\r\ncache-control: no-cache\r\n" +
      'content-type: text/html\r\nwww-authenticate: Basic realm="My Realm"',
  );
  assert.ok(
    dec(errorResponse(503, { connection: "close" })).includes("\r\nconnection: close\r\n\r\n"),
  );
  assert.match(dec(errorResponse(418)), /^HTTP\/1\.1 418 I'm a teapot\r\n/);
  for (const [status, { reason }] of HAPROXY_ERROR_TEXTS) {
    const body = dec(errorResponse(status)).split("\r\n\r\n")[1];
    assert.ok(body.startsWith(`<html><body><h1>${status} ${reason}</h1>\n`));
  }
});

const haveHaproxy = (() => {
  try {
    return Deno.statSync("/usr/sbin/haproxy").isFile;
  } catch {
    return false;
  }
})();

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

async function exchange(port: number, request: string): Promise<Uint8Array> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const chunks: Uint8Array[] = [];
  const timer = setTimeout(() => conn.close(), 2000);
  try {
    await conn.write(new TextEncoder().encode(request));
    const buf = new Uint8Array(4096);
    for (let i = 0; i < 20; i++) {
      const n = await conn.read(buf).catch(() => null);
      if (n === null) break;
      chunks.push(buf.slice(0, n));
      const all = dec(new Uint8Array(chunks.flatMap((c) => [...c])));
      if (all.endsWith("</html>\n")) break;
    }
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch { /* already closed by the timer */ }
  }
  return new Uint8Array(chunks.flatMap((c) => [...c]));
}

Deno.test({
  name: "live: error bytes equal HAProxy 2.6's (deny_status, 400, connection variants)",
  ignore: !haveHaproxy,
  fn: async () => {
    const port = freePort();
    const dir = Deno.makeTempDirSync();
    const denies = [200, 403, 404, 405, 407, 410, 413, 421, 422, 425, 429, 500, 501, 502, 503, 504];
    const cfg = [
      "defaults",
      "  mode http",
      "  timeout connect 1s",
      "  timeout client 3s",
      "  timeout server 3s",
      "frontend f",
      `  bind 127.0.0.1:${port}`,
      ...denies.map((s) => `  http-request deny deny_status ${s} if { path /d${s} }`),
      "  stats enable",
      "  stats uri /stats",
      "  stats auth u:p",
      "  stats realm R1",
    ].join("\n") + "\n";
    Deno.writeTextFileSync(`${dir}/h.cfg`, cfg);
    const child = new Deno.Command("/usr/sbin/haproxy", {
      args: ["-f", `${dir}/h.cfg`],
      stdout: "null",
      stderr: "null",
    }).spawn();
    try {
      for (let i = 0; i < 50; i++) {
        try {
          (await Deno.connect({ hostname: "127.0.0.1", port })).close();
          break;
        } catch {
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      for (const s of denies) {
        const got = await exchange(port, `GET /d${s} HTTP/1.1\r\nHost: a\r\n\r\n`);
        assert.equal(dec(got), dec(errorResponse(s)), `status ${s}`);
      }
      assert.equal(dec(await exchange(port, "GET /\x01 HTTP/1.1\r\n\r\n")), dec(ERROR_400));
      assert.equal(
        dec(await exchange(port, "GET /d503 HTTP/1.0\r\n\r\n")),
        dec(errorResponse(503, { connection: "close" })),
      );
      assert.equal(
        dec(await exchange(port, "GET /d503 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")),
        dec(errorResponse(503, { connection: "keep-alive" })),
      );
      assert.equal(
        dec(await exchange(port, "GET /stats HTTP/1.1\r\nHost: a\r\n\r\n")),
        dec(authRequiredResponse("R1")),
      );
      const te = "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n";
      assert.equal(dec(await exchange(port, te)), dec(rawErrorResponse(422)));
    } finally {
      child.kill("SIGTERM");
      await child.status;
      Deno.removeSync(dir, { recursive: true });
    }
  },
});
