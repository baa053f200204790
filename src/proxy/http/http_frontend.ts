/**
 * The per-configuration handler of one `mode http` frontend: an {@linkcode HttpSession} per
 * connection over the frontend's {@linkcode L7Pipeline}, with HTTP counters, on top of the
 * admission, bookkeeping and draining every frontend shares.
 *
 * @module
 */
import type { FrontendConfig } from "../../config/types.ts";
import type { Logger } from "../../log/logger.ts";
import { formatPeer } from "../../log/format.ts";
import { formatConnectLine } from "../../log/tcplog.ts";
import { FrontendBase, type FrontendSession } from "../frontend_base.ts";
import type { ClientConn } from "../io.ts";
import type { BoundListener, ConnLimit } from "../listener.ts";
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
  readonly trafficLog: ((line: string) => void) | null;
  readonly dontlognull: boolean;
  readonly #connectLine: boolean;

  constructor(config: FrontendConfig, options: HttpFrontendOptions) {
    super(config, options);
    this.pipeline = new L7Pipeline(config, options.backends);
    this.timeout = config.timeout;
    this.dontlognull = config.dontlognull;
    const logger = options.logger;
    // halb writes httplog lines for an http frontend whether `httplog` or `tcplog` is set.
    this.trafficLog = config.log && config.logStyle !== "connect"
      ? (line: string) => logger.traffic(line)
      : null;
    this.#connectLine = config.log && config.logStyle === "connect";
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

  protected createSession(conn: ClientConn, listener: BoundListener): HttpSession {
    const peer = formatPeer(conn.remoteAddr, listener.id);
    if (this.#connectLine) {
      this.logger.traffic(formatConnectLine(peer, {
        localPeer: formatPeer(conn.localAddr, listener.id),
        frontendName: this.name,
        mode: "http",
      }));
    }
    return new HttpSession(conn, this, peer);
  }
}
