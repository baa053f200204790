/**
 * The per-configuration handler of one `mode http` frontend: an {@linkcode HttpSession} per
 * connection over the frontend's {@linkcode L7Pipeline}, with HTTP counters, on top of the
 * admission, bookkeeping and draining every frontend shares.
 *
 * @module
 */
import type { FrontendConfig } from "../../config/types.ts";
import type { Logger } from "../../log/logger.ts";
import { FrontendBase, type FrontendSession } from "../frontend_base.ts";
import type { ClientConn } from "../io.ts";
import type { ConnLimit } from "../listener.ts";
import {
  type HttpBackend,
  type HttpCounters,
  HttpSession,
  type HttpSessionHost,
} from "./http_session.ts";
import { L7Pipeline } from "./pipeline.ts";

/** Options for {@linkcode HttpFrontend}. */
export interface HttpFrontendOptions {
  /** Every http backend of the generation, by name. */
  backends: ReadonlyMap<string, HttpBackend>;
  global: ConnLimit;
  logger: Logger;
}

/** Handles the connections of one http frontend. */
export class HttpFrontend extends FrontendBase<HttpSession> implements HttpSessionHost {
  readonly pipeline: L7Pipeline<HttpBackend>;
  readonly timeout: FrontendConfig["timeout"];
  readonly httpCounters: HttpCounters = {
    requests: 0,
    denied: 0,
    invalid: 0,
    responses: [0, 0, 0, 0, 0, 0],
  };

  constructor(config: FrontendConfig, options: HttpFrontendOptions) {
    super(config, options);
    this.pipeline = new L7Pipeline(config, options.backends);
    this.timeout = config.timeout;
  }

  /** Reload: continues the counters of the previous generation's frontend of the same name. */
  override inheritFrom(old: FrontendBase<FrontendSession>): void {
    super.inheritFrom(old);
    if (old instanceof HttpFrontend) {
      Object.assign(this.httpCounters, structuredClone(old.httpCounters));
    }
  }

  /** The name of the default backend (for snapshots). */
  get backendName(): string | null {
    return this.config.defaultBackend;
  }

  protected createSession(conn: ClientConn, peer: string): HttpSession {
    return new HttpSession(conn, this, peer);
  }
}
