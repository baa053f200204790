/**
 * Differential scenarios: balancing that needs HTTP (issue #3 item 4) and cookie persistence
 * (item 5), including the seed's `cookie WEBSRV insert indirect nocache`.
 *
 * @module
 */
import { get, hs, ps, request, type Scenario } from "../../helpers/http_diff.ts";
import { encodeDate30 } from "../../../src/proxy/http/cookie.ts";

const THREE = ["s1", "s2", "s3"];

/** Each request on its own connection (so balancing never depends on connection reuse). */
function each(requests: string[]): { send: string[] }[] {
  return requests.map((r) => ({ send: [r] }));
}

function balanceScenario(
  name: string,
  covers: string,
  balance: { halb: string; haproxy: string },
  requests: string[],
): Scenario {
  return {
    name,
    covers,
    origins: THREE,
    halb: `
[frontend.fe]
bind = ["127.0.0.1:{{FE}}"]
default_backend = "be"

[backend.be]
${balance.halb}
server = [${hs("s1")}, ${hs("s2")}, ${hs("s3")}]
`,
    haproxy: `
frontend fe
  bind 127.0.0.1:{{FE}}
  default_backend be
backend be
${balance.haproxy}
${ps("s1")}
${ps("s2")}
${ps("s3")}
`,
    steps: each(requests),
  };
}

/** Balancing scenarios. */
export const BALANCING: Scenario[] = [
  {
    name: "roundrobin_weights",
    covers: "roundrobin order with weights 3/1/2, per request on one keep-alive connection",
    origins: THREE,
    halb: `
[frontend.fe]
bind = ["127.0.0.1:{{FE}}"]
default_backend = "be"

[backend.be]
balance = "roundrobin"
server = [${hs("s1", "weight = 3")}, ${hs("s2", "weight = 1")}, ${hs("s3", "weight = 2")}]
`,
    haproxy: `
frontend fe
  bind 127.0.0.1:{{FE}}
  default_backend be
backend be
  balance roundrobin
${ps("s1", "weight 3")}
${ps("s2", "weight 1")}
${ps("s3", "weight 2")}
`,
    steps: [
      { send: Array.from({ length: 8 }, (_, i) => get(`/ka${i}`)) },
      ...each(Array.from({ length: 6 }, (_, i) => get(`/new${i}`))),
    ],
  },
  balanceScenario(
    "balance_uri",
    "balance uri (map-based): same path, same server; the query counts",
    { halb: 'balance = "uri"', haproxy: "  balance uri" },
    ["/a", "/b", "/c", "/a", "/a?x=1", "/img/logo.png", "/b", "/img/logo.png"].map((p) => get(p)),
  ),
  balanceScenario(
    "balance_uri_depth_consistent",
    "balance uri depth 2 with hash_type consistent",
    {
      halb: 'balance = "uri depth 2"\nhash_type = "consistent"',
      haproxy: "  balance uri depth 2\n  hash-type consistent",
    },
    ["/d/a/x", "/d/a/y", "/d/b/x", "/d/c/q/r", "/e/f/g", "/d/b/z"].map((p) => get(p)),
  ),
  balanceScenario(
    "balance_url_param",
    "balance url_param(userid) with the round-robin fallback when the parameter is missing",
    { halb: 'balance = "url_param(userid)"', haproxy: "  balance url_param userid" },
    [
      "/?userid=1",
      "/?userid=2",
      "/?userid=3",
      "/?userid=1",
      "/x?a=b&userid=42",
      "/",
      "/",
      "/?other=1",
      "/",
    ].map((p) => get(p)),
  ),
  balanceScenario(
    "balance_hdr",
    "balance hdr(User-Agent) with the round-robin fallback when the header is missing",
    { halb: 'balance = "hdr(User-Agent)"', haproxy: "  balance hdr(User-Agent)" },
    [
      get("/", [["User-Agent", "curl/8"]]),
      get("/", [["User-Agent", "Mozilla/5.0"]]),
      get("/", [["User-Agent", "wget"]]),
      get("/", [["User-Agent", "curl/8"]]),
      get("/"),
      get("/"),
      get("/"),
    ],
  ),
  balanceScenario(
    "balance_hdr_domain_only",
    "balance hdr(host) use_domain_only",
    {
      halb: 'balance = "hdr(host) use_domain_only"',
      haproxy: "  balance hdr(host) use_domain_only",
    },
    [
      get("/", [], "www.example.com"),
      get("/", [], "static.example.com"),
      get("/", [], "www.other.net"),
      get("/", [], "a.b.other.net"),
      get("/", [], "localhost"),
    ],
  ),
];

function cookieScenario(
  name: string,
  covers: string,
  cookie: { halb: string; haproxy: string },
  steps: Scenario["steps"],
  servers?: { halb: string; haproxy: string },
): Scenario {
  return {
    name,
    covers,
    halb: `
[frontend.fe]
bind = ["127.0.0.1:{{FE}}"]
default_backend = "be"

[backend.be]
cookie = ${cookie.halb}
server = [${servers?.halb ?? `${hs("s1", 'cookie = "s1"')}, ${hs("s2", 'cookie = "s2"')}`}]
`,
    haproxy: `
frontend fe
  bind 127.0.0.1:{{FE}}
  default_backend be
backend be
  cookie ${cookie.haproxy}
${servers?.haproxy ?? `${ps("s1", "cookie s1")}\n${ps("s2", "cookie s2")}`}
`,
    steps,
  };
}

const LAST_MODIFIED = "hdr=Last-Modified%3A%20Tue%2C%2001%20Jan%202030%2000%3A00%3A00%20GMT";
const PUBLIC = "hdr=Cache-Control%3A%20public%2C%20max-age%3D60";

/** Persistence scenarios. */
export const PERSISTENCE: Scenario[] = [
  {
    name: "seed_cookie_websrv",
    covers: "seed example: cookie WEBSRV insert indirect nocache; stripped before the server; " +
      "cache-control: private only on cacheable responses",
    origins: ["web1", "web3"],
    halb: `
[frontend.main]
bind = ["127.0.0.1:{{FE}}"]
default_backend = "nginx"

[backend.nginx]
balance = "roundrobin"
cookie = { name = "WEBSRV", insert = true, indirect = true, nocache = true }
server = [${hs("web1", 'cookie = "web1"')}, ${hs("web3", 'cookie = "web3", weight = 2')}]
`,
    haproxy: `
frontend main
  bind 127.0.0.1:{{FE}}
  default_backend nginx
backend nginx
  balance roundrobin
  cookie WEBSRV insert indirect nocache
${ps("web1", "cookie web1")}
${ps("web3", "cookie web3 weight 2")}
`,
    steps: [
      { send: [get("/"), get("/")] },
      { send: [get("/", [["Cookie", "WEBSRV=web1; other=1"]])] },
      { send: [get("/", [["Cookie", "a=1; WEBSRV=web3"]]), get("/", [["Cookie", "WEBSRV=web3"]])] },
      { send: [get(`/?${LAST_MODIFIED}`), get(`/?${PUBLIC}`)] },
      { send: [request("POST", `/?${PUBLIC}`, { body: "x=1" })] },
      { send: [get("/?hdr=Cache-Control%3A%20private%2C%20max-age%3D9")] },
      { send: [get("/?setcookie=WEBSRV%3Dfromserver")] },
    ],
  },
  cookieScenario(
    "cookie_insert_direct",
    "cookie insert without indirect: the cookie reaches the server; a valid cookie is kept",
    { halb: '{ name = "SERVERID", insert = true }', haproxy: "SERVERID insert" },
    [
      { send: [get("/")] },
      { send: [get("/", [["Cookie", "SERVERID=s2"]]), get("/", [["Cookie", "SERVERID=s2"]])] },
    ],
  ),
  cookieScenario(
    "cookie_unknown_value",
    "a cookie naming no server is ignored: balanced and a new cookie set",
    {
      halb: '{ name = "SERVERID", insert = true, indirect = true }',
      haproxy: "SERVERID insert indirect",
    },
    [
      { send: [get("/", [["Cookie", "SERVERID=nope"]])] },
      { send: [get("/", [["Cookie", "SERVERID=nope"]])] },
    ],
  ),
  cookieScenario(
    "cookie_down_server",
    "a cookie naming a DOWN server (closed port, check) is rebalanced with a new cookie",
    {
      halb: '{ name = "SERVERID", insert = true, indirect = true }',
      haproxy: "SERVERID insert indirect",
    },
    [
      { delayMs: 800, send: [get("/", [["Cookie", "SERVERID=s1"]])] },
      { send: [get("/", [["Cookie", "SERVERID=s1"]]), get("/")] },
    ],
    {
      halb: `{ name = "s1", address = "127.0.0.1:{{dead}}", cookie = "s1", check = true, ` +
        `inter = "100ms", fall = 1, rise = 1 }, ${hs("s2", 'cookie = "s2"')}`,
      haproxy: `  server s1 127.0.0.1:{{dead}} cookie s1 check inter 100ms fall 1 rise 1\n` +
        ps("s2", "cookie s2"),
    },
  ),
  cookieScenario(
    "cookie_disabled_server",
    "a cookie naming a disabled (MAINT) server is rebalanced",
    {
      halb: '{ name = "SERVERID", insert = true, indirect = true }',
      haproxy: "SERVERID insert indirect",
    },
    [{ send: [get("/", [["Cookie", "SERVERID=s1"]]), get("/", [["Cookie", "SERVERID=s2"]])] }],
    {
      halb: `${hs("s1", 'cookie = "s1", disabled = true')}, ${hs("s2", 'cookie = "s2"')}`,
      haproxy: `${ps("s1", "cookie s1 disabled")}\n${ps("s2", "cookie s2")}`,
    },
  ),
  cookieScenario(
    "cookie_prefix",
    "cookie prefix: the server's cookie gets 's1~' in front, and loses it on the way back",
    { halb: '{ name = "JSESSIONID", prefix = true }', haproxy: "JSESSIONID prefix" },
    [
      { send: [get("/?setcookie=JSESSIONID%3Dabc%3B%20Path%3D%2F")] },
      { send: [get("/", [["Cookie", "JSESSIONID=s2~xyz; lang=fr"]])] },
      { send: [get("/", [["Cookie", "JSESSIONID=plain"]])] },
    ],
  ),
  cookieScenario(
    "cookie_rewrite",
    "cookie rewrite: the server's SERVERID value is replaced by the server's cookie",
    { halb: '{ name = "SERVERID", rewrite = true }', haproxy: "SERVERID rewrite" },
    [
      { send: [get("/?setcookie=SERVERID%3Dxyz%3B%20path%3D%2F")] },
      { send: [get("/?setcookie=SERVERID%3Dxyz", [["Cookie", "SERVERID=s2"]])] },
      { send: [get("/")] },
    ],
  ),
  cookieScenario(
    "cookie_attributes",
    "insert with httponly, secure, domain, attr; a same-name server cookie is removed",
    {
      halb: '{ name = "SRV", insert = true, httponly = true, secure = true, ' +
        'domain = ".example.com", attr = ["SameSite=None"] }',
      haproxy: "SRV insert httponly secure domain .example.com attr SameSite=None",
    },
    [
      { send: [get("/")] },
      { send: [get("/?setcookie=SRV%3Dmine&setcookie=keep%3D1")] },
    ],
  ),
  cookieScenario(
    "cookie_postonly",
    "insert postonly: only responses to POST insert the cookie",
    { halb: '{ name = "SRV", insert = true, postonly = true }', haproxy: "SRV insert postonly" },
    [{ send: [get("/"), request("POST", "/", { body: "a" })] }],
  ),
];

/** A cookie date `ago` seconds before this module was loaded (negative: in the future). */
function ago(seconds: number): string {
  return encodeDate30(Math.floor((Date.now() / 1000 - seconds) / 4));
}

/** cookie maxidle/maxlife, and dates in request cookies (crafted ages, so no test waits). */
export const COOKIE_DATES: Scenario[] = [
  {
    ...cookieScenario(
      "cookie_maxidle_maxlife",
      "cookie insert indirect maxidle 30m maxlife 8h: dates inserted, a valid cookie's last date " +
        "refreshed with its first date kept, idle/old/far-future cookies ignored and rebalanced, " +
        "undecodable dates ignored",
      {
        halb: '{ name = "SRV", insert = true, indirect = true, maxidle = "30m", maxlife = "8h" }',
        haproxy: "SRV insert indirect maxidle 30m maxlife 8h",
      },
      [
        { send: [get("/")] },
        { send: [get("/", [["Cookie", `SRV=s1|${ago(60)}|${ago(600)}; a=1`]])] },
        { send: [get("/", [["Cookie", `SRV=s2|${ago(2000)}|${ago(2100)}`]])] },
        { send: [get("/", [["Cookie", `SRV=s1|${ago(60)}|${ago(30_000)}`]])] },
        { send: [get("/", [["Cookie", `SRV=s2|${ago(-100_000)}`]])] },
        { send: [get("/", [["Cookie", "SRV=s2|!!!!!"]])] },
        { send: [get("/", [["Cookie", `SRV=s1|${ago(-40)}|${ago(600)}`]])] },
        { send: [get("/", [["Cookie", `SRV=s2|${ago(-40)}`]])] },
      ],
    ),
    cookieDates: true,
  },
  {
    ...cookieScenario(
      "cookie_dates_without_maxidle",
      "dates in a request cookie without maxidle/maxlife: the id precedes the bar; a past last " +
        "date or any first date gets the cookie set again without dates",
      { halb: '{ name = "SRV", insert = true }', haproxy: "SRV insert" },
      [
        { send: [get("/", [["Cookie", `SRV=s2|${ago(60)}`]])] },
        { send: [get("/", [["Cookie", `SRV=s2|${ago(-40)}|${ago(60)}`]])] },
        { send: [get("/", [["Cookie", `SRV=s1|${ago(-40)}`]])] },
      ],
    ),
    cookieDates: true,
  },
  cookieScenario(
    "cookie_rewrite_dated",
    "cookie rewrite: a dated request cookie names the server before the bar and is forwarded " +
      "unchanged",
    { halb: '{ name = "SRV", rewrite = true }', haproxy: "SRV rewrite" },
    [{ send: [get("/", [["Cookie", "SRV=s2|AAAAB"]]), get("/", [["Cookie", "SRV=s2|AAAAB"]])] }],
  ),
];
