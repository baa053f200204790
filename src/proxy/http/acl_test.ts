import assert from "node:assert/strict";
import { txnOf } from "./_testing.ts";
import { parseAclExpr, parseCondition } from "../../config/condition.ts";
import type { AclExpr } from "../../config/types.ts";
import { evalAcl, evalCondition, ipInNetwork } from "./acl.ts";

function acl(text: string): AclExpr {
  const r = parseAclExpr(text);
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

const REQ = "GET /Api2/v1/list.json?id=42&x=y HTTP/1.1\nHost: STATIC.example:8080\n" +
  "Cookie: SRV=web1; lang=fr\nX-Num: 15\nUser-Agent: curl/8.0, bot\n";

Deno.test("evalAcl: match methods, -i, several patterns ORed", () => {
  const txn = txnOf(REQ);
  const cases: [string, boolean][] = [
    ["path_beg /api", false], // case-sensitive (observed on haproxy 2.6.12)
    ["path_beg -i /API2", true],
    ["path /Api2/v1/list.json", true],
    ["path /nope /Api2/v1/list.json", true],
    ["path_end .json", true],
    ["path_sub v1", true],
    ["path_reg ^/Api[0-9]/", true],
    ["path_reg -i ^/api[0-9]/", true],
    ["path_dir v1", true],
    ["path_dir /Api2/v1/", true],
    ["path_dir Api", false],
    ["path_len 18", true],
    ["path_len gt 30", false],
    ["hdr_beg(host) -i static.", true],
    ["hdr_dom(host) -i example:8080", true],
    ["hdr_dom(host) -i exam", false],
    ["hdr_end(host) :8080", true],
    ["hdr(user-agent) bot", true],
    ["req.fhdr(user-agent) bot", false],
    ["hdr_cnt(user-agent) 2", true],
    ["hdr_val(x-num) 10:20", true],
    ["hdr_val(x-num) lt 10", false],
    ["hdr_val(x-num) ge 15", true],
    ["hdr(x-missing) -m found", false],
    ["hdr(x-num) -m found", true],
    ["url_param(id) 42", true],
    ["urlp(id) -m int 40:50", true],
    ["cook(SRV) web1", true],
    ["cook(lang) -m sub r", true],
    ["method GET HEAD", true],
    ["method POST", false],
    ["req.ver 1.1", true],
    ["src 192.0.2.0/24", true],
    ["src 10.0.0.0/8 ::1", false],
    ["src 192.0.2.7", true],
    ["src_port 40000", true],
    ["dst_port 1:1024", true],
    ["ssl_fc", false],
    ["always_true", true],
    ["always_false", false],
    ["url_beg /Api2", true],
    ["base_beg STATIC.example:8080/Api2", true],
  ];
  for (const [text, want] of cases) assert.equal(evalAcl(acl(text), txn), want, text);
});

Deno.test("evalAcl: ip matches IPv6 and IPv4-mapped addresses", () => {
  const v6 = txnOf("GET / HTTP/1.1\n", undefined, { src: "2001:db8::42" });
  assert.equal(evalAcl(acl("src 2001:db8::/32"), v6), true);
  assert.equal(evalAcl(acl("src 2001:db9::/32 10.0.0.0/8"), v6), false);
  const mapped = txnOf("GET / HTTP/1.1\n", undefined, { src: "::ffff:10.1.2.3" });
  assert.equal(evalAcl(acl("src 10.0.0.0/8"), mapped), true);
  assert.equal(ipInNetwork("127.0.0.1", "127.0.0.0/8"), true);
  assert.equal(ipInNetwork("128.0.0.1", "127.0.0.0/8"), false);
  assert.equal(ipInNetwork("10.0.0.1", "0.0.0.0/0"), true);
});

Deno.test("evalAcl: request-only fetches never match on the response side", () => {
  const txn = txnOf("GET /x HTTP/1.1\n", "HTTP/1.1 503 Service Unavailable\nX-Server: a\n");
  assert.equal(evalAcl(acl("path_beg /x"), txn), false);
  assert.equal(evalAcl(acl("path_beg /x"), txn, { side: "request" }), true);
  assert.equal(evalAcl(acl("status 500:599"), txn), true);
  assert.equal(evalAcl(acl("shdr(x-server) a"), txn), true);
  txn.vars.set("txn.p", "/hideserver/a");
  assert.equal(evalAcl(acl("var(txn.p) -m beg /hideserver"), txn), true);
});

Deno.test("evalCondition: AND, OR, negation, unless, named and predefined ACLs", () => {
  const acls = new Map([
    ["is_api", [acl("path_beg /api")]],
    ["host_www", [acl("hdr_beg(host) -i www."), acl("hdr_beg(host) -i web.")]],
  ]);
  const cases: [string, string, boolean, boolean][] = [
    ["is_api host_www", "GET /api HTTP/1.1\nHost: web.x\n", false, true],
    ["is_api host_www", "GET /api HTTP/1.1\nHost: mail.x\n", false, false],
    ["is_api !host_www", "GET /api HTTP/1.1\nHost: mail.x\n", false, true],
    ["{ path /o1 } || { path /o2 }", "GET /o2 HTTP/1.1\n", false, true],
    ["{ path /o1 } or { path /o2 }", "GET /o3 HTTP/1.1\n", false, false],
    ["!{ ssl_fc }", "GET / HTTP/1.1\n", false, true],
    ["is_api", "GET /api HTTP/1.1\n", true, false],
    ["METH_GET", "HEAD / HTTP/1.1\n", false, true],
    ["LOCALHOST", "GET / HTTP/1.1\n", false, false],
    ["HTTP_1.0", "GET / HTTP/1.0\n", false, true],
    ["HTTP_CONTENT", "POST / HTTP/1.1\nContent-Length: 3\n", false, true],
  ];
  for (const [text, raw, unless, want] of cases) {
    const r = parseCondition(text, { acls, unless });
    if (!r.ok) throw new Error(r.error);
    assert.equal(evalCondition(r.value.condition, txnOf(raw)), want, `${text} on ${raw}`);
  }
});
