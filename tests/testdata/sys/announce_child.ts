// Runs inside a test namespace: 2 gratuitous ARPs and 2 unsolicited NAs. Args: ifname vip4 vip6.
import { openAnnouncer } from "../../../src/sys/garp.ts";

const [ifname, vip4, vip6] = Deno.args;
const announcer = openAnnouncer(ifname);
const sent = [
  announcer.sendGarp(vip4),
  announcer.sendGarp(vip4),
  announcer.sendUnsolicitedNa(vip6),
  announcer.sendUnsolicitedNa(vip6),
];
announcer.close();
console.log(JSON.stringify({ mac: announcer.mac, sent }));
