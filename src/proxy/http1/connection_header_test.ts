/**
 * Connection-mode matrix verified against haproxy 2.6.12 (option http-keep-alive,
 * http-server-close, httpclose; HTTP/1.0 and 1.1 clients and servers), and hop-by-hop helpers.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  clientKeepsAlive,
  connectionTokens,
  errorConnectionValue,
  forwardRequestHeaders,
  forwardResponseHeaders,
  type HttpConnectionMode,
  serverKeepsAlive,
  stripHopByHop,
} from "./connection_header.ts";
import { RequestParser, ResponseParser } from "./parser.ts";
import type { HeaderList, RequestHead, ResponseHead } from "./types.ts";

const enc = new TextEncoder();

function request(s: string): RequestHead {
  const ev = new RequestParser().execute(enc.encode(s));
  if (ev.type !== "head") throw new Error(ev.type);
  return ev.head;
}

function response(s: string): ResponseHead {
  const ev = new ResponseParser().execute(enc.encode(s));
  if (ev.type !== "head") throw new Error(ev.type);
  return ev.head;
}

function connection(h: HeaderList): string {
  return h.filter(([n]) => n.toLowerCase() === "connection").map(([, v]) => v).join("|");
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
    const req = request(REQ[rq]);
    const res = response(RES[rs]);
    const label = `${mode} req=${rq} res=${rs}`;
    assert.equal(connection(forwardResponseHeaders(res, req, { mode })), toClient, label);
    assert.equal(clientKeepsAlive(req, { mode }), kept, label);
    assert.equal(connection(forwardRequestHeaders(req, { mode })), toServer, label);
  }
});

Deno.test("other Connection tokens and their headers are kept, as HAProxy does", () => {
  const req = request(
    "GET / HTTP/1.1\r\nConnection: X-Foo, keep-alive\r\nX-Foo: 1\r\nKeep-Alive: timeout=5\r\n\r\n",
  );
  assert.deepEqual(forwardRequestHeaders(req), [
    ["Connection", "X-Foo"],
    ["X-Foo", "1"],
    ["Keep-Alive", "timeout=5"],
  ]);
  assert.deepEqual(forwardRequestHeaders(req, { mode: "server-close" })[0], [
    "Connection",
    "X-Foo, close",
  ]);
  const up = response("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n\r\n");
  assert.deepEqual(forwardResponseHeaders(up, req, { mode: "close" }), [["Connection", "Upgrade"]]);
});

Deno.test("server reuse, error connection values, token parsing, strict hop-by-hop", () => {
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
  const headers: HeaderList = [
    ["Connection", "X-A,\tUpgrade"],
    ["connection", "close"],
    ["X-A", "1"],
    ["Upgrade", "ws"],
    ["TE", "trailers"],
    ["Keep-Alive", "5"],
    ["Host", "h"],
  ];
  assert.deepEqual(connectionTokens(headers), ["x-a", "upgrade", "close"]);
  assert.deepEqual(stripHopByHop(headers), [["Host", "h"]]);
});
