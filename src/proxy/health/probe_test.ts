import assert from "node:assert/strict";
import type { HealthCheckConfig } from "../../config/types.ts";
import {
  buildCheckRequest,
  judgeResponse,
  parseResponse,
  type ProbeSpec,
  runProbe,
} from "./probe.ts";

const HTTP: HealthCheckConfig = {
  type: "http",
  method: "OPTIONS",
  uri: "/",
  version: "HTTP/1.0",
  headers: [],
  expectStatus: null,
  expectString: null,
  disableOn404: false,
};

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

/** A loopback server running `handler` per connection; close() ends it and every connection. */
function serve(handler: (conn: Deno.Conn) => Promise<void>) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  const tasks: Promise<void>[] = [];
  const loop = (async () => {
    for await (const conn of listener) {
      conns.add(conn);
      tasks.push(
        handler(conn).catch(() => {}).finally(() => {
          conns.delete(conn);
          try {
            conn.close();
          } catch { /* closed by the handler */ }
        }),
      );
    }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    async close() {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* already closed */ }
      }
      await loop.catch(() => {});
      await Promise.all(tasks);
    },
  };
}

/** Reads until the end of a request head (bounded). */
async function readHead(conn: Deno.Conn): Promise<string> {
  const buf = new Uint8Array(4096);
  let text = "";
  for (let i = 0; i < 100 && !text.includes("\r\n\r\n"); i++) {
    const n = await conn.read(buf);
    if (n === null) break;
    text += dec(buf.subarray(0, n));
  }
  return text;
}

function answering(response: string, seen?: string[]) {
  return serve(async (conn) => {
    seen?.push(await readHead(conn));
    await conn.write(enc(response));
  });
}

function spec(port: number, over: Partial<ProbeSpec> = {}): ProbeSpec {
  return {
    host: "127.0.0.1",
    port,
    http: null,
    inter: 2000,
    timeoutConnect: null,
    timeoutCheck: null,
    tls: null,
    ...over,
  };
}

Deno.test("check request bytes match HAProxy 2.6", () => {
  assert.equal(dec(buildCheckRequest(HTTP)), "OPTIONS / HTTP/1.0\r\n\r\n");
  assert.equal(
    dec(buildCheckRequest({
      ...HTTP,
      method: "GET",
      uri: "/healthz",
      version: "HTTP/1.1",
      headers: [["Host", "svc.local"]],
    })),
    "GET /healthz HTTP/1.1\r\nhost: svc.local\r\nconnection: close\r\n\r\n",
  );
  assert.equal(
    dec(buildCheckRequest({ ...HTTP, headers: [["X-Foo", "Bar"]] })),
    "OPTIONS / HTTP/1.0\r\nx-foo: Bar\r\n\r\n",
  );
  assert.equal(
    dec(buildCheckRequest({ ...HTTP, method: "GET", uri: "/h", version: "HTTP/1.1" })),
    "GET /h HTTP/1.1\r\nconnection: close\r\n\r\n",
  );
});

Deno.test("parseResponse: incomplete, invalid, content-length and chunked bodies", () => {
  assert.deepEqual(parseResponse(enc("HTTP/1.1 200 OK\r\n"), false), { kind: "more" });
  assert.deepEqual(parseResponse(enc("HTTP/1.1 200 OK\r\n"), true), { kind: "invalid" });
  assert.deepEqual(parseResponse(enc("HELLO WORLD\r\n\r\n"), false), { kind: "invalid" });
  assert.deepEqual(parseResponse(enc("HTTP/1.1 200 OK\r\nbad\r\n\r\n"), false), {
    kind: "invalid",
  });
  const cl = parseResponse(enc("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel"), false);
  assert.ok(cl.kind === "ok");
  assert.equal(cl.response.bodyDone, false);
  const chunked = parseResponse(
    enc(
      "HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
    ),
    false,
  );
  assert.ok(chunked.kind === "ok");
  assert.equal(chunked.response.code, 503);
  assert.equal(chunked.response.reason, "Service Unavailable");
  assert.equal(dec(chunked.response.body), "abcde");
  assert.equal(chunked.response.bodyDone, true);
  const noPhrase = parseResponse(enc("HTTP/1.0 503\r\n\r\n"), true);
  assert.ok(noPhrase.kind === "ok");
  assert.equal(noPhrase.response.reason, "");
});

Deno.test("judgeResponse table: implicit 2xx/3xx, status lists, negation, string, 404", () => {
  const resp = (code: number, reason: string, body = "") => ({
    code,
    reason,
    body: enc(body),
    bodyDone: true,
  });
  const st = (text: string, negate = false, ranges: [number, number][] = []) => ({
    text,
    negate,
    ranges,
  });
  const table: [string, ReturnType<typeof resp>, Partial<HealthCheckConfig>, boolean, string][] = [
    ["200 default", resp(200, "OK"), {}, true, "L7OK 200 "],
    ["302 default", resp(302, "Found"), {}, true, "L7OK 302 "],
    [
      "500 default",
      resp(500, "Internal Server Error"),
      {},
      true,
      "L7STS 500 Internal Server Error",
    ],
    ["404 default", resp(404, "Not Found"), {}, true, "L7STS 404 Not Found"],
    ["404 disable-on-404 up", resp(404, "Not Found"), { disableOn404: true }, true, "L7OKC 404 "],
    [
      "404 disable-on-404 down",
      resp(404, "Not Found"),
      { disableOn404: true },
      false,
      "L7STS 404 Not Found",
    ],
    [
      "201 expected",
      resp(201, "Created"),
      { expectStatus: st("201", false, [[201, 201]]) },
      true,
      "L7OK 201 ",
    ],
    [
      "200 not in list",
      resp(200, "OK"),
      { expectStatus: st("201", false, [[201, 201]]) },
      true,
      "L7STS 200 OK",
    ],
    [
      "! status 200",
      resp(200, "OK"),
      { expectStatus: st("200", true, [[200, 200]]) },
      true,
      "L7STS 200 OK",
    ],
    [
      "! status 200 vs 500",
      resp(500, "x"),
      { expectStatus: st("200", true, [[200, 200]]) },
      true,
      "L7OK 500 ",
    ],
    [
      "string ok any status",
      resp(500, "x", "all alive"),
      { expectString: "alive" },
      true,
      "L7OK 500 ",
    ],
    [
      "string missing",
      resp(200, "OK", "nope"),
      { expectString: "alive" },
      true,
      "L7RSP 200 HTTP content check did not match",
    ],
  ];
  for (const [name, r, over, up, expected] of table) {
    const v = judgeResponse(r, { ...HTTP, ...over }, up);
    assert.equal(`${v.status} ${v.code} ${v.description}`, expected, name);
  }
});

Deno.test("probe: refused port → L4CON 'Connection refused'", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  const r = await runProbe(spec(port));
  assert.equal(r.status, "L4CON");
  assert.equal(r.description, "Connection refused");
  assert.equal(r.code, undefined);
});

Deno.test("probe: TCP connect check → L4OK", async () => {
  const srv = serve(async () => {});
  try {
    const r = await runProbe(spec(srv.port));
    assert.equal(r.status, "L4OK");
    assert.equal(r.description, "");
  } finally {
    await srv.close();
  }
});

Deno.test("probe: a server that accepts but never answers → L7TOUT after inter, not hung", async () => {
  const srv = serve(async (conn) => {
    await readHead(conn);
    await conn.read(new Uint8Array(1)).catch(() => null);
  });
  try {
    const t0 = performance.now();
    const r = await runProbe(spec(srv.port, { http: HTTP, inter: 300 }));
    const took = performance.now() - t0;
    assert.equal(r.status, "L7TOUT");
    assert.ok(took >= 250 && took < 2000, `took ${took}ms`);
    assert.ok(r.durationMs >= 250 && r.durationMs < 2000);
  } finally {
    await srv.close();
  }
});

Deno.test("probe: with timeout check, the read is bounded by it, not by inter", async () => {
  const srv = serve(async (conn) => {
    await readHead(conn);
    await conn.read(new Uint8Array(1)).catch(() => null);
  });
  try {
    const t0 = performance.now();
    const r = await runProbe(
      spec(srv.port, { http: HTTP, inter: 5000, timeoutConnect: 1000, timeoutCheck: 200 }),
    );
    const took = performance.now() - t0;
    assert.equal(r.status, "L7TOUT");
    assert.ok(took >= 150 && took < 1500, `took ${took}ms`);
  } finally {
    await srv.close();
  }
});

Deno.test("probe: HAProxy's default request is sent; 500 → L7STS code 500", async () => {
  const seen: string[] = [];
  const srv = answering("HTTP/1.0 500 Internal Server Error\r\n\r\n", seen);
  try {
    const r = await runProbe(spec(srv.port, { http: HTTP }));
    assert.deepEqual(
      { status: r.status, code: r.code, description: r.description },
      { status: "L7STS", code: 500, description: "Internal Server Error" },
    );
    assert.deepEqual(seen, ["OPTIONS / HTTP/1.0\r\n\r\n"]);
  } finally {
    await srv.close();
  }
});

Deno.test("probe: 404 with disable_on_404 → L7OKC (NOLB) while up, L7STS while down", async () => {
  const srv = answering("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
  try {
    const check = { ...HTTP, disableOn404: true };
    const up = await runProbe(spec(srv.port, { http: check }), { serverUp: true });
    assert.equal(up.status, "L7OKC");
    assert.equal(up.code, 404);
    const down = await runProbe(spec(srv.port, { http: check }), { serverUp: false });
    assert.equal(down.status, "L7STS");
    assert.equal(down.description, "Not Found");
  } finally {
    await srv.close();
  }
});

Deno.test("probe: expect_string reads the body (split writes) and matches or not", async () => {
  const srv = serve(async (conn) => {
    await readHead(conn);
    await conn.write(enc("HTTP/1.1 200 OK\r\nContent-Length: 22\r\n\r\nstatus: "));
    await new Promise((r) => setTimeout(r, 30));
    await conn.write(enc("all good here\n"));
  });
  try {
    const ok = await runProbe(spec(srv.port, { http: { ...HTTP, expectString: "good" } }));
    assert.equal(ok.status, "L7OK");
    assert.equal(ok.code, 200);
    const bad = await runProbe(spec(srv.port, { http: { ...HTTP, expectString: "bad" } }));
    assert.equal(bad.status, "L7RSP");
    assert.equal(bad.description, "HTTP content check did not match");
  } finally {
    await srv.close();
  }
});

Deno.test("probe: garbage or an empty close → L7RSP", async () => {
  const garbage = answering("HELLO WORLD\r\n\r\n");
  const empty = serve(async (conn) => {
    await readHead(conn);
  });
  try {
    assert.equal((await runProbe(spec(garbage.port, { http: HTTP }))).status, "L7RSP");
    assert.equal((await runProbe(spec(empty.port, { http: HTTP }))).status, "L7RSP");
  } finally {
    await garbage.close();
    await empty.close();
  }
});

Deno.test("probe: an aborted probe resolves at once", async () => {
  const srv = serve(async (conn) => {
    const buf = new Uint8Array(1024);
    for (let i = 0; i < 1000 && await conn.read(buf) !== null; i++);
  });
  try {
    const ac = new AbortController();
    const pending = runProbe(spec(srv.port, { http: HTTP, inter: 10_000 }), { signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    const r = await pending;
    assert.equal(r.status, "SOCKERR");
    assert.ok(r.durationMs < 2000);
  } finally {
    await srv.close();
  }
});

const haveOpenssl = (() => {
  try {
    return new Deno.Command("openssl", { args: ["version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
})();

Deno.test({
  name: "probe: check-ssl handshake → L6OK; HTTP over TLS → L7OK; verify fails → L6RSP",
  ignore: !haveOpenssl,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const out = await new Deno.Command("openssl", {
        args: [
          "req",
          "-x509",
          "-newkey",
          "ec",
          "-pkeyopt",
          "ec_paramgen_curve:prime256v1",
          "-nodes",
          "-subj",
          "/CN=localhost",
          "-days",
          "1",
          "-keyout",
          `${dir}/key.pem`,
          "-out",
          `${dir}/cert.pem`,
        ],
        stdout: "null",
        stderr: "null",
      }).output();
      assert.ok(out.success, "openssl req");
      const listener = Deno.listenTls({
        hostname: "127.0.0.1",
        port: 0,
        cert: await Deno.readTextFile(`${dir}/cert.pem`),
        key: await Deno.readTextFile(`${dir}/key.pem`),
      });
      const port = (listener.addr as Deno.NetAddr).port;
      const conns: Deno.TlsConn[] = [];
      const loop = (async () => {
        for await (const conn of listener) {
          conns.push(conn);
          (async () => {
            try {
              await conn.handshake();
              const head = await readHead(conn);
              if (head !== "") await conn.write(enc("HTTP/1.0 200 OK\r\n\r\n"));
            } catch { /* the client gave up */ }
            try {
              conn.close();
            } catch { /* closed */ }
          })();
        }
      })();
      try {
        const tls = { servername: "localhost", verify: false };
        assert.equal((await runProbe(spec(port, { tls }))).status, "L6OK");
        const http = await runProbe(spec(port, { tls, http: HTTP }));
        assert.equal(http.status, "L7OK");
        const strict = await runProbe(spec(port, { tls: { ...tls, verify: true } }));
        assert.equal(strict.status, "L6RSP");
        assert.notEqual(strict.description, "");
      } finally {
        listener.close();
        await loop.catch(() => {});
        for (const c of conns) {
          try {
            c.close();
          } catch { /* closed */ }
        }
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
