/**
 * Runs the malformed / smuggling corpus in testdata/malformed: each `<case>.txt` holds the raw
 * request (escaped: `\r`, `\n`, `\t`, `\\`, `\xHH`; real newlines are ignored), each
 * `<case>.expected` starts with `reject: <reason> <status>`, `accept: <framing> body=<json>
 * [must_close]` or `incomplete`, may give `headers:`/`trailers:` as JSON, and records the
 * HAProxy 2.6.12 verdict on a `haproxy:` line. Every case is also fed one byte at a time.
 *
 * @module
 */

import assert from "node:assert/strict";
import { RequestParser } from "./parser.ts";
import type { HeaderList } from "./types.ts";

const DIR = new URL("./testdata/malformed/", import.meta.url);

/** Decodes the corpus escape format into bytes. */
export function unescapeCorpus(text: string): Uint8Array {
  const t = text.replaceAll("\n", "");
  const out: number[] = [];
  for (let i = 0; i < t.length; i++) {
    const ch = t[i];
    if (ch === "\\" && i + 1 < t.length) {
      const n = t[i + 1];
      if (n === "r" || n === "n" || n === "t" || n === "\\") {
        out.push(n === "r" ? 13 : n === "n" ? 10 : n === "t" ? 9 : 92);
        i++;
        continue;
      }
      if (n === "x") {
        out.push(parseInt(t.slice(i + 2, i + 4), 16));
        i += 3;
        continue;
      }
    }
    out.push(t.charCodeAt(i));
  }
  return new Uint8Array(out);
}

/** What the parser made of the first message of a case. */
type Outcome =
  | { kind: "reject"; reason: string; status: number }
  | { kind: "incomplete" }
  | {
    kind: "accept";
    framing: string;
    body: string;
    mustClose: boolean;
    headers: HeaderList;
    trailers: HeaderList | null;
  };

function latin1String(chunks: Uint8Array[]): string {
  let s = "";
  for (const c of chunks) for (const b of c) s += String.fromCharCode(b);
  return s;
}

/** Feeds `bytes` in pieces of `step` bytes (0 = all at once) and returns the first message. */
export function runCase(bytes: Uint8Array, step: number): Outcome {
  const p = new RequestParser();
  const body: Uint8Array[] = [];
  let head = null;
  let pos = 0;
  let avail = step === 0 ? bytes.length : Math.min(step, bytes.length);
  for (let guard = 0; guard < 100_000; guard++) {
    const ev = p.execute(bytes.subarray(pos, avail));
    pos += ev.consumed;
    if (ev.type === "error") {
      return { kind: "reject", reason: ev.error.reason, status: ev.error.status };
    }
    if (ev.type === "head") head = ev.head;
    else if (ev.type === "body") body.push(ev.data.slice());
    else if (ev.type === "end") {
      assert.ok(head);
      return {
        kind: "accept",
        framing: head.bodyKind,
        body: latin1String(body),
        mustClose: head.mustClose,
        headers: head.headers,
        trailers: ev.trailers,
      };
    } else {
      if (avail >= bytes.length) return { kind: "incomplete" };
      avail = step === 0 ? bytes.length : Math.min(avail + step, bytes.length);
    }
  }
  throw new Error("parser did not converge");
}

interface Expected {
  line: string;
  headers?: HeaderList;
  trailers?: HeaderList;
  haproxy: string;
}

function parseExpected(text: string): Expected {
  const lines = text.split("\n").filter((l) => l.length > 0);
  const e: Expected = { line: lines[0], haproxy: "" };
  for (const l of lines.slice(1)) {
    const at = l.indexOf(": ");
    const key = l.slice(0, at);
    const value = l.slice(at + 2);
    if (key === "headers") e.headers = JSON.parse(value);
    else if (key === "trailers") e.trailers = JSON.parse(value);
    else if (key === "haproxy") e.haproxy = value;
    else throw new Error(`unknown key ${key}`);
  }
  return e;
}

/** The one-line verdict of an outcome, in the `.expected` first-line syntax. */
export function verdictLine(o: Outcome): string {
  if (o.kind === "reject") return `reject: ${o.reason} ${o.status}`;
  if (o.kind === "incomplete") return "incomplete";
  return `accept: ${o.framing} body=${JSON.stringify(o.body)}${o.mustClose ? " must_close" : ""}`;
}

const cases: string[] = [];
for (const entry of Deno.readDirSync(DIR)) {
  if (entry.name.endsWith(".txt")) cases.push(entry.name.slice(0, -4));
}
cases.sort();

Deno.test("corpus holds at least 35 cases, each with an expected verdict", () => {
  assert.ok(cases.length >= 35, `only ${cases.length} cases`);
  for (const c of cases) {
    const e = parseExpected(Deno.readTextFileSync(new URL(c + ".expected", DIR)));
    assert.match(e.haproxy, /^verified against haproxy 2\.6\.12: /, c);
  }
});

for (const c of cases) {
  Deno.test(`corpus: ${c}`, () => {
    const bytes = unescapeCorpus(Deno.readTextFileSync(new URL(c + ".txt", DIR)));
    const e = parseExpected(Deno.readTextFileSync(new URL(c + ".expected", DIR)));
    const whole = runCase(bytes, 0);
    assert.equal(verdictLine(whole), e.line);
    if (whole.kind === "accept") {
      if (e.headers) assert.deepEqual(whole.headers, e.headers);
      if (e.trailers) assert.deepEqual(whole.trailers, e.trailers);
    }
    assert.deepEqual(runCase(bytes, 1), whole, "byte-at-a-time differs from whole feeding");
    assert.deepEqual(runCase(bytes, 7), whole, "7-byte pieces differ from whole feeding");
  });
}
