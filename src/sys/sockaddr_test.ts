import assert from "node:assert/strict";
import {
  decodeSockaddr,
  encodeSockaddrIn,
  encodeSockaddrIn6,
  encodeSockaddrLl,
  encodeSockaddrNl,
  formatIP,
  formatMac,
  parseIP,
  parseIPv4,
  parseIPv6,
  parseMac,
} from "./sockaddr.ts";

Deno.test("parseIPv4 accepts dotted quads only", () => {
  assert.deepEqual(parseIPv4("192.0.2.100"), new Uint8Array([192, 0, 2, 100]));
  for (const bad of ["192.0.2", "192.0.2.256", "1.2.3.4.5", "01.2.3.4", "a.b.c.d", "", "1..2.3"]) {
    assert.equal(parseIPv4(bad), null, bad);
  }
});

Deno.test("parseIPv6 and formatIP round-trip in RFC 5952 form", () => {
  const table: Array<[string, string]> = [
    ["::", "::"],
    ["::1", "::1"],
    ["ff02::12", "ff02::12"],
    ["2001:DB8:0:0:0:0:0:100", "2001:db8::100"],
    ["fe80::ff:fe00:1", "fe80::ff:fe00:1"],
    ["2001:db8:0:1:0:0:0:1", "2001:db8:0:1::1"],
    ["2001:0:0:1:0:0:0:1", "2001:0:0:1::1"],
    ["1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"],
    ["::ffff:192.0.2.1", "::ffff:c000:201"],
    ["2001:db8::", "2001:db8::"],
  ];
  for (const [input, output] of table) {
    const bytes = parseIPv6(input);
    assert.ok(bytes, input);
    assert.equal(formatIP(bytes), output, input);
  }
  for (
    const bad of [
      ":::",
      "1::2::3",
      "12345::",
      "1:2:3:4:5:6:7",
      "1:2:3:4:5:6:7:8:9",
      "g::1",
      "::1.2.3",
    ]
  ) {
    assert.equal(parseIPv6(bad), null, bad);
  }
  assert.equal(parseIP("192.0.2.1")?.family, 4);
  assert.equal(parseIP("2001:db8::1")?.family, 6);
  assert.equal(parseIP("host"), null);
});

Deno.test("MAC parse and format", () => {
  assert.deepEqual(parseMac("02:00:00:0A:bc:01"), new Uint8Array([2, 0, 0, 10, 0xbc, 1]));
  assert.equal(parseMac("02:00:00:00:01"), null);
  assert.equal(formatMac(new Uint8Array([2, 0, 0, 10, 0xbc, 1])), "02:00:00:0a:bc:01");
});

Deno.test("sockaddr layouts", () => {
  const sin = encodeSockaddrIn(parseIPv4("224.0.0.18")!, 0x1234);
  assert.deepEqual(sin, new Uint8Array([2, 0, 0x12, 0x34, 224, 0, 0, 18, 0, 0, 0, 0, 0, 0, 0, 0]));
  assert.deepEqual(decodeSockaddr(sin, 16), {
    family: 4,
    address: "224.0.0.18",
    port: 0x1234,
    scopeId: 0,
  });
  const sin6 = encodeSockaddrIn6(parseIPv6("ff02::12")!, { scopeId: 7 });
  assert.equal(sin6.length, 28);
  assert.deepEqual(Array.from(sin6.subarray(0, 4)), [10, 0, 0, 0]);
  assert.deepEqual(decodeSockaddr(sin6, 28), {
    family: 6,
    address: "ff02::12",
    port: 0,
    scopeId: 7,
  });
  assert.equal(decodeSockaddr(sin6, 16), null);
  assert.equal(decodeSockaddr(new Uint8Array(16), 16), null);
  const ll = encodeSockaddrLl(3, 0x0806, new Uint8Array([255, 255, 255, 255, 255, 255]));
  assert.deepEqual(
    ll,
    new Uint8Array([17, 0, 0x08, 0x06, 3, 0, 0, 0, 0, 0, 0, 6, 255, 255, 255, 255, 255, 255, 0, 0]),
  );
  assert.deepEqual(
    encodeSockaddrNl(0, 0x111),
    new Uint8Array([16, 0, 0, 0, 0, 0, 0, 0, 0x11, 1, 0, 0]),
  );
});
