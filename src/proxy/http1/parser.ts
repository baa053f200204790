/**
 * Incremental HTTP/1.1 request and response parsers (no I/O). A connection loop passes the bytes
 * it has to `execute()`, which returns one event and how many bytes it consumed; the caller keeps
 * the unconsumed rest (pipelining) and calls again until it gets `need_more`.
 *
 * ```ts
 * const p = new RequestParser();
 * let off = 0;
 * for (;;) {
 *   const ev = p.execute(buf.subarray(off, len));
 *   off += ev.consumed;
 *   if (ev.type === "need_more") break; // read more into buf
 *   if (ev.type === "error") { send(ERROR_400); close(); break; }
 *   // "head" | "body" (ev.data is a view into buf) | "end" (next message may follow)
 * }
 * ```
 *
 * Heads are parsed in place when they arrive whole (the common case) and are otherwise gathered
 * into an internal buffer that is scanned only once. Bodies are never copied.
 *
 * @module
 */

import { CR, HEX, HT, LF, SP } from "./chars.ts";
import {
  type HeadSpan,
  type ParsedRequestHead,
  type ParsedResponseHead,
  parseRequestHead,
  parseResponseHead,
  parseTrailers,
} from "./head.ts";
import type { ParsedHead } from "./fields.ts";
import {
  DEFAULT_MAX_HEAD_BYTES,
  DEFAULT_MAX_HEADERS,
  type HeaderList,
  isParseError,
  type MessageHead,
  type ParseError,
  type ParseErrorReason,
  type ParseEvent,
  type ParserOptions,
  type ResponseHead,
} from "./types.ts";

const enum St {
  Head,
  Length,
  ChunkSize,
  ChunkSizeWs,
  ChunkExt,
  ChunkSizeLf,
  ChunkData,
  ChunkDataCr,
  ChunkDataLf,
  TrailerStart,
  TrailerStartLf,
  Trailers,
  UntilClose,
  EndPending,
  Failed,
}

const NEED_MORE_0 = { type: "need_more", consumed: 0 } as const;
const EMPTY = new Uint8Array(0);

/**
 * Finds the end of a header (or trailer) section in b[from..to): the index just after an LF
 * followed by an empty line (CRLF or bare LF). Returns -1 when more data is needed.
 */
function scanEnd(b: Uint8Array, from: number, to: number): number {
  for (let p = from; p < to; p++) {
    if (b[p] !== LF) continue;
    const n1 = p + 1;
    if (n1 >= to) return -1;
    const c = b[n1];
    if (c === LF) return n1 + 1;
    if (c === CR) {
      if (n1 + 1 >= to) return -1;
      if (b[n1 + 1] === LF) return n1 + 2;
    }
  }
  return -1;
}

/** Shared incremental machinery; see RequestParser and ResponseParser. */
abstract class Http1Parser<H extends MessageHead & ParsedHead> {
  readonly #maxHead: number;
  readonly #borrow: boolean;
  /** Limits passed to the head parser. */
  protected readonly limits: { maxHeaders: number };
  #st: St = St.Head;
  /** Gathers a head that arrives in pieces (grown on first use: a fresh Uint8Array, even an
   * empty one, costs ~0.5 µs in Deno, and most heads arrive whole). */
  #buf: Uint8Array = EMPTY;
  #len = 0;
  #scan = 0;
  #started = false;
  #pendingCr = false;
  #skipped = 0;
  #remaining = 0;
  #chunkDigits = 0;
  #msgOffset = 0;
  #trailers: HeaderList | null = null;
  #error: ParseError | null = null;

  constructor(options: ParserOptions = {}) {
    this.#maxHead = options.maxHeadBytes ?? DEFAULT_MAX_HEAD_BYTES;
    this.#borrow = options.borrow ?? false;
    this.limits = { maxHeaders: options.maxHeaders ?? DEFAULT_MAX_HEADERS };
  }

  /** Parses a complete head found in `span`. */
  protected abstract parseHead(span: HeadSpan): H | ParseError;
  /** True for the request parser (selects trailer error status). */
  protected abstract readonly isRequest: boolean;

  /** True when no byte of a next message has been seen (safe point to close a connection). */
  get idle(): boolean {
    return this.#st === St.Head && !this.#started && this.#len === 0;
  }

  /** Forgets any partial message and error; the next byte starts a new message. */
  reset(): void {
    this.#startMessage();
    this.#error = null;
  }

  /**
   * Consumes bytes from `input` and returns the next event. `input` may be empty (needed to
   * collect an `end` that follows a body). After `error`, the parser stays failed until reset.
   */
  execute(input: Uint8Array): ParseEvent<H> {
    switch (this.#st) {
      case St.Head:
        return this.#execHead(input);
      case St.Length: {
        const n = input.length;
        if (n === 0) return NEED_MORE_0;
        const take = n < this.#remaining ? n : this.#remaining;
        this.#remaining -= take;
        this.#msgOffset += take;
        if (this.#remaining === 0) this.#st = St.EndPending;
        return { type: "body", consumed: take, data: input.subarray(0, take) };
      }
      case St.UntilClose:
        if (input.length === 0) return NEED_MORE_0;
        this.#msgOffset += input.length;
        return { type: "body", consumed: input.length, data: input };
      case St.EndPending:
        return this.#endNow(0);
      case St.Failed:
        return { type: "error", consumed: 0, error: this.#error! };
      default:
        return this.#execChunked(input);
    }
  }

  /**
   * Tells the parser the peer closed. Returns `end` when that completes a close-delimited body
   * (or a finished message still to be collected), null when no message was in progress, or a
   * `truncated` error when a message was cut short.
   */
  eof(): ParseEvent<H> | null {
    if (this.#st === St.UntilClose || this.#st === St.EndPending) return this.#endNow(0);
    if (this.idle) return null;
    if (this.#st === St.Failed) return { type: "error", consumed: 0, error: this.#error! };
    return this.#fail(
      "truncated",
      this.#st === St.Head ? this.#skipped + this.#len : this.#msgOffset,
    );
  }

  #startMessage(): void {
    this.#st = St.Head;
    this.#len = 0;
    this.#scan = 0;
    this.#started = false;
    this.#pendingCr = false;
    this.#skipped = 0;
    this.#msgOffset = 0;
    this.#trailers = null;
  }

  #fail(reason: ParseErrorReason, offset: number, status?: number): ParseEvent<H> {
    this.#st = St.Failed;
    this.#error = { reason, offset, status: status ?? (this.isRequest ? 400 : 502) };
    return { type: "error", consumed: 0, error: this.#error };
  }

  #failWith(e: ParseError): ParseEvent<H> {
    this.#st = St.Failed;
    this.#error = e;
    return { type: "error", consumed: 0, error: e };
  }

  /** Appends input bytes to the gather buffer, at most `room` of them; returns how many. */
  #gather(input: Uint8Array, from: number, room: number): number {
    const take = Math.min(input.length - from, room);
    const need = this.#len + take;
    if (need > this.#buf.length) {
      let size = Math.max(1024, this.#buf.length * 2);
      while (size < need) size *= 2;
      const nb = new Uint8Array(size);
      nb.set(this.#buf.subarray(0, this.#len));
      this.#buf = nb;
    }
    this.#buf.set(input.subarray(from, from + take), this.#len);
    this.#len += take;
    return take;
  }

  #execHead(input: Uint8Array): ParseEvent<H> {
    const n = input.length;
    let i = 0;
    if (!this.#started) {
      // Leading empty lines before the start line are skipped, as HAProxy does.
      for (;;) {
        if (i === n) return { type: "need_more", consumed: n };
        const c = input[i];
        if (this.#pendingCr) {
          if (c !== LF) return this.#fail("bad_line_ending", this.#skipped - 1);
          this.#pendingCr = false;
        } else if (c === CR) this.#pendingCr = true;
        else if (c !== LF) break;
        i++;
        this.#skipped++;
      }
      this.#started = true;
    }
    const max = this.#maxHead;
    if (this.#len === 0) {
      const end = scanEnd(input, i, n);
      if (end > 0) {
        if (end - i > max) return this.#fail("head_too_large", this.#skipped + max);
        return this.#headDone({ buf: input, base: i - this.#skipped, start: i, end }, end);
      }
      if (n - i > max) return this.#fail("head_too_large", this.#skipped + max);
      this.#gather(input, i, n - i);
      this.#scan = Math.max(0, this.#len - 2);
      return { type: "need_more", consumed: n };
    }
    const before = this.#len;
    const took = this.#gather(input, 0, max - before);
    const end = scanEnd(this.#buf, this.#scan, this.#len);
    if (end > 0) {
      const span = { buf: this.#buf, base: -this.#skipped, start: 0, end };
      return this.#headDone(span, end - before);
    }
    if (this.#len >= max) return this.#fail("head_too_large", this.#skipped + max);
    this.#scan = Math.max(0, this.#len - 2);
    return { type: "need_more", consumed: took };
  }

  #headDone(span: HeadSpan, consumed: number): ParseEvent<H> {
    const head = this.parseHead(span);
    if (isParseError(head)) return this.#failWith(head);
    // A head gathered here lives in a buffer the next message reuses.
    if (!this.#borrow || span.buf === this.#buf) head.detach();
    this.#len = 0;
    this.#scan = 0;
    this.#msgOffset = head.headLength;
    switch (head.bodyKind) {
      case "length":
        this.#st = St.Length;
        this.#remaining = head.contentLength;
        break;
      case "chunked":
        this.#st = St.ChunkSize;
        this.#remaining = 0;
        this.#chunkDigits = 0;
        break;
      case "close":
      case "tunnel":
        this.#st = St.UntilClose;
        break;
      default:
        this.#st = St.EndPending;
        if ((head as unknown as ResponseHead).interim === true) {
          this.#startMessage();
          return { type: "head", consumed, head };
        }
    }
    return { type: "head", consumed, head };
  }

  #execChunked(input: Uint8Array): ParseEvent<H> {
    const n = input.length;
    let i = 0;
    while (i < n) {
      const c = input[i];
      switch (this.#st) {
        case St.ChunkSize: {
          const h = HEX[c];
          if (h >= 0) {
            if (this.#remaining > (Number.MAX_SAFE_INTEGER - h) / 16) {
              return this.#fail("bad_chunk_size", this.#msgOffset + i);
            }
            this.#remaining = this.#remaining * 16 + h;
            this.#chunkDigits++;
            break;
          }
          if (this.#chunkDigits === 0) return this.#fail("bad_chunk_size", this.#msgOffset + i);
          if (c === SP || c === HT) this.#st = St.ChunkSizeWs;
          else if (c === 0x3b) this.#st = St.ChunkExt;
          else if (c === CR) this.#st = St.ChunkSizeLf;
          else if (c === LF) {
            i++;
            this.#sizeLineDone();
            continue;
          } else return this.#fail("bad_chunk_size", this.#msgOffset + i);
          break;
        }
        case St.ChunkSizeWs:
          if (c === 0x3b) this.#st = St.ChunkExt;
          else if (c === CR) this.#st = St.ChunkSizeLf;
          else if (c === LF) {
            i++;
            this.#sizeLineDone();
            continue;
          } else if (c !== SP && c !== HT) return this.#fail("bad_chunk_size", this.#msgOffset + i);
          break;
        case St.ChunkExt: {
          // Extensions are skipped (HAProxy drops them when forwarding).
          const lf = input.indexOf(LF, i);
          const stop = lf < 0 ? n : lf;
          const cr = input.subarray(i, stop).indexOf(CR);
          if (cr >= 0) {
            i += cr;
            if (i + 1 < n && input[i + 1] !== LF) {
              return this.#fail("bad_chunk_size", this.#msgOffset + i);
            }
            this.#st = St.ChunkSizeLf;
            break;
          }
          if (lf < 0) {
            i = n;
            continue;
          }
          i = lf + 1;
          this.#sizeLineDone();
          continue;
        }
        case St.ChunkSizeLf: {
          if (c !== LF) return this.#fail("bad_chunk_size", this.#msgOffset + i);
          i++;
          this.#sizeLineDone();
          continue;
        }
        case St.ChunkData: {
          const avail = n - i;
          const take = avail < this.#remaining ? avail : this.#remaining;
          this.#remaining -= take;
          if (this.#remaining === 0) this.#st = St.ChunkDataCr;
          this.#msgOffset += i + take;
          return { type: "body", consumed: i + take, data: input.subarray(i, i + take) };
        }
        case St.ChunkDataCr:
          if (c === CR) this.#st = St.ChunkDataLf;
          else if (c === LF) this.#newChunk();
          else return this.#fail("bad_chunk_end", this.#msgOffset + i);
          break;
        case St.ChunkDataLf:
          if (c !== LF) return this.#fail("bad_chunk_end", this.#msgOffset + i);
          this.#newChunk();
          break;
        case St.TrailerStart:
          if (c === CR) this.#st = St.TrailerStartLf;
          else if (c === LF) return this.#finishChunked(i + 1, null);
          else return this.#execTrailers(input, i);
          break;
        case St.TrailerStartLf:
          if (c !== LF) return this.#fail("bad_trailer", this.#msgOffset + i);
          return this.#finishChunked(i + 1, null);
        case St.Trailers:
          return this.#execTrailers(input, i);
      }
      i++;
    }
    this.#msgOffset += n;
    return { type: "need_more", consumed: n };
  }

  #newChunk(): void {
    this.#st = St.ChunkSize;
    this.#remaining = 0;
    this.#chunkDigits = 0;
  }

  /** A chunk size line ended: go to its data, or to the trailers after the last chunk. */
  #sizeLineDone(): void {
    this.#st = this.#remaining === 0 ? St.TrailerStart : St.ChunkData;
  }

  #finishChunked(consumed: number, trailers: HeaderList | null): ParseEvent<H> {
    this.#trailers = trailers;
    return this.#endNow(consumed);
  }

  #endNow(consumed: number): ParseEvent<H> {
    const trailers = this.#trailers;
    this.#startMessage();
    return { type: "end", consumed, trailers };
  }

  #execTrailers(input: Uint8Array, i: number): ParseEvent<H> {
    this.#st = St.Trailers;
    const before = this.#len;
    const took = this.#gather(input, i, this.#maxHead - before);
    const end = scanEnd(this.#buf, this.#scan, this.#len);
    if (end > 0) {
      const base = -(this.#msgOffset + i - before);
      const t = parseTrailers({ buf: this.#buf, base, start: 0, end }, this.limits, this.isRequest);
      if (isParseError(t)) return this.#failWith(t);
      this.#trailers = t;
      return this.#endNow(i + end - before);
    }
    if (this.#len >= this.#maxHead) return this.#fail("bad_trailer", this.#msgOffset + i);
    this.#scan = Math.max(0, this.#len - 2);
    this.#msgOffset += i + took;
    return { type: "need_more", consumed: i + took };
  }
}

/** Incremental HTTP/1.x request parser (one per client connection, reused across requests). */
export class RequestParser extends Http1Parser<ParsedRequestHead> {
  /** Always true. */
  protected readonly isRequest = true;

  /** Parses a request head (see `parseRequestHead`). */
  protected parseHead(span: HeadSpan): ParsedRequestHead | ParseError {
    return parseRequestHead(span, this.limits);
  }
}

/**
 * Incremental HTTP/1.x response parser (one per server connection). Call `setRequestMethod`
 * before each response so HEAD and CONNECT responses are framed right.
 */
export class ResponseParser extends Http1Parser<ParsedResponseHead> {
  /** Always false. */
  protected readonly isRequest = false;
  #method = "GET";

  /** Sets the method of the request the next response answers. */
  setRequestMethod(method: string): void {
    this.#method = method;
  }

  /** Parses a response head (see `parseResponseHead`). */
  protected parseHead(span: HeadSpan): ParsedResponseHead | ParseError {
    return parseResponseHead(span, this.limits, this.#method);
  }
}
