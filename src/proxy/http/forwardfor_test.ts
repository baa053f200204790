import assert from "node:assert/strict";
import { parseRequestHead, parseResponseHead } from "../http1/head.ts";
import { isParseError, type ResponseHead } from "../http1/types.ts";
import type { ConnInfo, HttpTxn } from "./txn.ts";
import type { ForwardFor } from "../../config/types.ts";
import { applyForwardFor } from "./forwardfor.ts";

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

const ff = (o: Partial<ForwardFor> = {}): ForwardFor => ({
  except: null,
  header: "X-Forwarded-For",
  ifNone: false,
  ...o,
});

// Observed on haproxy 2.6.12: the client's XFF stays, ours is appended as a new last line.
Deno.test("applyForwardFor", () => {
  const cases: [ForwardFor, string, Partial<ConnInfo>, [string, string][]][] = [
    [ff(), "X-Forwarded-For: 9.9.9.9\nX-A: 1\n", {}, [
      ["X-Forwarded-For", "9.9.9.9"],
      ["X-A", "1"],
      ["X-Forwarded-For", "192.0.2.7"],
    ]],
    [ff({ except: "192.0.2.0/24" }), "", {}, []],
    [ff({ except: "127.0.0.0/8" }), "", {}, [["X-Forwarded-For", "192.0.2.7"]]],
    [ff({ except: "2001:db8::/32" }), "", { src: "2001:db8::5" }, []],
    [ff({ header: "X-Real", ifNone: true }), "x-real: 9.9.9.9\n", {}, [["x-real", "9.9.9.9"]]],
    [ff({ header: "X-Real", ifNone: true }), "", {}, [["X-Real", "192.0.2.7"]]],
    [ff(), "", { src: "" }, []],
  ];
  for (const [f, headers, conn, want] of cases) {
    const txn = txnOf(`GET / HTTP/1.1\n${headers}`, undefined, conn);
    applyForwardFor(f, txn);
    assert.deepEqual(txn.req.headers, want);
    assert.equal(txn.req.lowerNames.length, want.length);
  }
});
