/**
 * Byte classes and a fast latin1 decoder for the HTTP/1 codec.
 *
 * @module
 */

/** Carriage return. */
export const CR = 0x0d;
/** Line feed. */
export const LF = 0x0a;
/** Space. */
export const SP = 0x20;
/** Horizontal tab. */
export const HT = 0x09;
/** `:`. */
export const COLON = 0x3a;

/** 1 for RFC 9110 `tchar` bytes (token characters), 0 otherwise. */
export const TCHAR: Uint8Array = buildTchar();

function buildTchar(): Uint8Array {
  const t = new Uint8Array(256);
  for (let c = 0x30; c <= 0x39; c++) t[c] = 1;
  for (let c = 0x41; c <= 0x5a; c++) t[c] = 1;
  for (let c = 0x61; c <= 0x7a; c++) t[c] = 1;
  for (const ch of "!#$%&'*+-.^_`|~") t[ch.charCodeAt(0)] = 1;
  return t;
}

/** Hex digit value for a byte, or -1 when the byte is not a hex digit. */
export const HEX: Int8Array = buildHex();

function buildHex(): Int8Array {
  const t = new Int8Array(256).fill(-1);
  for (let c = 0; c < 10; c++) t[0x30 + c] = c;
  for (let c = 0; c < 6; c++) {
    t[0x41 + c] = 10 + c;
    t[0x61 + c] = 10 + c;
  }
  return t;
}

/**
 * Decodes `buf[start..end)` as ISO-8859-1 (each byte is one UTF-16 code unit), which is how
 * HTTP field bytes map to strings without loss. Short runs use `String.fromCharCode.apply`.
 */
export function latin1(buf: Uint8Array, start: number, end: number): string {
  const len = end - start;
  if (len <= 0) return "";
  if (len <= 4096) {
    return String.fromCharCode.apply(null, buf.subarray(start, end) as unknown as number[]);
  }
  let s = "";
  for (let i = start; i < end; i += 4096) {
    const e = Math.min(end, i + 4096);
    s += String.fromCharCode.apply(null, buf.subarray(i, e) as unknown as number[]);
  }
  return s;
}

/** Encodes a string whose code units are all <= 0xff into `out` at `pos`; returns the new end.
 * Code units above 0xff are written as `?` (header values are never expected to carry them). */
export function writeLatin1(out: Uint8Array, pos: number, s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out[pos++] = c > 0xff ? 0x3f : c;
  }
  return pos;
}

/** Case-insensitive ASCII equality of `s` with an already lower-case `lower`. */
export function equalsLower(s: string, lower: string): boolean {
  return s.length === lower.length && (s === lower || s.toLowerCase() === lower);
}
