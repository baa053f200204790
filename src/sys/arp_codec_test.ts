import assert from "node:assert/strict";
import { buildGratuitousArp } from "./arp_codec.ts";

function hex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, "");
  return Uint8Array.from(clean.match(/../g)!.map((b) => parseInt(b, 16)));
}

// vrrp.md §4.4 V9: keepalived 2.2.7's GARP for 192.0.2.100 from 02:00:00:00:00:01.
const V9 = hex(
  "ffff ffff ffff 0200 0000 0001 0806 0001 0800 0604 0001 0200 0000 0001 c000 0264 " +
    "ffff ffff ffff c000 0264",
);

Deno.test("buildGratuitousArp matches keepalived's frame (V9) byte for byte", () => {
  const built = buildGratuitousArp("02:00:00:00:00:01", "192.0.2.100");
  assert.ok(built.ok);
  assert.deepEqual(built.frame, V9);
});

Deno.test("buildGratuitousArp accepts MAC bytes and builds the reply form", () => {
  const built = buildGratuitousArp(new Uint8Array([2, 0, 0, 0, 0, 1]), "192.0.2.100", {
    op: "reply",
  });
  assert.ok(built.ok);
  const expected = V9.slice();
  expected[21] = 2;
  assert.deepEqual(built.frame, expected);
});

Deno.test("buildGratuitousArp reports bad input instead of throwing", () => {
  const cases: Array<[string | Uint8Array, string, RegExp]> = [
    ["02:00:00:00:00", "192.0.2.100", /MAC/],
    [new Uint8Array(5), "192.0.2.100", /MAC/],
    ["02:00:00:00:00:01", "2001:db8::1", /not an IPv4/],
    ["02:00:00:00:00:01", "192.0.2.300", /not an IPv4/],
  ];
  for (const [mac, vip, error] of cases) {
    const built = buildGratuitousArp(mac, vip);
    assert.ok(!built.ok);
    assert.match(built.error, error);
  }
});
