import assert from "node:assert/strict";
import { FETCHES } from "./fetch.ts";

Deno.test("suffix forms derive from their sample fetch and imply a match method", () => {
  assert.deepEqual(FETCHES.get("path_beg"), {
    arg: "none",
    match: "beg",
    side: "request",
    base: "path",
    sample: false,
  });
  assert.deepEqual(FETCHES.get("hdr_sub"), {
    arg: "optional",
    match: "sub",
    side: "request",
    base: "hdr",
    sample: false,
  });
  assert.equal(FETCHES.get("url_param")?.arg, "required");
  assert.equal(FETCHES.get("status")?.side, "response");
  assert.equal(FETCHES.get("src")?.match, "ip");
  assert.equal(FETCHES.get("ssl_fc")?.match, "bool");
  assert.equal(FETCHES.get("ssl_fc_sni_end")?.base, "ssl_fc_sni");
  assert.equal(FETCHES.get("src_beg"), undefined);
});
