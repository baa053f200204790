// Runs inside a test namespace: prints READY, then the link events for Deno.args[0] up to the first
// one that reports it down (or 5 s), as JSON.
import { linkIndex, openLinkMonitor } from "../../../src/sys/netlink.ts";
import type { NetlinkEvent } from "../../../src/sys/netlink_codec.ts";
import { Poller } from "../../../src/sys/poller.ts";

const ifname = Deno.args[0];
const ifindex = linkIndex(ifname);
const monitor = openLinkMonitor();
const poller = new Poller({ timeoutMs: 250 });
const events: NetlinkEvent[] = [];
const { promise: finished, resolve: finish } = Promise.withResolvers<void>();
poller.add(monitor.fd, () => {
  for (const event of monitor.drain()) {
    if (event.kind === "link" && event.link.ifindex !== ifindex) continue;
    if (event.kind === "address" && event.address.ifindex !== ifindex) continue;
    events.push(event);
    if (event.kind === "link" && !event.link.up) finish();
  }
});
poller.start();
console.log("READY");
const timer = setTimeout(finish, 5000);
await finished;
clearTimeout(timer);
await poller.stop();
monitor.close();
console.log(JSON.stringify(events));
