import assert from "node:assert/strict";
import { compile, TIMEOUTS } from "./_testing.ts";

function frontend(body: string) {
  return compile(`${TIMEOUTS}
[backend.b]
mode = "http"
[frontend.f]
mode = "http"
bind = [":80"]
default_backend = "b"
${body}`);
}

Deno.test("http_request actions compile with their defaults", () => {
  const { config, lines } = frontend(`
acl.api = "path_beg /api"
http_request = [
  { action = "deny" },
  { action = "return", string = "ok %[src]" },
  { action = "redirect", prefix = "https://x", drop_query = true, if = "api" },
  { action = "replace-value", name = "X-List", match = "^a", replace = "b" },
  { action = "set-query", value = "q=1", unless = "api" },
  { action = "add-header", name = "X-A", value = "1" },
]
http_response = [{ action = "deny" }, { action = "set-var", var = "res.s", expr = "status" }]
redirect = [{ location = "/x", code = 301 }]
`);
  assert.deepEqual(lines, []);
  const f = config!.frontends[0];
  assert.deepEqual(f.httpRequest[0], { action: "deny", status: 403, cond: null });
  assert.deepEqual(f.httpRequest[1], {
    action: "return",
    status: 200,
    contentType: null,
    body: ["ok ", { fetch: "src", arg: null }],
    cond: null,
  });
  const r = f.httpRequest[2];
  assert.ok(r.action === "redirect");
  assert.deepEqual([r.redirect.type, r.redirect.code, r.redirect.dropQuery], ["prefix", 302, true]);
  assert.equal(r.cond?.or[0][0].name, "api");
  assert.equal(f.httpRequest[4].cond?.unless, true);
  assert.deepEqual(f.httpResponse[0], { action: "deny", status: 502, cond: null });
  assert.deepEqual(f.redirect[0].code, 301);
});

Deno.test("rule errors: missing keys, statuses, redirect kinds", () => {
  const { lines } = frontend(`
http_request = [
  { action = "set-header", name = "X-A" },
  { action = "deny", status = 418 },
  { action = "redirect", scheme = "https", location = "/x" },
  { action = "redirect" },
  { action = "set-header", name = "bad name", value = "1" },
]
http_response = [{ action = "set-path", value = "/" }]
`);
  assert.deepEqual(lines, [
    '15:3: frontend.f.http_request[0]: action "set-header" needs "value"',
    "16:31: frontend.f.http_request[1].status: status 418 is not allowed for deny",
    '17:44: frontend.f.http_request[2].location: a redirect takes only one of "scheme", "location"',
    '18:3: frontend.f.http_request[3]: a redirect needs one of "scheme", "location" or "prefix"',
    '19:35: frontend.f.http_request[4].name: invalid header name "bad name"',
    '21:29: frontend.f.http_response[0].action: unknown action "set-path"; expected one of ' +
    "set-header, add-header, del-header, replace-header, set-var, deny, set-status",
  ]);
});

Deno.test("ACL lists append criteria and conditions see them all", () => {
  const { config, lines } = frontend(`
acl.static = ["path_end .css", "path_beg /static/"]
http_request = [{ action = "del-header", name = "Cookie", if = "static" }]
`);
  assert.deepEqual(lines, []);
  const exprs = config!.frontends[0].httpRequest[0].cond?.or[0][0].exprs;
  assert.deepEqual(exprs?.map((e) => e.text), ["path_end .css", "path_beg /static/"]);
});
