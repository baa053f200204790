import assert from "node:assert/strict";
import { txnOf } from "./_testing.ts";
import type { Balance } from "../../config/types.ts";
import {
  bodyParamValue,
  bodyWaitLimit,
  httpBalanceKey,
  httpBalanceKeyText,
  httpBodyBalanceKey,
  peekRequestBody,
  waitsForBody,
} from "./balance_key.ts";

Deno.test("httpBalanceKeyText per algorithm; null falls back to round robin", () => {
  const uri = (
    o: Partial<{ whole: boolean; len: number; depth: number; pathOnly: boolean }> = {},
  ): Balance => ({
    algorithm: "uri",
    whole: false,
    len: 0,
    depth: 0,
    pathOnly: false,
    ...o,
  });
  const cases: [Balance, string, string | null][] = [
    [uri(), "GET /a/b?x=1 HTTP/1.1\n", "/a/b"],
    [uri({ whole: true }), "GET /a/b?x=1 HTTP/1.1\n", "/a/b?x=1"],
    [uri({ depth: 1 }), "GET /a/b?x=1 HTTP/1.1\n", "/a"],
    [uri({ len: 3 }), "GET /a/b?x=1 HTTP/1.1\n", "/a/"],
    [uri({ pathOnly: true }), "GET http://h/a?x HTTP/1.1\nHost: h\n", "/a"],
    [
      { algorithm: "url_param", name: "uid", checkPost: false },
      "GET /p?a=1&uid=42 HTTP/1.1\n",
      "42",
    ],
    [{ algorithm: "url_param", name: "uid", checkPost: false }, "GET /p?a=1 HTTP/1.1\n", null],
    [{ algorithm: "url_param", name: "uid", checkPost: false }, "GET /p HTTP/1.1\n", null],
    [
      { algorithm: "hdr", name: "Host", useDomainOnly: false },
      "GET / HTTP/1.1\nHost: www.example.com\n",
      "www.example.com",
    ],
    [
      { algorithm: "hdr", name: "host", useDomainOnly: true },
      "GET / HTTP/1.1\nHost: haproxy.1wt.eu\n",
      "1wt",
    ],
    [{ algorithm: "hdr", name: "X-Id", useDomainOnly: false }, "GET / HTTP/1.1\n", null],
    [{ algorithm: "roundrobin" }, "GET / HTTP/1.1\n", null],
  ];
  for (const [b, req, want] of cases) assert.equal(httpBalanceKeyText(b, txnOf(req)), want, req);
  assert.deepEqual(
    httpBalanceKey(
      { algorithm: "url_param", name: "u", checkPost: false },
      txnOf("GET /?u=ab HTTP/1.1\n"),
    ),
    new Uint8Array([0x61, 0x62]),
  );
});

const enc = new TextEncoder();
const dec = new TextDecoder("latin1");
const bytes = (s: string) => enc.encode(s);
const text = (b: Uint8Array | null) => (b === null ? null : dec.decode(b));
const PARAM: Balance = { algorithm: "url_param", name: "uid", checkPost: true };

Deno.test("waitsForBody: url_param and a POST with a body, check_post or not", () => {
  const post = txnOf("POST /p?uid=1 HTTP/1.1\nHost: h\nContent-Length: 3\n").req;
  const chunked = txnOf("POST /p HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n").req;
  const empty = txnOf("POST /p HTTP/1.1\nHost: h\nContent-Length: 0\n").req;
  const put = txnOf("PUT /p HTTP/1.1\nHost: h\nContent-Length: 3\n").req;
  const lower = txnOf("post /p HTTP/1.1\nHost: h\nContent-Length: 3\n").req;
  assert.equal(waitsForBody(PARAM, post), true);
  assert.equal(waitsForBody({ ...PARAM, checkPost: false }, post), true);
  assert.equal(waitsForBody(PARAM, chunked), true);
  assert.equal(waitsForBody(PARAM, empty), false);
  assert.equal(waitsForBody(PARAM, put), false);
  assert.equal(waitsForBody(PARAM, lower), false);
  assert.equal(waitsForBody({ algorithm: "roundrobin" }, post), false);
  assert.equal(waitsForBody({ algorithm: "hdr", name: "X", useDomainOnly: false }, post), false);
});

Deno.test("bodyWaitLimit: HAProxy's buffer room after the head (measured on 2.6.12)", () => {
  const small = txnOf("POST /p HTTP/1.1\nHost: x\nContent-Length: 100000\n").req;
  assert.equal(bodyWaitLimit(small), 15204);
  const longUri = txnOf(`POST /p${"a".repeat(1000)} HTTP/1.1\nHost: x\nContent-Length: 100000\n`);
  assert.equal(bodyWaitLimit(longUri.req), 14204);
  const longHdr = txnOf(
    `POST /p HTTP/1.1\nHost: x\nX-Long: ${"b".repeat(1000)}\nContent-Length: 100000\n`,
  );
  assert.equal(bodyWaitLimit(longHdr.req), 14190);
  const chunked = txnOf("POST /p HTTP/1.1\nHost: x\nTransfer-Encoding: chunked\n").req;
  assert.equal(bodyWaitLimit(chunked), 15200);
  const huge = txnOf(`POST /p HTTP/1.1\nHost: x\nX-Big: ${"c".repeat(15300)}\nContent-Length: 9\n`);
  assert.equal(bodyWaitLimit(huge.req), 0);
});

Deno.test("peekRequestBody: Content-Length bodies, limit, nothing consumed", () => {
  const req = txnOf("POST /p HTTP/1.1\nHost: h\nContent-Length: 9\n").req;
  const cases: [string, number, string, boolean][] = [
    ["", 100, "", false],
    ["uid=", 100, "uid=", false],
    ["uid=alice", 100, "uid=alice", true],
    ["uid=aliceGET / HTTP/1.1\r\n", 100, "uid=alice", true],
    ["uid=alice", 4, "uid=", true],
    ["uid", 4, "uid", false],
    ["", 0, "", true],
  ];
  for (const [raw, limit, data, complete] of cases) {
    const input = bytes(raw);
    const p = peekRequestBody(input, req, { limit });
    assert.deepEqual([text(p.data), p.complete], [data, complete], `${raw} / ${limit}`);
    assert.equal(dec.decode(input), raw);
  }
});

Deno.test("peekRequestBody: chunked bodies are de-chunked up to the end of the trailers", () => {
  const req = txnOf("POST /p HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n").req;
  const cases: [string, number, string, boolean][] = [
    ["", 100, "", false],
    ["9", 100, "", false],
    ["9\r\nuid=al", 100, "uid=al", false],
    ["9\r\nuid=alice\r\n", 100, "uid=alice", false],
    ["9\r\nuid=alice\r\n0\r\n", 100, "uid=alice", false],
    ["9\r\nuid=alice\r\n0\r\n\r\n", 100, "uid=alice", true],
    ["9\nuid=alice\n0\n\n", 100, "uid=alice", true],
    ["3\r\nuid\r\n6;ext=1\r\n=alice\r\n0\r\nX-T: 1\r\n", 100, "uid=alice", false],
    ["3\r\nuid\r\n6;ext=1\r\n=alice\r\n0\r\nX-T: 1\r\n\r\n", 100, "uid=alice", true],
    ["3 \r\nuid\r\n0006\r\n=alice\r\n0\r\n\r\n", 100, "uid=alice", true],
    ["9\r\nuid=alice\r\n0\r\n\r\n", 5, "uid=a", true],
    ["3\r\nuid\r\n", 3, "uid", true],
    // Bad framing stops the wait; the forwarding path answers the error.
    ["z\r\n", 100, "", true],
    ["3x\r\nuid\r\n", 100, "", true],
    ["3\r\nuidX\r\n", 100, "uid", true],
    ["3\rX", 100, "", true],
    ["ffffffffffffff\r\n", 100, "", true],
  ];
  for (const [raw, limit, data, complete] of cases) {
    const p = peekRequestBody(bytes(raw), req, { limit });
    assert.deepEqual([text(p.data), p.complete], [data, complete], JSON.stringify(raw));
  }
});

Deno.test("bodyParamValue: HAProxy's get_server_ph_post, quirks included", () => {
  const cases: [string, string, string | null][] = [
    ["uid=alice", "uid", "alice"],
    ["a=1&uid=bob&c=3", "uid", "bob"],
    ["a=1&b=2", "uid", null],
    ["xuid=1&uid=2", "uid", "2"],
    ["uid=", "uid", ""],
    ["uid=&a=1", "uid", ""],
    ["uid", "uid", null],
    ["uid=alice\r\n", "uid", "alice\r\n"],
    // Only the first byte of the value is checked: a blank empties it, another non-token byte
    // means the body is not form data (round robin).
    ["uid= x", "uid", ""],
    ["uid=\r\nx", "uid", ""],
    ["uid=/x", "uid", null],
    ['uid={"a":1}', "uid", null],
    ["uid=a/x y", "uid", "a/x y"],
    ['{"uid":"alice"}', "uid", null],
    ["", "uid", null],
  ];
  for (const [body, name, want] of cases) {
    assert.equal(text(bodyParamValue(bytes(body), name)), want, body);
  }
  // Raw bytes after a token first byte are kept; a non-ASCII first byte is not a token.
  const raw = new Uint8Array([...bytes("uid=t"), 0xe9, 0x74, 0xe9]);
  assert.deepEqual(bodyParamValue(raw, "uid"), raw.subarray(4));
  assert.equal(bodyParamValue(new Uint8Array([...bytes("uid="), 0xe9]), "uid"), null);
  const body = bytes("uid=alice");
  const v = bodyParamValue(body, "uid")!;
  body[4] = 0x41;
  assert.equal(text(v), "alice", "a copy, not a view of the client buffer");
  assert.equal(text(httpBodyBalanceKey(PARAM, bytes("uid=zz"))), "zz");
  assert.equal(httpBodyBalanceKey({ algorithm: "roundrobin" }, bytes("uid=zz")), null);
});
