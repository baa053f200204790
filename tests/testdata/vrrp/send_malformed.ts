/**
 * Test sender: emits a deterministic corpus of malformed VRRPv2 adverts (truncated, bad
 * checksum, TTL ≠ 255, wrong password, wrong auth type, wrong counts, random bytes, wrong
 * version, wrong interval, wrong VIP, wrong type, foreign VRID) to 224.0.0.18 on eth0, each
 * claiming priority 254, and prints `SENT <n>`. Meant for an instance with VRID 70, PASS
 * "secret12", one VIP 192.0.2.110, advert_int 1 s.
 *
 * Usage: `deno run --allow-all tests/testdata/vrrp/send_malformed.ts SRC_IP PER_KIND`
 *
 * @module
 */
import { authKey, computeChecksum, type V2Advert } from "../../../src/vrrp/codec.ts";
import { encodeIpv4Packet } from "../../../src/vrrp/ipv4.ts";
import { parseIp } from "../../../src/vrrp/address.ts";
import { openVrrpSocket } from "../../../src/sys/raw_socket.ts";

const src = parseIp(Deno.args[0] ?? "192.0.2.2")!;
const perKind = Number(Deno.args[1] ?? "100");
const dst = new Uint8Array([224, 0, 0, 18]);
let seed = 0x5eed;
function rand(n: number): number {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return (((t ^ (t >>> 14)) >>> 0) % n);
}

function advert(over: Partial<V2Advert> = {}): V2Advert {
  return {
    version: 2,
    family: 4,
    vrid: 70,
    priority: 254,
    adverInt: 1,
    authType: 1,
    authData: authKey("secret12"),
    addresses: [new Uint8Array([192, 0, 2, 110])],
    ...over,
  };
}

let id = 0;
function packet(a: V2Advert, ttl = 255): Uint8Array {
  id = (id % 65535) + 1;
  return encodeIpv4Packet(a, { src, dst, id, ttl });
}

function fixChecksum(p: Uint8Array): Uint8Array {
  const msg = p.subarray(20);
  const sum = computeChecksum(msg);
  msg[6] = sum >> 8;
  msg[7] = sum & 0xff;
  return p;
}

const kinds: (() => Uint8Array)[] = [
  () => packet(advert()).slice(0, 20 + rand(20)),
  () => {
    const p = packet(advert());
    p[27] ^= 1 + rand(255);
    return p;
  },
  () => packet(advert(), 1 + rand(254)),
  () => packet(advert({ authData: authKey(`pw${rand(1000)}`) })),
  () => packet(advert({ authType: [0, 2, 3, 7][rand(4)], authData: new Uint8Array(8) })),
  () =>
    packet(advert({
      addresses: rand(2) === 0 ? [] : [
        new Uint8Array([192, 0, 2, 110]),
        new Uint8Array([192, 0, 2, 111]),
      ],
    })),
  () => {
    const p = packet(advert());
    p[23] = 2 + rand(200);
    return fixChecksum(p);
  },
  () => {
    const p = new Uint8Array(20 + rand(64));
    p.set(packet(advert()).subarray(0, 20));
    for (let i = 20; i < p.length; i++) p[i] = rand(256);
    return p;
  },
  () => {
    id = (id % 65535) + 1;
    return encodeIpv4Packet({
      version: 3,
      family: 4,
      vrid: 70,
      priority: 254,
      maxAdverInt: 100,
      addresses: [new Uint8Array([192, 0, 2, 110])],
    }, { src, dst, id });
  },
  () => packet(advert({ adverInt: 2 + rand(10) })),
  () => packet(advert({ addresses: [new Uint8Array([192, 0, 2, 120 + rand(100)])] })),
  () => {
    const p = packet(advert());
    p[20] = 0x20 + 2 + rand(14);
    return fixChecksum(p);
  },
  () => packet(advert({ vrid: 71 + rand(100) })),
];

const sock = openVrrpSocket("eth0", { family: 4, group: null });
let sent = 0;
for (let round = 0; round < perKind; round++) {
  for (const make of kinds) {
    if (sock.send(make(), "224.0.0.18")) sent++;
  }
  if (round % 10 === 9) await new Promise((r) => setTimeout(r, 10));
}
sock.close();
console.log(`SENT ${sent}`);
