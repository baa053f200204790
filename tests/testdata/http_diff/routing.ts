/**
 * Differential scenarios: content switching and the ACL language (issue #3 item 2), including
 * the seed's path routing (test1/test2) and Host routing.
 *
 * @module
 */
import { get, hs, ps, request, type Scenario } from "../../helpers/http_diff.ts";

/** Routing and ACL scenarios. */
export const ROUTING: Scenario[] = [
  {
    name: "seed_path_routing",
    covers: "seed example: path_beg /test1 and /test2 to their backends, default nginx",
    origins: ["t1", "t2", "web"],
    halb: `
[frontend.main]
bind = ["127.0.0.1:{{FE}}"]
acl.is_test1 = "path_beg /test1"
acl.is_test2 = "path_beg /test2"
use_backend = [
  { backend = "test1", if = "is_test1" },
  { backend = "test2", if = "is_test2" },
]
default_backend = "nginx"

[backend.test1]
server = [${hs("t1")}]
[backend.test2]
server = [${hs("t2")}]
[backend.nginx]
server = [${hs("web")}]
`,
    haproxy: `
frontend main
  bind 127.0.0.1:{{FE}}
  acl is_test1 path_beg /test1
  acl is_test2 path_beg /test2
  use_backend test1 if is_test1
  use_backend test2 if is_test2
  default_backend nginx
backend test1
${ps("t1")}
backend test2
${ps("t2")}
backend nginx
${ps("web")}
`,
    steps: [{
      send: [get("/test1/a"), get("/test2?x=1"), get("/"), get("/TEST1"), get("/test10/b")],
    }],
  },
  {
    name: "seed_host_routing",
    covers: "seed example: hdr_beg(host) -i www.test1.com ORed with path_beg (is_test1 || host_t1)",
    origins: ["t1", "t2", "web"],
    halb: `
[frontend.main]
bind = ["127.0.0.1:{{FE}}"]
acl.is_test1 = "path_beg /test1"
acl.is_test2 = "path_beg /test2"
acl.host_t1 = "hdr_beg(host) -i www.test1.com"
use_backend = [
  { backend = "test1", if = "is_test1 || host_t1" },
  { backend = "test2", if = "is_test2" },
]
default_backend = "nginx"

[backend.test1]
server = [${hs("t1")}]
[backend.test2]
server = [${hs("t2")}]
[backend.nginx]
server = [${hs("web")}]
`,
    haproxy: `
frontend main
  bind 127.0.0.1:{{FE}}
  acl is_test1 path_beg /test1
  acl is_test2 path_beg /test2
  acl host_t1 hdr_beg(host) -i www.test1.com
  use_backend test1 if is_test1 || host_t1
  use_backend test2 if is_test2
  default_backend nginx
backend test1
${ps("t1")}
backend test2
${ps("t2")}
backend nginx
${ps("web")}
`,
    steps: [{
      send: [
        get("/", [], "www.test1.com"),
        get("/x", [], "WWW.TEST1.COM:8080"),
        get("/test2/y", [], "www.test1.com"),
        get("/test2/y", [], "www.test2.com"),
        get("/", [], "test1.com"),
        request("GET", "/nohost", { headers: [] }),
      ],
    }],
  },
  {
    name: "host_match_forms",
    covers: "hdr(host) -i with several values, hdr_end, hdr_sub, hdr_reg",
    origins: ["s1", "s2", "s3"],
    halb: `
[frontend.fe]
bind = ["127.0.0.1:{{FE}}"]
acl.named = "hdr(host) -i a.example b.example"
use_backend = [
  { backend = "b2", if = "named" },
  { backend = "b3", if = "{ hdr_end(host) .org } or { hdr_sub(host) shop }" },
  { backend = "b2", if = "{ hdr_reg(host) ^api[0-9]+[.] }" },
]
default_backend = "b1"

[backend.b1]
server = [${hs("s1")}]
[backend.b2]
server = [${hs("s2")}]
[backend.b3]
server = [${hs("s3")}]
`,
    haproxy: `
frontend fe
  bind 127.0.0.1:{{FE}}
  acl named hdr(host) -i a.example b.example
  use_backend b2 if named
  use_backend b3 if { hdr_end(host) .org } or { hdr_sub(host) shop }
  use_backend b2 if { hdr_reg(host) ^api[0-9]+[.] }
  default_backend b1
backend b1
${ps("s1")}
backend b2
${ps("s2")}
backend b3
${ps("s3")}
`,
    steps: [{
      send: [
        get("/", [], "B.EXAMPLE"),
        get("/", [], "c.example"),
        get("/", [], "x.org"),
        get("/", [], "myshop.net"),
        get("/", [], "api12.example"),
        get("/", [], "apix.example"),
      ],
    }],
  },
  {
    name: "acl_or_and_not",
    covers: "anonymous ACLs, || and or, implicit AND, !, a named ACL declared twice (ORed)",
    halb: `
[frontend.fe]
bind = ["127.0.0.1:{{FE}}"]
acl.multi = ["path_beg /m1", "path_beg /m2"]
use_backend = [
  { backend = "b2", if = "{ path /o1 } || { path /o2 }" },
  { backend = "b2", if = "{ path /p1 } or { path /p2 }" },
  { backend = "b2", if = "{ path_beg /and } { hdr_beg(host) -i www. }" },
  { backend = "b2", if = "multi !{ hdr(x-skip) -m found }" },
]
default_backend = "b1"

[backend.b1]
server = [${hs("s1")}]
[backend.b2]
server = [${hs("s2")}]
`,
    haproxy: `
frontend fe
  bind 127.0.0.1:{{FE}}
  acl multi path_beg /m1
  acl multi path_beg /m2
  use_backend b2 if { path /o1 } || { path /o2 }
  use_backend b2 if { path /p1 } or { path /p2 }
  use_backend b2 if { path_beg /and } { hdr_beg(host) -i www. }
  use_backend b2 if multi !{ hdr(x-skip) -m found }
  default_backend b1
backend b1
${ps("s1")}
backend b2
${ps("s2")}
`,
    steps: [{
      send: [
        get("/o1"),
        get("/o2"),
        get("/o3"),
        get("/p2"),
        get("/and/x", [], "WWW.site"),
        get("/and/x", [], "site"),
        get("/m2/z"),
        get("/m1", [["X-Skip", "1"]]),
      ],
    }],
  },
  {
    name: "acl_match_methods",
    covers: "-m str|beg|end|sub|reg|found|len and -i (seen through add-header on the request)",
    origins: ["s1"],
    halb: `
[frontend.fe]
bind = ["127.0.0.1:{{FE}}"]
http_request = [
  { action = "add-header", name = "X-M", value = "str", if = "{ hdr(x-t) -m str abc }" },
  { action = "add-header", name = "X-M", value = "beg", if = "{ hdr(x-t) -m beg ab }" },
  { action = "add-header", name = "X-M", value = "end", if = "{ hdr(x-t) -m end bc }" },
  { action = "add-header", name = "X-M", value = "sub", if = "{ hdr(x-t) -m sub b }" },
  { action = "add-header", name = "X-M", value = "reg", if = "{ hdr(x-t) -m reg ^a.c$ }" },
  { action = "add-header", name = "X-M", value = "found", if = "{ hdr(x-t) -m found }" },
  { action = "add-header", name = "X-M", value = "len", if = "{ hdr(x-t) -m len 3 }" },
  { action = "add-header", name = "X-M", value = "icase", if = "{ hdr(x-t) -i -m str ABC }" },
  { action = "add-header", name = "X-M", value = "path-i", if = "{ path_beg -i /UP }" },
]
default_backend = "b1"

[backend.b1]
server = [${hs("s1")}]
`,
    haproxy: `
frontend fe
  bind 127.0.0.1:{{FE}}
  http-request add-header X-M str if { hdr(x-t) -m str abc }
  http-request add-header X-M beg if { hdr(x-t) -m beg ab }
  http-request add-header X-M end if { hdr(x-t) -m end bc }
  http-request add-header X-M sub if { hdr(x-t) -m sub b }
  http-request add-header X-M reg if { hdr(x-t) -m reg ^a.c$ }
  http-request add-header X-M found if { hdr(x-t) -m found }
  http-request add-header X-M len if { hdr(x-t) -m len 3 }
  http-request add-header X-M icase if { hdr(x-t) -i -m str ABC }
  http-request add-header X-M path-i if { path_beg -i /UP }
  default_backend b1
backend b1
${ps("s1")}
`,
    steps: [{
      send: [
        get("/", [["X-T", "abc"]]),
        get("/", [["X-T", "ABC"]]),
        get("/up/x", [["X-T", "abcd"]]),
        get("/Upper"),
        get("/", [["X-T", "xbx"]]),
      ],
    }],
  },
  {
    name: "acl_fetches",
    covers: "url_param, query, url, method, req.ver, hdr_cnt, src, dst_port, path, path_end, " +
      "path_sub, path_reg",
    origins: ["s1"],
    halb: `
[frontend.fe]
bind = ["127.0.0.1:{{FE}}"]
http_request = [
  { action = "add-header", name = "X-F", value = "param", if = "{ url_param(user) bob }" },
  { action = "add-header", name = "X-F", value = "query", if = "{ query -m sub debug=1 }" },
  { action = "add-header", name = "X-F", value = "url", if = "{ url -m beg /u?z }" },
  { action = "add-header", name = "X-F", value = "post", if = "{ method POST }" },
  { action = "add-header", name = "X-F", value = "v10", if = "{ req.ver 1.0 }" },
  { action = "add-header", name = "X-F", value = "cnt2", if = "{ hdr_cnt(x-dup) 2 }" },
  { action = "add-header", name = "X-F", value = "lo", if = "{ src 127.0.0.0/8 }" },
  { action = "add-header", name = "X-F", value = "ten", if = "{ src 10.0.0.0/8 }" },
  { action = "add-header", name = "X-F", value = "port", if = "{ dst_port {{FE}} }" },
  { action = "add-header", name = "X-F", value = "exact", if = "{ path /exact }" },
  { action = "add-header", name = "X-F", value = "jpg", if = "{ path_end .jpg }" },
  { action = "add-header", name = "X-F", value = "mid", if = "{ path_sub /mid/ }" },
  { action = "add-header", name = "X-F", value = "reg", if = "{ path_reg ^/r[0-9]+$ }" },
]
default_backend = "b1"

[backend.b1]
server = [${hs("s1")}]
`,
    haproxy: `
frontend fe
  bind 127.0.0.1:{{FE}}
  http-request add-header X-F param if { url_param(user) bob }
  http-request add-header X-F query if { query -m sub debug=1 }
  http-request add-header X-F url if { url -m beg /u?z }
  http-request add-header X-F post if { method POST }
  http-request add-header X-F v10 if { req.ver 1.0 }
  http-request add-header X-F cnt2 if { hdr_cnt(x-dup) 2 }
  http-request add-header X-F lo if { src 127.0.0.0/8 }
  http-request add-header X-F ten if { src 10.0.0.0/8 }
  http-request add-header X-F port if { dst_port {{FE}} }
  http-request add-header X-F exact if { path /exact }
  http-request add-header X-F jpg if { path_end .jpg }
  http-request add-header X-F mid if { path_sub /mid/ }
  http-request add-header X-F reg if { path_reg ^/r[0-9]+$ }
  default_backend b1
backend b1
${ps("s1")}
`,
    steps: [
      {
        send: [
          get("/exact?user=bob&debug=1"),
          get("/u?z=1", [["X-Dup", "a"], ["X-Dup", "b"]]),
          get("/a/mid/b.jpg?user=bobby"),
          get("/r42"),
          request("POST", "/r4x", { body: "hello" }),
        ],
      },
      { send: [request("GET", "/old", { version: "HTTP/1.0", headers: [["Host", "h"]] })] },
    ],
  },
  {
    name: "use_backend_first_match",
    covers: "use_backend first match wins, unless, default_backend",
    origins: ["s1", "s2", "s3"],
    halb: `
[frontend.fe]
bind = ["127.0.0.1:{{FE}}"]
use_backend = [
  { backend = "b2", if = "{ path_beg /a }" },
  { backend = "b3", if = "{ path_beg /ab }" },
  { backend = "b3", unless = "{ hdr(x-norm) -m found }" },
]
default_backend = "b1"

[backend.b1]
server = [${hs("s1")}]
[backend.b2]
server = [${hs("s2")}]
[backend.b3]
server = [${hs("s3")}]
`,
    haproxy: `
frontend fe
  bind 127.0.0.1:{{FE}}
  use_backend b2 if { path_beg /a }
  use_backend b3 if { path_beg /ab }
  use_backend b3 unless { hdr(x-norm) -m found }
  default_backend b1
backend b1
${ps("s1")}
backend b2
${ps("s2")}
backend b3
${ps("s3")}
`,
    steps: [{
      send: [get("/ab"), get("/a"), get("/z"), get("/z", [["X-Norm", "1"]])],
    }],
  },
  {
    name: "no_backend_503",
    covers: "503 when no use_backend matches and there is no default; the connection stays open",
    origins: ["s1"],
    halb: `
[frontend.fe]
bind = ["127.0.0.1:{{FE}}"]
use_backend = [{ backend = "b1", if = "{ path_beg /a }" }]

[backend.b1]
server = [${hs("s1")}]
`,
    haproxy: `
frontend fe
  bind 127.0.0.1:{{FE}}
  use_backend b1 if { path_beg /a }
backend b1
${ps("s1")}
`,
    steps: [
      { send: [get("/zzz"), get("/a")] },
      { send: [get("/zzz", [["Connection", "close"]])] },
    ],
  },
  {
    name: "dst_port_routing",
    covers: "two binds on one frontend, dst_port picks the backend",
    halb: `
[frontend.fe]
bind = ["127.0.0.1:{{FE}}", "127.0.0.1:{{FE2}}"]
use_backend = [{ backend = "b2", if = "{ dst_port {{FE2}} }" }]
default_backend = "b1"

[backend.b1]
server = [${hs("s1")}]
[backend.b2]
server = [${hs("s2")}]
`,
    haproxy: `
frontend fe
  bind 127.0.0.1:{{FE}}
  bind 127.0.0.1:{{FE2}}
  use_backend b2 if { dst_port {{FE2}} }
  default_backend b1
backend b1
${ps("s1")}
backend b2
${ps("s2")}
`,
    steps: [{ send: [get("/")] }, { listener: "FE2", send: [get("/")] }],
  },
];
