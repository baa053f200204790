import assert from "node:assert/strict";
import { txnOf } from "./_testing.ts";
import { parseCondition, parseLogFormat } from "../../config/condition.ts";
import type { Condition, LogFormat, RedirectRule } from "../../config/types.ts";
import { reasonPhrase, redirectResponse } from "./redirect.ts";

function fmt(text: string): LogFormat {
  const r = parseLogFormat(text);
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

function cond(text: string): Condition {
  const r = parseCondition(text, { acls: new Map() });
  if (!r.ok) throw new Error(r.error);
  return r.value.condition;
}

function rule(
  type: RedirectRule["type"],
  value: string,
  o: Partial<Omit<RedirectRule, "type" | "value">> = {},
): RedirectRule {
  return {
    type,
    value: fmt(value),
    code: o.code ?? 302,
    dropQuery: o.dropQuery ?? false,
    appendSlash: o.appendSlash ?? false,
    cond: o.cond ?? null,
  };
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);

// Every expected response below was observed byte for byte on haproxy 2.6.12.
Deno.test("redirectResponse bytes observed on haproxy 2.6.12", () => {
  const cases: [RedirectRule, string, string, boolean][] = [
    [
      rule("scheme", "https", { code: 301 }),
      "GET /s301/x?y=1 HTTP/1.1\nHost: h.example\n",
      "HTTP/1.1 301 Moved Permanently\r\ncontent-length: 0\r\nlocation: https://h.example/s301/x?y=1\r\n\r\n",
      false,
    ],
    [
      rule("scheme", "https"),
      "GET /s302 HTTP/1.0\n",
      "HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: https:///s302\r\ncache-control: no-cache\r\nconnection: close\r\n\r\n",
      true,
    ],
    [
      rule("scheme", "https"),
      "GET /s302 HTTP/1.1\nConnection: close\nHost: h\n",
      "HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: https://h/s302\r\ncache-control: no-cache\r\nconnection: close\r\n\r\n",
      true,
    ],
    [
      rule("scheme", "https"),
      "GET http://abs.example/s302/q?x HTTP/1.1\nHost: abs.example\n",
      "HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: https://abs.example/s302/q?x\r\ncache-control: no-cache\r\n\r\n",
      false,
    ],
    [
      rule("prefix", "https://p.example", { dropQuery: true }),
      "GET /pdq/a?b=1 HTTP/1.1\n",
      "HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: https://p.example/pdq/a\r\ncache-control: no-cache\r\n\r\n",
      false,
    ],
    [
      rule("prefix", "https://p.example", { appendSlash: true }),
      "GET /pas/a?b=1 HTTP/1.1\n",
      "HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: https://p.example/pas/a?b=1/\r\ncache-control: no-cache\r\n\r\n",
      false,
    ],
    [
      rule("prefix", "https://p.example", { appendSlash: true }),
      "GET /pas/a/ HTTP/1.1\n",
      "HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: https://p.example/pas/a/\r\ncache-control: no-cache\r\n\r\n",
      false,
    ],
    [
      rule("prefix", "/", { code: 308 }),
      "GET /pslash/z?q HTTP/1.1\n",
      "HTTP/1.1 308 Permanent Redirect\r\ncontent-length: 0\r\nlocation: /pslash/z?q\r\n\r\n",
      false,
    ],
    [
      rule("location", "/elsewhere", { code: 307 }),
      "GET /loc?q=1 HTTP/1.1\n",
      "HTTP/1.1 307 Temporary Redirect\r\ncontent-length: 0\r\nlocation: /elsewhere\r\ncache-control: no-cache\r\n\r\n",
      false,
    ],
    [
      rule("location", "/else303", { code: 303, appendSlash: true }),
      "GET /l303 HTTP/1.1\n",
      "HTTP/1.1 303 See Other\r\ncontent-length: 0\r\nlocation: /else303\r\ncache-control: no-cache\r\n\r\n",
      false,
    ],
  ];
  for (const [r, req, want, close] of cases) {
    const got = redirectResponse(r, txnOf(req));
    assert.ok(got !== null, req);
    assert.equal(text(got.bytes), want, req);
    assert.equal(got.close, close, req);
  }
});

Deno.test("redirectResponse: condition, `*` target, log-format location, 1.0 keep-alive", () => {
  const r = rule("scheme", "https", { cond: cond("!{ ssl_fc }") });
  assert.equal(redirectResponse(r, txnOf("GET / HTTP/1.1\n", undefined, { ssl: true })), null);
  const star = redirectResponse(r, txnOf("OPTIONS * HTTP/1.1\nHost: x\n"));
  assert.equal(star?.location, "https://x/");
  const fmtLoc = redirectResponse(
    rule("location", "https://%[hdr(host)]/n"),
    txnOf("GET / HTTP/1.1\nHost: a\n"),
  );
  assert.equal(fmtLoc?.location, "https://a/n");
  const ka = redirectResponse(
    rule("location", "/k"),
    txnOf("GET / HTTP/1.0\nConnection: keep-alive\n"),
  );
  assert.match(text(ka!.bytes), /connection: keep-alive\r\n\r\n$/);
  assert.equal(ka?.close, false);
});

Deno.test("reasonPhrase follows haproxy 2.6.12's table (observed with http-request return)", () => {
  const cases: [number, string][] = [
    [201, "Created"],
    [299, "Success"],
    [399, "Redirection"],
    [413, "Request Entity Too Large"],
    [416, "Requested range unsatisfiable"],
    [422, "Unprocessable Content"],
    [499, "client has closed connection"],
    [502, "Bad Gateway or Proxy Error"],
    [506, "Variant also negotiate"],
    [599, "Server Error"],
  ];
  for (const [s, want] of cases) assert.equal(reasonPhrase(s), want);
});
