/**
 * The load-balancing plug-in interface (HAProxy's lb_ops in miniature). Each algorithm lives in
 * its own file in this folder and implements {@linkcode Balancer}; all of them run one shared
 * conformance suite.
 *
 * The server pool owns server state; it tells the balancer which servers are eligible (and with
 * which effective weight) through `update()`, and asks it for a server with `pick()`.
 *
 * @module
 */

/** One eligible server with its current effective weight (0..256 after slowstart/admin). */
export interface LbEntry<S> {
  readonly server: S;
  /** Server id (HAProxy's numeric id): orders `first`, seeds consistent hashing. */
  readonly id: number;
  readonly weight: number;
}

/** What a balancer may ask the pool about a server's load. */
export interface BalancerHooks<S> {
  /** Connections (tcp) or requests (http) currently served plus queued for this server. */
  load(server: S): number;
  /** True when the server is at its maxconn and cannot take one more right now. */
  full(server: S): boolean;
}

/** A load-balancing algorithm instance for one backend. */
export interface Balancer<S> {
  /**
   * Replaces the eligible set (active servers, or backups when no active one is usable; the
   * pool decides). Called on every state or weight change; keeps rotation state where the
   * algorithm does (roundrobin) so that order continues as HAProxy's.
   */
  update(entries: readonly LbEntry<S>[]): void;
  /**
   * Picks a server for a new connection or request, skipping full servers. `key` is the hash
   * input for hash algorithms (source: the client address bytes; uri/url_param/hdr: the UTF-8
   * bytes of the key); null → the algorithm's round-robin fallback. `avoid` is skipped when
   * another server is possible (redispatch). Returns null when no server can take it now.
   */
  pick(key: Uint8Array | null, avoid?: S): S | null;
}
