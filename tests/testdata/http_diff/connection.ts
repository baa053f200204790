/**
 * Differential scenarios: forwardfor (issue #3 item 4) and the HTTP/1.1 engine's connection
 * handling (item 1): keep-alive, http_server_close, httpclose, HTTP/1.0, pipelining, chunked
 * bodies both ways, Expect: 100-continue, HEAD.
 *
 * @module
 */
import { get, hs, ps, request, type Scenario } from "../../helpers/http_diff.ts";

function simple(
  name: string,
  covers: string,
  options: { halbFe?: string; haproxyFe?: string; halbBe?: string; haproxyBe?: string },
  steps: Scenario["steps"],
): Scenario {
  return {
    name,
    covers,
    origins: ["s1"],
    halb: `
[frontend.fe]
bind = ["127.0.0.1:{{FE}}"]
${options.halbFe ?? ""}
default_backend = "be"

[backend.be]
${options.halbBe ?? ""}
server = [${hs("s1")}]
`,
    haproxy: `
frontend fe
  bind 127.0.0.1:{{FE}}
${options.haproxyFe ?? ""}
  default_backend be
backend be
${options.haproxyBe ?? ""}
${ps("s1")}
`,
    steps,
  };
}

/** An HTTP/1.0 GET with `Host: h` plus extra headers. */
function http10(target: string, extra: [string, string][] = []): string {
  return request("GET", target, { version: "HTTP/1.0", headers: [["Host", "h"], ...extra] });
}

/** Forwardfor scenarios. */
export const FORWARDFOR: Scenario[] = [
  simple(
    "forwardfor_plain",
    "forwardfor appends X-Forwarded-For after the rule-added headers; a client XFF is kept",
    {
      halbFe:
        'forwardfor = true\nhttp_request = [{ action = "add-header", name = "X-Rule", value = "1" }]',
      haproxyFe: "  option forwardfor\n  http-request add-header X-Rule 1",
    },
    [{ send: [get("/", [["X-Forwarded-For", "9.9.9.9"]]), get("/")] }],
  ),
  simple(
    "forwardfor_except",
    "forwardfor except 127.0.0.0/8 adds nothing for a loopback client",
    {
      halbFe: 'forwardfor = { except = "127.0.0.0/8" }',
      haproxyFe: "  option forwardfor except 127.0.0.0/8",
    },
    [{ send: [get("/")] }],
  ),
  simple(
    "forwardfor_header_if_none",
    "forwardfor header X-Real-IP if_none (both sides): added only when absent",
    {
      halbFe: 'forwardfor = { header = "X-Real-IP", if_none = true }',
      haproxyFe: "  option forwardfor header X-Real-IP if-none",
      halbBe: 'forwardfor = { header = "X-Real-IP", if_none = true }',
      haproxyBe: "  option forwardfor header X-Real-IP if-none",
    },
    [{ send: [get("/", [["X-Real-IP", "1.2.3.4"]]), get("/")] }],
  ),
  simple(
    "forwardfor_backend_header_wins",
    "forwardfor on the frontend and on the backend: the backend's header name wins; " +
      "if_none on one side only still adds",
    {
      halbFe: "forwardfor = { if_none = true }",
      haproxyFe: "  option forwardfor if-none",
      halbBe: 'forwardfor = { header = "X-Client" }',
      haproxyBe: "  option forwardfor header X-Client",
    },
    [{ send: [get("/", [["X-Client", "5.5.5.5"]])] }],
  ),
];

/** Connection-handling scenarios. */
export const CONNECTIONS: Scenario[] = [
  simple(
    "keepalive_default",
    "keep-alive by default; Connection: close from the client closes after the response",
    {},
    [
      { send: [get("/1"), get("/2"), get("/3", [["Connection", "keep-alive"]])] },
      { send: [get("/a"), get("/b", [["Connection", "close"]])] },
    ],
  ),
  simple(
    "http_server_close",
    "http_server_close: the server sees connection: close, the client stays open",
    { halbFe: "http_server_close = true", haproxyFe: "  option http-server-close" },
    [{ send: [get("/1", [["Connection", "keep-alive"]]), get("/2")] }],
  ),
  simple(
    "httpclose_backend",
    "httpclose on the backend only closes the server side: the client stays keep-alive",
    { halbBe: "httpclose = true", haproxyBe: "  option httpclose" },
    [{ send: [get("/1")] }, { send: [http10("/2", [["Connection", "keep-alive"]])] }],
  ),
  simple(
    "httpclose_frontend",
    "httpclose on the frontend: connection: close both ways and the client connection closes",
    { halbFe: "httpclose = true", haproxyFe: "  option httpclose" },
    [{ send: [get("/1")] }, { send: [http10("/2", [["Connection", "keep-alive"]])] }],
  ),
  simple(
    "http_server_close_backend",
    "http_server_close on the backend: the server side closes, the client stays open",
    { halbBe: "http_server_close = true", haproxyBe: "  option http-server-close" },
    [{ send: [get("/1"), get("/2")] }],
  ),
  simple(
    "http10_client",
    "HTTP/1.0 client: closed after the response unless it asks for keep-alive",
    {},
    [
      { send: [http10("/plain")] },
      {
        send: [
          http10("/ka", [["Connection", "keep-alive"]]),
          http10("/ka2", [["Connection", "keep-alive"]]),
        ],
      },
      { send: [http10("/chunked?chunked=1", [["Connection", "keep-alive"]])] },
    ],
  ),
  simple(
    "pipelining",
    "three pipelined requests (one with a body) in one write, answered in order",
    {},
    [{
      send: [{
        data: get("/p1") + request("POST", "/p2", { body: "hello" }) + get("/p3"),
        responses: 3,
      }],
    }],
  ),
  simple(
    "chunked_request_body",
    "a chunked request body (with a trailer) is forwarded; an empty chunked body too",
    {},
    [{
      send: [
        request("POST", "/up", {
          headers: [["Host", "h"], ["Transfer-Encoding", "chunked"]],
          body: "5\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n",
        }),
        request("PUT", "/empty", {
          headers: [["Host", "h"], ["Transfer-Encoding", "chunked"]],
          body: "0\r\n\r\n",
        }),
      ],
    }],
  ),
  simple(
    "chunked_response_body",
    "a chunked server response is relayed to HTTP/1.1 clients; 204 and HEAD carry no body",
    {},
    [{ send: [get("/c?chunked=1"), get("/n?status=204"), request("HEAD", "/h?chunked=1")] }],
  ),
  simple(
    "expect_100_continue",
    "Expect: 100-continue: the interim response, then the body, then the final response",
    {},
    [{
      readTimeoutMs: 1500,
      send: [
        {
          data: "POST /e HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n",
          responses: 1,
        },
        { data: "hello", responses: 1 },
      ],
    }],
  ),
  simple(
    "head_and_status_codes",
    "HEAD keeps content-length without a body; 404 and 500 from the server are relayed",
    {},
    [{ send: [request("HEAD", "/h"), get("/?status=404"), get("/?status=500")] }],
  ),
  simple(
    "server_closes",
    "the server answers with connection: close: the client connection stays open",
    {},
    [{ send: [get("/?close=1"), get("/after")] }],
  ),
];
