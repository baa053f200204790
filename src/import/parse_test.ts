/**
 * Unit tests of the import tokenizers, address and time conversions and the TOML writer.
 *
 * @module
 */
import assert from "node:assert/strict";
import { bindAddress, serverAddress } from "./haproxy_endpoints.ts";
import { joinWords, parseHaproxy, tokenizeLine } from "./haproxy_parse.ts";
import { type KaNode, parseKeepalived } from "./keepalived_parse.ts";
import { formatWarning, toDuration } from "./source.ts";
import { entry, formatValue, renderToml } from "./toml_doc.ts";

function words(line: string): string[] {
  const t = tokenizeLine(line);
  assert.ok(t.ok);
  return t.words.map((w) => w.text);
}

Deno.test("haproxy tokenizer: quotes, escapes and comments", () => {
  const table: [string, string[]][] = [
    ["  stats realm Haproxy\\ Statistics", ["stats", "realm", "Haproxy Statistics"]],
    ['http-response set-header X "a; b"  # hsts', ["http-response", "set-header", "X", "a; b"]],
    ["acl x path_beg '/a b' /c", ["acl", "x", "path_beg", "/a b", "/c"]],
    ['foo"bar baz"\\#qux', ["foobar baz#qux"]],
    ["option httpchk HEAD / HTTP/1.1\\r\\nHost:\\ x", [
      "option",
      "httpchk",
      "HEAD",
      "/",
      "HTTP/1.1\r\nHost: x",
    ]],
    ["tcp-check send PING\\x0d\\x0a", ["tcp-check", "send", "PING\r\n"]],
  ];
  for (const [line, want] of table) assert.deepEqual(words(line), want, line);
  const t = tokenizeLine("bind :80 # web");
  assert.ok(t.ok && t.comment === "web");
  assert.deepEqual(tokenizeLine('log "x'), { ok: false, error: "unterminated double quote" });
  assert.deepEqual(tokenizeLine("log 'x"), { ok: false, error: "unterminated single quote" });
});

Deno.test("haproxy sections: defaults names, from, comments, orphans", () => {
  const r = parseHaproxy(
    "maxconn 1\n# about web\ndefaults web\n mode http\ndefaults x from web\nlisten l from x\n",
    "h.cfg",
  );
  assert.ok(r.ok);
  const [web, x, l] = r.value.sections;
  assert.equal(r.value.orphans.length, 1);
  assert.deepEqual([web.kind, web.name, web.from, web.header.comments], [
    "defaults",
    "web",
    null,
    ["about web"],
  ]);
  assert.deepEqual([x.name, x.from, l.kind, l.name, l.from], ["x", "web", "listen", "l", "x"]);
  const bad = parseHaproxy("global\n log 'x\n", "h.cfg");
  assert.ok(!bad.ok && bad.errors[0].src.line === 2);
});

Deno.test("joinWords requotes what needs it", () => {
  const t = tokenizeLine('{ hdr(host) -i "a b" } x');
  assert.ok(t.ok);
  assert.equal(joinWords(t.words), '{ hdr(host) -i "a b" } x');
});

function shape(nodes: readonly KaNode[]): unknown[] {
  return nodes.map((n) =>
    n.block === null ? n.words.join(" ") : [n.words.join(" "), shape(n.block)]
  );
}

Deno.test("keepalived parser: blocks, one-line blocks, comments, include", () => {
  const files: Record<string, string> = {
    "/etc/keepalived/conf.d/a.conf": 'vrrp_script s {\n script "x y"\n}\n',
  };
  const text = "! top\nglobal_defs { router_id r1 }\nvrrp_instance V { # trailing\n" +
    "  virtual_ipaddress {\n    10.0.0.1/24 dev eth0\n  }\n  nopreempt\n}\n" +
    "include conf.d/*.conf\n";
  const seen: string[][] = [];
  const r = parseKeepalived(text, "/etc/keepalived/keepalived.conf", {
    files: {
      readTextFile: (p) => files[p],
      glob: (p) => Object.keys(files).filter((f) => f.startsWith(p.replace("*.conf", ""))),
    },
    onInclude: (_src, paths) => seen.push([...paths]),
  });
  assert.ok(r.ok);
  assert.deepEqual(shape(r.value), [
    ["global_defs", ["router_id r1"]],
    ["vrrp_instance V", [["virtual_ipaddress", ["10.0.0.1/24 dev eth0"]], "nopreempt"]],
    ["vrrp_script s", ["script x y"]],
  ]);
  assert.deepEqual(r.value[0].comments, ["top"]);
  assert.equal(r.value[1].trailing, "trailing");
  assert.equal(r.value[1].endLine, 8);
  assert.equal(r.value[2].src.file, "/etc/keepalived/conf.d/a.conf");
  assert.deepEqual(seen, [["/etc/keepalived/conf.d/a.conf"]]);
  const unclosed = parseKeepalived("a {\n b\n", "k.conf", {
    files: { readTextFile: () => "", glob: () => [] },
  });
  assert.ok(!unclosed.ok && unclosed.errors[0].message === 'unclosed { of "a"');
});

Deno.test("times: HAProxy ms, keepalived seconds", () => {
  const table: [string, "ms" | "s", string | null][] = [
    ["5000", "ms", "5000ms"],
    ["5s", "ms", "5s"],
    ["1.5s", "ms", "1500ms"],
    ["2", "s", "2s"],
    ["0.5", "s", "500ms"],
    ["0", "s", "0s"],
    ["1m", "s", "1m"],
    ["x", "s", null],
  ];
  for (const [text, unit, want] of table) assert.equal(toDuration(text, unit), want, text);
});

Deno.test("addresses: binds and servers in halb's form", () => {
  const binds: [string, string | null][] = [
    [":80", ":80"],
    ["*:80", "*:80"],
    ["0.0.0.0:80", "0.0.0.0:80"],
    [":::443", "[::]:443"],
    ["ipv6@::1:80", "[::1]:80"],
    ["[2001:db8::1]:80", "[2001:db8::1]:80"],
    ["localhost:80", "127.0.0.1:80"],
    ["unix@/run/x.sock", "unix@/run/x.sock"],
    ["10.0.0.1:80-81", null],
    ["fd@3", null],
    ["example.com:80", null],
  ];
  for (const [text, want] of binds) {
    const got = bindAddress(text);
    assert.equal(typeof got === "string" ? got : null, want, text);
  }
  assert.equal(serverAddress("10.0.0.1:80"), "10.0.0.1:80");
  assert.equal(serverAddress("db.local:5432"), "db.local:5432");
  assert.equal(serverAddress("2001:db8::1:80"), "[2001:db8::1]:80");
  assert.equal(typeof serverAddress("10.0.0.1"), "object");
  assert.equal(typeof serverAddress("10.0.0.1:+1000"), "object");
});

Deno.test("TOML writer: values, keys, comments and line origins", () => {
  assert.equal(formatValue({ a: 1, "b c": [true, 'x"y'] }), '{ a = 1, "b c" = [true, "x\\"y"] }');
  assert.equal(formatValue("\x7f"), '"\\u007F"');
  const section = {
    path: ["frontend", "a.b"],
    array: false,
    entries: [entry("acl.x-y", "src 10/8", { file: "f", line: 3 }, { comments: ["hi"] })],
    src: null,
    comments: [],
    trailing: "t",
  };
  const r = renderToml(["head"], [section]);
  assert.equal(r.text, '# head\n\n[frontend."a.b"]  # t\n# hi\nacl.x-y = "src 10/8"\n');
  assert.equal(r.origins[4]?.entry?.src?.line, 3);
  assert.equal(r.origins[0], null);
});

Deno.test("warnings print as FILE:LINE: directive: cannot be mapped (why)", () => {
  assert.equal(
    formatWarning({ src: { file: "h.cfg", line: 7 }, directive: "option tcpka", why: "no" }),
    "h.cfg:7: option tcpka: cannot be mapped (no)",
  );
});
