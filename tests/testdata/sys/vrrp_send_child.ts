// Runs inside a test namespace: sends `count` VRRP datagrams to the group, then one to `peer`.
// Args: ifname family(4|6) count source peer.
import { openVrrpSocket, VRRP_GROUP_V4, VRRP_GROUP_V6 } from "../../../src/sys/raw_socket.ts";
import { parseIPv4 } from "../../../src/sys/sockaddr.ts";

const [ifname, family, count, source, peer] = [
  Deno.args[0],
  Number(Deno.args[1]) as 4 | 6,
  Number(Deno.args[2]),
  Deno.args[3],
  Deno.args[4],
];
// A VRRPv3 advert body (vrrp.md V3); for IPv6 the kernel rewrites bytes 6–7 (IPV6_CHECKSUM).
const vrrp = new Uint8Array([
  0x31,
  0x33,
  0x96,
  0x01,
  0x00,
  0x0a,
  0xd3,
  0xcb,
  0xc0,
  0x00,
  0x02,
  0x64,
]);

/** IPv4 header for IP_HDRINCL: TOS 0xc0, TTL 255, protocol 112; the kernel fills the checksum. */
function withIpHeader(dst: string, id: number): Uint8Array {
  const packet = new Uint8Array(20 + vrrp.length);
  const view = new DataView(packet.buffer);
  packet[0] = 0x45;
  packet[1] = 0xc0;
  view.setUint16(2, packet.length);
  view.setUint16(4, id);
  packet[8] = 255;
  packet[9] = 112;
  packet.set(parseIPv4(source)!, 12);
  packet.set(parseIPv4(dst)!, 16);
  packet.set(vrrp, 20);
  return packet;
}

const socket = family === 4
  ? openVrrpSocket(ifname, { family, group: null })
  : openVrrpSocket(ifname, { family, group: null, source });
const group = family === 4 ? VRRP_GROUP_V4 : VRRP_GROUP_V6;
const sent: boolean[] = [];
for (let i = 0; i < count; i++) {
  sent.push(socket.send(family === 4 ? withIpHeader(group, i + 1) : vrrp, group));
  await new Promise((r) => setTimeout(r, 10));
}
sent.push(socket.send(family === 4 ? withIpHeader(peer, count + 1) : vrrp, peer));
socket.close();
console.log(JSON.stringify(sent));
