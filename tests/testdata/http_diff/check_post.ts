/**
 * Differential scenarios: `balance url_param(uid) check_post` — the parameter looked up in a
 * POST body when the query string lacks it. HAProxy 2.6 waits for the body (all of it, or what
 * its buffer holds) before choosing a server, answers `Expect: 100-continue` itself, hashes the
 * query's value first, and falls back to round robin. `check_post` itself changes nothing in
 * 2.6 (the body of a POST is searched without it too).
 *
 * With three equal servers (map-based), `carol` hashes to s2 and `dave` to s1.
 *
 * @module
 */
import { get, hs, ps, request, type Scenario } from "../../helpers/http_diff.ts";

const THREE = ["s1", "s2", "s3"];

function post(target: string, body: string, extra: [string, string][] = []): string {
  return request("POST", target, { headers: [["Host", "lb.test"], ...extra], body });
}

function chunkedHead(target: string, extra: [string, string][] = []): string {
  return request("POST", target, {
    headers: [["Host", "lb.test"], ["Transfer-Encoding", "chunked"], ...extra],
  });
}

/** A url_param backend over s1..s3 (`option` after the parameter name, haproxy syntax). */
function paramScenario(
  s: Omit<Scenario, "origins" | "halb" | "haproxy"> & { option?: string; fe?: string },
): Scenario {
  const option = s.option ?? "check_post";
  return {
    ...s,
    origins: THREE,
    halb: `
[frontend.fe]
bind = ["127.0.0.1:{{FE}}"]
${s.fe ?? ""}
default_backend = "be"

[backend.be]
balance = "url_param(uid)${option ? ` ${option}` : ""}"
server = [${hs("s1")}, ${hs("s2")}, ${hs("s3")}]
`,
    haproxy: `
frontend fe
  bind 127.0.0.1:{{FE}}
  default_backend be
backend be
  balance url_param uid ${option}
${ps("s1")}
${ps("s2")}
${ps("s3")}
`,
  };
}

/** Each request on its own connection (balancing never depends on connection reuse). */
function each(requests: string[]): { send: string[] }[] {
  return requests.map((r) => ({ send: [r] }));
}

const PAD = "x".repeat(15300);

/** check_post scenarios. */
export const CHECK_POST: Scenario[] = [
  paramScenario({
    name: "url_param_post_body",
    covers: "url_param check_post: the body's uid picks the server the query's uid would; " +
      "HAProxy's value rules (a leading blank empties it, another non-token byte means no form)",
    steps: each([
      post("/p", "uid=carol"),
      get("/p?uid=carol"),
      post("/p", "uid=dave"),
      get("/p?uid=dave"),
      post("/p", "a=1&uid=carol&b=2"),
      post("/p", "uid=dave", [["Content-Type", "application/json"]]),
      post("/p", "uid=dave\r\n"),
      post("/p", "uid= x"),
      get("/p?uid="),
      post("/p", "uid=/x"),
      post("/p", "uid=/x"),
      post("/p", "uid=/x"),
      request("PUT", "/p", { body: "uid=carol" }),
      request("PUT", "/p", { body: "uid=carol" }),
    ]),
  }),
  paramScenario({
    name: "url_param_post_query_wins",
    covers: "url_param check_post: a uid in the query (even empty) wins over the body's",
    steps: each([
      post("/p?uid=carol", "uid=dave"),
      post("/p?uid=dave", "uid=carol"),
      post("/p?uid=", "uid=carol"),
      post("/p?other=1", "uid=carol"),
    ]),
  }),
  paramScenario({
    name: "url_param_post_absent_rr",
    covers: "url_param check_post: no uid in query nor body, an empty POST, a GET: round robin",
    steps: each([
      post("/p", "a=1&b=2"),
      post("/p", "a=1&b=2"),
      get("/p"),
      post("/p", ""),
      post("/p", "xuid=carol"),
      get("/p?a=uid"),
      post("/p", "a=1&b=2"),
      // The parameter beyond what HAProxy's buffer holds is not seen.
      post("/p", `a=${PAD}&uid=carol`),
      post("/p", `a=${PAD}&uid=carol`),
      // ... but a body longer than the buffer is not waited for in full.
      post("/p", `uid=carol&a=${PAD}`),
    ]),
  }),
  paramScenario({
    name: "url_param_post_chunked",
    covers: "url_param check_post with chunked bodies: one chunk, a parameter split over " +
      "chunks, and a second chunk that arrives later (waited for)",
    steps: [
      { send: [chunkedHead("/p") + "9\r\nuid=carol\r\n0\r\n\r\n"] },
      { send: [chunkedHead("/p") + "3\r\nuid\r\n5;x=1\r\n=dave\r\n0\r\n\r\n"] },
      {
        send: [
          { data: chunkedHead("/p") + "4\r\nuid=\r\n", responses: 0 },
          { data: "5\r\ncarol\r\n0\r\n\r\n", pauseMs: 250 },
        ],
      },
      { send: [chunkedHead("/p") + "7\r\na=1&b=2\r\n0\r\n\r\n"] },
      { send: [chunkedHead("/p") + "7\r\na=1&b=2\r\n0\r\n\r\n"] },
    ],
  }),
  paramScenario({
    name: "url_param_post_wait",
    covers: "url_param check_post: a body sent after the head is waited for; Expect: " +
      "100-continue is answered by the proxy and not forwarded; keep-alive POSTs",
    steps: [
      {
        label: "body 250ms after the head",
        send: [
          { data: post("/p", "uid=carol").slice(0, -"carol".length), responses: 0 },
          { data: "carol", pauseMs: 250 },
        ],
      },
      {
        label: "expect 100-continue",
        send: [
          { data: post("/p", "", [["Expect", "100-continue"], ["Content-Length", "8"]]) },
          { data: "uid=dave", pauseMs: 100 },
        ],
      },
      {
        label: "expect, body with the head",
        send: [{
          data: post("/p", "uid=dave", [["Expect", "100-continue"]]),
          responses: 2,
        }],
      },
      {
        label: "keep-alive",
        send: [post("/p", "uid=carol"), post("/p", "uid=dave"), post("/p", "uid=carol")],
      },
    ],
  }),
  paramScenario({
    name: "url_param_post_without_check_post",
    covers: "url_param without check_post: HAProxy 2.6 searches a POST body all the same",
    option: "",
    steps: each([
      post("/p", "uid=carol"),
      post("/p", "uid=dave"),
      post("/p", "uid=carol"),
      get("/p"),
      get("/p"),
    ]),
  }),
  {
    ...paramScenario({
      name: "url_param_post_timeout_408",
      covers: "url_param check_post: a body that stops short gets HAProxy's 408 at " +
        "timeout http_request; no server is contacted",
      fe: 'timeout = { http_request = "500ms" }',
      steps: [
        { send: [{ data: post("/p", "uid=carol", [["Content-Length", "20"]]) }] },
        { send: [{ data: chunkedHead("/p") + "9\r\nuid=carol\r\n" }] },
      ],
    }),
    haproxyDefaults: "  timeout http-request 500ms",
  },
];
