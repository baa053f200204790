/**
 * Micro-benchmarks of the HTTP/1 codec hot path. Run:
 * `deno bench src/proxy/http1/parser_bench.ts`.
 *
 * @module
 */

import { RequestParser, ResponseParser } from "./parser.ts";
import { encodeForwardedRequest } from "./connection_header.ts";
import type { ParsedRequestHead } from "./head.ts";

/** A typical ~400-byte browser GET with 8 header fields. */
const GET = new TextEncoder().encode(
  "GET /api/v1/items?page=2&sort=name HTTP/1.1\r\n" +
    "Host: www.example.com\r\n" +
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n" +
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n" +
    "Accept-Language: en-US,en;q=0.5\r\n" +
    "Accept-Encoding: gzip, deflate, br\r\n" +
    "Connection: keep-alive\r\n" +
    "Cookie: session=0123456789abcdef0123456789abcdef; theme=dark\r\n" +
    "Upgrade-Insecure-Requests: 1\r\n" +
    "\r\n",
);

const RESPONSE = new TextEncoder().encode(
  "HTTP/1.1 200 OK\r\nDate: Tue, 25 Nov 2026 10:00:00 GMT\r\nServer: backend\r\n" +
    "Content-Type: text/plain\r\nContent-Length: 12\r\n\r\nhello world\n",
);

const parser = new RequestParser({ borrow: true });
const responseParser = new ResponseParser({ borrow: true });

Deno.bench(`parse ${GET.length}-byte GET with 8 headers`, () => {
  const ev = parser.execute(GET);
  if (ev.type !== "head") throw new Error("unexpected " + ev.type);
  parser.execute(GET.subarray(ev.consumed));
});

Deno.bench("parse 200 response with 12-byte body", () => {
  const h = responseParser.execute(RESPONSE);
  const b = responseParser.execute(RESPONSE.subarray(h.consumed));
  responseParser.execute(RESPONSE.subarray(h.consumed + b.consumed));
});

Deno.bench("forward from bytes: drop Connection, lower-case names, append X-Forwarded-For", () => {
  const head = (parser.execute(GET) as { head: ParsedRequestHead }).head;
  parser.reset();
  head.append("X-Forwarded-For", "192.0.2.1");
  encodeForwardedRequest(head);
});

Deno.bench("forward decoded: the same after reading the fields as strings", () => {
  const head = (parser.execute(GET) as { head: ParsedRequestHead }).head;
  parser.reset();
  void head.headers;
  head.append("X-Forwarded-For", "192.0.2.1");
  encodeForwardedRequest(head);
});
