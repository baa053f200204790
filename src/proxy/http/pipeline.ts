/**
 * The L7 decisions of one frontend, in HAProxy's fixed order, over a transaction and without
 * I/O: frontend `http_request` rules → `redirect` → `use_backend`/`default_backend` → backend
 * `http_request` rules → forwardfor → cookie persistence; on the response, backend then
 * frontend `http_response` rules and the persistence cookie. The session does the I/O and asks
 * the pipeline what to do at each step.
 *
 * @module
 */
import type { BackendConfig, FrontendConfig } from "../../config/types.ts";
import type { HttpConnectionMode } from "../http1/connection_header.ts";
import { clientKeepsAlive } from "../http1/connection_header.ts";
import { errorResponse, parseErrorResponse } from "../http1/errors.ts";
import type { RequestHead } from "../http1/types.ts";
import type { HttpTxn } from "./txn.ts";
import {
  applyRequestRules,
  applyResponseRules,
  closingErrorfile,
  errorfileResponse,
  firstMatchingRedirect,
  selectBackend,
} from "./rules.ts";
import { applyForwardFor } from "./forwardfor.ts";
import { requestPersistence, responseCookie } from "./cookie.ts";
import { httpBalanceKey } from "./balance_key.ts";

/** What the pipeline needs of a backend. */
export interface L7Backend {
  readonly config: BackendConfig;
}

/** What to do with a request once its head is in. */
export type RequestDecision<B extends L7Backend> =
  | {
    readonly kind: "respond";
    readonly status: number;
    readonly bytes: Uint8Array;
    /** Close the client connection after this response. */
    readonly close: boolean;
    /** A deny (counted in `dreq`), as opposed to a redirect or `return`. */
    readonly denied: boolean;
    readonly backend: B | null;
    readonly mode: HttpConnectionMode;
  }
  | {
    readonly kind: "forward";
    readonly backend: B;
    readonly mode: HttpConnectionMode;
    /** The server the persistence cookie names, if any. */
    readonly server: string | null;
  };

/** A local response replacing the server's (http_response deny). */
export interface ResponseVerdict {
  readonly status: number;
  readonly bytes: Uint8Array;
}

const STRENGTH: Record<HttpConnectionMode, number> = {
  "keep-alive": 0,
  "server-close": 1,
  "close": 2,
};

function frontendMode(o: { httpclose: boolean; httpServerClose: boolean }): HttpConnectionMode {
  return o.httpclose ? "close" : o.httpServerClose ? "server-close" : "keep-alive";
}

/** The stronger of two connection modes (HAProxy: the strongest setting wins). */
export function strongerMode(a: HttpConnectionMode, b: HttpConnectionMode): HttpConnectionMode {
  return STRENGTH[a] >= STRENGTH[b] ? a : b;
}

function unixSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** Per-transaction persistence facts, from request to response. */
interface PersistState {
  /** The server the request's cookie named (valid or not), or null. */
  cookieServer: string | null;
  /** The named server could not take the request: a new cookie must be set. */
  lost: boolean;
  /** The request cookie's dates (Unix seconds), 0 when none. */
  lastDate: number;
  firstDate: number;
  /** Log flags: what the request's cookie said, what the response did with it. */
  requestFlag: string;
  responseFlag: string;
}

/** The L7 logic of one frontend over its backends. */
export class L7Pipeline<B extends L7Backend> {
  readonly frontend: FrontendConfig;
  readonly #backends: ReadonlyMap<string, B>;
  readonly #feMode: HttpConnectionMode;
  readonly #persist = new WeakMap<HttpTxn, PersistState>();
  /** Frontend errorfiles overridden by each backend's, merged once per backend. */
  readonly #merged = new Map<BackendConfig, Readonly<Record<number, string>>>();

  constructor(frontend: FrontendConfig, backends: ReadonlyMap<string, B>) {
    this.frontend = frontend;
    this.#backends = backends;
    this.#feMode = frontendMode(frontend);
  }

  /** Runs the request side; says whether to answer locally or forward (and where). */
  request(txn: HttpTxn): RequestDecision<B> {
    const fe = this.frontend;
    txn.req.target = normalizeTarget(txn.req.target);
    let mode = this.#feMode;
    const feRules = applyRequestRules(fe.httpRequest, txn, { errorfiles: fe.errorfiles });
    if (feRules.kind === "respond") {
      return { ...feRules, kind: "respond", denied: feRules.status >= 400, backend: null, mode };
    }
    const redirect = firstMatchingRedirect(fe.redirect, txn);
    if (redirect !== null) {
      return {
        kind: "respond",
        status: redirect.status,
        bytes: redirect.bytes,
        close: redirect.close,
        denied: false,
        backend: null,
        mode,
      };
    }
    const name = selectBackend(fe.useBackend, fe.defaultBackend, txn);
    const backend = name !== null ? this.#backends.get(name) : undefined;
    if (backend === undefined) {
      const page = this.errorPage(503, txn.req, { mode, backend: null });
      return {
        kind: "respond",
        status: 503,
        bytes: page.bytes,
        close: page.close,
        denied: false,
        backend: null,
        mode,
      };
    }
    txn.backend = backend.config.name;
    const be = backend.config;
    // A backend's `httpclose` closes only the server side (HAProxy 2.6, verified).
    mode = strongerMode(mode, be.httpclose || be.httpServerClose ? "server-close" : "keep-alive");
    if (be.httpRequest.length > 0) {
      const beRules = applyRequestRules(be.httpRequest, txn, { errorfiles: this.#errorfiles(be) });
      if (beRules.kind === "respond") {
        return { ...beRules, kind: "respond", denied: beRules.status >= 400, backend, mode };
      }
    }
    const ff = be.forwardfor ?? fe.forwardfor;
    if (ff !== null) applyForwardFor(ff, txn);
    let server: string | null = null;
    if (be.cookie !== null) {
      const found = requestPersistence(be.cookie, txn, be.servers, unixSeconds());
      server = found.serverName;
      this.#persist.set(txn, {
        cookieServer: server,
        lost: false,
        lastDate: found.lastDate,
        firstDate: found.firstDate,
        requestFlag: found.logFlag,
        responseFlag: "N",
      });
    }
    return { kind: "forward", backend, mode, server };
  }

  #errorfiles(be: BackendConfig): Readonly<Record<number, string>> {
    let merged = this.#merged.get(be);
    if (merged === undefined) {
      merged = { ...this.frontend.errorfiles, ...be.errorfiles };
      this.#merged.set(be, merged);
    }
    return merged;
  }

  /** The request named a server by cookie that cannot take it: it is load-balanced instead. */
  persistenceLost(txn: HttpTxn): void {
    const p = this.#persist.get(txn);
    if (p !== undefined) p.lost = true;
  }

  /** The hash key of the backend's algorithm for this request (null: round robin fallback). */
  balanceKey(txn: HttpTxn, backend: B): Uint8Array | null {
    return httpBalanceKey(backend.config.balance, txn);
  }

  /** Runs the response side: backend rules, frontend rules, persistence cookie. */
  response(txn: HttpTxn, backend: B): ResponseVerdict | null {
    const be = backend.config;
    const fe = this.frontend;
    if (be.httpResponse.length > 0 || fe.httpResponse.length > 0) {
      const errorfiles = this.#errorfiles(be);
      // Backend rules first, then the frontend's (HAProxy's order).
      for (const rules of [be.httpResponse, fe.httpResponse]) {
        const v = applyResponseRules(rules, txn, { errorfiles });
        if (v.kind === "respond") return { status: v.status, bytes: v.bytes };
      }
    }
    if (be.cookie !== null && txn.server !== null) {
      const p = this.#persist.get(txn);
      const server = be.servers.find((s) => s.name === txn.server);
      const set = responseCookie(be.cookie, txn, {
        serverCookie: server?.cookie ?? null,
        presented: p !== undefined && !p.lost ? p.cookieServer : null,
        lastDate: p?.lastDate,
        firstDate: p?.firstDate,
        now: unixSeconds(),
      });
      if (p !== undefined) p.responseFlag = set.logFlag;
    }
    return null;
  }

  /** The cookie characters of the log's termination state: `--` without persistence. */
  cookieFlags(txn: HttpTxn): string {
    const p = this.#persist.get(txn);
    return p === undefined ? "--" : p.requestFlag + p.responseFlag;
  }

  /**
   * The answer to a malformed request (400, 422) or an incomplete one at `timeout http_request`
   * (408): HAProxy's page, or the frontend's errorfile (`/dev/null` sends nothing); then close.
   */
  closingErrorPage(status: number): Uint8Array {
    const file = this.frontend.errorfiles[status];
    return file === undefined ? parseErrorResponse(status) : closingErrorfile(file);
  }

  /** HAProxy's error page for `status` (an errorfile when configured). */
  errorPage(
    status: number,
    req: RequestHead,
    o: { mode: HttpConnectionMode; backend: B | null },
  ): { bytes: Uint8Array; close: boolean } {
    const keep = clientKeepsAlive(req, { mode: o.mode });
    const file = o.backend?.config.errorfiles[status] ?? this.frontend.errorfiles[status];
    if (file !== undefined) {
      const page = errorfileResponse(file, req);
      return { bytes: page.bytes, close: page.close || !keep };
    }
    const connection = !keep ? "close" : req.http11 ? undefined : "keep-alive";
    return { bytes: errorResponse(status, { connection }), close: !keep };
  }
}

/**
 * HAProxy's URI normalization of an absolute-form target: the scheme's default port is dropped
 * (`http://b:80/x` → `http://b/x`, `https://b:443/` → `https://b/`), verified on 2.6.
 */
export function normalizeTarget(target: string): string {
  if (target.charCodeAt(0) === 47 /* "/" */) return target;
  const m = /^(https?):\/\/([^/?#]*?):(\d*)(?=[/?#]|$)/i.exec(target);
  if (m === null) return target;
  const port = m[3];
  const https = m[1].length === 5;
  if (port !== "" && port !== (https ? "443" : "80")) return target;
  return m[1] + "://" + m[2] + target.slice(m[0].length);
}
