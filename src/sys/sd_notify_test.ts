/**
 * Tests for sd_notify: a local unix datagram socket stands in for systemd's, both as a socket
 * file and in the abstract namespace.
 *
 * @module
 */
import assert from "node:assert/strict";
import { notifySocketAddress, notifySystemd } from "./sd_notify.ts";

async function receiveOne(conn: Deno.DatagramConn, ms: number): Promise<string> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no datagram within ${ms}ms`)), ms);
  });
  try {
    const [data] = await Promise.race([conn.receive(), timeout]);
    return new TextDecoder().decode(data);
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("notifySocketAddress maps paths, @abstract names and rejects the rest", () => {
  const table: [string | undefined, string | null][] = [
    ["/run/systemd/notify", "/run/systemd/notify"],
    ["@/org/freedesktop/systemd1/notify/123", "\0/org/freedesktop/systemd1/notify/123"],
    [undefined, null],
    ["", null],
    ["@", null],
    ["relative/path", null],
    ["vsock:2:1234", null],
  ];
  for (const [input, want] of table) assert.equal(notifySocketAddress(input), want, `${input}`);
});

Deno.test("notifySystemd delivers READY=1 to a socket file", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "halb-notify-" });
  const path = `${dir}/notify`;
  const listener = Deno.listenDatagram({ transport: "unixpacket", path });
  try {
    assert.equal(await notifySystemd("READY=1\nSTATUS=serving", { socket: path }), true);
    assert.equal(await receiveOne(listener, 5000), "READY=1\nSTATUS=serving");
  } finally {
    listener.close();
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("notifySystemd delivers to an abstract @socket and reads $NOTIFY_SOCKET", async () => {
  const name = `halb-notify-test-${crypto.randomUUID()}`;
  const listener = Deno.listenDatagram({ transport: "unixpacket", path: `\0${name}` });
  const saved = Deno.env.get("NOTIFY_SOCKET");
  Deno.env.set("NOTIFY_SOCKET", `@${name}`);
  try {
    assert.equal(await notifySystemd("STOPPING=1"), true);
    assert.equal(await receiveOne(listener, 5000), "STOPPING=1");
  } finally {
    if (saved === undefined) Deno.env.delete("NOTIFY_SOCKET");
    else Deno.env.set("NOTIFY_SOCKET", saved);
    listener.close();
  }
});

Deno.test("notifySystemd is a no-op without a socket and false when nobody listens", async () => {
  assert.equal(await notifySystemd("READY=1", { socket: "" }), false);
  const dir = Deno.makeTempDirSync({ prefix: "halb-notify-" });
  try {
    assert.equal(await notifySystemd("READY=1", { socket: `${dir}/absent` }), false);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
