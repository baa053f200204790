/**
 * The hash key of the HTTP hash-based balance algorithms, cut from the request the way
 * HAProxy's backend.c does (`balance uri`, `url_param`, `hdr(name)`), using the pure helpers of
 * `balance/keys.ts`. `null` means "no key": the engine falls back to round robin, as HAProxy.
 *
 * `url_param ... check_post` (looking for the parameter in a POST body) is not handled here:
 * only the query string is searched.
 *
 * @module
 */

import type { Balance } from "../../config/types.ts";
import { domainOnlyKey, uriKey, urlParamValue } from "../balance/keys.ts";
import { getHeaderValues } from "./headers.ts";
import type { HttpTxn } from "./txn.ts";

const utf8 = new TextEncoder();

/** The key string (before encoding) for `balance` on `txn.req`; null for none. */
export function httpBalanceKeyText(balance: Balance, txn: HttpTxn): string | null {
  const req = txn.req;
  switch (balance.algorithm) {
    case "uri":
      return uriKey(req.target, balance);
    case "url_param": {
      const q = req.target.indexOf("?");
      return q < 0 ? null : urlParamValue(req.target.slice(q + 1), balance.name);
    }
    case "hdr": {
      // HAProxy hashes the first comma-separated value of the header (get_server_hh).
      const t = getHeaderValues(req, balance.name.toLowerCase())[0];
      if (t === undefined || t === "") return null;
      return balance.useDomainOnly ? domainOnlyKey(t) : t;
    }
    default:
      return null;
  }
}

/** The UTF-8 bytes of {@linkcode httpBalanceKeyText}, for `Balancer.pick`; null for none. */
export function httpBalanceKey(balance: Balance, txn: HttpTxn): Uint8Array | null {
  const k = httpBalanceKeyText(balance, txn);
  return k === null ? null : utf8.encode(k);
}
