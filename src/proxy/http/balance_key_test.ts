import assert from "node:assert/strict";
import { parseRequestHead, parseResponseHead } from "../http1/head.ts";
import { isParseError, type ResponseHead } from "../http1/types.ts";
import type { ConnInfo, HttpTxn } from "./txn.ts";
import type { Balance } from "../../config/types.ts";
import { httpBalanceKey, httpBalanceKeyText } from "./balance_key.ts";

function txnOf(raw: string, res?: string, conn: Partial<ConnInfo> = {}): HttpTxn {
  const span = (s: string) => {
    const buf = new TextEncoder().encode(s.replaceAll("\n", "\r\n") + "\r\n");
    return { buf, base: 0, start: 0, end: buf.length };
  };
  const req = parseRequestHead(span(raw), { maxHeaders: 100 });
  if (isParseError(req)) throw new Error(`bad test request: ${req.reason}`);
  let head: ResponseHead | null = null;
  if (res !== undefined) {
    const r = parseResponseHead(span(res), { maxHeaders: 100 }, req.method);
    if (isParseError(r)) throw new Error(`bad test response: ${r.reason}`);
    head = r;
  }
  return {
    conn: {
      src: "192.0.2.7",
      srcPort: 40000,
      dst: "198.51.100.1",
      dstPort: 80,
      ssl: false,
      sni: null,
      alpn: null,
      tlsVersion: null,
      ...conn,
    },
    req,
    res: head,
    vars: new Map(),
    frontend: "fe",
    backend: null,
    server: null,
  };
}

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
