import assert from "node:assert/strict";
import fc from "fast-check";
import type { VrrpInstanceConfig } from "../config/types.ts";
import { authKey, finishChecksum, sumWords, type V2Advert, type V3Advert } from "./codec.ts";
import { computeAhIcv, type EncodeIpv4Options, encodeIpv4Packet } from "./ipv4.ts";
import { parseIp } from "./address.ts";
import { type ReceivedPacket, validateAdvert, validationContext } from "./validate.ts";
import { type LogLimitState, rateLimit } from "./log_limit.ts";
import { instanceConfig } from "./testdata/instance_config.ts";
import vectors from "./testdata/vectors.json" with { type: "json" };

function hex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, "");
  return new Uint8Array(clean.match(/../g)!.map((h) => parseInt(h, 16)));
}

const SRC = parseIp("192.0.2.1")!;
const GROUP = parseIp("224.0.0.18")!;
const PEER = parseIp("192.0.2.2")!;
const VIP = parseIp("192.0.2.100")!;

const pass = { type: "PASS" as const, password: "secret12" };
const v2Cfg = (over: Partial<VrrpInstanceConfig> = {}) =>
  validationContext(instanceConfig({ version: 2, authentication: pass, ...over }));

function v2(over: Partial<V2Advert> = {}): V2Advert {
  return {
    version: 2,
    family: 4,
    vrid: 51,
    priority: 150,
    adverInt: 1,
    authType: 1,
    authData: authKey("secret12"),
    addresses: [VIP],
    ...over,
  };
}

function v3(over: Partial<V3Advert> = {}): V3Advert {
  return {
    version: 3,
    family: 4,
    vrid: 51,
    priority: 150,
    maxAdverInt: 100,
    addresses: [VIP],
    ...over,
  };
}

function pkt(advert: V2Advert | V3Advert, over: Partial<EncodeIpv4Options> = {}): ReceivedPacket {
  return { family: 4, packet: encodeIpv4Packet(advert, { src: SRC, dst: GROUP, id: 1, ...over }) };
}

function fixIpChecksum(p: Uint8Array): Uint8Array {
  p.set([0, 0], 10);
  const c = finishChecksum(sumWords(p.subarray(0, 20), 0));
  p.set([c >> 8, c & 0xff], 10);
  return p;
}

function edit(rx: ReceivedPacket, f: (b: Uint8Array) => void): ReceivedPacket {
  assert.equal(rx.family, 4);
  const b = rx.family === 4 ? rx.packet.slice() : new Uint8Array();
  f(b);
  return { family: 4, packet: b };
}

/** One trailing byte beyond the message. */
function longer(rx: ReceivedPacket): ReceivedPacket {
  return { family: 4, packet: new Uint8Array([...(rx.family === 4 ? rx.packet : []), 0]) };
}

Deno.test("validateAdvert() accepts the keepalived captures V1 (PASS), V6 (AH), V3 and V5", () => {
  const r1 = validateAdvert({ family: 4, packet: hex(vectors.V1.ip + vectors.V1.vrrp) }, v2Cfg());
  assert.ok(r1.ok);
  assert.equal(r1.value.checksum, "v2");
  assert.deepEqual(r1.value.source, SRC);
  assert.equal(r1.value.advert.priority, 150);

  const ahCtx = v2Cfg({ authentication: { type: "AH", password: "secret12" } });
  const v6 = { family: 4 as const, packet: hex(vectors.V6.ip + vectors.V6.ah + vectors.V6.vrrp) };
  const r6 = validateAdvert(v6, ahCtx);
  assert.ok(r6.ok);
  assert.equal(r6.ahSeq, 1);
  const replay = validateAdvert(v6, ahCtx, { ahSeq: r6.ahSeq });
  assert.ok(!replay.ok && replay.reason === "ah-replay");

  const v3ctx = validationContext(instanceConfig());
  const r3 = validateAdvert({ family: 4, packet: hex(vectors.V3.ip + vectors.V3.vrrp) }, v3ctx);
  // V3 carries A = 10 cs while we use 100 cs: v3 adopts the master's interval, no drop.
  assert.ok(r3.ok && r3.value.checksum === "pseudo");

  const uni = validationContext(
    instanceConfig({ unicastPeer: ["192.0.2.1"], unicastSrcIp: "192.0.2.2" }),
  );
  const r5 = validateAdvert({ family: 4, packet: hex(vectors.V5.ip + vectors.V5.vrrp) }, uni);
  assert.ok(r5.ok && r5.value.checksum === "pseudo");
});

Deno.test("validateAdvert() accepts both v3 IPv4 checksum forms and keepalived's old unicast form", () => {
  for (const form of ["pseudo", "message"] as const) {
    const ctx = validationContext(instanceConfig({ v3Ipv4Checksum: form }));
    const a = validateAdvert(pkt(v3(), { v3Ipv4Checksum: "message" }), ctx);
    assert.ok(a.ok && a.value.checksum === "message");
    const b = validateAdvert(pkt(v3(), { v3Ipv4Checksum: "pseudo" }), ctx);
    assert.ok(b.ok && b.value.checksum === "pseudo");
  }
  const uni = validationContext(instanceConfig({ unicastPeer: ["192.0.2.1"] }));
  const old = edit(pkt(v3(), { dst: GROUP }), (b) => {
    b.set(PEER, 16);
    fixIpChecksum(b);
  });
  const r = validateAdvert(old, uni);
  assert.ok(r.ok && r.value.checksum === "pseudo-mcast");
});

Deno.test("validateAdvert() IPv6: V7 accepted; hop limit checked only when known", () => {
  const ctx = validationContext(instanceConfig({
    family: 6,
    virtualRouterId: 52,
    virtualIpaddress: [{
      address: "fe80::100",
      prefix: 64,
      family: 6,
      dev: null,
      label: null,
      text: "fe80::100",
    }],
  }));
  const rx = (hopLimit: number | null): ReceivedPacket => ({
    family: 6,
    message: hex(vectors.V7.vrrp),
    hopLimit,
    src: parseIp(vectors.V7.src)!,
    dst: parseIp(vectors.V7.dst)!,
  });
  const ok = validateAdvert(rx(255), ctx);
  assert.ok(ok.ok && ok.value.checksum === "ipv6" && ok.value.advert.priority === 200);
  assert.ok(validateAdvert(rx(null), ctx).ok);
  const bad = validateAdvert(rx(64), ctx);
  assert.ok(!bad.ok && bad.reason === "ttl");
  const v4 = validateAdvert({ family: 4, packet: hex(vectors.V1.ip + vectors.V1.vrrp) }, ctx);
  assert.ok(!v4.ok && v4.reason === "malformed");
});

Deno.test("validateAdvert() drop table: one case per reason, with keepalived's log text", () => {
  const ctx = v2Cfg();
  const ahCtx = v2Cfg({ authentication: { type: "AH", password: "secret12" } });
  const ahAdvert = v2({ authType: 2, authData: new Uint8Array(8) });
  const ah = (over: Partial<EncodeIpv4Options> = {}) =>
    pkt(ahAdvert, { ah: { key: authKey("secret12"), seq: 5 }, ...over });
  const cases: [string, ReceivedPacket, typeof ctx, string, string][] = [
    ["malformed", { family: 4, packet: hex("45c0") }, ctx, "malformed", "IPv4 datagram is 2 bytes"],
    ["vrid", pkt(v2({ vrid: 52 })), ctx, "not-ours", "advert for VRID 52"],
    ["AH unexpected", ah(), ctx, "ah-mismatch", "Received AH header but auth type not AH"],
    ["AH missing", pkt(ahAdvert), ahCtx, "ah-mismatch", "No AH header but auth type is AH"],
    ["too long", longer(pkt(v2())), ctx, "length", "vrrp packet too long, length 41 and expect 40"],
    ["ttl", pkt(v2(), { ttl: 64 }), ctx, "ttl", "invalid TTL/HL. Received 64 and expect 255"],
    [
      "version",
      pkt(v3(), { v3Ipv4Checksum: "pseudo" }),
      ctx,
      "version",
      "wrong version. Received 3 and expect 2",
    ],
    ["auth type 3", pkt(v2({ authType: 3 })), ctx, "auth-type-invalid", "Invalid auth type: 3"],
    [
      "auth type 0",
      pkt(v2({ authType: 0 })),
      ctx,
      "auth-type-mismatch",
      "received a 0 auth, expecting 1!",
    ],
    [
      "password",
      pkt(v2({ authData: authKey("secret13") })),
      ctx,
      "auth-password",
      "received an invalid passwd!",
    ],
    [
      "AH other protocol",
      edit(ah(), (b) => (b[20] = 17)),
      ahCtx,
      "ah-foreign",
      "AH for protocol 17",
    ],
    [
      "AH key",
      pkt(ahAdvert, { ah: { key: authKey("other"), seq: 5 } }),
      ahCtx,
      "ah-icv",
      "IPSEC-AH : invalid IPSEC HMAC-MD5 value. Due to fields mutation or bad password !",
    ],
    [
      "AH spi",
      edit(ah(), (b) => {
        b.set(PEER, 24);
        b.set(computeAhIcv(b, { key: authKey("secret12") }), 32);
      }),
      ahCtx,
      "ah-spi",
      "",
    ],
    [
      "interval",
      pkt(v2({ adverInt: 2 })),
      ctx,
      "adver-int",
      "advertisement interval mismatch mine=1 sec rcv'd=2 sec",
    ],
    [
      "type",
      edit(pkt(v2()), (b) => (b[20] = 0x22)),
      ctx,
      "type",
      "Invalid packet type. 2 and expect 1",
    ],
    [
      "count",
      pkt(v2({ addresses: [VIP, parseIp("192.0.2.101")!] })),
      ctx,
      "addr-count",
      "received an unexpected ip number count 2, expected 1!",
    ],
    [
      "ip tot_len",
      edit(pkt(v2()), (b) => fixIpChecksum(b.fill(0, 2, 3).fill(41, 3, 4))),
      ctx,
      "ip-length",
      "ip_tot_len mismatch against received length. 41 and received 40",
    ],
    ["checksum", edit(pkt(v2()), (b) => (b[27] ^= 1)), ctx, "checksum", "Invalid VRRPv2 checksum"],
    [
      "unicast to a multicast instance",
      pkt(v2(), { dst: PEER }),
      ctx,
      "cast-mismatch",
      "Expected multicast packet but received unicast packet",
    ],
    [
      "vip set",
      pkt(v2({ addresses: [parseIp("192.0.2.101")!] })),
      ctx,
      "vip-missing",
      "ip address associated with VRID 51 not present in MASTER advert : 192.0.2.100",
    ],
  ];
  for (const [name, rx, c, reason, text] of cases) {
    const r = validateAdvert(rx, c);
    assert.ok(!r.ok, name);
    assert.equal(r.reason, reason, name);
    if (text) assert.equal(r.detail, `(VI_1) ${text}`, name);
    assert.equal(r.silent ?? false, reason === "ah-foreign", name);
  }
});

Deno.test("validateAdvert() order: an earlier check wins over a later one (TTL before version)", () => {
  const r = validateAdvert(pkt(v3(), { ttl: 1 }), v2Cfg());
  assert.ok(!r.ok && r.reason === "ttl");
  const u = validationContext(
    instanceConfig({ version: 2, unicastPeer: ["192.0.2.1"], authentication: pass }),
  );
  const ttl64 = validateAdvert(pkt(v2(), { ttl: 64, dst: PEER }), u);
  assert.ok(ttl64.ok, "unicast mode skips the TTL check");
  const sameSetOtherOrder = validationContext(instanceConfig({
    version: 2,
    authentication: pass,
    virtualIpaddress: ["192.0.2.100", "192.0.2.101"].map((a) => ({
      address: a,
      prefix: 24,
      family: 4 as const,
      dev: null,
      label: null,
      text: a,
    })),
  }));
  const swapped = pkt(v2({ addresses: [parseIp("192.0.2.101")!, VIP] }));
  assert.ok(validateAdvert(swapped, sameSetOtherOrder).ok, "the VIP set is order-free");
});

Deno.test("property: validateAdvert() never throws on random or mutated packets", () => {
  const ctx = v2Cfg();
  const good = encodeIpv4Packet(v2(), { src: SRC, dst: GROUP, id: 1 });
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 120 }), fc.nat(), fc.nat(), (noise, pos, cut) => {
      const r1 = validateAdvert({ family: 4, packet: noise }, ctx);
      assert.equal(typeof r1.ok, "boolean");
      const m = good.slice(0, Math.max(0, good.length - (cut % 8)));
      if (m.length > 0) m[pos % m.length] ^= 0xff;
      const r2 = validateAdvert({ family: 4, packet: m }, ctx);
      assert.equal(r2.ok, false);
      const r3 = validateAdvert({
        family: 6,
        message: noise,
        hopLimit: 255,
        src: new Uint8Array(16),
        dst: new Uint8Array(16),
      }, ctx);
      assert.equal(r3.ok, false);
    }),
    { numRuns: 300 },
  );
});

Deno.test("rateLimit(): one line per key per interval, reporting how many were suppressed", () => {
  let st: LogLimitState = new Map();
  const go = (key: string, now: number) => {
    const r = rateLimit(st, { key, now, interval: 10 });
    st = r.state;
    return [r.emit, r.suppressed];
  };
  assert.deepEqual(go("VI_1:ttl", 0), [true, 0]);
  assert.deepEqual(go("VI_1:ttl", 3), [false, 0]);
  assert.deepEqual(go("VI_1:ttl", 9), [false, 0]);
  assert.deepEqual(go("VI_1:vip-missing", 9), [true, 0]);
  assert.deepEqual(go("VI_1:ttl", 10), [true, 2]);
  assert.deepEqual(go("VI_1:ttl", 25), [true, 0]);
});
