/**
 * HTTP/1.1 message head serialization and chunked-encoding helpers. Heads are written in one
 * pass into one exactly-sized Uint8Array. Header names are lower-cased by default, as HAProxy
 * does in HTTP mode (both directions).
 *
 * @module
 */

import { allocBytes } from "../bytes.ts";
import { writeLatin1 } from "./chars.ts";
import type { HeaderList } from "./types.ts";

/** Options of the head serializers. */
export interface SerializeOptions {
  /** Lower-case header names on output (HAProxy behaviour). Default true. */
  lowercase?: boolean;
  /** Bytes of room left after the head in the returned array (for a small body). Default 0. */
  reserve?: number;
}

/** A request line. */
export interface RequestLine {
  method: string;
  target: string;
  /** Default `HTTP/1.1`. */
  version?: string;
}

/** A status line. */
export interface StatusLine {
  status: number;
  /** Reason phrase; may be empty. */
  reason: string;
  /** Default `HTTP/1.1`. */
  version?: string;
}

/**
 * The version HAProxy writes when forwarding: versions above 1.1 (e.g. `HTTP/1.2`, `HTTP/2.0`
 * in an HTTP/1 request line) become `HTTP/1.1`; `HTTP/1.0`, `HTTP/0.9` and `HTTP/1.1` stay.
 */
export function forwardedVersion(version: string): string {
  const major = version.charCodeAt(5) - 0x30;
  const minor = version.charCodeAt(7) - 0x30;
  return major > 1 || (major === 1 && minor > 1) ? "HTTP/1.1" : version;
}

const encoder = new TextEncoder();

/** Encodes head text: one native ASCII encode, or a byte-per-code-unit copy when the text
 * holds non-ASCII (latin1) characters. */
function encodeHead(text: string, reserve = 0): Uint8Array {
  const out = allocBytes(text.length + reserve);
  const r = encoder.encodeInto(text, out);
  if (r.written === text.length && r.read === text.length) return out;
  writeLatin1(out, 0, text);
  return out;
}

function headerText(headers: HeaderList, lower: boolean): string {
  let t = "";
  for (let i = 0; i < headers.length; i++) {
    const h = headers[i];
    t += (lower ? h[0].toLowerCase() : h[0]) + ": " + h[1] + "\r\n";
  }
  return t + "\r\n";
}

/** Serializes `METHOD target VERSION\r\n` + headers + `\r\n`. */
export function serializeRequestHead(
  line: RequestLine,
  headers: HeaderList,
  options: SerializeOptions = {},
): Uint8Array {
  return encodeHead(
    line.method + " " + line.target + " " + (line.version ?? "HTTP/1.1") + "\r\n" +
      headerText(headers, options.lowercase ?? true),
  );
}

/** Serializes `VERSION status reason\r\n` + headers + `\r\n`. */
export function serializeResponseHead(
  line: StatusLine,
  headers: HeaderList,
  options: SerializeOptions = {},
): Uint8Array {
  return encodeHead(
    (line.version ?? "HTTP/1.1") + " " + line.status + " " + line.reason + "\r\n" +
      headerText(headers, options.lowercase ?? true),
    options.reserve,
  );
}

/** `\r\n`, written after each chunk's data. */
export const CRLF: Uint8Array = new Uint8Array([13, 10]);

/** The last chunk with no trailers: `0\r\n\r\n`. */
export const LAST_CHUNK: Uint8Array = new Uint8Array([0x30, 13, 10, 13, 10]);

/** A chunk size line, `<hex>\r\n` (lower-case hex, as HAProxy writes it). `size` must be > 0. */
export function chunkHeader(size: number): Uint8Array {
  const hex = size.toString(16);
  const out = allocBytes(hex.length + 2);
  const pos = writeLatin1(out, 0, hex);
  out[pos] = 13;
  out[pos + 1] = 10;
  return out;
}

/** One whole chunk (size line, data, CRLF) in a new buffer; empty data gives an empty array
 * (an empty chunk would end the body). Prefer `chunkHeader` + data + `CRLF` as three writes to
 * avoid the copy on large bodies. */
export function encodeChunk(data: Uint8Array): Uint8Array {
  if (data.length === 0) return new Uint8Array(0);
  const h = chunkHeader(data.length);
  const out = allocBytes(h.length + data.length + 2);
  out.set(h, 0);
  out.set(data, h.length);
  out[out.length - 2] = 13;
  out[out.length - 1] = 10;
  return out;
}

/** The last chunk followed by `trailers` (names lower-cased by default) and the final CRLF. */
export function encodeLastChunk(
  trailers: HeaderList | null,
  options: SerializeOptions = {},
): Uint8Array {
  if (trailers === null || trailers.length === 0) return LAST_CHUNK.slice();
  return encodeHead("0\r\n" + headerText(trailers, options.lowercase ?? true));
}
