import assert from "node:assert/strict";
import { parseBalance, parseHashType, parseStatusMatcher } from "./lb.ts";

function err(r: { ok: boolean; error?: string }): string {
  return r.ok ? "" : r.error ?? "";
}

Deno.test("parseBalance: every algorithm in HAProxy's words", () => {
  const table: [string, unknown][] = [
    ["roundrobin", { algorithm: "roundrobin" }],
    ["static-rr", { algorithm: "static-rr" }],
    ["leastconn", { algorithm: "leastconn" }],
    ["first", { algorithm: "first" }],
    ["source", { algorithm: "source" }],
    ["random", { algorithm: "random", draws: 2 }],
    ["random(5)", { algorithm: "random", draws: 5 }],
    ["uri", { algorithm: "uri", whole: false, len: 0, depth: 0, pathOnly: false }],
    ["uri depth 2", { algorithm: "uri", whole: false, len: 0, depth: 2, pathOnly: false }],
    ["uri whole len 10 path-only", {
      algorithm: "uri",
      whole: true,
      len: 10,
      depth: 0,
      pathOnly: true,
    }],
    ["url_param(uid) check_post", { algorithm: "url_param", name: "uid", checkPost: true }],
    ["url_param uid", { algorithm: "url_param", name: "uid", checkPost: false }],
    ["hdr(Host) use_domain_only", { algorithm: "hdr", name: "Host", useDomainOnly: true }],
    ["hdr(User-Agent)", { algorithm: "hdr", name: "User-Agent", useDomainOnly: false }],
  ];
  for (const [text, want] of table) assert.deepEqual(parseBalance(text), { ok: true, value: want });
});

Deno.test("parseBalance: errors", () => {
  assert.match(err(parseBalance("roundrobn")), /did you mean "roundrobin"/);
  assert.match(err(parseBalance("roundrobin fast")), /unexpected "fast"/);
  assert.match(err(parseBalance("uri depth x")), /needs a positive integer/);
  assert.match(err(parseBalance("uri fast")), /unknown uri option "fast"/);
  assert.match(err(parseBalance("hdr")), /needs a name/);
  assert.match(err(parseBalance("hdr(Host) check_post")), /only use_domain_only/);
  assert.match(err(parseBalance("random(0)")), /invalid number of draws/);
});

Deno.test("parseHashType: defaults as HAProxy", () => {
  assert.deepEqual(parseHashType("map-based"), {
    ok: true,
    value: { method: "map-based", fn: "sdbm", avalanche: false },
  });
  assert.deepEqual(parseHashType("consistent"), {
    ok: true,
    value: { method: "consistent", fn: "sdbm", avalanche: true },
  });
  assert.deepEqual(parseHashType("consistent crc32"), {
    ok: true,
    value: { method: "consistent", fn: "crc32", avalanche: false },
  });
  assert.deepEqual(parseHashType("map-based wt6 avalanche"), {
    ok: true,
    value: { method: "map-based", fn: "wt6", avalanche: true },
  });
  assert.match(err(parseHashType("consistant")), /did you mean "consistent"/);
  assert.match(err(parseHashType("consistent md5")), /unexpected "md5"/);
});

Deno.test("parseStatusMatcher", () => {
  assert.deepEqual(parseStatusMatcher("200-399"), {
    ok: true,
    value: { ranges: [[200, 399]], negate: false, text: "200-399" },
  });
  assert.deepEqual(parseStatusMatcher("200,201,300-310"), {
    ok: true,
    value: { ranges: [[200, 200], [201, 201], [300, 310]], negate: false, text: "200,201,300-310" },
  });
  assert.deepEqual(parseStatusMatcher("!500"), {
    ok: true,
    value: { ranges: [[500, 500]], negate: true, text: "!500" },
  });
  assert.match(err(parseStatusMatcher("2xx")), /invalid status "2xx"/);
  assert.match(err(parseStatusMatcher("399-200")), /invalid status range/);
  assert.match(err(parseStatusMatcher("200,700")), /invalid status range "700"/);
});
