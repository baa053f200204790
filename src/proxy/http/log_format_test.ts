import assert from "node:assert/strict";
import { parseRequestHead, parseResponseHead } from "../http1/head.ts";
import { isParseError, type ResponseHead } from "../http1/types.ts";
import type { ConnInfo, HttpTxn } from "./txn.ts";
import { parseLogFormat } from "../../config/condition.ts";
import { renderFormat } from "./log_format.ts";

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

Deno.test("renderFormat: literals, samples, missing values", () => {
  const txn = txnOf("GET /p?q=1 HTTP/1.1\nHost: h\nX-A: 1, 2\n");
  const cases: [string, string, string][] = [
    ["plain", "plain", "plain"],
    ["a%[hdr(nothere)]b", "ab", "a-b"], // "ab" observed on haproxy 2.6.12
    ["%[hdr(x-a)]-%[path]", "2-/p", "2-/p"],
    ["100%% %[method] %[ssl_fc]", "100% GET 0", "100% GET 0"],
    ["%[url_param(q)]%[src]", "1192.0.2.7", "1192.0.2.7"],
  ];
  for (const [text, want, wantLog] of cases) {
    const f = parseLogFormat(text);
    if (!f.ok) throw new Error(f.error);
    assert.equal(renderFormat(f.value, txn), want, text);
    assert.equal(renderFormat(f.value, txn, { missing: "-" }), wantLog, text);
  }
});
