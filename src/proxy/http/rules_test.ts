import assert from "node:assert/strict";
import { txnOf } from "./_testing.ts";
import { parseCondition, parseLogFormat } from "../../config/condition.ts";
import type {
  Condition,
  HttpRequestRule,
  HttpResponseRule,
  LogFormat,
  NameMatch,
} from "../../config/types.ts";
import {
  applyRequestRules,
  applyResponseRules,
  firstMatchingRedirect,
  type RuleVerdict,
  selectBackend,
  withPath,
  withQuery,
} from "./rules.ts";

function fmt(text: string): LogFormat {
  const r = parseLogFormat(text);
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

function cond(text: string): Condition {
  const r = parseCondition(text, { acls: new Map() });
  if (!r.ok) throw new Error(r.error);
  return r.value.condition;
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);
const respond = (v: RuleVerdict) => {
  if (v.kind !== "respond") throw new Error("expected a response");
  return { ...v, text: text(v.bytes) };
};

Deno.test("request header actions (values observed on haproxy 2.6.12)", () => {
  const txn = txnOf("GET /x HTTP/1.1\nX-V: ab, ac,b\nX-H: ab, ac\nX-A: z\nX-Del: 1\nx-del: 2\n");
  const rules: HttpRequestRule[] = [
    { action: "add-header", name: "X-A", value: fmt("1"), cond: null },
    { action: "replace-value", name: "X-V", match: "^a(.*)$", replace: fmt("A\\1"), cond: null },
    { action: "replace-header", name: "X-H", match: "^a(.*)$", replace: fmt("A\\1"), cond: null },
    { action: "set-header", name: "x-a", value: fmt("%[hdr(x-a)]-%[hdr(x-a)]"), cond: null },
    { action: "del-header", name: "X-DEL", nameMatch: "str", cond: null },
    { action: "set-header", name: "X-Empty", value: fmt("a%[hdr(nothere)]b"), cond: null },
    { action: "add-header", name: "X-Skip", value: fmt("no"), cond: cond("{ path /y }") },
  ];
  assert.deepEqual(applyRequestRules(rules, txn), { kind: "continue" });
  assert.deepEqual(txn.req.headers, [
    ["X-V", "Ab,Ac,b"],
    ["X-H", "Ab, ac"],
    ["x-a", "1-1"],
    ["X-Empty", "ab"],
  ]);
  assert.deepEqual(txn.req.lowerNames, ["x-v", "x-h", "x-a", "x-empty"]);
});

Deno.test("del-header name_match: beg/end/sub ignore case, reg tests the lower-cased name", () => {
  const txn = txnOf(
    "GET / HTTP/1.1\nX-Trace-Id: 1\nX-Tracer: k\nApi-SECRET: 2\nX-DEBUG-x: 3\nX-42: 4\n" +
      "X-Upper: k\n",
  );
  const del = (name: string, nameMatch: NameMatch): HttpRequestRule => ({
    action: "del-header",
    name,
    nameMatch,
    cond: null,
  });
  applyRequestRules([
    del("x-trace-", "beg"),
    del("-secret", "end"),
    del("Debug", "sub"),
    del("^x-[0-9]+$", "reg"),
    del("^X-Upper", "reg"),
  ], txn);
  assert.deepEqual(txn.req.headers, [["X-Tracer", "k"], ["X-Upper", "k"]]);
});

Deno.test("set-path, set-query, set-var", () => {
  const txn = txnOf("GET /sp/a?x=1 HTTP/1.1\n");
  applyRequestRules([
    { action: "set-var", variable: "txn.p", expr: fmt("%[path]"), cond: null },
    { action: "set-var", variable: "txn.none", expr: fmt("%[hdr(nothere)]"), cond: null },
    { action: "set-path", value: fmt("/np%[path]"), cond: null },
    { action: "set-query", value: fmt("q=%[query]"), cond: null },
  ], txn);
  // Observed on haproxy 2.6.12: /sp/a?x=1 → /np/sp/a?x=1; /sq/a?x=1 → /sq/a?q=x=1.
  assert.equal(txn.req.target, "/np/sp/a?q=x=1");
  assert.equal(txn.vars.get("txn.p"), "/sp/a");
  assert.equal(txn.vars.has("txn.none"), false);
  const cases: [string, string, string][] = [
    ["/sq/a", "q=", "/sq/a?q="],
    ["/a", "", "/a"],
    ["/a?b", "", "/a?"],
  ];
  for (const [t, q, want] of cases) assert.equal(withQuery(t, q), want);
  assert.equal(withPath("http://h/old?q", "/new"), "http://h/new?q");
  assert.equal(withPath("http://h", "/new"), "http://h/new");
});

Deno.test("deny, return, redirect stop evaluation with haproxy 2.6.12's bytes", () => {
  const deny: HttpRequestRule[] = [{ action: "deny", status: 429, cond: null }];
  const d = respond(applyRequestRules(deny, txnOf("GET /d HTTP/1.1\n")));
  assert.equal(
    d.text,
    "HTTP/1.1 429 Too Many Requests\r\ncontent-length: 117\r\ncache-control: no-cache\r\n" +
      "content-type: text/html\r\n\r\n<html><body><h1>429 Too Many Requests</h1>\n" +
      "You have sent too many requests in a given amount of time.\n</body></html>\n",
  );
  assert.equal(d.close, false);
  const ret: HttpRequestRule[] = [{
    action: "return",
    status: 200,
    contentType: "text/plain",
    body: fmt("pong"),
    cond: null,
  }];
  const r = respond(applyRequestRules(ret, txnOf("GET /ret HTTP/1.0\n")));
  assert.equal(
    r.text,
    "HTTP/1.1 200 OK\r\ncontent-length: 4\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\npong",
  );
  assert.equal(r.close, true);
  const empty: HttpRequestRule[] = [{
    action: "return",
    status: 404,
    contentType: null,
    body: null,
    cond: null,
  }];
  assert.equal(
    respond(applyRequestRules(empty, txnOf("GET / HTTP/1.1\n"))).text,
    "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n",
  );
  const redir: HttpRequestRule[] = [
    {
      action: "redirect",
      redirect: {
        type: "location",
        value: fmt("/l"),
        code: 301,
        dropQuery: false,
        appendSlash: false,
        cond: null,
      },
      cond: null,
    },
    { action: "add-header", name: "X-After", value: fmt("1"), cond: null },
  ];
  const txn = txnOf("GET / HTTP/1.1\n");
  const rd = respond(applyRequestRules(redir, txn));
  assert.equal(rd.action, "redirect");
  assert.equal(rd.status, 301);
  assert.equal(txn.req.lowerNames.includes("x-after"), false);
});

Deno.test("errorfiles as haproxy 2.6.12 sends them", () => {
  const errorfiles = {
    403: "HTTP/1.0 403 Forbidden\r\nCache-Control: no-cache\r\nConnection: close\r\n" +
      "Content-Type: text/html\r\n\r\n<html>custom</html>\n",
    429: "HTTP/1.1 429 Slow Down\r\nX-Custom: Yes\r\nContent-Length: 5\r\n\r\nslow\n",
  };
  const d403 = respond(
    applyRequestRules([{ action: "deny", status: 403, cond: null }], txnOf("GET / HTTP/1.1\n"), {
      errorfiles,
    }),
  );
  assert.equal(
    d403.text,
    "HTTP/1.0 403 Forbidden\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html>custom</html>\n",
  );
  assert.equal(d403.close, true);
  const deny429: HttpRequestRule[] = [{ action: "deny", status: 429, cond: null }];
  const k = respond(applyRequestRules(deny429, txnOf("GET / HTTP/1.1\n"), { errorfiles }));
  assert.equal(
    k.text,
    "HTTP/1.1 429 Slow Down\r\nx-custom: Yes\r\ncontent-length: 5\r\n\r\nslow\n",
  );
  assert.equal(k.close, false);
  const c = respond(applyRequestRules(deny429, txnOf("GET / HTTP/1.0\n"), { errorfiles }));
  assert.equal(
    c.text,
    "HTTP/1.1 429 Slow Down\r\nx-custom: Yes\r\ncontent-length: 5\r\nconnection: close\r\n\r\nslow\n",
  );
  assert.equal(c.close, true);
});

Deno.test("response rules: headers, set-status, deny 502", () => {
  const txn = txnOf("GET /rstat HTTP/1.1\n", "HTTP/1.1 200 OK\nX-Server: a\nX-R: abc\n");
  txn.vars.set("txn.p", "/rstat");
  const rules: HttpResponseRule[] = [
    { action: "set-header", name: "X-Resp", value: fmt("yes"), cond: null },
    {
      action: "del-header",
      name: "X-Server",
      nameMatch: "str",
      cond: cond("{ var(txn.p) -m beg /rstat }"),
    },
    { action: "replace-header", name: "X-R", match: "b", replace: fmt("<\\0>"), cond: null },
    { action: "set-var", variable: "txn.s", expr: fmt("%[status]"), cond: null },
    { action: "set-status", status: 404, reason: "Nope Here", cond: cond("{ status 200 }") },
    { action: "add-header", name: "X-Path", value: fmt("[%[path]]"), cond: null },
  ];
  assert.deepEqual(applyResponseRules(rules, txn), { kind: "continue" });
  assert.equal(txn.res?.status, 404);
  assert.equal(txn.res?.reason, "Nope Here");
  assert.equal(txn.vars.get("txn.s"), "200");
  assert.deepEqual(txn.res?.headers, [["X-R", "<b>"], ["X-Resp", "yes"], ["X-Path", "[]"]]);
  const t2 = txnOf("GET / HTTP/1.1\n", "HTTP/1.1 200 OK\n");
  applyResponseRules([{ action: "set-status", status: 201, reason: null, cond: null }], t2);
  assert.equal(t2.res?.reason, "Created");
  const d = respond(applyResponseRules([{ action: "deny", status: 502, cond: null }], t2));
  assert.match(d.text, /^HTTP\/1\.1 502 Bad Gateway\r\ncontent-length: 107\r\n/);
  assert.equal(d.close, false);
});

Deno.test("firstMatchingRedirect and selectBackend take the first match", () => {
  const txn = txnOf("GET /api/x HTTP/1.1\nHost: www.example\n");
  const use = [
    { backend: "static", cond: cond("{ path_beg /static }") },
    { backend: "api", cond: cond("{ path_beg /api } { hdr_beg(host) -i www. }") },
    { backend: "other", cond: null },
  ];
  assert.equal(selectBackend(use, "def", txn), "api");
  assert.equal(selectBackend(use.slice(0, 1), "def", txn), "def");
  assert.equal(selectBackend([], null, txn), null);
  const mk = (loc: string, c: string) => ({
    type: "location" as const,
    value: fmt(loc),
    code: 302,
    dropQuery: false,
    appendSlash: false,
    cond: cond(c),
  });
  assert.equal(
    firstMatchingRedirect([
      mk("/a", "{ path /no }"),
      mk("/b", "{ path_beg /api }"),
      mk("/c", "TRUE"),
    ], txn)?.location,
    "/b",
  );
  assert.equal(firstMatchingRedirect([mk("/a", "{ path /no }")], txn), null);
});
