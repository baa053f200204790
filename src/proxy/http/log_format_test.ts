import assert from "node:assert/strict";
import { txnOf } from "./_testing.ts";
import { parseLogFormat } from "../../config/condition.ts";
import { renderFormat } from "./log_format.ts";

Deno.test("renderFormat: literals, samples, missing values", () => {
  const txn = txnOf("GET /p?q=1 HTTP/1.1\nHost: h\nX-A: 1, 2\n");
  const cases: [string, string, string][] = [
    ["plain", "plain", "plain"],
    ["a%[hdr(nothere)]b", "ab", "a-b"], // "ab" observed on haproxy 2.6.12
    ["%[hdr(x-a)]-%[path]", "2-/p", "2-/p"],
    ["100%% %[method] %[ssl_fc]", "100% GET 0", "100% GET 0"],
    ["%[url_param(q)]%[src]", "1192.0.2.7", "1192.0.2.7"],
  ];
  for (const [text, want, wantLog] of cases) {
    const f = parseLogFormat(text);
    if (!f.ok) throw new Error(f.error);
    assert.equal(renderFormat(f.value, txn), want, text);
    assert.equal(renderFormat(f.value, txn, { missing: "-" }), wantLog, text);
  }
});
