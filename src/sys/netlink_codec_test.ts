import assert from "node:assert/strict";
import fc from "fast-check";
import {
  decodeAddress,
  decodeAttrs,
  decodeError,
  decodeEvent,
  decodeLink,
  decodeMessages,
  encodeAddressDump,
  encodeAddressRequest,
  encodeAttr,
  encodeLinkDump,
  encodeMessage,
  NL,
  type NlMessage,
} from "./netlink_codec.ts";

function hex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, "");
  return Uint8Array.from(clean.match(/../g)!.map((b) => parseInt(b, 16)));
}

function only(buf: Uint8Array): NlMessage {
  const msgs = decodeMessages(buf);
  assert.ok(msgs.ok);
  assert.equal(msgs.value.length, 1);
  return msgs.value[0];
}

function u32le(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n, true);
  return out;
}

Deno.test("IPv4 RTM_NEWADDR carries IFA_LOCAL, IFA_ADDRESS, IFA_LABEL and IFA_BROADCAST", () => {
  const msg = encodeAddressRequest("add", {
    ifindex: 3,
    address: "192.0.2.100",
    prefixLen: 24,
    label: "vA:vip",
    broadcast: "192.0.2.255",
  }, 0x01020304);
  assert.ok(msg.ok);
  assert.deepEqual(
    msg.value,
    hex(
      "3c000000 1400 0506 04030201 00000000" + // nlmsghdr: len 60, RTM_NEWADDR, REQ|ACK|EXCL|CREATE
        "02 18 00 00 03000000" + // ifaddrmsg: AF_INET /24 index 3
        "0800 0200 c0000264" + // IFA_LOCAL
        "0800 0100 c0000264" + // IFA_ADDRESS
        "0b00 0300 76413a76697000 00" + // IFA_LABEL "vA:vip\0" + pad
        "0800 0400 c00002ff", // IFA_BROADCAST
    ),
  );
});

Deno.test("IPv6 RTM_NEWADDR sets IFA_F_NODAD, and a /128 is deprecated via IFA_CACHEINFO", () => {
  const m128 = encodeAddressRequest(
    "add",
    { ifindex: 5, address: "2001:db8::100", prefixLen: 128 },
    7,
  );
  assert.ok(m128.ok);
  const msg = only(m128.value);
  assert.equal(msg.type, NL.RTM_NEWADDR);
  assert.equal(msg.payload[0], 10);
  assert.equal(msg.payload[1], 128);
  const attrs = decodeAttrs(msg.payload, 8);
  assert.ok(attrs.ok);
  assert.deepEqual(attrs.value.get(NL.IFA_FLAGS), u32le(NL.IFA_F_NODAD));
  assert.deepEqual(
    attrs.value.get(NL.IFA_CACHEINFO),
    hex("00000000 ffffffff 00000000 00000000"),
  );
  assert.deepEqual(attrs.value.get(NL.IFA_LOCAL), hex("20010db8000000000000000000000100"));
  assert.deepEqual(attrs.value.get(NL.IFA_ADDRESS), hex("20010db8000000000000000000000100"));

  const m64 = encodeAddressRequest(
    "add",
    { ifindex: 5, address: "2001:db8::100", prefixLen: 64 },
    8,
  );
  assert.ok(m64.ok);
  const a64 = decodeAttrs(only(m64.value).payload, 8);
  assert.ok(a64.ok);
  assert.equal(a64.value.has(NL.IFA_CACHEINFO), false);
  assert.equal(a64.value.has(NL.IFA_FLAGS), true);
  const keep = encodeAddressRequest("add", {
    ifindex: 5,
    address: "2001:db8::100",
    prefixLen: 128,
    deprecated: false,
  }, 9);
  assert.ok(keep.ok);
  const aKeep = decodeAttrs(only(keep.value).payload, 8);
  assert.ok(aKeep.ok && !aKeep.value.has(NL.IFA_CACHEINFO));
});

Deno.test("RTM_DELADDR is REQUEST|ACK with IFA_LOCAL and IFA_ADDRESS only", () => {
  const del = encodeAddressRequest("delete", {
    ifindex: 3,
    address: "192.0.2.100",
    prefixLen: 24,
    label: "ignored",
  }, 1);
  assert.ok(del.ok);
  assert.deepEqual(
    del.value,
    hex("28000000 1500 0500 01000000 00000000 02180000 03000000 08000200c0000264 08000100c0000264"),
  );
});

Deno.test("encodeAddressRequest reports bad specs", () => {
  const cases: Array<[Parameters<typeof encodeAddressRequest>[1], RegExp]> = [
    [{ ifindex: 1, address: "nope", prefixLen: 24 }, /not an IP address/],
    [{ ifindex: 1, address: "192.0.2.1", prefixLen: 33 }, /out of range 0–32/],
    [{ ifindex: 1, address: "2001:db8::1", prefixLen: 129 }, /out of range 0–128/],
    [{ ifindex: 1, address: "192.0.2.1", prefixLen: 2.5 }, /out of range/],
    [{ ifindex: 1, address: "2001:db8::1", prefixLen: 64, label: "x" }, /IPv4 only/],
    [
      { ifindex: 1, address: "192.0.2.1", prefixLen: 24, label: "a-very-long-label" },
      /over 15 bytes/,
    ],
    [{ ifindex: 1, address: "192.0.2.1", prefixLen: 24, broadcast: "::1" }, /broadcast/],
  ];
  for (const [spec, error] of cases) {
    const out = encodeAddressRequest("add", spec, 1);
    assert.ok(!out.ok, JSON.stringify(spec));
    assert.match(out.error, error);
  }
});

Deno.test("dump requests", () => {
  assert.deepEqual(
    encodeAddressDump(9, 6),
    hex("18000000 1600 0103 09000000 00000000 0a000000 00000000"),
  );
  assert.deepEqual(
    encodeLinkDump(2),
    hex("20000000 1200 0103 02000000 00000000" + "00".repeat(16)),
  );
});

Deno.test("decodeError: ACK, plain error, and extended ACK message (capped and not)", () => {
  const orig = encodeAddressDump(42);
  const ack = encodeMessage(
    { type: NL.NLMSG_ERROR, flags: NL.NLM_F_CAPPED, seq: 42 },
    u32le(0),
    orig.subarray(0, 16),
  );
  assert.deepEqual(decodeError(only(ack)), { ok: true, value: { errno: 0, seq: 42 } });

  const plain = encodeMessage({ type: NL.NLMSG_ERROR, flags: 0, seq: 42 }, u32le(-17 >>> 0), orig);
  assert.deepEqual(decodeError(only(plain)), { ok: true, value: { errno: 17, seq: 42 } });

  const text = new TextEncoder().encode("ipv4: Address already assigned\0");
  const capped = encodeMessage(
    { type: NL.NLMSG_ERROR, flags: NL.NLM_F_CAPPED | NL.NLM_F_ACK_TLVS, seq: 42 },
    u32le(-17 >>> 0),
    orig.subarray(0, 16),
    encodeAttr(NL.NLMSGERR_ATTR_MSG, text),
  );
  assert.deepEqual(decodeError(only(capped)), {
    ok: true,
    value: { errno: 17, seq: 42, message: "ipv4: Address already assigned" },
  });

  const full = encodeMessage(
    { type: NL.NLMSG_ERROR, flags: NL.NLM_F_ACK_TLVS, seq: 42 },
    u32le(-22 >>> 0),
    orig,
    encodeAttr(NL.NLMSGERR_ATTR_MSG, new TextEncoder().encode("ipv4: Invalid prefix length\0")),
  );
  const decoded = decodeError(only(full));
  assert.ok(decoded.ok);
  assert.equal(decoded.value.errno, 22);
  assert.equal(decoded.value.message, "ipv4: Invalid prefix length");

  const short = decodeError({ type: 2, flags: 0, seq: 1, pid: 0, payload: new Uint8Array(8) });
  assert.ok(!short.ok);
  assert.match(short.error, /8-byte payload/);
});

Deno.test("decodeMessages splits a datagram and rejects bad lengths", () => {
  const two = new Uint8Array([...encodeLinkDump(1), ...encodeAddressDump(2, 4)]);
  const msgs = decodeMessages(two);
  assert.ok(msgs.ok);
  assert.deepEqual(msgs.value.map((m) => [m.type, m.seq]), [[NL.RTM_GETLINK, 1], [
    NL.RTM_GETADDR,
    2,
  ]]);
  const bad = two.slice();
  bad[0] = 0xff;
  const out = decodeMessages(bad);
  assert.ok(!out.ok);
  assert.match(out.error, /offset 0: bad length 255/);
  const tooShort = two.slice();
  tooShort[0] = 4;
  assert.ok(!decodeMessages(tooShort).ok);
});

function linkMessage(type: number, flags: number): Uint8Array {
  const body = new Uint8Array(16);
  const view = new DataView(body.buffer);
  view.setInt32(4, 4, true);
  view.setUint32(8, flags, true);
  return encodeMessage(
    { type, flags: 0, seq: 0 },
    body,
    encodeAttr(NL.IFLA_IFNAME, new TextEncoder().encode("veth0\0")),
    encodeAttr(NL.IFLA_ADDRESS, hex("020000000001")),
    encodeAttr(NL.IFLA_MTU, u32le(1500)),
    encodeAttr(NL.IFLA_OPERSTATE, new Uint8Array([2])),
  );
}

Deno.test("decodeLink and link events", () => {
  const down = decodeEvent(only(linkMessage(NL.RTM_NEWLINK, 0x1002)));
  assert.deepEqual(down, {
    ok: true,
    value: {
      kind: "link",
      action: "new",
      link: {
        ifindex: 4,
        name: "veth0",
        flags: 0x1002,
        up: false,
        lowerUp: false,
        mac: "02:00:00:00:00:01",
        mtu: 1500,
        operState: 2,
      },
    },
  });
  const up = decodeLink(only(linkMessage(NL.RTM_NEWLINK, 0x11043)));
  assert.ok(up.ok && up.value.up && up.value.lowerUp);
  const gone = decodeEvent(only(linkMessage(NL.RTM_DELLINK, 0)));
  assert.ok(gone.ok && gone.value?.kind === "link" && gone.value.action === "del");
  const noName = encodeMessage({ type: NL.RTM_NEWLINK, flags: 0, seq: 0 }, new Uint8Array(16));
  const err = decodeLink(only(noName));
  assert.ok(!err.ok);
  assert.match(err.error, /IFLA_IFNAME/);
});

Deno.test("decodeAddress and address events", () => {
  const body = hex("0a 40 80 00 05000000");
  const msg = encodeMessage(
    { type: NL.RTM_NEWADDR, flags: 0, seq: 0 },
    body,
    encodeAttr(NL.IFA_ADDRESS, hex("20010db8000000000000000000000001")),
    encodeAttr(NL.IFA_CACHEINFO, hex("00000000 ffffffff 00000000 00000000")),
    encodeAttr(NL.IFA_FLAGS, u32le(0x2a2)),
  );
  assert.deepEqual(decodeEvent(only(msg)), {
    ok: true,
    value: {
      kind: "address",
      action: "new",
      address: {
        family: 6,
        ifindex: 5,
        address: "2001:db8::1",
        prefixLen: 64,
        scope: 0,
        flags: 0x2a2,
        preferredLft: 0,
        validLft: 0xffffffff,
      },
    },
  });
  const v4 = encodeMessage(
    { type: NL.RTM_DELADDR, flags: 0, seq: 0 },
    hex("02 18 80 fd 03000000"),
    encodeAttr(NL.IFA_ADDRESS, hex("c0000201")),
    encodeAttr(NL.IFA_LOCAL, hex("c0000264")),
    encodeAttr(NL.IFA_LABEL, new TextEncoder().encode("vA\0")),
    encodeAttr(NL.IFA_BROADCAST, hex("c00002ff")),
  );
  const decoded = decodeEvent(only(v4));
  assert.ok(decoded.ok && decoded.value?.kind === "address");
  assert.equal(decoded.value.action, "del");
  assert.deepEqual(decoded.value.address, {
    family: 4,
    ifindex: 3,
    address: "192.0.2.100",
    prefixLen: 24,
    scope: 253,
    flags: 0x80,
    label: "vA",
    broadcast: "192.0.2.255",
  });
  const bad = decodeAddress(
    only(encodeMessage({ type: NL.RTM_NEWADDR, flags: 0, seq: 0 }, hex("07180000 01000000"))),
  );
  assert.ok(!bad.ok);
  assert.match(bad.error, /unknown family 7/);
  assert.deepEqual(decodeEvent(only(encodeLinkDump(1))), { ok: true, value: null });
});

Deno.test("decoders never throw on arbitrary bytes", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 200 }),
      fc.integer({ min: 0, max: 0xffff }),
      (bytes, type) => {
        const buf = new Uint8Array([
          ...u32le(16 + bytes.length),
          type & 0xff,
          type >> 8,
          0,
          2,
          ...new Uint8Array(8),
          ...bytes,
        ]);
        const msgs = decodeMessages(buf);
        if (!msgs.ok) return;
        for (const msg of msgs.value) {
          decodeEvent(msg);
          decodeError(msg);
          decodeAddress(msg);
          decodeLink(msg);
        }
        decodeMessages(bytes);
      },
    ),
    { numRuns: 500 },
  );
});
