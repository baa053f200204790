/**
 * Unit tests of the incremental HTTP/1 parsers: framing, pipelining, limits, response rules and
 * a fast-check property that any split of the input gives the same events as whole feeding.
 *
 * @module
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { RequestParser, ResponseParser } from "./parser.ts";
import type { ParseEvent, ParserOptions, RequestHead, ResponseHead } from "./types.ts";

/** Latin1 bytes of a string (each code unit one byte), so `\x81` stays one byte. */
const enc = {
  encode(s: string): Uint8Array {
    return Uint8Array.from(s, (c) => c.charCodeAt(0));
  },
};

/** A normalized event for comparisons (bodies as strings, heads reduced). */
type Ev =
  | ["head", string, string, [string, string][]]
  | ["body", string]
  | ["end", [string, string][] | null]
  | ["error", string, number, number]
  | ["need_more"];

function norm(ev: ParseEvent<RequestHead | ResponseHead>): Ev {
  switch (ev.type) {
    case "head": {
      const h = ev.head;
      const line = "method" in h ? `${h.method} ${h.target} ${h.version}` : `${h.status}`;
      return ["head", line, h.bodyKind, h.headers];
    }
    case "body":
      return ["body", String.fromCharCode(...ev.data)];
    case "end":
      return ["end", ev.trailers];
    case "error":
      return ["error", ev.error.reason, ev.error.offset, ev.error.status];
    default:
      return ["need_more"];
  }
}

/** Feeds `input` split at `cuts`, returns events with consecutive bodies merged. */
function feed(
  p: RequestParser | ResponseParser,
  input: Uint8Array,
  cuts: number[] = [],
  eof = false,
): Ev[] {
  const out: Ev[] = [];
  const bounds = [...new Set(cuts.filter((c) => c > 0 && c < input.length))].sort((a, b) => a - b);
  bounds.push(input.length);
  let pos = 0;
  for (const limit of bounds) {
    for (let guard = 0; guard < 10_000; guard++) {
      const ev = p.execute(input.subarray(pos, limit));
      pos += ev.consumed;
      if (ev.type === "need_more") break;
      const n = norm(ev);
      const last = out[out.length - 1];
      if (n[0] === "body" && last && last[0] === "body") last[1] += n[1];
      else out.push(n);
      if (ev.type === "error") return out;
    }
  }
  assert.equal(pos, input.length, "all bytes consumed");
  if (eof) {
    const ev = p.eof();
    if (ev) out.push(norm(ev));
  }
  return out;
}

function req(s: string, options?: ParserOptions): Ev[] {
  return feed(new RequestParser(options), enc.encode(s));
}

Deno.test("simple GET: head then end, original case and order kept", () => {
  const p = new RequestParser();
  const ev = p.execute(enc.encode("GET /a?b HTTP/1.1\r\nHost: x\r\nX-Up: V\r\nhost2: y\r\n\r\n"));
  assert.equal(ev.type, "head");
  if (ev.type !== "head") return;
  const h = ev.head;
  assert.equal(h.method, "GET");
  assert.equal(h.target, "/a?b");
  assert.equal(h.version, "HTTP/1.1");
  assert.deepEqual(h.headers, [["Host", "x"], ["X-Up", "V"], ["host2", "y"]]);
  assert.deepEqual(h.lowerNames, ["host", "x-up", "host2"]);
  assert.equal(h.keepAlive, true);
  assert.equal(h.headLength, ev.consumed);
  assert.deepEqual(norm(p.execute(new Uint8Array(0))), ["end", null]);
  assert.ok(p.idle);
});

Deno.test("pipelined requests: each message consumes only its bytes", () => {
  const a = "POST /1 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc";
  const b = "POST /2 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nxy\r\n0\r\n\r\n";
  const c = "GET /3 HTTP/1.1\r\n\r\n";
  assert.deepEqual(req(a + b + c + "GET /4"), [
    ["head", "POST /1 HTTP/1.1", "length", [["Content-Length", "3"]]],
    ["body", "abc"],
    ["end", null],
    ["head", "POST /2 HTTP/1.1", "chunked", [["Transfer-Encoding", "chunked"]]],
    ["body", "xy"],
    ["end", null],
    ["head", "GET /3 HTTP/1.1", "none", []],
    ["end", null],
  ]);
  const p = new RequestParser();
  const bytes = enc.encode(a + c);
  const head = p.execute(bytes);
  assert.equal(head.consumed, a.length - 3);
  const body = p.execute(bytes.subarray(head.consumed));
  assert.equal(body.type, "body");
  if (body.type === "body") assert.equal(body.data.buffer, bytes.buffer, "body is a view");
  assert.equal(body.consumed, 3);
});

Deno.test("chunked: extensions skipped, trailers returned, bare LF accepted", () => {
  assert.deepEqual(
    req(
      "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" +
        '4;a=b;c\r\nwiki\r\n5 ; x="y"\r\npedia\r\nA\nxxxxxxxxxx\n0;z\r\nT-One: 1\r\nt-two:  2 \r\n\r\n',
    ),
    [
      ["head", "POST / HTTP/1.1", "chunked", [["Transfer-Encoding", "chunked"]]],
      ["body", "wikipediaxxxxxxxxxx"],
      ["end", [["T-One", "1"], ["t-two", "2"]]],
    ],
  );
});

Deno.test("errors carry reason, offset from message start, and status", () => {
  assert.deepEqual(req("GET / HTTP/1.1\r\nX Y: z\r\n\r\n"), [[
    "error",
    "bad_header_name",
    17,
    400,
  ]]);
  assert.deepEqual(req("\r\nGET /\x01 HTTP/1.1\r\n\r\n"), [["error", "bad_target", 7, 400]]);
  const chunked = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
  assert.deepEqual(req(chunked + "3\r\nabcX"), [
    ["head", "POST / HTTP/1.1", "chunked", [["Transfer-Encoding", "chunked"]]],
    ["body", "abc"],
    ["error", "bad_chunk_end", chunked.length + 6, 400],
  ]);
  const p = new RequestParser();
  feed(p, enc.encode("BAD\x01"));
  const again = p.execute(enc.encode("GET / HTTP/1.1\r\n\r\n"));
  assert.equal(again.type, "error", "errors are sticky");
  p.reset();
  assert.equal(p.execute(enc.encode("GET / HTTP/1.1\r\n\r\n")).type, "head");
});

Deno.test("limits: header count and head size are options", () => {
  const three = "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
  assert.equal(req(three, { maxHeaders: 3 })[0][0], "head");
  assert.deepEqual(req(three, { maxHeaders: 2 }), [["error", "too_many_headers", 28, 400]]);
  assert.equal(req(three, { maxHeadBytes: three.length })[0][0], "head");
  assert.deepEqual(req(three, { maxHeadBytes: three.length - 1 }), [
    ["error", "head_too_large", three.length - 1, 400],
  ]);
  // An endless head is cut at the limit, whole or byte by byte.
  const endless = enc.encode("GET / HTTP/1.1\r\nX: " + "a".repeat(200));
  const cuts = Array.from({ length: endless.length }, (_, i) => i);
  assert.deepEqual(feed(new RequestParser({ maxHeadBytes: 100 }), endless, cuts), [
    ["error", "head_too_large", 100, 400],
  ]);
});

Deno.test("connection semantics: HTTP/1.0 vs 1.1, close, keep-alive, upgrade, expect", () => {
  function head(s: string): RequestHead {
    const ev = new RequestParser().execute(enc.encode(s));
    assert.equal(ev.type, "head");
    return (ev as { head: RequestHead }).head;
  }
  assert.equal(head("GET / HTTP/1.0\r\n\r\n").keepAlive, false);
  assert.equal(head("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keepAlive, true);
  assert.equal(head("GET / HTTP/1.1\r\nConnection: foo, close\r\n\r\n").keepAlive, false);
  assert.equal(head("GET / HTTP/1.1\r\nConnection: keep-alive, close\r\n\r\n").keepAlive, false);
  const up = head(
    "GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: k\r\n\r\n",
  );
  assert.equal(up.upgrade, "websocket");
  assert.equal(head("GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n").upgrade, null);
  const ex = head("PUT / HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n");
  assert.equal(ex.expectContinue, true);
  assert.equal(head("PUT / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n").expectContinue, false);
  const both = head("POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n");
  assert.equal(both.mustClose, true);
  assert.equal(both.contentLength, -1);
});

function res(s: string, method = "GET", eof = false): Ev[] {
  const p = new ResponseParser();
  p.setRequestMethod(method);
  return feed(p, enc.encode(s), [], eof);
}

Deno.test("responses: 1xx interim, no-body statuses, HEAD, until-close, tunnels", () => {
  assert.deepEqual(
    res(
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early\r\nLink: x\r\n\r\nHTTP/1.1 200 OK\r\n" +
        "Content-Length: 2\r\n\r\nok",
    ),
    [
      ["head", "100", "none", []],
      ["head", "103", "none", [["Link", "x"]]],
      ["head", "200", "length", [["Content-Length", "2"]]],
      ["body", "ok"],
      ["end", null],
    ],
  );
  const cl5 = [["Content-Length", "5"]] as [string, string][];
  assert.deepEqual(res("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n"), [
    ["head", "204", "none", cl5],
    ["end", null],
  ]);
  assert.deepEqual(res("HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n")[0][2], "none");
  assert.deepEqual(res("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", "HEAD"), [
    ["head", "200", "none", cl5],
    ["end", null],
  ]);
  assert.deepEqual(res("HTTP/1.0 200 OK\r\n\r\nall of it", "GET", true), [
    ["head", "200", "close", []],
    ["body", "all of it"],
    ["end", null],
  ]);
  assert.deepEqual(res("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzz", "GET", true), [
    ["head", "200", "close", [["Transfer-Encoding", "gzip"]]],
    ["body", "zz"],
    ["end", null],
  ]);
  assert.deepEqual(res("HTTP/1.1 101 Switching Protocols\r\nUpgrade: ws\r\n\r\n\x81\x00")[1], [
    "body",
    "\x81\x00",
  ]);
  assert.equal(res("HTTP/1.1 200 Connection established\r\n\r\n", "CONNECT")[0][2], "tunnel");
  assert.deepEqual(res("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab", "GET", true).at(-1), [
    "error",
    "truncated",
    40,
    502,
  ]);
  assert.deepEqual(res("HTTP/1.1 2000 OK\r\n\r\n"), [["error", "bad_status", 9, 502]]);
  assert.deepEqual(res("HTTP/1.1 200\r\n\r\n")[0][1], "200");
  assert.deepEqual(res("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"), [
    ["error", "content_length_conflict", 52, 502],
  ]);
  const both = new ResponseParser().execute(
    enc.encode("HTTP/1.1 200 OK\r\nContent-Length: 9\r\nTransfer-Encoding: chunked\r\n\r\n"),
  );
  assert.ok(both.type === "head" && both.head.bodyKind === "chunked" && !both.head.keepAlive);
  assert.equal(new ResponseParser().eof(), null, "clean close between messages");
});

/** Valid traffic for the split property: pipelined requests of every framing. */
const REQUESTS = [
  "GET / HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n",
  "\r\nPOST /f HTTP/1.1\nContent-Length: 4\nX-Fold: a\n  b\n\nbody",
  "PUT /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;e=1\r\nabc\r\n10\r\n" +
  "0123456789abcdef\r\n0\r\nT: v\r\n\r\n",
  "POST /z HTTP/1.0\r\nContent-Length: 0\r\n\r\n",
  "DELETE /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
  "GET /bad HTTP/1.1\r\nContent-Length: 1, 2\r\n\r\n",
];

Deno.test("property: any split of pipelined requests gives the events of whole feeding", () => {
  const all = enc.encode(REQUESTS.join(""));
  const whole = feed(new RequestParser(), all);
  assert.equal(whole.at(-1)?.[0], "error", "the last request is rejected");
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 1, max: all.length - 1 }), { maxLength: 40 }),
      (cuts) => {
        assert.deepEqual(feed(new RequestParser(), all, cuts), whole);
      },
    ),
    { numRuns: 300 },
  );
  const bytewise = Array.from({ length: all.length }, (_, i) => i);
  assert.deepEqual(feed(new RequestParser(), all, bytewise), whole);
});

Deno.test("property: any split of a response stream gives the same events", () => {
  const s = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
    "5\r\nhello\r\n0\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nnopHTTP/1.0 200 OK\r\n\r\nrest";
  const all = enc.encode(s);
  const whole = feed(new ResponseParser(), all, [], true);
  assert.deepEqual(whole.at(-1), ["end", null]);
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 1, max: all.length - 1 }), { maxLength: 30 }),
      (cuts) => {
        assert.deepEqual(feed(new ResponseParser(), all, cuts, true), whole);
      },
    ),
    { numRuns: 200 },
  );
});

Deno.test("property: arbitrary bytes never throw and splits agree", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 120 }),
      fc.array(fc.integer({ min: 1, max: 119 }), { maxLength: 10 }),
      (tail, cuts) => {
        const input = new Uint8Array([...enc.encode("POST / HTTP/1.1\r\n"), ...tail]);
        assert.deepEqual(feed(new RequestParser(), input, cuts), feed(new RequestParser(), input));
      },
    ),
    { numRuns: 300 },
  );
});
