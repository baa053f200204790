import assert from "node:assert/strict";
import { parseAclExpr, parseCondition, parseLogFormat, parseSample } from "./condition.ts";
import type { AclExpr } from "./types.ts";

function expr(text: string): AclExpr {
  const r = parseAclExpr(text);
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

function err(r: { ok: boolean; error?: string }): string {
  return r.ok ? "" : r.error ?? "";
}

Deno.test("parseAclExpr: suffix implies the match, flags and values", () => {
  assert.deepEqual(expr("hdr_beg(host) -i www.test1.com"), {
    fetch: "hdr_beg",
    arg: "host",
    match: "beg",
    ignoreCase: true,
    values: ["www.test1.com"],
    text: "hdr_beg(host) -i www.test1.com",
  });
  assert.equal(expr("path_beg /a /b").match, "beg");
  assert.deepEqual(expr("path_beg /a /b").values, ["/a", "/b"]);
  assert.equal(expr("path -m sub api").match, "sub");
  assert.equal(expr("ssl_fc").match, "bool");
  assert.equal(expr("src 10.0.0.0/8").match, "ip");
  assert.equal(expr("hdr(x-id) -m found").match, "found");
  assert.deepEqual(expr("path -- -weird").values, ["-weird"]);
  assert.deepEqual(expr(`hdr(ua) "a b"`).values, ["a b"]);
  assert.deepEqual(expr("status 200:299").values, ["200:299"]);
  assert.deepEqual(expr("hdr_cnt(host) gt 1").values, ["gt 1"]);
  assert.equal(expr("url_param(uid) -m reg ^[0-9]+$").match, "reg");
});

Deno.test("parseAclExpr: errors", () => {
  const table: [string, RegExp][] = [
    ["pathbeg /x", /unknown fetch "pathbeg" \(did you mean "path_beg"\?\)/],
    ["path -m prefix /x", /unknown match method "-m prefix"/],
    ["path -m", /"-m" needs a match method/],
    ["path_beg", /no value to match/],
    ["hdr(host) -m found x", /"-m found" takes no value/],
    ["src 10.0.0.300", /not an IP address/],
    ["path_reg (", /invalid regular expression/],
    ["url_param /x", /needs an argument/],
    ["src(x) 1.2.3.4", /takes no argument/],
    ["path -f list.txt", /"-f" is not supported/],
    ["path -z x", /unknown flag "-z"/],
    ["status abc", /not an integer or range/],
    [`path "x`, /unterminated quote/],
  ];
  for (const [text, re] of table) assert.match(err(parseAclExpr(text)), re, text);
});

Deno.test("parseCondition: DNF with named, anonymous, negated and predefined ACLs", () => {
  const acls = new Map([["is_api", [expr("path_beg /api")]], ["host", [expr("hdr(host) a")]]]);
  const r = parseCondition("is_api !{ ssl_fc } || !host or METH_GET", { acls });
  assert.ok(r.ok);
  const c = r.value.condition;
  assert.equal(c.unless, false);
  assert.deepEqual(
    c.or.map((g) => g.map((t) => `${t.negate ? "!" : ""}${t.name ?? t.exprs[0].text}`)),
    [["is_api", "!ssl_fc"], ["!host"], ["METH_GET"]],
  );
  assert.deepEqual(c.or[2][0].exprs[0].values, ["GET", "HEAD"]);
  const u = parseCondition("{ path /a }", { acls, unless: true });
  assert.ok(u.ok && u.value.condition.unless);
  const neg = parseCondition("! is_api", { acls });
  assert.ok(neg.ok && neg.value.condition.or[0][0].negate);
});

Deno.test("parseCondition: syntax errors and unknown ACLs", () => {
  const acls = new Map([["is_api", [expr("path_beg /api")]]]);
  const table: [string, RegExp][] = [
    ["{ path_beg /x", /missing "}"/],
    ["path_beg /x }", /unknown ACL "path_beg"/],
    ["}", /unbalanced "}"/],
    ["{path_beg /x }", /write a space after "{"/],
    ["{ path_beg /x}", /write a space before "}"/],
    ["{ }", /empty "{ }"/],
    ["{ { path /x } }", /nested "{"/],
    ["is_apii", /unknown ACL "is_apii" \(did you mean "is_api"\?\)/],
    ["or is_api", /"or" without a condition before it/],
    ["is_api ||", /condition ends with "or"/],
    ["", /empty condition/],
    ["!", /"!" at the end/],
  ];
  for (const [text, re] of table) assert.match(err(parseCondition(text, { acls })), re, text);
});

Deno.test("parseCondition warns about fetches from the other side", () => {
  const acls = new Map([["p", [expr("path_beg /x")]]]);
  const res = parseCondition("p", { acls, side: "response" });
  assert.ok(res.ok);
  assert.match(res.value.warnings[0], /ACL "p" uses "path_beg", which is request-only/);
  const req = parseCondition("{ status 500 }", { acls, side: "request" });
  assert.ok(req.ok);
  assert.match(req.value.warnings[0], /response-only/);
  const ok = parseCondition("{ var(txn.p) -m beg /x } { src 1.2.3.4 }", { acls, side: "response" });
  assert.ok(ok.ok);
  assert.deepEqual(ok.value.warnings, []);
});

Deno.test("parseLogFormat and parseSample", () => {
  assert.deepEqual(parseLogFormat("https"), { ok: true, value: ["https"] });
  assert.deepEqual(parseLogFormat("/v1%[path]?h=%[req.hdr(host)] 100%%"), {
    ok: true,
    value: ["/v1", { fetch: "path", arg: null }, "?h=", { fetch: "req.hdr", arg: "host" }, " 100%"],
  });
  assert.deepEqual(parseLogFormat("%[var(txn.p)]"), {
    ok: true,
    value: [{ fetch: "var", arg: "txn.p" }],
  });
  assert.deepEqual(parseLogFormat(""), { ok: true, value: [] });
  assert.match(err(parseLogFormat("%[pth]")), /unknown fetch "pth" \(did you mean "path"\?\)/);
  assert.match(err(parseLogFormat("%[path_beg]")), /unknown fetch "path_beg"/);
  assert.match(err(parseLogFormat("%[path")), /missing "]"/);
  assert.match(err(parseLogFormat("50%")), /write %% for a literal %/);
  assert.match(err(parseLogFormat("%[path,lower]")), /converters are not supported/);
  assert.deepEqual(parseSample("req.hdr(host)"), {
    ok: true,
    value: { fetch: "req.hdr", arg: "host" },
  });
  assert.match(err(parseSample("var")), /needs an argument/);
});
