import assert from "node:assert/strict";
import { buildUnsolicitedNa, icmpv6Checksum } from "./ndisc_codec.ts";

function hex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, "");
  return Uint8Array.from(clean.match(/../g)!.map((b) => parseInt(b, 16)));
}

// vrrp.md §4.4 V8: keepalived 2.2.7's unsolicited NA for fe80::100 from 02:00:00:00:00:01.
const V8 = hex(
  "3333 0000 0001 0200 0000 0001 86dd 6000 0000 0020 3aff " +
    "fe80 0000 0000 0000 0000 0000 0000 0100 ff02 0000 0000 0000 0000 0000 0000 0001 " +
    "8800 559d 2000 0000 fe80 0000 0000 0000 0000 0000 0000 0100 0201 0200 0000 0001",
);

/** Independent check: the one's-complement sum over pseudo-header + message must be 0xffff. */
function checksumVerifies(frame: Uint8Array): boolean {
  const pseudo = new Uint8Array(40 + frame.length - 54);
  pseudo.set(frame.subarray(22, 54), 0);
  const len = frame.length - 54;
  pseudo.set(frame.subarray(54), 40);
  let sum = len + 58;
  for (let i = 0; i < 32; i += 2) sum += (pseudo[i] << 8) | pseudo[i + 1];
  for (let i = 40; i < pseudo.length; i += 2) sum += (pseudo[i] << 8) | pseudo[i + 1];
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum === 0xffff;
}

Deno.test("buildUnsolicitedNa matches keepalived's frame (V8) byte for byte", () => {
  const built = buildUnsolicitedNa("02:00:00:00:00:01", "fe80::100");
  assert.ok(built.ok);
  assert.deepEqual(built.frame, V8);
  assert.ok(checksumVerifies(built.frame));
});

Deno.test("buildUnsolicitedNa sets the Router flag on request with a valid checksum", () => {
  const built = buildUnsolicitedNa("02:00:00:00:00:01", "2001:db8::100", { router: true });
  assert.ok(built.ok);
  assert.equal(built.frame[58], 0xa0);
  assert.equal(built.frame[21], 255);
  assert.ok(checksumVerifies(built.frame));
  const tampered = built.frame.slice();
  tampered[70] ^= 1;
  assert.ok(!checksumVerifies(tampered));
});

Deno.test("icmpv6Checksum ignores the checksum field's current value", () => {
  const built = buildUnsolicitedNa("02:00:00:00:00:01", "fe80::100");
  assert.ok(built.ok);
  const icmp = built.frame.slice(54);
  const src = built.frame.slice(22, 38);
  const dst = built.frame.slice(38, 54);
  assert.equal(icmpv6Checksum(src, dst, icmp), 0x559d);
  icmp[2] = 0;
  icmp[3] = 0;
  assert.equal(icmpv6Checksum(src, dst, icmp), 0x559d);
});

Deno.test("buildUnsolicitedNa reports bad input instead of throwing", () => {
  const bad = buildUnsolicitedNa("zz:00:00:00:00:01", "fe80::1");
  assert.ok(!bad.ok);
  assert.match(bad.error, /MAC/);
  const v4 = buildUnsolicitedNa("02:00:00:00:00:01", "192.0.2.1");
  assert.ok(!v4.ok);
  assert.match(v4.error, /not an IPv6/);
});
