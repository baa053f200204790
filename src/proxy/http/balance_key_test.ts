import assert from "node:assert/strict";
import { txnOf } from "./_testing.ts";
import type { Balance } from "../../config/types.ts";
import { httpBalanceKey, httpBalanceKeyText } from "./balance_key.ts";

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
