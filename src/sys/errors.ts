/**
 * Typed errors for the system layer: {@linkcode SysError} carries the failed operation, the raw
 * `errno` and its symbolic name; {@linkcode FfiUnavailableError} says that libc could not be
 * opened (no `--allow-ffi`, or no glibc). Pure: no FFI here, so it is safe to import anywhere.
 *
 * @module
 */

/** Linux (x86_64/aarch64) errno values this project can meet, by symbolic name. */
export const ERRNO = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EINTR: 4,
  EIO: 5,
  ENXIO: 6,
  E2BIG: 7,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  EINVAL: 22,
  ENFILE: 23,
  EMFILE: 24,
  ENOSPC: 28,
  EPIPE: 32,
  ERANGE: 34,
  ENOSYS: 38,
  ENOTSOCK: 88,
  EDESTADDRREQ: 89,
  EMSGSIZE: 90,
  EPROTOTYPE: 91,
  ENOPROTOOPT: 92,
  EPROTONOSUPPORT: 93,
  EOPNOTSUPP: 95,
  EAFNOSUPPORT: 97,
  EADDRINUSE: 98,
  EADDRNOTAVAIL: 99,
  ENETDOWN: 100,
  ENETUNREACH: 101,
  ECONNABORTED: 103,
  ECONNRESET: 104,
  ENOBUFS: 105,
  ENOTCONN: 107,
  ETIMEDOUT: 110,
  ECONNREFUSED: 111,
  EHOSTUNREACH: 113,
  EINPROGRESS: 115,
} as const;

/** A symbolic errno name, or `"EUNKNOWN"` for a value missing from {@linkcode ERRNO}. */
export type ErrnoCode = keyof typeof ERRNO | "EUNKNOWN";

const NAMES: ReadonlyMap<number, ErrnoCode> = new Map(
  Object.entries(ERRNO).map(([name, value]) => [value, name as ErrnoCode]),
);

/** Returns the symbolic name of `errno` (`17` → `"EEXIST"`), `"EUNKNOWN"` when not in the table. */
export function errnoCode(errno: number): ErrnoCode {
  return NAMES.get(errno) ?? "EUNKNOWN";
}

/** Extra context for a {@linkcode SysError}. */
export interface SysErrorOptions {
  /** The C library's text for the errno (`strerror`). */
  description?: string;
  /** More detail, e.g. the kernel's netlink extended-ACK message. */
  detail?: string;
}

/** A failed system call or kernel request: `op` is what was attempted, `errno` what failed. */
export class SysError extends Error {
  /** The operation, e.g. `"socket"`, `"setsockopt IP_ADD_MEMBERSHIP"`, `"RTM_NEWADDR"`. */
  readonly op: string;
  /** The raw errno value (positive). */
  readonly errno: number;
  /** The symbolic errno name. */
  readonly code: ErrnoCode;
  /** Extra detail (netlink extended ACK text), when the kernel gave one. */
  readonly detail?: string;

  /** Builds the error; the message reads `op: CODE (errno) description: detail`. */
  constructor(op: string, errno: number, options: SysErrorOptions = {}) {
    const code = errnoCode(errno);
    const text = options.description ? ` ${options.description}` : "";
    const more = options.detail ? `: ${options.detail}` : "";
    super(`${op}: ${code} (${errno})${text}${more}`);
    this.name = "SysError";
    this.op = op;
    this.errno = errno;
    this.code = code;
    if (options.detail !== undefined) this.detail = options.detail;
  }
}

/** libc could not be opened: FFI permission missing (`--allow-ffi`) or no `libc.so.6`. */
export class FfiUnavailableError extends Error {
  /** Builds the error around the underlying cause. */
  constructor(cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super(`libc FFI unavailable: ${why}`, { cause });
    this.name = "FfiUnavailableError";
  }
}
