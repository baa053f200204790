/**
 * The header fields of a parsed message head, kept as byte offsets into the bytes they arrived
 * in until something reads them as strings.
 *
 * Why: a proxy that only routes on the request line and appends `X-Forwarded-For` never looks at
 * most fields; decoding each to a string and encoding it back cost more per request than the
 * parsing itself (measured: ~5 µs of the ~30 µs a proxied request cost). A head that nobody
 * asked about is written out by copying its field bytes (names lower-cased, as HAProxy writes
 * them); `headers`/`lowerNames` decode everything on first use, and from then on the string
 * lists are the truth (rules mutate them in place) and the bytes are let go.
 *
 * A head parsed in place may point into the caller's read buffer ("borrowed"): the caller calls
 * {@linkcode ParsedHead.detach} before those bytes are overwritten (see `ReadBuffer.pin`).
 *
 * @module
 */

import { COLON, CR, latin1, LF, SP, writeLatin1 } from "./chars.ts";
import type { HeaderList } from "./types.ts";

/** Span flag: the field name holds upper-case letters. */
export const F_UPPER = 1;
/** Span flag: a `Connection` field. */
export const F_CONNECTION = 2;
/** Numbers per field in a span list: name start, name end, value start, value end, flags. */
export const SPAN_STRIDE = 5;

/** What the head parser found about the fields of one head (offsets relative to `from`). */
export interface FieldSpans {
  /** The bytes: the parse input, or a private copy. */
  src: Uint8Array;
  /** Index in `src` of the head's first byte; span offsets count from it. */
  from: number;
  /** Index in `src` just after the head. */
  to: number;
  /** SPAN_STRIDE numbers per field. */
  spans: number[];
  /** Per field: the value as a string when the parser made one (special fields, unfolded or
   * cleaned values), else null (decoded from the bytes when needed). */
  values: (string | null)[];
  /** Some `Connection` field names a token other than `close`/`keep-alive`. */
  connectionOther: boolean;
}

/**
 * Lazily decoded header fields (see the module doc). The parsed request and response heads
 * extend it, so `headers` and `lowerNames` read like plain properties.
 */
export class ParsedHead {
  #src: Uint8Array | null;
  #from: number;
  #to: number;
  #spans: number[];
  #values: (string | null)[];
  #connectionOther: boolean;
  /** `#src` is the parse input, which its owner may overwrite (see `detach`). */
  #borrowed = true;
  /** Fields appended before anyone read the list (e.g. `X-Forwarded-For`). */
  #extra: HeaderList | null = null;
  #headers: HeaderList | null = null;
  #lower: string[] | null = null;

  constructor(f: FieldSpans) {
    this.#src = f.src;
    this.#from = f.from;
    this.#to = f.to;
    this.#spans = f.spans;
    this.#values = f.values;
    this.#connectionOther = f.connectionOther;
  }

  /** Header fields in order (decoded on first use). */
  get headers(): HeaderList {
    if (this.#headers === null) this.#decode();
    return this.#headers!;
  }

  /** Lower-case header names, parallel to `headers` (decoded on first use). */
  get lowerNames(): string[] {
    if (this.#lower === null) this.#decode();
    return this.#lower!;
  }

  /** True while the fields are still bytes (nobody read or changed the lists). */
  get undecoded(): boolean {
    return this.#headers === null;
  }

  /**
   * Appends a field. While the head is undecoded it is only remembered (written after the
   * received fields); a `Connection` field decodes the head first, because forwarding rewrites
   * Connection fields.
   */
  append(name: string, value: string): void {
    if (this.#headers === null && !(name.length === 10 && name.toLowerCase() === "connection")) {
      (this.#extra ??= []).push([name, value]);
      return;
    }
    this.headers.push([name, value]);
    this.lowerNames.push(name.toLowerCase());
  }

  /** Gives the head its own copy of its bytes (call before the parse input is reused). */
  detach(): void {
    if (this.#src === null || !this.#borrowed) return;
    this.#borrowed = false;
    this.#src = this.#src.slice(this.#from, this.#to);
    this.#to -= this.#from;
    this.#from = 0;
  }

  /**
   * The owner is done with the fields (the head was forwarded): the bytes are let go without a
   * copy. Reading the fields afterwards throws.
   */
  release(): void {
    if (this.#headers === null) this.#src = null;
  }

  /**
   * Bytes {@linkcode writeFields} will write for the fields, with `token` as a trailing
   * `connection` field when not null; -1 when the fields cannot be written from bytes (already
   * decoded, or a Connection field that needs rewriting).
   */
  fieldsLength(token: string | null): number {
    if (this.#headers !== null || this.#connectionOther) return -1;
    const s = this.#spans;
    const values = this.#values;
    let n = 2;
    for (let i = 0, k = 0; i < s.length; i += SPAN_STRIDE, k++) {
      if ((s[i + 4] & F_CONNECTION) !== 0) continue;
      const v = values[k];
      n += s[i + 1] - s[i] + 4 + (v === null ? s[i + 3] - s[i + 2] : v.length);
    }
    const extra = this.#extra;
    if (extra !== null) {
      for (let i = 0; i < extra.length; i++) n += extra[i][0].length + extra[i][1].length + 4;
    }
    if (token !== null) n += 14 + token.length;
    return n;
  }

  /**
   * Writes the fields as HAProxy forwards them — `name: value\r\n` with the name lower-cased,
   * `Connection` fields dropped (they carry only `close`/`keep-alive`, see `fieldsLength`), the
   * appended fields, then `connection: <token>` — and the final empty line, at `pos` of `out`.
   * Returns the end. Only valid when {@linkcode fieldsLength} was not -1.
   */
  writeFields(out: Uint8Array, pos: number, token: string | null): number {
    const b = this.#src!;
    const base = this.#from;
    const s = this.#spans;
    const values = this.#values;
    for (let i = 0, k = 0; i < s.length; i += SPAN_STRIDE, k++) {
      const flags = s[i + 4];
      if ((flags & F_CONNECTION) !== 0) continue;
      const ne = base + s[i + 1];
      let p = base + s[i];
      if ((flags & F_UPPER) !== 0) {
        for (; p < ne; p++) {
          const c = b[p];
          out[pos++] = c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
        }
      } else {
        for (; p < ne; p++) out[pos++] = b[p];
      }
      out[pos++] = COLON;
      out[pos++] = SP;
      const v = values[k];
      if (v !== null) pos = writeLatin1(out, pos, v);
      else {
        const ve = base + s[i + 3];
        p = base + s[i + 2];
        if (ve - p > 64) {
          out.set(b.subarray(p, ve), pos);
          pos += ve - p;
        } else {
          for (; p < ve; p++) out[pos++] = b[p];
        }
      }
      out[pos++] = CR;
      out[pos++] = LF;
    }
    const extra = this.#extra;
    if (extra !== null) {
      for (let i = 0; i < extra.length; i++) {
        pos = writeLatin1(out, pos, extra[i][0].toLowerCase());
        out[pos++] = COLON;
        out[pos++] = SP;
        pos = writeLatin1(out, pos, extra[i][1]);
        out[pos++] = CR;
        out[pos++] = LF;
      }
    }
    if (token !== null) {
      pos = writeLatin1(out, pos, "connection: ");
      pos = writeLatin1(out, pos, token);
      out[pos++] = CR;
      out[pos++] = LF;
    }
    out[pos++] = CR;
    out[pos++] = LF;
    return pos;
  }

  #decode(): void {
    const b = this.#src;
    if (b === null) throw new Error("header fields read after their head was released");
    const base = this.#from;
    const s = this.#spans;
    const values = this.#values;
    const n = s.length / SPAN_STRIDE;
    const headers: HeaderList = new Array(n);
    const lower: string[] = new Array(n);
    const text = asciiText(b, base, this.#to);
    for (let i = 0, k = 0; k < n; i += SPAN_STRIDE, k++) {
      const name = text !== null
        ? text.slice(s[i], s[i + 1])
        : latin1(b, base + s[i], base + s[i + 1]);
      const v = values[k] ??
        (text !== null
          ? text.slice(s[i + 2], s[i + 3])
          : latin1(b, base + s[i + 2], base + s[i + 3]));
      headers[k] = [name, v];
      lower[k] = (s[i + 4] & F_UPPER) !== 0 ? name.toLowerCase() : name;
    }
    const extra = this.#extra;
    if (extra !== null) {
      for (const [name, value] of extra) {
        headers.push([name, value]);
        lower.push(name.toLowerCase());
      }
    }
    this.#headers = headers;
    this.#lower = lower;
    // The strings are the truth from now on; the bytes may go.
    this.#src = null;
    this.#spans = EMPTY;
    this.#values = [];
    this.#extra = null;
  }
}

const EMPTY: number[] = [];
const utf8 = new TextDecoder();

/** b[s..e) as a string when it is all ASCII (one native decode), else null. */
function asciiText(b: Uint8Array, s: number, e: number): string | null {
  const t = utf8.decode(b.subarray(s, e));
  return t.length === e - s && t.indexOf("\ufffd") < 0 ? t : null;
}
