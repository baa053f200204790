import assert from "node:assert/strict";
import { domainOnlyKey, uriKey, uriPath, urlParamValue } from "./keys.ts";

const base = { whole: false, len: 0, depth: 0, pathOnly: false };

Deno.test("uriKey: stops at '?' unless whole", () => {
  assert.equal(uriKey("/a/b?x=1", base), "/a/b");
  assert.equal(uriKey("/a/b?x=1", { ...base, whole: true }), "/a/b?x=1");
  assert.equal(uriKey("/", base), "/");
});

Deno.test("uriKey: depth counts slashes, len counts characters, first limit wins", () => {
  assert.equal(uriKey("/depth/a/x", { ...base, depth: 2 }), "/depth/a");
  assert.equal(uriKey("/depth/a", { ...base, depth: 2 }), "/depth/a");
  assert.equal(uriKey("/depth/a/x/y", { ...base, depth: 1 }), "/depth");
  assert.equal(uriKey("/abcdefgh", { ...base, len: 4 }), "/abc");
  assert.equal(uriKey("/a/b/c/d", { ...base, len: 5, depth: 3 }), "/a/b/");
  assert.equal(uriKey("/a/b/c/d", { ...base, len: 50, depth: 2 }), "/a/b");
  assert.equal(uriKey("/ab?cd/e", { ...base, len: 6, whole: true }), "/ab?cd");
});

Deno.test("uriKey: path-only drops scheme and authority", () => {
  const opts = { ...base, pathOnly: true };
  assert.equal(uriKey("http://example.com/x/y?q", opts), "/x/y");
  assert.equal(uriKey("/x/y", opts), "/x/y");
  assert.equal(uriPath("https://h:8443"), "");
  assert.equal(uriPath("*"), "");
  assert.equal(uriPath("example.com:443"), "");
  assert.equal(uriPath("http://u@h/p?q=1"), "/p?q=1");
});

Deno.test("domainOnlyKey: the label before the last dot", () => {
  assert.equal(domainOnlyKey("haproxy.1wt.eu"), "1wt");
  assert.equal(domainOnlyKey("www.example.com"), "example");
  assert.equal(domainOnlyKey("example.com"), "example");
  assert.equal(domainOnlyKey("example.com:8080"), "example");
  assert.equal(domainOnlyKey("localhost"), "localhost");
  assert.equal(domainOnlyKey(""), "");
});

Deno.test('urlParamValue: first match; absent gives null, an empty value gives ""', () => {
  assert.equal(urlParamValue("uid=alice", "uid"), "alice");
  assert.equal(urlParamValue("a=1&uid=bob&uid=carol", "uid"), "bob");
  assert.equal(urlParamValue("xuid=1&uid=2", "uid"), "2");
  assert.equal(urlParamValue("uid=", "uid"), "");
  assert.equal(urlParamValue("uid=&x=1", "uid"), "");
  assert.equal(urlParamValue("uid", "uid"), null);
  assert.equal(urlParamValue("", "uid"), null);
  assert.equal(urlParamValue("a=1", "uid"), null);
});
