// Runs inside a test namespace: netlink address add/list/delete on the veth named in Deno.args[0].
import { SysError } from "../../../src/sys/errors.ts";
import { type AddressSpec, linkIndex, linkMac, openRtnetlink } from "../../../src/sys/netlink.ts";
import { NL } from "../../../src/sys/netlink_codec.ts";

const ifname = Deno.args[0];

async function ipShow(): Promise<string> {
  const out = await new Deno.Command("ip", { args: ["-o", "addr", "show", "dev", ifname] })
    .output();
  return new TextDecoder().decode(out.stdout);
}

const nl = openRtnetlink();
try {
  const ifindex = linkIndex(ifname);
  const link = nl.getLink(ifname);
  const v4: AddressSpec = {
    ifindex,
    address: "192.0.2.100",
    prefixLen: 24,
    label: `${ifname}:v`,
    broadcast: "192.0.2.255",
  };
  const v6: AddressSpec = { ifindex, address: "2001:db8::100", prefixLen: 128 };
  const add = [nl.addAddress(v4), nl.addAddress(v4), nl.addAddress(v6), nl.addAddress(v6)];
  const listed = nl.listAddresses({ ifindex });
  const listed6 = nl.listAddresses({ ifindex, family: 6 });
  const vip6 = listed.find((a) => a.address === "2001:db8::100");
  const vip4 = listed.find((a) => a.address === "192.0.2.100");
  const shown = await ipShow();
  const del = [
    nl.deleteAddress(v4),
    nl.deleteAddress(v4),
    nl.deleteAddress(v6),
    nl.deleteAddress(v6),
  ];
  const shownAfter = await ipShow();
  let missingDevice: { code: string; detail?: string } | null = null;
  try {
    nl.addAddress({ ifindex: 999999, address: "192.0.2.101", prefixLen: 24 });
  } catch (err) {
    if (err instanceof SysError) missingDevice = { code: err.code, detail: err.detail };
  }
  const deleteOnMissingDevice = nl.deleteAddress({
    ifindex: 999999,
    address: "192.0.2.101",
    prefixLen: 24,
  });
  console.log(JSON.stringify({
    ifindex,
    link,
    mac: linkMac(ifname),
    add,
    listed: listed.map((a) => `${a.address}/${a.prefixLen}`),
    listed6Families: [...new Set(listed6.map((a) => a.family))],
    vip4,
    vip6: vip6 && {
      nodad: (vip6.flags & NL.IFA_F_NODAD) !== 0,
      deprecated: (vip6.flags & NL.IFA_F_DEPRECATED) !== 0,
      preferredLft: vip6.preferredLft,
    },
    shown,
    del,
    shownAfter,
    missingDevice,
    deleteOnMissingDevice,
  }));
} finally {
  nl.close();
}
