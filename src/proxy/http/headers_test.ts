import assert from "node:assert/strict";
import { txnOf } from "./_testing.ts";
import {
  addHeader,
  delHeader,
  encodeLatin1,
  getHeader,
  getHeaderLines,
  getHeaderValues,
  setHeader,
  splitValues,
} from "./headers.ts";

Deno.test("getHeader, getHeaderLines, getHeaderValues", () => {
  const { req } = txnOf("GET / HTTP/1.1\nX-Multi: a, b\nHost: h\nx-multi: c,d\n");
  assert.equal(getHeader(req, "x-multi"), "a, b");
  assert.equal(getHeader(req, "nope"), null);
  assert.deepEqual(getHeaderLines(req, "x-multi"), ["a, b", "c,d"]);
  assert.deepEqual(getHeaderValues(req, "x-multi"), ["a", "b", "c", "d"]);
  assert.deepEqual(getHeaderValues(req, null), ["a", "b", "h", "c", "d"]);
});

Deno.test("splitValues keeps quoted commas", () => {
  const cases: [string, string[]][] = [
    ["a", ["a"]],
    [" a ,\tb ", ["a", "b"]],
    ['x="1,2", y', ['x="1,2"', "y"]],
    ['"a\\",b", c', ['"a\\",b"', "c"]],
    ["a,,b", ["a", "", "b"]],
  ];
  for (const [v, want] of cases) assert.deepEqual(splitValues(v), want, v);
});

Deno.test("set/add/del keep lowerNames parallel", () => {
  const { req } = txnOf("GET / HTTP/1.1\nX-A: 1\nHost: h\nx-a: 2\n");
  addHeader(req, "X-B", "3");
  setHeader(req, "x-A", "9");
  assert.deepEqual(req.headers, [["Host", "h"], ["X-B", "3"], ["x-A", "9"]]);
  assert.deepEqual(req.lowerNames, ["host", "x-b", "x-a"]);
  assert.equal(delHeader(req, "X-B"), 1);
  assert.equal(delHeader(req, "X-B"), 0);
  assert.deepEqual(req.lowerNames, ["host", "x-a"]);
  assert.deepEqual(encodeLatin1("a\u00e9"), new Uint8Array([0x61, 0xe9]));
});
