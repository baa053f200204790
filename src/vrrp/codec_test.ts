import assert from "node:assert/strict";
import fc from "fast-check";
import {
  authKey,
  computeChecksum,
  decodeAdvert,
  encodeAdvert,
  type V2Advert,
  type V3Advert,
  type VrrpAdvert,
} from "./codec.ts";
import { compareIp, formatIp, parseIp } from "./address.ts";
import vectors from "./testdata/vectors.json" with { type: "json" };

function hex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, "");
  return new Uint8Array(clean.match(/../g)!.map((h) => parseInt(h, 16)));
}

function ip(text: string): Uint8Array {
  const b = parseIp(text);
  assert.ok(b, text);
  return b;
}

const SRC1 = ip("192.0.2.1");
const GROUP = ip("224.0.0.18");
const VIP = ip("192.0.2.100");

function v2(priority: number, over: Partial<V2Advert> = {}): V2Advert {
  return {
    version: 2,
    family: 4,
    vrid: 51,
    priority,
    adverInt: 1,
    authType: 1,
    authData: authKey("secret12"),
    addresses: [VIP],
    ...over,
  };
}

function v3(priority: number, maxAdverInt: number): V3Advert {
  return { version: 3, family: 4, vrid: 51, priority, maxAdverInt, addresses: [VIP] };
}

Deno.test("encodeAdvert() reproduces the v2 PASS vectors V1, V2 and V10 byte for byte", () => {
  assert.deepEqual(encodeAdvert(v2(150)), hex(vectors.V1.vrrp));
  assert.deepEqual(encodeAdvert(v2(0)), hex(vectors.V2.vrrp));
  assert.deepEqual(encodeAdvert(v2(200)), hex(vectors.V10a.vrrp));
});

Deno.test("encodeAdvert() reproduces the v2 AH message of V6 (auth type 2, zero auth data)", () => {
  const a = v2(150, { authType: 2, authData: new Uint8Array(8) });
  assert.deepEqual(encodeAdvert(a), hex(vectors.V6.vrrp));
});

Deno.test("encodeAdvert() reproduces the v3 IPv4 pseudo-header vectors V3, V4, V5, V10", () => {
  const mc = { src: SRC1, dst: GROUP };
  assert.deepEqual(encodeAdvert(v3(150, 10), mc), hex(vectors.V3.vrrp));
  assert.deepEqual(
    encodeAdvert(v3(100, 100), { src: ip("192.0.2.2"), dst: GROUP }),
    hex(vectors.V4.vrrp),
  );
  assert.deepEqual(encodeAdvert(v3(150, 100), mc), hex(vectors.V4b.vrrp));
  assert.deepEqual(
    encodeAdvert(v3(150, 100), { src: SRC1, dst: ip("192.0.2.2") }),
    hex(vectors.V5.vrrp),
  );
  const src3 = { src: ip("192.0.2.3"), dst: GROUP };
  assert.deepEqual(encodeAdvert(v3(200, 100), src3), hex(vectors.V10b.vrrp));
  assert.deepEqual(encodeAdvert(v3(200, 50), src3), hex(vectors.V10c.vrrp));
});

Deno.test("encodeAdvert() with v3Ipv4Checksum 'message' gives the RFC 9568 checksums", () => {
  const opts = { v3Ipv4Checksum: "message" as const };
  assert.deepEqual(encodeAdvert(v3(200, 100), opts), hex(vectors.V10d.vrrp));
  const m = encodeAdvert(v3(150, 10), opts);
  assert.equal(((m[6] << 8) | m[7]).toString(16), vectors.V3.messageOnlyChecksum);
  const m4 = encodeAdvert(v3(100, 100), opts);
  assert.equal(((m4[6] << 8) | m4[7]).toString(16), vectors.V4.messageOnlyChecksum);
});

Deno.test("encodeAdvert() reproduces the v3 IPv6 vector V7", () => {
  const a: V3Advert = {
    version: 3,
    family: 6,
    vrid: 52,
    priority: 200,
    maxAdverInt: 100,
    addresses: [ip("fe80::100")],
  };
  const bytes = encodeAdvert(a, { src: ip(vectors.V7.src), dst: ip(vectors.V7.dst) });
  assert.deepEqual(bytes, hex(vectors.V7.vrrp));
});

Deno.test("decodeAdvert() gives the fields of V1 and V7 and names the checksum form", () => {
  const r1 = decodeAdvert(hex(vectors.V1.vrrp), { family: 4, src: SRC1, dst: GROUP });
  assert.ok(r1.ok);
  assert.equal(r1.value.checksum, "v2");
  assert.deepEqual(r1.value.advert, v2(150));
  const r7 = decodeAdvert(hex(vectors.V7.vrrp), {
    family: 6,
    src: ip(vectors.V7.src),
    dst: ip(vectors.V7.dst),
  });
  assert.ok(r7.ok);
  assert.equal(r7.value.checksum, "ipv6");
  assert.equal(r7.value.advert.version, 3);
  assert.equal(r7.value.advert.vrid, 52);
  assert.equal(r7.value.advert.priority, 200);
  assert.equal(formatIp(r7.value.advert.addresses[0]), "fe80::100");
});

Deno.test("decodeAdvert() accepts both v3 IPv4 checksum forms and reports which matched", () => {
  const opts = { family: 4 as const, src: ip("192.0.2.3"), dst: GROUP };
  const pseudo = decodeAdvert(hex(vectors.V10b.vrrp), opts);
  assert.ok(pseudo.ok && pseudo.value.checksum === "pseudo");
  const message = decodeAdvert(hex(vectors.V10d.vrrp), opts);
  assert.ok(message.ok && message.value.checksum === "message");
  const preferMessage = decodeAdvert(hex(vectors.V10d.vrrp), {
    ...opts,
    v3Ipv4Checksum: "message",
  });
  assert.ok(preferMessage.ok && preferMessage.value.checksum === "message");
  assert.deepEqual(message.ok && message.value.advert, v3(200, 100));
});

Deno.test("decodeAdvert() accepts keepalived's old unicast checksum only with legacyGroup", () => {
  // A unicast packet to 192.0.2.2 whose pseudo-header used 224.0.0.18 (keepalived <= 1.3.6).
  const bytes = encodeAdvert(v3(150, 100), { src: SRC1, dst: GROUP });
  const opts = { family: 4 as const, src: SRC1, dst: ip("192.0.2.2") };
  const plain = decodeAdvert(bytes, opts);
  assert.ok(!plain.ok && plain.reason === "bad-checksum");
  const legacy = decodeAdvert(bytes, { ...opts, legacyGroup: GROUP });
  assert.ok(legacy.ok && legacy.value.checksum === "pseudo-mcast");
});

Deno.test("decodeAdvert() masks the reserved bits of the v3 interval", () => {
  const bytes = hex(vectors.V3.vrrp);
  bytes[4] |= 0xf0;
  bytes.set([0, 0], 6);
  const sum = computeChecksum(bytes, { pseudo: { src: SRC1, dst: GROUP } });
  bytes.set([sum >> 8, sum & 0xff], 6);
  const r = decodeAdvert(bytes, { family: 4, src: SRC1, dst: GROUP });
  assert.ok(r.ok && r.value.advert.version === 3 && r.value.advert.maxAdverInt === 10);
});

Deno.test("decodeAdvert() returns typed reasons for bad messages", () => {
  const opts = { family: 4 as const, src: SRC1, dst: GROUP };
  const cases: [Uint8Array, string][] = [
    [hex("2133 96"), "truncated"],
    [hex("4133 9601 0101 17e7 c000 0264 7365 6372 6574 3132"), "bad-version"],
    [hex("2233 9601 0101 17e7 c000 0264 7365 6372 6574 3132"), "bad-type"],
    [hex("2133 9602 0101 17e7 c000 0264 7365 6372 6574 3132"), "bad-length"],
    [hex("2133 9601 0101 17e8 c000 0264 7365 6372 6574 3132"), "bad-checksum"],
  ];
  for (const [bytes, reason] of cases) {
    const r = decodeAdvert(bytes, opts);
    assert.ok(!r.ok, reason);
    assert.equal(r.reason, reason);
    assert.ok(r.detail.length > 0);
  }
  const v6 = decodeAdvert(hex(vectors.V1.vrrp), {
    family: 6,
    src: new Uint8Array(16),
    dst: new Uint8Array(16),
  });
  assert.ok(!v6.ok && v6.reason === "bad-family");
});

Deno.test("encodeAdvert() rejects fields that do not fit", () => {
  assert.throws(() => encodeAdvert(v2(256)), RangeError);
  assert.throws(() => encodeAdvert(v3(100, 4096), { src: SRC1, dst: GROUP }), RangeError);
  assert.throws(() => encodeAdvert(v3(100, 100)), TypeError);
  assert.throws(() => encodeAdvert(v2(100, { addresses: [new Uint8Array(16)] })), RangeError);
});

Deno.test("address helpers parse, format and compare", () => {
  assert.equal(formatIp(ip("2001:db8:0:0:1:0:0:1")), "2001:db8::1:0:0:1");
  assert.equal(formatIp(ip("::")), "::");
  assert.equal(formatIp(ip("::ffff:192.0.2.1")), "::ffff:c000:201");
  assert.equal(parseIp("1.2.3"), null);
  assert.equal(parseIp("1::2::3"), null);
  assert.equal(parseIp("256.0.0.1"), null);
  assert.ok(compareIp(ip("192.0.2.3"), ip("192.0.2.1")) > 0);
  assert.ok(compareIp(ip("10.0.0.1"), ip("192.0.2.1")) < 0);
});

// ---------------------------------------------------------------------------------------------
// Properties.

const byte = fc.integer({ min: 0, max: 255 });
const addr4 = fc.uint8Array({ minLength: 4, maxLength: 4 });
const addr6 = fc.uint8Array({ minLength: 16, maxLength: 16 });

const v2Arb: fc.Arbitrary<VrrpAdvert> = fc.record({
  version: fc.constant(2 as const),
  family: fc.constant(4 as const),
  vrid: byte,
  priority: byte,
  adverInt: byte,
  authType: fc.constantFrom(0, 1, 2),
  authData: fc.uint8Array({ minLength: 8, maxLength: 8 }),
  addresses: fc.array(addr4, { maxLength: 20 }),
});

const v3Arb = (family: 4 | 6): fc.Arbitrary<VrrpAdvert> =>
  fc.record({
    version: fc.constant(3 as const),
    family: fc.constant(family),
    vrid: byte,
    priority: byte,
    maxAdverInt: fc.integer({ min: 0, max: 4095 }),
    addresses: fc.array(family === 4 ? addr4 : addr6, { maxLength: 20 }),
  });

const anyAdvert = fc.oneof(v2Arb, v3Arb(4), v3Arb(6));

function ends(family: 4 | 6) {
  return fc.record({ src: family === 4 ? addr4 : addr6, dst: family === 4 ? addr4 : addr6 });
}

Deno.test("property: decodeAdvert(encodeAdvert(x)) = x for v2, v3 IPv4 (both forms), v3 IPv6", () => {
  fc.assert(
    fc.property(v2Arb, ends(4), (a, e) => {
      const r = decodeAdvert(encodeAdvert(a), { family: 4, ...e });
      assert.ok(r.ok);
      assert.deepEqual(r.value.advert, { ...a });
    }),
  );
  for (const form of ["pseudo", "message"] as const) {
    fc.assert(
      fc.property(v3Arb(4), ends(4), (a, e) => {
        const bytes = encodeAdvert(a, { ...e, v3Ipv4Checksum: form });
        const r = decodeAdvert(bytes, { family: 4, ...e, v3Ipv4Checksum: form });
        assert.ok(r.ok);
        assert.deepEqual(r.value.advert, { ...a });
        assert.equal(r.value.checksum, form);
      }),
    );
  }
  fc.assert(
    fc.property(v3Arb(6), ends(6), (a, e) => {
      const r = decodeAdvert(encodeAdvert(a, e), { family: 6, ...e });
      assert.ok(r.ok);
      assert.deepEqual(r.value.advert, { ...a });
    }),
  );
});

Deno.test("property: random bytes never throw and always give a result object", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), fc.constantFrom(4, 6), (bytes, family) => {
      const f = family as 4 | 6;
      const r = decodeAdvert(bytes, {
        family: f,
        src: new Uint8Array(f === 4 ? 4 : 16),
        dst: new Uint8Array(f === 4 ? 4 : 16),
      });
      assert.equal(typeof r.ok, "boolean");
      if (!r.ok) assert.equal(typeof r.detail, "string");
    }),
    { numRuns: 500 },
  );
});

Deno.test("property: mutating or truncating a valid message never throws; a flipped bit is caught", () => {
  fc.assert(
    fc.property(
      anyAdvert,
      fc.nat(),
      fc.integer({ min: 0, max: 7 }),
      fc.nat(),
      (a, pos, bit, cut) => {
        const e = a.family === 4
          ? { src: SRC1, dst: GROUP }
          : { src: ip("fe80::1"), dst: ip("ff02::12") };
        const bytes = encodeAdvert(a, e);
        const flipped = bytes.slice();
        flipped[pos % flipped.length] ^= 1 << bit;
        const r = decodeAdvert(flipped, { family: a.family, ...e });
        // One flipped bit changes the version/type/count/length or breaks every checksum form.
        assert.equal(r.ok, false);
        const t = decodeAdvert(bytes.subarray(0, cut % (bytes.length + 1)), {
          family: a.family,
          ...e,
        });
        assert.equal(typeof t.ok, "boolean");
      },
    ),
    { numRuns: 500 },
  );
});
