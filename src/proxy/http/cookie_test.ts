import assert from "node:assert/strict";
import { txnOf } from "./_testing.ts";
import type { HttpTxn } from "./txn.ts";
import type { CookieConfig } from "../../config/types.ts";
import { isCacheable, requestPersistence, responseCookie } from "./cookie.ts";

function cfg(o: Partial<CookieConfig> = {}): CookieConfig {
  return {
    name: "SRV",
    mode: "insert",
    indirect: false,
    nocache: false,
    postonly: false,
    preserve: false,
    httponly: false,
    secure: false,
    domain: [],
    attr: [],
    ...o,
  };
}

const SERVERS = [
  { name: "s1", cookie: "c1" },
  { name: "s2", cookie: "c2", usable: false },
  { name: "s3", cookie: null },
];

function cookieHeaders(txn: HttpTxn): string[] {
  return txn.req.headers.filter(([n]) => n.toLowerCase() === "cookie").map(([, v]) => v);
}

function setCookies(txn: HttpTxn): string[] {
  return (txn.res?.headers ?? []).filter(([n]) => /^(set-cookie|cache-control)$/i.test(n))
    .map(([n, v]) => `${n.toLowerCase()}: ${v}`);
}

// Request cookie → server and forwarded Cookie header, observed on haproxy 2.6.12.
Deno.test("requestPersistence: lookup, indirect stripping, prefix", () => {
  const cases: [CookieConfig, string, string | null, string, string[]][] = [
    [cfg({ indirect: true }), "SRV=c1; other=1", "s1", "V", ["other=1"]],
    [cfg({ indirect: true }), "other=1; SRV=c1", "s1", "V", ["other=1"]],
    [cfg({ indirect: true }), "SRV=c1", "s1", "V", []],
    [cfg({ indirect: true }), "SRV=zz; o=2", null, "I", ["o=2"]],
    [cfg(), "SRV=c1", "s1", "V", ["SRV=c1"]],
    [cfg(), "SRV=c2", null, "D", ["SRV=c2"]],
    [cfg(), "SRV=", null, "I", ["SRV="]],
    [cfg(), "a=b", null, "N", ["a=b"]],
    [cfg({ mode: "rewrite" }), "SRV=c1; z=1", "s1", "V", ["SRV=c1; z=1"]],
    [cfg({ name: "JS", mode: "prefix" }), "JS=c1~sess1; z=1", "s1", "V", ["JS=sess1; z=1"]],
    [cfg({ name: "JS", mode: "prefix" }), "JS=bogus~sess1", null, "I", ["JS=sess1"]],
    [cfg({ name: "JS", mode: "prefix" }), "JS=nosep", null, "I", ["JS=nosep"]],
  ];
  for (const [c, cookie, server, flag, forwarded] of cases) {
    const txn = txnOf(`GET / HTTP/1.1\nCookie: ${cookie}\n`);
    const p = requestPersistence(c, txn, SERVERS);
    assert.equal(p.serverName, server, cookie);
    assert.equal(p.logFlag, flag, cookie);
    assert.deepEqual(cookieHeaders(txn), forwarded, cookie);
    assert.equal(txn.req.headers.length, txn.req.lowerNames.length);
  }
});

// Response Set-Cookie handling, observed on haproxy 2.6.12 (the server's headers come first).
Deno.test("responseCookie: insert, nocache, rewrite, prefix", () => {
  const full = cfg({
    indirect: true,
    domain: [".example.com"],
    httponly: true,
    secure: true,
    attr: ["SameSite=None", "x=y"],
  });
  const cases: [CookieConfig, string, string, string | null, string[], string][] = [
    [full, "GET", "", null, [
      "set-cookie: SRV=c1; path=/; domain=.example.com; HttpOnly; Secure; SameSite=None; x=y",
    ], "I"],
    [full, "GET", "Set-Cookie: SRV=fromsrv; path=/\nSet-Cookie: k=v\n", null, [
      "set-cookie: k=v",
      "set-cookie: SRV=c1; path=/; domain=.example.com; HttpOnly; Secure; SameSite=None; x=y",
    ], "I"],
    [full, "GET", "", "s1", [], "N"],
    [cfg({ nocache: true }), "GET", "Last-Modified: Mon, 01 Jan 2024 00:00:00 GMT\n", null, [
      "set-cookie: SRV=c1; path=/",
      "cache-control: private",
    ], "I"],
    [cfg({ nocache: true }), "GET", "Set-Cookie: SRV=x\n", "s1", [], "D"],
    [cfg({ nocache: true }), "POST", "Cache-Control: public, max-age=5\n", null, [
      "cache-control: public, max-age=5",
      "set-cookie: SRV=c1; path=/",
      "cache-control: private",
    ], "I"],
    [cfg({ nocache: true }), "POST", "Cache-Control: max-age=5\n", null, [
      "cache-control: max-age=5",
      "set-cookie: SRV=c1; path=/",
    ], "I"],
    [cfg({ preserve: true }), "GET", "Set-Cookie: SRV=own\n", null, ["set-cookie: SRV=own"], "P"],
    [cfg({ postonly: true }), "GET", "", null, [], "N"],
    [cfg({ mode: "rewrite" }), "GET", "", null, [], "N"],
    [cfg({ mode: "rewrite" }), "GET", "Set-Cookie: SRV=abc; path=/x\n", "s1", [
      "set-cookie: SRV=c1; path=/x",
    ], "R"],
    [cfg({ name: "JS", mode: "prefix" }), "GET", "Set-Cookie: JS=newsess; path=/\n", "s1", [
      "set-cookie: JS=c1~newsess; path=/",
    ], "R"],
    [
      cfg({ name: "JS", mode: "prefix" }),
      "GET",
      "Set-Cookie: JS=abc\nSet-Cookie: other=JS\n",
      null,
      [
        "set-cookie: JS=c1~abc",
        "set-cookie: other=JS",
      ],
      "R",
    ],
  ];
  for (const [c, method, resHeaders, presented, want, flag] of cases) {
    const txn = txnOf(`${method} / HTTP/1.1\n`, `HTTP/1.1 200 OK\n${resHeaders}`);
    txn.server = "s1";
    const r = responseCookie(c, txn, { serverCookie: "c1", presented });
    assert.deepEqual(setCookies(txn), want, `${method} ${resHeaders}`);
    assert.equal(r.logFlag, flag, `${method} ${resHeaders}`);
  }
});

Deno.test("responseCookie: a server without cookie gets the removal form", () => {
  const txn = txnOf("GET / HTTP/1.1\n", "HTTP/1.1 200 OK\n");
  txn.server = "s3";
  responseCookie(cfg({ domain: ["a", "b"] }), txn, { serverCookie: null, presented: null });
  assert.deepEqual(setCookies(txn), [
    "set-cookie: SRV=; Expires=Thu, 01-Jan-1970 00:00:01 GMT; path=/; domain=a; domain=b",
  ]);
});

// Cacheability cases observed on haproxy 2.6.12 (cookie insert nocache → cache-control: private).
Deno.test("isCacheable", () => {
  const cases: [string, string, boolean][] = [
    ["GET", "", false],
    ["GET", "Last-Modified: x\n", true],
    ["GET", "Expires: x\n", true],
    ["GET", 'ETag: "1"\n', true],
    ["OPTIONS", "Last-Modified: x\n", true],
    ["PUT", "Last-Modified: x\n", false],
    ["GET", "Cache-Control: public, private, max-age=3\n", false],
    ["GET", "Cache-Control: max-age=3\nPragma: no-cache\n", false],
    ["GET", 'Cache-Control: no-cache="set-cookie", max-age=3\n', true],
    ["GET", "Cache-Control: s-maxage=0\nLast-Modified: x\n", false],
    ["GET", "Authorization: x\n", false],
  ];
  for (const [method, headers, want] of cases) {
    assert.equal(
      isCacheable(txnOf(`${method} / HTTP/1.1\n`, `HTTP/1.1 200 OK\n${headers}`)),
      want,
      `${method} ${headers}`,
    );
  }
  assert.equal(
    isCacheable(txnOf("GET / HTTP/1.1\nAuthorization: x\n", "HTTP/1.1 200 OK\nLast-Modified: x\n")),
    true,
  );
});
