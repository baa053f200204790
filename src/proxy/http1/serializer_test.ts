/**
 * Tests of head serialization and chunked helpers, including a parse → serialize round trip.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  chunkHeader,
  CRLF,
  encodeChunk,
  encodeLastChunk,
  forwardedVersion,
  LAST_CHUNK,
  serializeRequestHead,
  serializeResponseHead,
} from "./serializer.ts";
import { RequestParser } from "./parser.ts";

const dec = (b: Uint8Array) => String.fromCharCode(...b);

Deno.test("request head: names lower-cased by default, kept on request", () => {
  const headers: [string, string][] = [["Host", "a"], ["X-Forwarded-For", "1.2.3.4"]];
  assert.equal(
    dec(serializeRequestHead({ method: "GET", target: "/x" }, headers)),
    "GET /x HTTP/1.1\r\nhost: a\r\nx-forwarded-for: 1.2.3.4\r\n\r\n",
  );
  assert.equal(
    dec(serializeRequestHead({ method: "GET", target: "/", version: "HTTP/1.0" }, headers, {
      lowercase: false,
    })),
    "GET / HTTP/1.0\r\nHost: a\r\nX-Forwarded-For: 1.2.3.4\r\n\r\n",
  );
});

Deno.test("response head: status line, latin1 values written byte for byte", () => {
  const out = serializeResponseHead({ status: 200, reason: "OK" }, [["Set-Cookie", "v=\xe9"]]);
  assert.deepEqual(
    Array.from(out.slice(-7)),
    [0x76, 0x3d, 0xe9, 13, 10, 13, 10],
  );
  assert.equal(dec(out), "HTTP/1.1 200 OK\r\nset-cookie: v=\xe9\r\n\r\n");
  assert.equal(
    dec(serializeResponseHead({ status: 204, reason: "" }, [])),
    "HTTP/1.1 204 \r\n\r\n",
  );
});

Deno.test("round trip: parsed head re-serialized equals HAProxy's lower-cased forward", () => {
  const raw = "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 2, 2\r\nX-A:  v \r\n\r\nok";
  const ev = new RequestParser().execute(Uint8Array.from(raw, (c) => c.charCodeAt(0)));
  assert.equal(ev.type, "head");
  if (ev.type !== "head") return;
  assert.equal(
    dec(serializeRequestHead(ev.head, ev.head.headers)),
    "POST /p HTTP/1.1\r\nhost: h\r\ncontent-length: 2\r\nx-a: v\r\n\r\n",
  );
});

Deno.test("forwarded version: above 1.1 becomes 1.1, others unchanged", () => {
  assert.equal(forwardedVersion("HTTP/1.2"), "HTTP/1.1");
  assert.equal(forwardedVersion("HTTP/2.0"), "HTTP/1.1");
  assert.equal(forwardedVersion("HTTP/1.0"), "HTTP/1.0");
  assert.equal(forwardedVersion("HTTP/0.9"), "HTTP/0.9");
});

Deno.test("chunked helpers", () => {
  assert.equal(dec(chunkHeader(255)), "ff\r\n");
  assert.equal(dec(chunkHeader(1)), "1\r\n");
  assert.equal(dec(CRLF), "\r\n");
  assert.equal(dec(LAST_CHUNK), "0\r\n\r\n");
  assert.equal(dec(encodeChunk(new Uint8Array([0x61, 0x62]))), "2\r\nab\r\n");
  assert.equal(encodeChunk(new Uint8Array(0)).length, 0);
  assert.equal(dec(encodeLastChunk(null)), "0\r\n\r\n");
  assert.equal(dec(encodeLastChunk([["X-Sum", "1"]])), "0\r\nx-sum: 1\r\n\r\n");
  const last = encodeLastChunk(null);
  last[0] = 0;
  assert.equal(LAST_CHUNK[0], 0x30, "LAST_CHUNK is not handed out for mutation");
});
