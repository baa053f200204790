import assert from "node:assert/strict";
import { errnoCode, FfiUnavailableError, SysError } from "./errors.ts";

Deno.test("errnoCode names the usual errno values", () => {
  assert.equal(errnoCode(17), "EEXIST");
  assert.equal(errnoCode(99), "EADDRNOTAVAIL");
  assert.equal(errnoCode(19), "ENODEV");
  assert.equal(errnoCode(1), "EPERM");
  assert.equal(errnoCode(11), "EAGAIN");
  assert.equal(errnoCode(4242), "EUNKNOWN");
});

Deno.test("SysError carries op, errno, code and detail in its message", () => {
  const err = new SysError("RTM_NEWADDR", 17, {
    description: "File exists",
    detail: "ipv4: Address already assigned",
  });
  assert.ok(err instanceof Error);
  assert.equal(err.name, "SysError");
  assert.equal(err.op, "RTM_NEWADDR");
  assert.equal(err.errno, 17);
  assert.equal(err.code, "EEXIST");
  assert.equal(err.detail, "ipv4: Address already assigned");
  assert.equal(err.message, "RTM_NEWADDR: EEXIST (17) File exists: ipv4: Address already assigned");
  assert.equal(new SysError("bind", 98).message, "bind: EADDRINUSE (98)");
});

Deno.test("FfiUnavailableError keeps the cause", () => {
  const cause = new Error('Requires ffi access to "libc.so.6"');
  const err = new FfiUnavailableError(cause);
  assert.equal(err.cause, cause);
  assert.match(err.message, /libc FFI unavailable: Requires ffi access/);
});
