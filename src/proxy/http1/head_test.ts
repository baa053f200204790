/**
 * Tests of the head helpers: Content-Length lists, blank trimming, token lookup, and the
 * non-ASCII (latin1) decoding path.
 *
 * @module
 */

import assert from "node:assert/strict";
import { hasToken, parseContentLength, parseRequestHead, trimLws } from "./head.ts";
import { isParseError } from "./types.ts";

Deno.test("parseContentLength: lists of equal values, malformed and conflicting ones", () => {
  assert.equal(parseContentLength("42"), 42);
  assert.equal(parseContentLength(" 7 ,7,\t7 "), 7);
  assert.equal(parseContentLength("007"), 7);
  assert.equal(parseContentLength("9007199254740991"), Number.MAX_SAFE_INTEGER);
  assert.equal(parseContentLength("9007199254740992"), -1);
  for (const bad of ["", " ", "+1", "-1", "1 2", "0x1", "1,", ",1", "1,,1", "1;", "１"]) {
    assert.equal(parseContentLength(bad), -1, JSON.stringify(bad));
  }
  assert.equal(parseContentLength("1, 2"), -2);
});

Deno.test("trimLws trims only SP and HTAB; hasToken is case-insensitive", () => {
  assert.equal(trimLws(" \ta b\t "), "a b");
  assert.equal(trimLws("\x0bchunked"), "\x0bchunked");
  assert.equal(trimLws("\xa0x"), "\xa0x");
  assert.ok(hasToken("foo, WebSocket", "websocket"));
  assert.ok(!hasToken("websockets", "websocket"));
});

Deno.test("heads with bytes >= 0x80 decode as latin1, ASCII heads through the fast path", () => {
  const bytes = Uint8Array.from(
    "GET / HTTP/1.1\r\nX-A: \xe9\x80\xff\r\nX-B: b\r\n\r\n",
    (c) => c.charCodeAt(0),
  );
  const h = parseRequestHead({ buf: bytes, base: 0, start: 0, end: bytes.length }, {
    maxHeaders: 10,
  });
  assert.ok(!isParseError(h));
  assert.deepEqual(h.headers, [["X-A", "\xe9\x80\xff"], ["X-B", "b"]]);
  const ascii = new TextEncoder().encode("GET /x HTTP/1.1\r\nX-Up: Mixed\r\n\r\n");
  const a = parseRequestHead({ buf: ascii, base: 0, start: 0, end: ascii.length }, {
    maxHeaders: 10,
  });
  assert.ok(!isParseError(a));
  assert.deepEqual([a.headers, a.lowerNames], [[["X-Up", "Mixed"]], ["x-up"]]);
});
