import assert from "node:assert/strict";
import fc from "fast-check";
import { authKey, decodeAdvert, type V2Advert, type V3Advert } from "./codec.ts";
import { computeAhIcv, decodeIpv4Packet, encodeIpv4Packet, verifyAhIcv } from "./ipv4.ts";
import { parseIp } from "./address.ts";
import vectors from "./testdata/vectors.json" with { type: "json" };

function hex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, "");
  return new Uint8Array(clean.match(/../g)!.map((h) => parseInt(h, 16)));
}

const SRC1 = parseIp("192.0.2.1")!;
const GROUP = parseIp("224.0.0.18")!;
const VIP = parseIp("192.0.2.100")!;

function v2(priority: number, authType: number, authData: Uint8Array): V2Advert {
  return {
    version: 2,
    family: 4,
    vrid: 51,
    priority,
    adverInt: 1,
    authType,
    authData,
    addresses: [VIP],
  };
}

const v3 = (priority: number, maxAdverInt: number): V3Advert => ({
  version: 3,
  family: 4,
  vrid: 51,
  priority,
  maxAdverInt,
  addresses: [VIP],
});

Deno.test("encodeIpv4Packet() reproduces V1 and V2 (v2 PASS) including the IP header", () => {
  const key = authKey("secret12");
  const p1 = encodeIpv4Packet(v2(150, 1, key), { src: SRC1, dst: GROUP, id: 1 });
  assert.deepEqual(p1, hex(vectors.V1.ip + vectors.V1.vrrp));
  const p2 = encodeIpv4Packet(v2(0, 1, key), { src: SRC1, dst: GROUP, id: 9 });
  assert.deepEqual(p2, hex(vectors.V2.ip + vectors.V2.vrrp));
});

Deno.test("encodeIpv4Packet() reproduces V3 (multicast) and V5 (unicast) v3 datagrams", () => {
  const p3 = encodeIpv4Packet(v3(150, 10), { src: SRC1, dst: GROUP, id: 1 });
  assert.deepEqual(p3, hex(vectors.V3.ip + vectors.V3.vrrp));
  const p5 = encodeIpv4Packet(v3(150, 100), { src: SRC1, dst: parseIp("192.0.2.2")!, id: 1 });
  assert.deepEqual(p5, hex(vectors.V5.ip + vectors.V5.vrrp));
});

Deno.test("encodeIpv4Packet() reproduces V6 (v2 AH, HMAC-MD5 ICV) and the seq 2 ICV", () => {
  const key = authKey("secret12");
  const advert = v2(150, 2, new Uint8Array(8));
  const p = encodeIpv4Packet(advert, { src: SRC1, dst: GROUP, id: 1, ah: { key, seq: 1 } });
  assert.deepEqual(p, hex(vectors.V6.ip + vectors.V6.ah + vectors.V6.vrrp));
  const p2 = encodeIpv4Packet(advert, { src: SRC1, dst: GROUP, id: 2, ah: { key, seq: 2 } });
  assert.deepEqual(p2.subarray(32, 44), hex(vectors.V6.seq2Icv));
});

Deno.test("decodeIpv4Packet() splits V6 into IP header, AH and VRRP; the ICV verifies", () => {
  const bytes = hex(vectors.V6.ip + vectors.V6.ah + vectors.V6.vrrp);
  const r = decodeIpv4Packet(bytes);
  assert.ok(r.ok);
  const { ip, ah, message } = r.value;
  assert.equal(ip.ttl, 255);
  assert.equal(ip.protocol, 51);
  assert.equal(ip.totalLength, 64);
  assert.equal(ip.id, 1);
  assert.deepEqual(ip.src, SRC1);
  assert.deepEqual(ip.dst, GROUP);
  assert.ok(ah);
  assert.equal(ah.nextHeader, 112);
  assert.equal(ah.payloadLength, 4);
  assert.equal(ah.spi, 0xc0000201);
  assert.equal(ah.seq, 1);
  assert.deepEqual(message, hex(vectors.V6.vrrp));
  assert.ok(verifyAhIcv(bytes, { key: authKey("secret12") }));
  assert.ok(!verifyAhIcv(bytes, { key: authKey("secret13") }));
  assert.ok(!verifyAhIcv(bytes, { key: authKey("secret12"), unicast: true }));
  // TOS, fragment and header checksum are mutable: changing them keeps the ICV valid.
  const mutated = bytes.slice();
  mutated[1] = 0;
  mutated[6] = 0x40;
  assert.ok(verifyAhIcv(mutated, { key: authKey("secret12") }));
  const d = decodeAdvert(message, { family: 4, src: ip.src, dst: ip.dst });
  assert.ok(d.ok && d.value.advert.version === 2 && d.value.advert.authType === 2);
});

Deno.test("decodeIpv4Packet() gives the V1 fields", () => {
  const r = decodeIpv4Packet(hex(vectors.V1.ip + vectors.V1.vrrp));
  assert.ok(r.ok);
  assert.equal(r.value.ah, null);
  assert.equal(r.value.ip.tos, 0xc0);
  const d = decodeAdvert(r.value.message, { family: 4, src: r.value.ip.src, dst: r.value.ip.dst });
  assert.ok(d.ok);
  assert.equal(d.value.advert.priority, 150);
});

Deno.test("decodeIpv4Packet() returns typed reasons", () => {
  const good = hex(vectors.V1.ip + vectors.V1.vrrp);
  const badSum = good.slice();
  badSum[11] ^= 1;
  const v6 = good.slice();
  v6[0] = 0x65;
  const proto = encodeIpv4Packet(v2(1, 0, new Uint8Array(8)), { src: SRC1, dst: GROUP, id: 3 });
  proto[9] = 17;
  proto.set([0, 0], 10);
  const cases: [Uint8Array, string][] = [
    [good.subarray(0, 19), "truncated"],
    [v6, "not-ipv4"],
    [badSum, "bad-ip-checksum"],
    [hex(vectors.V6.ip + "7004 0000"), "truncated"],
  ];
  for (const [bytes, reason] of cases) {
    const r = decodeIpv4Packet(bytes);
    assert.ok(!r.ok);
    assert.equal(r.reason, reason);
  }
});

Deno.test("computeAhIcv() zeroes the TTL only in unicast mode", () => {
  const key = authKey("k");
  const p = encodeIpv4Packet(v2(100, 2, new Uint8Array(8)), {
    src: SRC1,
    dst: parseIp("192.0.2.2")!,
    id: 7,
    ah: { key, seq: 5, unicast: true },
  });
  assert.ok(verifyAhIcv(p, { key, unicast: true }));
  const ttl64 = p.slice();
  ttl64[8] = 64;
  assert.ok(verifyAhIcv(ttl64, { key, unicast: true }));
  assert.notDeepEqual(computeAhIcv(ttl64, { key }), computeAhIcv(p, { key }));
});

Deno.test("property: IPv4 datagrams round-trip and random bytes never throw", () => {
  const addr = fc.uint8Array({ minLength: 4, maxLength: 4 });
  fc.assert(
    fc.property(
      addr,
      addr,
      fc.integer({ min: 0, max: 0xffff }),
      fc.integer({ min: 0, max: 255 }),
      fc.array(addr, { maxLength: 10 }),
      fc.option(fc.integer({ min: 0, max: 0xffffffff })),
      (src, dst, id, prio, addresses, seq) => {
        const key = authKey("pw");
        const advert: V2Advert = {
          version: 2,
          family: 4,
          vrid: 9,
          priority: prio,
          adverInt: 1,
          authType: seq === null ? 0 : 2,
          authData: new Uint8Array(8),
          addresses,
        };
        const bytes = encodeIpv4Packet(advert, {
          src,
          dst,
          id,
          ah: seq === null ? undefined : { key, seq },
        });
        const r = decodeIpv4Packet(bytes);
        assert.ok(r.ok);
        assert.equal(r.value.ip.id, id);
        assert.equal(r.value.ah?.seq ?? null, seq);
        if (seq !== null) assert.ok(verifyAhIcv(bytes, { key }));
        const d = decodeAdvert(r.value.message, { family: 4, src, dst });
        assert.ok(d.ok);
        assert.deepEqual(d.value.advert, advert);
      },
    ),
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      if (bytes.length > 0) bytes[0] = 0x45;
      const r = decodeIpv4Packet(bytes);
      assert.equal(typeof r.ok, "boolean");
    }),
    { numRuns: 500 },
  );
});
