import assert from "node:assert/strict";
import { txnOf } from "./_testing.ts";
import type { HttpTxn } from "./txn.ts";
import type { CookieConfig } from "../../config/types.ts";
import {
  decodeDate30,
  encodeDate30,
  isCacheable,
  requestPersistence,
  responseCookie,
} from "./cookie.ts";

/** A fixed "now" (Unix seconds) for the date tests: 2026-11-25 12:00:00 UTC. */
const NOW = 1_795_608_000;

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
    maxidle: 0,
    maxlife: 0,
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
    const p = requestPersistence(c, txn, SERVERS, NOW);
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
    const r = responseCookie(c, txn, { serverCookie: "c1", presented, now: NOW });
    assert.deepEqual(setCookies(txn), want, `${method} ${resHeaders}`);
    assert.equal(r.logFlag, flag, `${method} ${resHeaders}`);
  }
});

Deno.test("responseCookie: a server without cookie gets the removal form", () => {
  const txn = txnOf("GET / HTTP/1.1\n", "HTTP/1.1 200 OK\n");
  txn.server = "s3";
  responseCookie(cfg({ domain: ["a", "b"] }), txn, {
    serverCookie: null,
    presented: null,
    now: NOW,
  });
  assert.deepEqual(setCookies(txn), [
    "set-cookie: SRV=; Expires=Thu, 01-Jan-1970 00:00:01 GMT; path=/; domain=a; domain=b",
  ]);
});

Deno.test("cookie dates: 30 bits as 5 base64 characters, most significant first", () => {
  const cases: [number, string][] = [
    [0, "AAAAA"],
    [1, "AAAAB"],
    [63, "AAAA/"],
    [64, "AAABA"],
    [2 ** 30 - 1, "/////"],
    // (NOW + 3) / 4 = 448 902 000 = 26·64⁴ + 48·64³ + 27·64² + 13·64 + 48
    [448_902_000, "awbNw"],
  ];
  for (const [n, text] of cases) {
    assert.equal(encodeDate30(n), text, String(n));
    assert.equal(decodeDate30(`|${text}`, 1), n, text);
  }
  assert.equal(decodeDate30("AAAA", 0), -1);
  assert.equal(decodeDate30("AA=AA", 0), -1);
  assert.equal(decodeDate30("AA|AA", 0), -1);
});

/** `SRV=c1|<last>[|<first>]` with the dates given as seconds before NOW. */
function dated(lastAgo: number, firstAgo?: number): string {
  const d = (ago: number) => encodeDate30(Math.floor((NOW - ago) / 4));
  return `SRV=c1|${d(lastAgo)}${firstAgo === undefined ? "" : `|${d(firstAgo)}`}`;
}

Deno.test("requestPersistence with maxidle/maxlife: expired, old, dates read", () => {
  const c = cfg({ maxidle: 1_800_000, maxlife: 28_800_000, indirect: true });
  const cases: [CookieConfig, string, string | null, string, number | null, number | null][] = [
    [c, dated(60, 600), "s1", "V", 60, 600],
    [c, dated(2000, 600), null, "E", null, null],
    [c, dated(60, 30_000), null, "O", null, null],
    [c, dated(-86_500), null, "E", null, null],
    [c, dated(-80_000), "s1", "V", -80_000, null],
    // No maxidle: the dates are read (and the id is what precedes the bar) but never expire.
    [cfg({ mode: "rewrite" }), dated(90_000, 90_000), "s1", "V", 90_000, 90_000],
    [c, "SRV=c1|!!!!!", "s1", "V", null, null],
    [c, "SRV=c1|AB", "s1", "V", null, null],
    // 4 s after the epoch: long expired.
    [c, "SRV=|AAAAB", null, "E", null, null],
    [c, "SRV=|", null, "I", null, null],
    // An expired cookie counts as absent; a later one can still name a server.
    [c, `${dated(4000)}; SRV=c1`, "s1", "V", null, null],
  ];
  for (const [conf, cookie, server, flag, lastAgo, firstAgo] of cases) {
    const txn = txnOf(`GET / HTTP/1.1\nCookie: ${cookie}\n`);
    const p = requestPersistence(conf, txn, SERVERS, NOW);
    assert.equal(p.serverName, server, cookie);
    assert.equal(p.logFlag, flag, cookie);
    const at = (ago: number | null) => ago === null ? 0 : Math.floor((NOW - ago) / 4) * 4;
    assert.equal(p.lastDate, at(lastAgo), cookie);
    assert.equal(p.firstDate, at(firstAgo), cookie);
    assert.deepEqual(cookieHeaders(txn), conf.indirect ? [] : [cookie], cookie);
  }
});

Deno.test("responseCookie with dates: inserted, refreshed (U), kept, first date carried", () => {
  const now4 = encodeDate30(Math.floor((NOW + 3) / 4));
  const idle = cfg({ maxidle: 1_800_000 });
  const both = cfg({ maxidle: 1_800_000, maxlife: 28_800_000 });
  const past = Math.floor((NOW - 60) / 4) * 4;
  const ahead = Math.floor((NOW + 4) / 4) * 4;
  const cases: [CookieConfig, string | null, number, number, string[], string][] = [
    [idle, null, 0, 0, [`set-cookie: SRV=c1|${now4}; path=/`], "I"],
    [both, null, 0, 0, [`set-cookie: SRV=c1|${now4}|${now4}; path=/`], "I"],
    [idle, "s1", past, 0, [`set-cookie: SRV=c1|${now4}; path=/`], "U"],
    [idle, "s1", 0, 0, [`set-cookie: SRV=c1|${now4}; path=/`], "U"],
    [idle, "s1", ahead, 0, [], "N"],
    [both, "s1", ahead, past, [], "N"],
    [both, "s1", ahead, 0, [`set-cookie: SRV=c1|${now4}|${now4}; path=/`], "U"],
    [both, "s1", past, past, [`set-cookie: SRV=c1|${now4}|${encodeDate30(past / 4)}; path=/`], "U"],
    // Dates without maxidle/maxlife: the cookie is set again without them.
    [cfg(), "s1", ahead, past, ["set-cookie: SRV=c1; path=/"], "U"],
    [cfg(), "s1", past, 0, ["set-cookie: SRV=c1; path=/"], "U"],
    [cfg(), "s1", ahead, 0, [], "N"],
  ];
  for (const [c, presented, lastDate, firstDate, want, flag] of cases) {
    const txn = txnOf("GET / HTTP/1.1\n", "HTTP/1.1 200 OK\n");
    txn.server = "s1";
    const r = responseCookie(c, txn, {
      serverCookie: "c1",
      presented,
      lastDate,
      firstDate,
      now: NOW,
    });
    const what = `${c.maxidle}/${c.maxlife} ${presented} ${lastDate} ${firstDate}`;
    assert.deepEqual(setCookies(txn), want, what);
    assert.equal(r.logFlag, flag, what);
  }
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
