import assert from "node:assert/strict";
import {
  isLocalOnly,
  parseCidr,
  parseListenAddress,
  parseServerAddress,
  parseVirtualIp,
} from "./address.ts";

Deno.test("parseListenAddress accepts the documented forms", () => {
  const table: [string, unknown][] = [
    [":80", { kind: "inet", host: "0.0.0.0", port: 80, family: 4, text: ":80" }],
    ["*:80", { kind: "inet", host: "0.0.0.0", port: 80, family: 4, text: "*:80" }],
    ["10.0.0.1:443", {
      kind: "inet",
      host: "10.0.0.1",
      port: 443,
      family: 4,
      text: "10.0.0.1:443",
    }],
    ["[::]:80", { kind: "inet", host: "::", port: 80, family: 6, text: "[::]:80" }],
    ["[2001:db8::1]:80", {
      kind: "inet",
      host: "2001:db8::1",
      port: 80,
      family: 6,
      text: "[2001:db8::1]:80",
    }],
    [":::80", { kind: "inet", host: "::", port: 80, family: 6, text: ":::80" }],
    ["unix@/run/x.sock", { kind: "unix", path: "/run/x.sock", text: "unix@/run/x.sock" }],
  ];
  for (const [text, want] of table) {
    assert.deepEqual(parseListenAddress(text), { ok: true, value: want }, text);
  }
});

Deno.test("parseListenAddress rejects bad ports and hosts", () => {
  const table: [string, RegExp][] = [
    [":0", /port 0 is out of range/],
    [":65536", /port 65536 is out of range/],
    ["10.0.0.1", /missing port/],
    [":http", /invalid port "http"/],
    ["www.example.com:80", /not an IP address/],
    ["[10.0.0.1]:80", /not an IP address/],
    ["[::1", /missing "]"/],
    ["unix@", /missing socket path/],
  ];
  for (const [text, re] of table) {
    const r = parseListenAddress(text);
    assert.equal(r.ok, false, text);
    assert.match(r.ok ? "" : r.error, re, text);
  }
});

Deno.test("isLocalOnly: loopback and unix sockets", () => {
  const local = (t: string) => {
    const r = parseListenAddress(t);
    assert.ok(r.ok);
    return isLocalOnly(r.value);
  };
  assert.equal(local("127.0.0.1:8404"), true);
  assert.equal(local("[::1]:8404"), true);
  assert.equal(local("unix@/run/a"), true);
  assert.equal(local(":8404"), false);
  assert.equal(local("[::]:8404"), false);
});

Deno.test("parseServerAddress: IPs, hostnames, default port", () => {
  assert.deepEqual(parseServerAddress("10.0.0.5:5432"), {
    ok: true,
    value: { host: "10.0.0.5", port: 5432, text: "10.0.0.5:5432" },
  });
  assert.deepEqual(parseServerAddress("db.local:5432"), {
    ok: true,
    value: { host: "db.local", port: 5432, text: "db.local:5432" },
  });
  assert.deepEqual(parseServerAddress("[2001:db8::5]:80"), {
    ok: true,
    value: { host: "2001:db8::5", port: 80, text: "[2001:db8::5]:80" },
  });
  assert.deepEqual(parseServerAddress("127.0.0.1", { defaultPort: 25 }), {
    ok: true,
    value: { host: "127.0.0.1", port: 25, text: "127.0.0.1" },
  });
  assert.equal(parseServerAddress("bad_host!:80").ok, false);
  assert.equal(parseServerAddress("10.0.0.5").ok, false);
});

Deno.test("parseCidr and parseVirtualIp", () => {
  assert.deepEqual(parseCidr("10.0.0.0/8"), {
    ok: true,
    value: { address: "10.0.0.0", prefix: 8, family: 4 },
  });
  assert.deepEqual(parseCidr("2001:db8::1"), {
    ok: true,
    value: { address: "2001:db8::1", prefix: 128, family: 6 },
  });
  assert.equal(parseCidr("10.0.0.0/33").ok, false);
  assert.deepEqual(parseVirtualIp("10.230.137.101/24 dev eth1 label eth1:vip"), {
    ok: true,
    value: {
      address: "10.230.137.101",
      prefix: 24,
      family: 4,
      dev: "eth1",
      label: "eth1:vip",
      text: "10.230.137.101/24 dev eth1 label eth1:vip",
    },
  });
  const bad = parseVirtualIp("10.0.0.1/24 brd +");
  assert.equal(bad.ok, false);
  assert.match(bad.ok ? "" : bad.error, /unsupported virtual_ipaddress option "brd"/);
});
