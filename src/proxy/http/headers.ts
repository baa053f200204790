/**
 * Header list helpers over a message head. `headers` and `lowerNames` are parallel arrays;
 * every mutation here keeps them in sync. Values are strings of latin1 characters (one per
 * byte), as the HTTP/1 parser produces them.
 *
 * Two views of a header exist in HAProxy: the full line (`req.fhdr`, `replace-header`) and the
 * comma-separated values (`req.hdr`, `hdr_cnt`, `replace-value`), where commas inside double
 * quotes do not split and blanks around each value are dropped.
 *
 * @module
 */

import type { MessageHead } from "../http1/types.ts";
import { ParsedHead } from "../http1/fields.ts";

/** The first full-line value of header `lowerName`, or null when absent. */
export function getHeader(head: MessageHead, lowerName: string): string | null {
  const i = head.lowerNames.indexOf(lowerName);
  return i < 0 ? null : head.headers[i][1];
}

/** Every full-line value of header `lowerName` (all headers when null), in order (`fhdr`). */
export function getHeaderLines(head: MessageHead, lowerName: string | null): string[] {
  const out: string[] = [];
  for (let i = 0; i < head.lowerNames.length; i++) {
    if (lowerName === null || head.lowerNames[i] === lowerName) out.push(head.headers[i][1]);
  }
  return out;
}

/**
 * Every comma-separated value of header `lowerName` (all headers when null), in order, as
 * HAProxy's `hdr()` sees them: `X: a, b` + `X: c` gives `["a", "b", "c"]`.
 */
export function getHeaderValues(head: MessageHead, lowerName: string | null): string[] {
  const out: string[] = [];
  for (const line of getHeaderLines(head, lowerName)) out.push(...splitValues(line));
  return out;
}

/** Splits a list header value at commas outside double quotes, trimming blanks of each part. */
export function splitValues(value: string): string[] {
  return splitRaw(value).map(trimBlanks);
}

/** Splits a value at commas outside double quotes, keeping each piece's blanks. */
export function splitRaw(value: string): string[] {
  const out: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x22) quoted = !quoted;
    else if (c === 0x5c && quoted) i++;
    else if (c === 0x2c && !quoted) {
      out.push(value.slice(start, i));
      start = i + 1;
    }
  }
  out.push(value.slice(start));
  return out;
}

/** Removes leading and trailing spaces and tabs. */
export function trimBlanks(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && (s.charCodeAt(a) === 0x20 || s.charCodeAt(a) === 0x09)) a++;
  while (b > a && (s.charCodeAt(b - 1) === 0x20 || s.charCodeAt(b - 1) === 0x09)) b--;
  return s.slice(a, b);
}

/** Appends a header line `name: value` (name case kept; the serializer lower-cases). A parsed
 * head whose fields nobody read yet stays undecoded. */
export function addHeader(head: MessageHead, name: string, value: string): void {
  if (head instanceof ParsedHead) return head.append(name, value);
  head.headers.push([name, value]);
  head.lowerNames.push(name.toLowerCase());
}

/** Removes every header named `name` (any case); returns how many were removed. */
export function delHeader(head: MessageHead, name: string): number {
  const lower = name.toLowerCase();
  return delHeadersWhere(head, (n) => n === lower);
}

/** Removes every header whose lower-cased name passes `test`; returns how many. */
export function delHeadersWhere(head: MessageHead, test: (lowerName: string) => boolean): number {
  let removed = 0;
  for (let i = head.lowerNames.length - 1; i >= 0; i--) {
    if (test(head.lowerNames[i])) {
      head.headers.splice(i, 1);
      head.lowerNames.splice(i, 1);
      removed++;
    }
  }
  return removed;
}

/** Replaces every header named `name` with one `name: value` line appended at the end
 * (HAProxy's set-header: delete all, then add). */
export function setHeader(head: MessageHead, name: string, value: string): void {
  delHeader(head, name);
  addHeader(head, name, value);
}

/** Sets the full value of the header at index `i`. */
export function replaceHeaderAt(head: MessageHead, i: number, value: string): void {
  head.headers[i] = [head.headers[i][0], value];
}

/** Removes the header at index `i`. */
export function removeHeaderAt(head: MessageHead, i: number): void {
  head.headers.splice(i, 1);
  head.lowerNames.splice(i, 1);
}

/** Encodes text of latin1 characters as one byte each (header and head text). */
export function encodeLatin1(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}
