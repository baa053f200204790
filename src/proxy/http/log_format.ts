/**
 * Renders values with `%[fetch(arg)]` sample expressions (HAProxy's log-format strings used by
 * set-header, set-path, return, redirect...). A missing sample renders as nothing, as in
 * header values (haproxy 2.6.12: `a%[hdr(nothere)]b` gives `ab`).
 *
 * @module
 */

import type { LogFormat } from "../../config/types.ts";
import { type FetchOptions, fetchSample, sampleText } from "./fetch.ts";
import type { HttpTxn } from "./txn.ts";

/** Options of {@linkcode renderFormat}. */
export interface RenderOptions extends FetchOptions {
  /** Text for a sample that has no value; default "" (log lines use "-"). */
  readonly missing?: string;
}

/** The text of `fmt` for `txn`: literals as written, each sample as its single value. */
export function renderFormat(fmt: LogFormat, txn: HttpTxn, options: RenderOptions = {}): string {
  let out = "";
  for (const part of fmt) {
    if (typeof part === "string") {
      out += part;
      continue;
    }
    const s = fetchSample(txn, part.fetch, part.arg, options);
    out += s === null ? options.missing ?? "" : sampleText(s);
  }
  return out;
}
