/**
 * Differential scenarios: http_request / http_response actions, rule order, and redirects
 * (issue #3 items 2 and 3), including the seed's `redirect scheme https if !{ ssl_fc }`.
 *
 * @module
 */
import { get, hs, ps, request, type Scenario } from "../../helpers/http_diff.ts";

function oneBackend(
  name: string,
  covers: string,
  rules: { halb: string; haproxy: string },
  steps: Scenario["steps"],
): Scenario {
  return {
    name,
    covers,
    origins: ["s1"],
    halb: `
[frontend.fe]
bind = ["127.0.0.1:{{FE}}"]
${rules.halb}
default_backend = "be"

[backend.be]
server = [${hs("s1")}]
`,
    haproxy: `
frontend fe
  bind 127.0.0.1:{{FE}}
${rules.haproxy}
  default_backend be
backend be
${ps("s1")}
`,
    steps,
  };
}

/** Request and response action scenarios. */
export const RULES: Scenario[] = [
  oneBackend(
    "req_set_add_del_header",
    "http_request set-header (replaces every occurrence, value computed first), add-header, " +
      "del-header, with %[path] %[src] %[req.hdr(host)]",
    {
      halb: `http_request = [
  { action = "set-header", name = "X-A", value = "was-%[req.hdr(x-a)]" },
  { action = "add-header", name = "X-Path", value = "%[path] from %[src]" },
  { action = "add-header", name = "X-Host", value = "%[req.hdr(host)]" },
  { action = "del-header", name = "X-Debug" },
  { action = "set-header", name = "X-Only-Post", value = "1", if = "{ method POST }" },
]`,
      haproxy: `  http-request set-header X-A was-%[req.hdr(x-a)]
  http-request add-header X-Path "%[path] from %[src]"
  http-request add-header X-Host %[req.hdr(host)]
  http-request del-header X-Debug
  http-request set-header X-Only-Post 1 if { method POST }`,
    },
    [{
      send: [
        get("/p/q?z=1", [["X-A", "one"], ["X-Debug", "1"], ["X-A", "two"], ["x-debug", "2"]]),
        request("POST", "/post", { body: "b" }),
      ],
    }],
  ),
  oneBackend(
    "del_header_match_methods",
    "del-header -m str|beg|end|sub|reg on requests and responses (names compared as HAProxy " +
      "stores them: lower-cased; str/beg/end/sub ignore case, reg does not)",
    {
      halb: `http_request = [
  { action = "del-header", name = "X-Trace-", name_match = "beg" },
  { action = "del-header", name = "-Secret", name_match = "end" },
  { action = "del-header", name = "debug", name_match = "sub" },
  { action = "del-header", name = "^x-[0-9]+$", name_match = "reg" },
  { action = "del-header", name = "^X-Upper", name_match = "reg" },
  { action = "del-header", name = "X-Exact", name_match = "str" },
]
http_response = [
  { action = "del-header", name = "x-origin", name_match = "beg" },
  { action = "del-header", name = "^serv", name_match = "reg" },
]`,
      haproxy: `  http-request del-header X-Trace- -m beg
  http-request del-header -Secret -m end
  http-request del-header debug -m sub
  http-request del-header ^x-[0-9]+$ -m reg
  http-request del-header ^X-Upper -m reg
  http-request del-header X-Exact -m str
  http-response del-header x-origin -m beg
  http-response del-header ^serv -m reg`,
    },
    [{
      send: [
        get("/?hdr=Server:o&hdr=Served:o&hdr=Reserved:keep&hdr=X-Origin-Extra:o", [
          ["X-Trace-Id", "1"],
          ["x-trace-span", "2"],
          ["X-Tracer", "keep"],
          ["Api-Secret", "3"],
          ["Api-Secrets", "keep"],
          ["X-DEBUG-Mode", "4"],
          ["X-42", "5"],
          ["X-4a", "keep"],
          ["X-Upper", "kept: HAProxy compares lower-case names"],
          ["x-exact", "6"],
          ["X-Exactly", "keep"],
        ]),
      ],
    }],
  ),
  oneBackend(
    "req_replace_header_value",
    "replace-header (whole value, back-references) and replace-value (each list element)",
    {
      halb: `http_request = [
  { action = "replace-header", name = "User-Agent", match = "curl(.*)", replace = "replaced\\\\1" },
  { action = "replace-value", name = "X-List", match = "^a(.*)$", replace = "z\\\\1" },
]`,
      haproxy: `  http-request replace-header User-Agent curl(.*) replaced\\1
  http-request replace-value X-List ^a(.*)$ z\\1`,
    },
    [{
      send: [
        get("/", [["User-Agent", "curlX/1"], ["X-List", "a1, b2, a3"]]),
        get("/", [["User-Agent", "wget/1"], ["X-List", "b"]]),
      ],
    }],
  ),
  oneBackend(
    "req_set_path_query",
    "set-path keeps the query; set-query replaces it",
    {
      halb: `http_request = [
  { action = "set-path", value = "/rewritten%[path]", if = "{ path_beg /rw }" },
  { action = "set-query", value = "a=b&c", if = "{ path_beg /q }" },
]`,
      haproxy: `  http-request set-path /rewritten%[path] if { path_beg /rw }
  http-request set-query a=b&c if { path_beg /q }`,
    },
    [{ send: [get("/rw/abc?x=1"), get("/q/x?old=1"), get("/q"), get("/other?k=v")] }],
  ),
  oneBackend(
    "req_deny",
    "deny (403 default, deny status 429); the keep-alive connection stays open; HTTP/1.0 closes",
    {
      halb: `http_request = [
  { action = "deny", if = "{ path_beg /admin }" },
  { action = "deny", status = 429, if = "{ path_beg /slow }" },
]`,
      haproxy: `  http-request deny if { path_beg /admin }
  http-request deny deny_status 429 if { path_beg /slow }`,
    },
    [
      { send: [get("/admin/x"), get("/slow"), get("/ok")] },
      { send: [request("GET", "/admin", { version: "HTTP/1.0", headers: [["Host", "h"]] })] },
      { send: [get("/admin", [["Connection", "close"]])] },
    ],
  ),
  oneBackend(
    "req_return",
    "http_request return with status, content type and body",
    {
      halb: `http_request = [
  { action = "return", status = 200, content_type = "text/plain", string = "pong\\n", if = "{ path /ping }" },
  { action = "return", status = 404, content_type = "text/html", string = "<p>none</p>", if = "{ path /none }" },
]`,
      haproxy:
        `  http-request return status 200 content-type text/plain string "pong\\n" if { path /ping }
  http-request return status 404 content-type text/html string "<p>none</p>" if { path /none }`,
    },
    [{ send: [get("/ping"), get("/none"), get("/pass")] }],
  ),
  oneBackend(
    "set_var_response_rules",
    "set-var(txn.p) on the request, used by http_response del-header and set-header",
    {
      halb: `http_request = [{ action = "set-var", var = "txn.p", expr = "path" }]
http_response = [
  { action = "set-header", name = "X-Resp", value = "yes" },
  { action = "del-header", name = "X-Origin", if = "{ var(txn.p) -m beg /hide }" },
]`,
      haproxy: `  http-request set-var(txn.p) path
  http-response set-header X-Resp yes
  http-response del-header X-Origin if { var(txn.p) -m beg /hide }`,
    },
    [{ send: [get("/hide/me"), get("/show")] }],
  ),
  oneBackend(
    "response_header_actions",
    "http_response set-header, add-header, del-header, replace-header on server headers",
    {
      halb: `http_response = [
  { action = "set-header", name = "X-A", value = "set" },
  { action = "add-header", name = "X-B", value = "added" },
  { action = "del-header", name = "Server" },
  { action = "replace-header", name = "X-C", match = "^old-(.*)$", replace = "new-\\\\1" },
]`,
      haproxy: `  http-response set-header X-A set
  http-response add-header X-B added
  http-response del-header Server
  http-response replace-header X-C ^old-(.*)$ new-\\1`,
    },
    [{
      send: [
        get("/?hdr=X-A%3Aone&hdr=X-A%3Atwo&hdr=Server%3Anginx&hdr=X-C%3Aold-val&hdr=X-B%3Afirst"),
        get("/"),
      ],
    }],
  ),
  oneBackend(
    "response_deny_set_status",
    "http_response deny gives 502; set-status with and without a reason",
    {
      halb: `http_response = [
  { action = "deny", if = "{ status 404 }" },
  { action = "set-status", status = 201, reason = "Made", if = "{ status 200 } { res.hdr(x-origin) -m found }" },
  { action = "set-status", status = 410, if = "{ status 500 }" },
]`,
      haproxy: `  http-response deny if { status 404 }
  http-response set-status 201 reason Made if { status 200 } { res.hdr(x-origin) -m found }
  http-response set-status 410 if { status 500 }`,
    },
    [{ send: [get("/?status=404"), get("/"), get("/?status=500")] }],
  ),
  {
    name: "rule_order",
    covers: "http_request runs before redirect before use_backend; backend rules after " +
      "selection; response rules backend first, then frontend",
    halb: `
[frontend.fe]
bind = ["127.0.0.1:{{FE}}"]
redirect = [{ location = "/moved", if = "{ path_beg /x }" }]
http_request = [
  { action = "deny", if = "{ path_beg /x/deny }" },
  { action = "set-header", name = "X-Route", value = "two", if = "{ path_beg /r }" },
]
http_response = [{ action = "add-header", name = "X-Order", value = "fe" }]
use_backend = [{ backend = "b2", if = "{ hdr(x-route) two }" }]
default_backend = "b1"

[backend.b1]
server = [${hs("s1")}]
[backend.b2]
http_request = [{ action = "add-header", name = "X-Be", value = "b2 saw %[req.hdr(x-route)]" }]
http_response = [{ action = "add-header", name = "X-Order", value = "be" }]
server = [${hs("s2")}]
`,
    haproxy: `
frontend fe
  bind 127.0.0.1:{{FE}}
  http-request deny if { path_beg /x/deny }
  http-request set-header X-Route two if { path_beg /r }
  redirect location /moved if { path_beg /x }
  http-response add-header X-Order fe
  use_backend b2 if { hdr(x-route) two }
  default_backend b1
backend b1
${ps("s1")}
backend b2
  http-request add-header X-Be "b2 saw %[req.hdr(x-route)]"
  http-response add-header X-Order be
${ps("s2")}
`,
    steps: [{ send: [get("/x/deny"), get("/x/y"), get("/r/1"), get("/n")] }],
  },
];

/** Redirect scenarios. */
export const REDIRECTS: Scenario[] = [
  {
    name: "seed_https_redirect_and_offload",
    covers: "seed: redirect scheme https if !{ ssl_fc } on :80, TLS offload on :443 with " +
      "crt web.pem, X-Forwarded-Proto set over TLS",
    origins: ["s1"],
    halb: `
[frontend.main]
bind = ["127.0.0.1:{{FE}}", { address = "127.0.0.1:{{FE2}}", crt = ["certs/web.pem"] }]
redirect = [{ scheme = "https", code = 302, if = "!{ ssl_fc }" }]
http_request = [
  { action = "set-header", name = "X-Forwarded-Proto", value = "https", if = "{ ssl_fc }" },
]
default_backend = "be"

[backend.be]
server = [${hs("s1")}]
`,
    haproxy: `
frontend main
  bind 127.0.0.1:{{FE}}
  bind 127.0.0.1:{{FE2}} ssl crt {{DIR}}/certs/web.pem alpn http/1.1
  redirect scheme https code 302 if !{ ssl_fc }
  http-request set-header X-Forwarded-Proto https if { ssl_fc }
  default_backend be
backend be
${ps("s1")}
`,
    steps: [
      {
        label: "plain",
        send: [get("/secure/page?x=1", [], "www.example.com"), get("/", [], "www.test1.com")],
      },
      { label: "no host", send: [request("GET", "/p", { headers: [] })] },
      {
        label: "http/1.0",
        send: [request("GET", "/", { version: "HTTP/1.0", headers: [["Host", "h"]] })],
      },
      { label: "tls", listener: "FE2", tls: {}, send: [get("/secure/page?x=1"), get("/2")] },
      {
        label: "tls sni",
        listener: "FE2",
        tls: { sni: "www.test1.com", alpn: ["h2", "http/1.1"] },
        send: [get("/", [], "www.test1.com")],
      },
    ],
  },
  {
    name: "redirect_codes",
    covers: "redirect codes 301/302/303/307/308: reason phrases, cache-control only for " +
      "302/303/307",
    origins: ["s1"],
    halb: `
[frontend.fe]
bind = ["127.0.0.1:{{FE}}"]
redirect = [
  { scheme = "https", code = 301, if = "{ path_beg /301 }" },
  { scheme = "https", code = 303, if = "{ path_beg /303 }" },
  { scheme = "https", code = 307, if = "{ path_beg /307 }" },
  { scheme = "https", code = 308, if = "{ path_beg /308 }" },
  { scheme = "https", if = "{ path_beg /302 }" },
]
default_backend = "be"

[backend.be]
server = [${hs("s1")}]
`,
    haproxy: `
frontend fe
  bind 127.0.0.1:{{FE}}
  redirect scheme https code 301 if { path_beg /301 }
  redirect scheme https code 303 if { path_beg /303 }
  redirect scheme https code 307 if { path_beg /307 }
  redirect scheme https code 308 if { path_beg /308 }
  redirect scheme https if { path_beg /302 }
  default_backend be
backend be
${ps("s1")}
`,
    steps: [{
      send: ["/301/a?q", "/302", "/303", "/307/x", "/308", "/other"].map((p) => get(p)),
    }],
  },
  {
    name: "redirect_prefix",
    covers: "redirect prefix with drop-query and append-slash",
    origins: ["s1"],
    halb: `
[frontend.fe]
bind = ["127.0.0.1:{{FE}}"]
redirect = [
  { prefix = "https://new.example", if = "{ path_beg /keep }" },
  { prefix = "https://new.example", drop_query = true, if = "{ path_beg /drop }" },
  { prefix = "http://s.example/base", drop_query = true, append_slash = true, code = 301, if = "{ path_beg /slash }" },
]
default_backend = "be"

[backend.be]
server = [${hs("s1")}]
`,
    haproxy: `
frontend fe
  bind 127.0.0.1:{{FE}}
  redirect prefix https://new.example if { path_beg /keep }
  redirect prefix https://new.example drop-query if { path_beg /drop }
  redirect prefix http://s.example/base code 301 drop-query append-slash if { path_beg /slash }
  default_backend be
backend be
${ps("s1")}
`,
    steps: [{
      send: ["/keep/a?x=1", "/drop/b?x=1", "/slash/dir?y=2", "/slash/dir/"].map((p) => get(p)),
    }],
  },
  {
    name: "redirect_location",
    covers: "redirect location (query not appended) and the http_request redirect action",
    origins: ["s1"],
    halb: `
[frontend.fe]
bind = ["127.0.0.1:{{FE}}"]
redirect = [{ location = "/maintenance", code = 307, if = "{ path_beg /m }" }]
http_request = [
  { action = "redirect", location = "https://example.org/x", code = 301, if = "{ path_beg /hr }" },
  { action = "redirect", scheme = "https", if = "{ path_beg /hs }" },
]
default_backend = "be"

[backend.be]
server = [${hs("s1")}]
`,
    haproxy: `
frontend fe
  bind 127.0.0.1:{{FE}}
  redirect location /maintenance code 307 if { path_beg /m }
  http-request redirect location https://example.org/x code 301 if { path_beg /hr }
  http-request redirect scheme https if { path_beg /hs }
  default_backend be
backend be
${ps("s1")}
`,
    steps: [
      { send: ["/m/a?b=c", "/hr?q", "/hs/p?q=1"].map((p) => get(p)) },
      { send: [request("GET", "/m", { version: "HTTP/1.0", headers: [["Host", "h"]] })] },
    ],
  },
];
