/**
 * Differential scenarios: errors HAProxy generates (issue #3 items 1 and 6: 502, 503, 504,
 * 408, errorfile overrides, timeouts) and TLS offload (item 7: crt lists, SNI, ALPN,
 * ssl_fc_sni).
 *
 * @module
 */
import { get, hs, ps, type Scenario } from "../../helpers/http_diff.ts";

/** Error scenarios. */
export const ERRORS: Scenario[] = [
  {
    name: "all_servers_down_503",
    covers: "503 when every server is DOWN (closed port, check); the connection stays open",
    origins: [],
    halb: `
[frontend.fe]
bind = ["127.0.0.1:{{FE}}"]
default_backend = "be"

[backend.be]
server = [{ name = "d1", address = "127.0.0.1:{{dead}}", check = true, inter = "100ms", fall = 1, rise = 1 }]
`,
    haproxy: `
frontend fe
  bind 127.0.0.1:{{FE}}
  default_backend be
backend be
  server d1 127.0.0.1:{{dead}} check inter 100ms fall 1 rise 1
`,
    steps: [
      { delayMs: 800, send: [get("/"), get("/again")] },
      { send: [get("/", [["Connection", "close"]])] },
    ],
  },
  {
    name: "redispatch_refused",
    covers: "redispatch: a refused connection is retried on another server (retries 2)",
    origins: ["s2"],
    halb: `
[frontend.fe]
bind = ["127.0.0.1:{{FE}}"]
default_backend = "be"

[backend.be]
redispatch = true
retries = 2
timeout = { connect = "200ms" }
server = [{ name = "d1", address = "127.0.0.1:{{dead}}" }, ${hs("s2")}]
`,
    haproxy: `
frontend fe
  bind 127.0.0.1:{{FE}}
  default_backend be
backend be
  option redispatch
  retries 2
  timeout connect 200ms
  server d1 127.0.0.1:{{dead}}
${ps("s2")}
`,
    steps: [{ send: [get("/1"), get("/2"), get("/3")] }],
  },
  {
    name: "timeout_server_504",
    covers: "504 on timeout server; the client connection stays open",
    origins: ["s1"],
    halb: `
[frontend.fe]
bind = ["127.0.0.1:{{FE}}"]
default_backend = "be"

[backend.be]
timeout = { server = "400ms" }
server = [${hs("s1")}]
`,
    haproxy: `
frontend fe
  bind 127.0.0.1:{{FE}}
  default_backend be
backend be
  timeout server 400ms
${ps("s1")}
`,
    steps: [{ send: [get("/slow?delay=1200"), get("/fast")] }],
  },
  {
    name: "bad_gateway_502",
    covers: "502 when the server answers garbage or closes without answering",
    origins: ["s1"],
    halb: `
[frontend.fe]
bind = ["127.0.0.1:{{FE}}"]
default_backend = "be"

[backend.be]
server = [${hs("s1")}]
`,
    haproxy: `
frontend fe
  bind 127.0.0.1:{{FE}}
  default_backend be
backend be
${ps("s1")}
`,
    steps: [
      { label: "garbage", send: [get("/?garbage=1"), get("/ok")] },
      { label: "abort", send: [get("/?abort=1"), get("/ok")] },
    ],
  },
  {
    name: "errorfile_override",
    covers: "errorfile 503 (no server) and 403 (deny) replace the default pages",
    origins: [],
    halb: `
[frontend.fe]
bind = ["127.0.0.1:{{FE}}"]
errorfile = { 403 = "errors/403.http" }
http_request = [{ action = "deny", if = "{ path_beg /deny }" }]
default_backend = "be"

[backend.be]
errorfile = { 503 = "errors/503.http" }
server = [{ name = "d1", address = "127.0.0.1:{{dead}}", check = true, inter = "100ms", fall = 1, rise = 1 }]
`,
    haproxy: `
frontend fe
  bind 127.0.0.1:{{FE}}
  errorfile 403 {{DIR}}/errors/403.http
  http-request deny if { path_beg /deny }
  default_backend be
backend be
  errorfile 503 {{DIR}}/errors/503.http
  server d1 127.0.0.1:{{dead}} check inter 100ms fall 1 rise 1
`,
    steps: [{ delayMs: 800, send: [get("/deny"), get("/x")] }],
  },
  {
    name: "timeout_http_request_408",
    covers: "timeout http_request: an incomplete head gets HAProxy's 408 and the close; an " +
      "idle keep-alive connection closes silently at http_keep_alive",
    origins: ["s1"],
    halb: `
[frontend.fe]
bind = ["127.0.0.1:{{FE}}"]
timeout = { http_request = "500ms", http_keep_alive = "300ms" }
default_backend = "be"

[backend.be]
server = [${hs("s1")}]
`,
    haproxy: `
frontend fe
  bind 127.0.0.1:{{FE}}
  timeout http-request 500ms
  timeout http-keep-alive 300ms
  default_backend be
backend be
${ps("s1")}
`,
    steps: [
      { label: "partial head", send: [{ data: "GET / HTTP/1.1\r\nHost: h\r\n", responses: 1 }] },
      { label: "keep-alive idle", send: [get("/"), { data: "", pauseMs: 700, responses: 0 }] },
    ],
  },
];

/** TLS offload scenarios. */
export const TLS: Scenario[] = [
  {
    name: "tls_sni_crt_list",
    covers: "bind with two certificates: SNI picks, the first is the default; ALPN http/1.1; " +
      "ssl_fc_sni routing",
    halb: `
[frontend.fe]
bind = [{ address = "127.0.0.1:{{FE}}", crt = ["certs/web.pem", "certs/sni.pem"] }]
use_backend = [{ backend = "b2", if = "{ ssl_fc_sni -i sni.test }" }]
default_backend = "b1"

[backend.b1]
server = [${hs("s1")}]
[backend.b2]
server = [${hs("s2")}]
`,
    haproxy: `
frontend fe
  bind 127.0.0.1:{{FE}} ssl crt {{DIR}}/certs/web.pem crt {{DIR}}/certs/sni.pem alpn http/1.1
  use_backend b2 if { ssl_fc_sni -i sni.test }
  default_backend b1
backend b1
${ps("s1")}
backend b2
${ps("s2")}
`,
    steps: [
      { label: "no sni", tls: {}, send: [get("/")] },
      { label: "sni www.test2.com", tls: { sni: "www.test2.com" }, send: [get("/")] },
      { label: "sni sni.test", tls: { sni: "SNI.test", ca: "certs/sni_ca.pem" }, send: [get("/")] },
      { label: "sni sni.test, wrong CA", tls: { sni: "sni.test" }, send: [get("/")] },
      { label: "alpn", tls: { sni: "localhost", alpn: ["h2", "http/1.1"] }, send: [get("/")] },
      { label: "plain http on tls port", send: [{ data: get("/"), responses: 0 }] },
    ],
  },
];
