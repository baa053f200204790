import assert from "node:assert/strict";
import { SysError } from "./errors.ts";
import {
  closeFd,
  drainEventFd,
  getSockOptInt,
  ifNameToIndex,
  openEventFd,
  openSocket,
  recvFrom,
  setSockOptInt,
  signalEventFd,
  SO_RCVBUF,
  SOCK_DGRAM,
  SOL_SOCKET,
} from "./libc.ts";
import { alloc } from "./sockaddr.ts";

Deno.test("a failed call becomes a typed SysError with errno read on the JS thread", () => {
  assert.throws(() => openSocket(4242, SOCK_DGRAM, 0), (err: unknown) => {
    assert.ok(err instanceof SysError);
    assert.equal(err.code, "EAFNOSUPPORT");
    assert.equal(err.errno, 97);
    assert.match(err.message, /^socket\(4242, 2, 0\): EAFNOSUPPORT \(97\) /);
    return true;
  });
  assert.throws(() => ifNameToIndex("halb-nonexistent"), { code: "ENODEV" });
});

Deno.test("nonblocking recvfrom on an empty socket returns null (EAGAIN)", () => {
  const fd = openSocket(2, SOCK_DGRAM, 0);
  try {
    assert.equal(recvFrom(fd, alloc(64), alloc(16)), null);
    setSockOptInt(fd, SOL_SOCKET, SO_RCVBUF, 65536, "SO_RCVBUF");
    assert.ok(getSockOptInt(fd, SOL_SOCKET, SO_RCVBUF, "SO_RCVBUF") >= 65536);
  } finally {
    closeFd(fd);
  }
  assert.throws(() => closeFd(fd), { code: "EBADF" });
});

Deno.test("eventfd signal and drain are nonblocking", () => {
  const fd = openEventFd();
  try {
    drainEventFd(fd);
    signalEventFd(fd);
    signalEventFd(fd);
    drainEventFd(fd);
    drainEventFd(fd);
  } finally {
    closeFd(fd);
  }
});

Deno.test("without FFI permission, import works and first use throws FfiUnavailableError", async () => {
  const script = new URL("./testdata/no_ffi_child.ts", import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", "--allow-read", script],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, stderr);
  assert.deepEqual(JSON.parse(new TextDecoder().decode(out.stdout)), {
    name: "FfiUnavailableError",
    pollerName: "FfiUnavailableError",
  });
});
