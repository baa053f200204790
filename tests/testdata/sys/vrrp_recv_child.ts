// Runs inside a test namespace: receives `count` VRRP datagrams via the poller, prints them as JSON.
// Args: ifname family(4|6) count. Prints READY once listening.
import { Poller } from "../../../src/sys/poller.ts";
import { openVrrpSocket, type RawPacket } from "../../../src/sys/raw_socket.ts";

const [ifname, family, count] = [Deno.args[0], Number(Deno.args[1]) as 4 | 6, Number(Deno.args[2])];
const socket = openVrrpSocket(ifname, { family });
const poller = new Poller({ timeoutMs: 250 });
const packets: Array<
  Omit<RawPacket, "data" | "ipHeader"> & { data: number[]; ipHeaderLength?: number }
> = [];
const { promise: finished, resolve: finish } = Promise.withResolvers<void>();
poller.add(socket.fd, () => {
  for (let p = socket.tryRecv(); p !== null; p = socket.tryRecv()) {
    packets.push({
      from: p.from,
      hopLimit: p.hopLimit,
      dst: p.dst,
      data: Array.from(p.data),
      ipHeaderLength: p.ipHeader?.length,
    });
    if (packets.length >= count) finish();
  }
});
poller.start();
console.log("READY");
const timer = setTimeout(finish, 5000);
await finished;
clearTimeout(timer);
await poller.stop();
socket.close();
console.log(JSON.stringify(packets));
