import assert from "node:assert/strict";
import { txnOf } from "./_testing.ts";
import { fetchAll, fetchSample, sampleText } from "./fetch.ts";

// Request and expected header values observed on haproxy 2.6.12 (set-header X %[fetch]).
const OBSERVED = "GET /hv?a=1&q=zz&q=2 HTTP/1.1\nHost: hh\nX-Multi: a, b\nX-Multi: c,d\n" +
  "Cookie: a=1; b=2; a=3\nCookie: c=4\n";

Deno.test("fetchSample renders what haproxy 2.6.12 put in set-header values", () => {
  const txn = txnOf(OBSERVED);
  const cases: [string, string | null, string | null][] = [
    ["hdr", "x-multi", "d"],
    ["req.fhdr", "x-multi", "c,d"],
    ["req.cook", "a", "3"],
    ["req.cook", null, "1"],
    ["url_param", "q", "zz"],
    ["src", null, "192.0.2.7"],
    ["ssl_fc", null, "0"],
    ["hdr_cnt", "x-multi", "4"],
    ["hdr", "nothere", null],
    ["req.ver", null, "1.1"],
    ["base", null, "hh/hv"],
    ["url", null, "/hv?a=1&q=zz&q=2"],
    ["query", null, "a=1&q=zz&q=2"],
    ["path", null, "/hv"],
    ["method", null, "GET"],
    ["hdr", "x-multi,1", "a"],
    ["hdr", "x-multi,-2", "c"],
    ["req.fhdr", "x-multi,1", "a, b"],
    ["dst_port", null, "80"],
    ["always_true", null, "1"],
    ["status", null, null],
  ];
  for (const [fetch, arg, want] of cases) {
    const s = fetchSample(txn, fetch, arg);
    assert.equal(s === null ? null : sampleText(s), want, `${fetch}(${arg})`);
  }
});

Deno.test("fetchSample: absolute-form targets, no host, no query (observed on haproxy 2.6.12)", () => {
  const abs = txnOf("GET http://abs.example/hv?k HTTP/1.1\nHost: abs.example\n");
  assert.equal(sampleText(fetchSample(abs, "path", null)!), "/hv");
  assert.equal(sampleText(fetchSample(abs, "base", null)!), "abs.example/hv");
  assert.equal(sampleText(fetchSample(abs, "query", null)!), "k");
  const bare = txnOf("GET /hv HTTP/1.0\n");
  assert.equal(sampleText(fetchSample(bare, "base", null)!), "/hv");
  assert.equal(fetchSample(bare, "query", null), null);
  assert.equal(sampleText(fetchSample(bare, "req.ver", null)!), "1.0");
  assert.equal(fetchSample(txnOf("OPTIONS * HTTP/1.1\n"), "path", null), null);
});

Deno.test("fetchAll gives every occurrence in ACL order", () => {
  const txn = txnOf(OBSERVED);
  assert.deepEqual(fetchAll(txn, "hdr", "x-multi")?.values, ["a", "b", "c", "d"]);
  assert.deepEqual(fetchAll(txn, "req.fhdr", "x-multi")?.values, ["a, b", "c,d"]);
  assert.deepEqual(fetchAll(txn, "cook", "a")?.values, ["1", "3"]);
  assert.deepEqual(fetchAll(txn, "urlp", "q")?.values, ["zz", "2"]);
  assert.deepEqual(fetchAll(txn, "url_param", null)?.values, ["1", "zz", "2"]);
  const semi = txnOf("GET /x;JSESSIONID=abc HTTP/1.1\n");
  assert.deepEqual(fetchAll(semi, "urlp", "JSESSIONID,;")?.values, ["abc"]);
});

Deno.test("fetches are tied to their side", () => {
  const txn = txnOf("GET /p HTTP/1.1\nHost: h\n", "HTTP/1.0 404 Nope\nX-S: 1, 2\n");
  assert.equal(fetchSample(txn, "path", null), null);
  assert.equal(sampleText(fetchSample(txn, "path", null, { side: "request" })!), "/p");
  assert.equal(sampleText(fetchSample(txn, "status", null)!), "404");
  assert.equal(sampleText(fetchSample(txn, "res.hdr", "x-s")!), "2");
  assert.equal(sampleText(fetchSample(txn, "res.hdr_cnt", "x-s")!), "2");
  assert.equal(sampleText(fetchSample(txn, "res.ver", null)!), "1.0");
  assert.equal(sampleText(fetchSample(txn, "src_port", null)!), "40000");
  assert.equal(fetchSample(txnOf("GET / HTTP/1.1\n"), "shdr", "x"), null);
});

Deno.test("hdr_val, hdr_ip, var, TLS fetches", () => {
  const txn = txnOf(
    "GET / HTTP/1.1\nContent-Length: 12\nX-FF: 203.0.113.9:80, 2001:db8::1, junk\n",
    undefined,
    { ssl: true, sni: "www.example", alpn: "h2", tlsVersion: "TLSv1.3" },
  );
  txn.vars.set("txn.p", "/x");
  assert.deepEqual(fetchAll(txn, "hdr_val", "content-length")?.values, [12]);
  assert.deepEqual(fetchAll(txn, "hdr_ip", "x-ff")?.values, ["203.0.113.9", "2001:db8::1"]);
  assert.equal(sampleText(fetchSample(txn, "var", "txn.p")!), "/x");
  assert.equal(fetchSample(txn, "var", "txn.none"), null);
  assert.equal(sampleText(fetchSample(txn, "ssl_fc", null)!), "1");
  assert.equal(sampleText(fetchSample(txn, "ssl_fc_sni", null)!), "www.example");
  assert.equal(sampleText(fetchSample(txn, "ssl_fc_alpn", null)!), "h2");
  assert.equal(sampleText(fetchSample(txn, "ssl_fc_protocol", null)!), "TLSv1.3");
  assert.equal(fetchSample(txnOf("GET / HTTP/1.1\n"), "ssl_fc_sni", null), null);
});
