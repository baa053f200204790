/**
 * The one `Deno.dlopen("libc.so.6")` of the project, opened lazily on first use so that importing
 * this module never needs FFI permission; the first call without it throws
 * {@linkcode FfiUnavailableError}.
 *
 * Every symbol is synchronous except `poll` (VRRP's poller) and `epoll_wait_blocking` (the
 * proxy reactor's idle wait), which run on Deno's blocking pool with bounded timeouts. errno is read right after each synchronous call (on the JS thread, where it is reliable)
 * and turned into a {@linkcode SysError}. File descriptors are opened nonblocking and close-on-exec.
 *
 * @module
 */
import { FfiUnavailableError, SysError } from "./errors.ts";
import { alloc } from "./sockaddr.ts";

const SYMBOLS = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  sendto: {
    parameters: ["i32", "buffer", "usize", "i32", "buffer", "u32"],
    result: "isize",
  },
  sendmsg: { parameters: ["i32", "buffer", "i32"], result: "isize" },
  recvfrom: {
    parameters: ["i32", "buffer", "usize", "i32", "buffer", "buffer"],
    result: "isize",
  },
  recvmsg: { parameters: ["i32", "buffer", "i32"], result: "isize" },
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32", nonblocking: true },
  close: { parameters: ["i32"], result: "i32" },
  if_nametoindex: { parameters: ["buffer"], result: "u32" },
  ioctl: { parameters: ["i32", "u64", "buffer"], result: "i32" },
  eventfd: { parameters: ["u32", "i32"], result: "i32" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  // TCP data path (src/sys/tcp.ts, src/sys/reactor.ts): sizes as u32 and results as i32 keep
  // these on V8's fast-call path (no bigint); every transfer is far below 2 GiB.
  listen: { parameters: ["i32", "i32"], result: "i32" },
  accept4: { parameters: ["i32", "buffer", "buffer", "i32"], result: "i32" },
  connect: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  shutdown: { parameters: ["i32", "i32"], result: "i32" },
  send: { parameters: ["i32", "buffer", "u32", "i32"], result: "i32" },
  recv: { parameters: ["i32", "buffer", "u32", "i32"], result: "i32" },
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  epoll_create1: { parameters: ["i32"], result: "i32" },
  epoll_ctl: { parameters: ["i32", "i32", "i32", "buffer"], result: "i32" },
  epoll_wait: { parameters: ["i32", "buffer", "i32", "i32"], result: "i32" },
  epoll_wait_blocking: {
    name: "epoll_wait",
    parameters: ["i32", "buffer", "i32", "i32"],
    result: "i32",
    nonblocking: true,
  },
  // Privileges ([global] user/group): keep capabilities across the user switch.
  prctl: { parameters: ["i32", "u64", "u64", "u64", "u64"], result: "i32" },
  capget: { parameters: ["buffer", "buffer"], result: "i32" },
  capset: { parameters: ["buffer", "buffer"], result: "i32" },
  setgroups: { parameters: ["usize", "buffer"], result: "i32" },
  setgid: { parameters: ["u32"], result: "i32" },
  setuid: { parameters: ["u32"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
  strerror: { parameters: ["i32"], result: "pointer" },
} as const satisfies Deno.ForeignLibraryInterface;

/** The opened libc symbols (see {@linkcode libc}). */
export type LibcSymbols = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

let library: Deno.DynamicLibrary<typeof SYMBOLS> | null = null;
let errnoView: Deno.UnsafePointerView | null = null;

/** Returns the libc symbols, opening the library on first use; throws {@linkcode FfiUnavailableError}. */
export function libc(): LibcSymbols {
  if (library) return library.symbols;
  let opened: Deno.DynamicLibrary<typeof SYMBOLS>;
  try {
    opened = Deno.dlopen("libc.so.6", SYMBOLS);
  } catch (err) {
    throw new FfiUnavailableError(err);
  }
  const ptr = opened.symbols.__errno_location();
  if (ptr === null) throw new FfiUnavailableError(new Error("__errno_location returned NULL"));
  errnoView = new Deno.UnsafePointerView(ptr);
  library = opened;
  return opened.symbols;
}

/** The calling (JS) thread's errno; read it immediately after the failed synchronous call. */
export function errno(): number {
  libc();
  return errnoView!.getInt32(0);
}

/** Builds a {@linkcode SysError} for `op` from the current errno (or the given one). */
export function sysError(op: string, code = errno(), detail?: string): SysError {
  const ptr = libc().strerror(code);
  const description = ptr === null ? undefined : new Deno.UnsafePointerView(ptr).getCString();
  return new SysError(op, code, { description, detail });
}

/** `SOCK_NONBLOCK`. */
export const SOCK_NONBLOCK = 0x800;
/** `SOCK_CLOEXEC`. */
export const SOCK_CLOEXEC = 0x80000;
/** `SOCK_DGRAM`. */
export const SOCK_DGRAM = 2;
/** `SOCK_RAW`. */
export const SOCK_RAW = 3;
/** `SOL_SOCKET`. */
export const SOL_SOCKET = 1;
/** `SO_BINDTODEVICE`. */
export const SO_BINDTODEVICE = 25;
/** `SO_RCVBUF`. */
export const SO_RCVBUF = 8;
/** `MSG_DONTWAIT`. */
export const MSG_DONTWAIT = 0x40;
/** `MSG_TRUNC` (in `recvmsg` flags: the datagram was longer than the buffer). */
export const MSG_TRUNC = 0x20;
/** `POLLIN`. */
export const POLLIN = 0x1;
/** `POLLERR`. */
export const POLLERR = 0x8;
/** `POLLHUP`. */
export const POLLHUP = 0x10;
/** `POLLNVAL`. */
export const POLLNVAL = 0x20;

/** `socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol)`; returns the fd. */
export function openSocket(domain: number, type: number, protocol: number): number {
  const fd = libc().socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
  if (fd < 0) throw sysError(`socket(${domain}, ${type}, ${protocol})`);
  return fd;
}

/** `setsockopt` with a raw option value; `name` is used in the error. */
export function setSockOpt(
  fd: number,
  level: number,
  option: number,
  value: Uint8Array,
  name: string,
): void {
  if (libc().setsockopt(fd, level, option, value, value.byteLength) < 0) {
    throw sysError(`setsockopt ${name}`);
  }
}

// Scratch space for int options: the calls are synchronous, and a fresh ArrayBuffer per call
// costs microseconds in Deno (they are made per proxied connection).
const intBuf = alloc(4);
const intView = new DataView(intBuf.buffer);
const intLen = alloc(4);
const intLenView = new DataView(intLen.buffer);

/** `setsockopt` with a C `int` value. */
export function setSockOptInt(
  fd: number,
  level: number,
  option: number,
  value: number,
  name: string,
): void {
  intView.setInt32(0, value, true);
  setSockOpt(fd, level, option, intBuf, name);
}

/** `getsockopt` of a C `int` value. */
export function getSockOptInt(fd: number, level: number, option: number, name: string): number {
  intLenView.setUint32(0, 4, true);
  if (libc().getsockopt(fd, level, option, intBuf, intLen) < 0) {
    throw sysError(`getsockopt ${name}`);
  }
  return intView.getInt32(0, true);
}

/** `setsockopt(SO_BINDTODEVICE, ifname)`. */
export function bindToDevice(fd: number, ifname: string): void {
  setSockOpt(fd, SOL_SOCKET, SO_BINDTODEVICE, cString(ifname), "SO_BINDTODEVICE");
}

/** `bind(fd, sockaddr)`. */
export function bindSocket(fd: number, sockaddr: Uint8Array): void {
  if (libc().bind(fd, sockaddr, sockaddr.byteLength) < 0) throw sysError("bind");
}

/** `sendto`; returns the bytes sent, or `null` on EAGAIN (socket buffer full). */
export function sendTo(
  fd: number,
  data: Uint8Array,
  sockaddr: Uint8Array | null,
  flags = 0,
): number | null {
  const n = Number(
    libc().sendto(
      fd,
      data,
      BigInt(data.byteLength),
      flags | MSG_DONTWAIT,
      sockaddr,
      sockaddr?.byteLength ?? 0,
    ),
  );
  if (n >= 0) return n;
  const code = errno();
  if (code === 11) return null;
  throw sysError("sendto", code);
}

/** `sendmsg` with a prepared `msghdr`; returns the bytes sent, or `null` on EAGAIN. */
export function sendMsg(fd: number, msghdr: Uint8Array, flags = 0): number | null {
  const n = Number(libc().sendmsg(fd, msghdr, flags | MSG_DONTWAIT));
  if (n >= 0) return n;
  const code = errno();
  if (code === 11) return null;
  throw sysError("sendmsg", code);
}

/** A `recvfrom` result: bytes received (may exceed the buffer with `MSG_TRUNC`) and address length. */
export interface RecvResult {
  length: number;
  addrLength: number;
}

/** Nonblocking `recvfrom` into `buf`; the sender address lands in `addr`. `null` on EAGAIN. */
export function recvFrom(
  fd: number,
  buf: Uint8Array,
  addr: Uint8Array | null,
  flags = 0,
): RecvResult | null {
  const lenBuf = alloc(4);
  const lenView = new DataView(lenBuf.buffer);
  lenView.setUint32(0, addr?.byteLength ?? 0, true);
  const n = Number(
    libc().recvfrom(
      fd,
      buf,
      BigInt(buf.byteLength),
      flags | MSG_DONTWAIT,
      addr,
      addr ? lenBuf : null,
    ),
  );
  if (n >= 0) return { length: n, addrLength: lenView.getUint32(0, true) };
  const code = errno();
  if (code === 11) return null;
  throw sysError("recvfrom", code);
}

/** Nonblocking `recvmsg` with a prepared `msghdr`; returns the length, or `null` on EAGAIN. */
export function recvMsg(fd: number, msghdr: Uint8Array, flags = 0): number | null {
  const n = Number(libc().recvmsg(fd, msghdr, flags | MSG_DONTWAIT));
  if (n >= 0) return n;
  const code = errno();
  if (code === 11) return null;
  throw sysError("recvmsg", code);
}

/** `close(fd)`; errors other than EBADF are thrown (EINTR still closes on Linux). */
export function closeFd(fd: number): void {
  if (libc().close(fd) < 0) {
    const code = errno();
    if (code !== 4) throw sysError("close", code);
  }
}

/** `if_nametoindex`; throws ENODEV (as a {@linkcode SysError}) when the interface is missing. */
export function ifNameToIndex(ifname: string): number {
  const index = libc().if_nametoindex(cString(ifname));
  if (index === 0) throw sysError(`if_nametoindex ${ifname}`);
  return index;
}

const SIOCGIFHWADDR = 0x8927;

/** The hardware (MAC) address of `ifname` via `ioctl(SIOCGIFHWADDR)`. */
export function interfaceMac(ifname: string): Uint8Array {
  const fd = openSocket(2, SOCK_DGRAM, 0);
  try {
    const ifreq = alloc(40);
    ifreq.set(cString(ifname).subarray(0, 15));
    if (libc().ioctl(fd, BigInt(SIOCGIFHWADDR), ifreq) < 0) {
      throw sysError(`SIOCGIFHWADDR ${ifname}`);
    }
    return ifreq.slice(18, 24);
  } finally {
    closeFd(fd);
  }
}

/** `eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)`. */
export function openEventFd(): number {
  const fd = libc().eventfd(0, 0x800 | 0x80000);
  if (fd < 0) throw sysError("eventfd");
  return fd;
}

const ONE = (() => {
  const b = alloc(8);
  b[0] = 1;
  return b;
})();

/** Adds 1 to an eventfd counter (a wakeup); a saturated counter (EAGAIN) is already awake. */
export function signalEventFd(fd: number): void {
  if (Number(libc().write(fd, ONE, 8n)) < 0) {
    const code = errno();
    if (code !== 11) throw sysError("eventfd write", code);
  }
}

/** Resets an eventfd counter to 0 (nonblocking read). */
export function drainEventFd(fd: number): void {
  const buf = alloc(8);
  if (Number(libc().read(fd, buf, 8n)) < 0) {
    const code = errno();
    if (code !== 11) throw sysError("eventfd read", code);
  }
}

/**
 * The only nonblocking libc call: `poll(fds, nfds, timeoutMs)` on Deno's blocking pool.
 * Resolves to the ready count; -1 (errno is lost across threads) means "retry".
 * `pollfds` must stay untouched until the promise settles.
 */
export function pollAsync(pollfds: Uint8Array, nfds: number, timeoutMs: number): Promise<number> {
  return libc().poll(pollfds, BigInt(nfds), timeoutMs);
}

/** A NUL-terminated copy of `text` (UTF-8). */
export function cString(text: string): Uint8Array {
  const bytes = new TextEncoder().encode(text);
  const out = alloc(bytes.length + 1);
  out.set(bytes);
  return out;
}

/** The address of a buffer's first byte, as a bigint (for pointers inside structs). */
export function addressOf(buf: Uint8Array): bigint {
  libc();
  return BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(buf)));
}
