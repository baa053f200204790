/**
 * Connection-mode matrix verified against haproxy 2.6.12 (option http-keep-alive,
 * http-server-close, httpclose; HTTP/1.0 and 1.1 clients and servers), checked on the bytes the
 * forwarding encoders write, both from undecoded heads and from decoded ones.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  clientKeepsAlive,
  encodeForwardedRequest,
  encodeForwardedResponse,
  errorConnectionValue,
  type HttpConnectionMode,
  serverKeepsAlive,
} from "./connection_header.ts";
import { RequestParser, ResponseParser } from "./parser.ts";
import type { ParsedRequestHead, ParsedResponseHead } from "./head.ts";

const enc = new TextEncoder();
const dec = new TextDecoder("latin1");

function request(s: string): ParsedRequestHead {
  const ev = new RequestParser().execute(enc.encode(s));
  if (ev.type !== "head") throw new Error(ev.type);
  return ev.head;
}

function response(s: string): ParsedResponseHead {
  const ev = new ResponseParser().execute(enc.encode(s));
  if (ev.type !== "head") throw new Error(ev.type);
  return ev.head;
}

/** The head as text; `decoded` first reads its fields as strings (the other encoding path). */
function forwardedRequest(s: string, mode: HttpConnectionMode, decoded = false): string {
  const req = request(s);
  if (decoded) void req.headers;
  return dec.decode(encodeForwardedRequest(req, { mode }));
}

function forwardedResponse(
  s: string,
  rq: string,
  mode: HttpConnectionMode,
  decoded = false,
): string {
  const res = response(s);
  if (decoded) void res.headers;
  return dec.decode(encodeForwardedResponse(res, request(rq), { mode }));
}

/** The `connection` field values of a head's text, joined by `|`. */
function connection(head: string): string {
  return head.split("\r\n").filter((l) => l.startsWith("connection: ")).map((l) => l.slice(12))
    .join("|");
}

const REQ: Record<string, string> = {
  "11": "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
  "11close": "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
  "11ka": "GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n\r\n",
  "10": "GET / HTTP/1.0\r\n\r\n",
  "10ka": "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
};
const RES: Record<string, string> = {
  "11": "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n",
  "11close": "HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
  "10": "HTTP/1.0 200 OK\r\ncontent-length: 0\r\n\r\n",
};

/** mode, request, response → [client response `connection`, client kept, server request
 * `connection`], as observed on haproxy 2.6.12. */
const MATRIX: [HttpConnectionMode, string, string, string, boolean, string][] = [
  ["keep-alive", "11", "11", "", true, ""],
  ["keep-alive", "11close", "11", "close", false, ""],
  ["keep-alive", "11ka", "11", "", true, ""],
  ["keep-alive", "10", "11", "close", false, "keep-alive"],
  ["keep-alive", "10ka", "11", "keep-alive", true, "keep-alive"],
  ["keep-alive", "11", "11close", "", true, ""],
  ["keep-alive", "11", "10", "keep-alive", true, ""],
  ["keep-alive", "10ka", "10", "keep-alive", true, "keep-alive"],
  ["server-close", "11", "11", "", true, "close"],
  ["server-close", "11close", "11", "close", false, "close"],
  ["server-close", "11ka", "11", "", true, "close"],
  ["server-close", "10", "11", "close", false, ""],
  ["server-close", "10ka", "11", "keep-alive", true, ""],
  ["server-close", "11", "11close", "", true, "close"],
  ["server-close", "11", "10", "keep-alive", true, "close"],
  ["server-close", "10ka", "10", "keep-alive", true, ""],
  ["close", "11", "11", "close", false, "close"],
  ["close", "11close", "11", "close", false, "close"],
  ["close", "11ka", "11", "close", false, "close"],
  ["close", "10", "11", "close", false, ""],
  ["close", "10ka", "11", "close", false, ""],
  ["close", "11", "11close", "close", false, "close"],
  ["close", "11", "10", "", false, "close"],
  ["close", "10ka", "10", "", false, ""],
];

Deno.test("connection matrix matches haproxy 2.6.12 (KAL / SCL / CLO)", () => {
  for (const [mode, rq, rs, toClient, kept, toServer] of MATRIX) {
    const label = `${mode} req=${rq} res=${rs}`;
    for (const decoded of [false, true]) {
      const res = forwardedResponse(RES[rs], REQ[rq], mode, decoded);
      assert.equal(connection(res), toClient, `${label} decoded=${decoded}`);
      assert.equal(connection(forwardedRequest(REQ[rq], mode, decoded)), toServer, label);
    }
    assert.equal(clientKeepsAlive(request(REQ[rq]), { mode }), kept, label);
  }
});

Deno.test("other Connection tokens and their headers are kept, as HAProxy does", () => {
  const req =
    "GET / HTTP/1.1\r\nConnection: X-Foo, keep-alive\r\nX-Foo: 1\r\nKeep-Alive: timeout=5\r\n\r\n";
  assert.equal(
    forwardedRequest(req, "keep-alive"),
    "GET / HTTP/1.1\r\nconnection: X-Foo\r\nx-foo: 1\r\nkeep-alive: timeout=5\r\n\r\n",
  );
  assert.equal(connection(forwardedRequest(req, "server-close")), "X-Foo, close");
  const up = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n\r\n";
  assert.equal(
    forwardedResponse(up, req, "close"),
    "HTTP/1.1 101 Switching Protocols\r\nconnection: Upgrade\r\n\r\n",
  );
});

Deno.test("bytes path: names lower-cased, values byte for byte, the same as the decoded path", () => {
  const cases = [
    "GET /a?b HTTP/1.1\r\nHost: x\r\nX-Mixed-Case:  v  \r\nconnection: close\r\n\r\n",
    "POST / HTTP/1.0\r\nContent-Length: 3\r\nX-Latin: caf\xe9\r\n\r\n",
    "GET / HTTP/1.1\r\nConnection: keep-alive, close\r\nA:\r\nB:1\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: h\r\nHost: h\r\nContent-Length: 0, 0\r\n\r\n",
    "GET / HTTP/1.1\r\nX-Fold: a\r\n b\r\n\r\n",
  ];
  for (const text of cases) {
    const bytes = Uint8Array.from(text, (c) => c.charCodeAt(0));
    for (const mode of ["keep-alive", "server-close", "close"] as const) {
      const heads = [false, true].map((decoded) => {
        const ev = new RequestParser().execute(bytes);
        if (ev.type !== "head") throw new Error(ev.type);
        if (decoded) void ev.head.headers;
        ev.head.append("X-Forwarded-For", "192.0.2.1");
        return dec.decode(encodeForwardedRequest(ev.head, { mode }));
      });
      assert.equal(heads[0], heads[1], `${JSON.stringify(text)} ${mode}`);
    }
  }
  assert.equal(
    forwardedRequest(cases[0], "keep-alive"),
    "GET /a?b HTTP/1.1\r\nhost: x\r\nx-mixed-case: v\r\n\r\n",
  );
  assert.equal(
    forwardedRequest(cases[3], "keep-alive"),
    "GET / HTTP/1.1\r\nhost: h\r\ncontent-length: 0\r\n\r\n",
  );
});

Deno.test("server reuse, error connection values", () => {
  assert.equal(serverKeepsAlive(response(RES["11"])), true);
  assert.equal(serverKeepsAlive(response(RES["11close"])), false);
  assert.equal(serverKeepsAlive(response(RES["10"])), false);
  assert.equal(serverKeepsAlive(response(RES["11"]), { mode: "server-close" }), false);
  assert.equal(serverKeepsAlive(response("HTTP/1.1 200 OK\r\n\r\n")), false, "until-close body");
  assert.equal(errorConnectionValue(request(REQ["11"])), undefined);
  assert.equal(errorConnectionValue(request(REQ["10"])), "close");
  assert.equal(errorConnectionValue(request(REQ["11close"])), "close");
  assert.equal(errorConnectionValue(request(REQ["10ka"])), "keep-alive");
  const smuggle = request(
    "POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
  );
  assert.equal(clientKeepsAlive(smuggle), false, "CL+TE closes after the response");
});
