/**
 * The one place a server action (ready, drain, maint, weight) is applied to a running graph.
 * When the backend has a health checker, the action goes through the checker's state machine
 * (MAINT and DRAIN are layered there, and its `onChange` updates the pool); otherwise it goes to
 * the server pool directly. Errors use HAProxy's runtime API wording.
 *
 * @module
 */
import type { BackendConfig } from "../config/types.ts";
import { isDynamicBalance } from "../proxy/health/server_state.ts";
import type { ServerAction } from "./model.ts";

/** The part of a backend checker an action needs (`BackendChecker` fits). */
export interface ActionChecker {
  setAdmin(serverName: string, action: "ready" | "drain" | "maint"): boolean;
  setWeight(serverName: string, weight: number): boolean;
}

/** The part of a server pool an action needs (`ServerPool` fits). */
export interface ActionPool<S> {
  readonly backend: BackendConfig;
  server(name: string): S | undefined;
  setMaintenance(server: S, maint: boolean): void;
  setDrain(server: S, drain: boolean): void;
  setWeight(server: S, weight: number): void;
}

/** Where {@linkcode applyServerAction} finds a backend's pool and checker. */
export interface ActionTargets<S> {
  pools: ReadonlyMap<string, ActionPool<S>>;
  /** Checkers by backend name. */
  checkers: ReadonlyMap<string, ActionChecker>;
}

/** HAProxy's message when a static algorithm is given another weight than 0 or the initial one. */
export const STATIC_WEIGHT_ERROR =
  "Backend is using a static LB algorithm and only accepts weights '0%' and '100%'.";

/**
 * Applies `action` to `backend`/`server`; null on success, else the error text ("No such
 * backend.", "No such server.", weight range, static algorithm).
 */
export function applyServerAction<S>(
  targets: ActionTargets<S>,
  ref: { backend: string; server: string },
  action: ServerAction,
): string | null {
  const pool = targets.pools.get(ref.backend);
  if (pool === undefined) return "No such backend.";
  const server = pool.server(ref.server);
  const config = pool.backend.servers.find((s) => s.name === ref.server);
  if (server === undefined || config === undefined) return "No such server.";
  const checker = targets.checkers.get(ref.backend);
  if (typeof action === "object") {
    const w = action.weight;
    if (!Number.isInteger(w) || w < 0 || w > 256) {
      return "Absolute weight can only be between 0 and 256 inclusive.";
    }
    if (!isDynamicBalance(pool.backend) && w !== 0 && w !== config.weight) {
      return STATIC_WEIGHT_ERROR;
    }
    if (checker) checker.setWeight(ref.server, w);
    else pool.setWeight(server, w);
    return null;
  }
  if (checker) {
    checker.setAdmin(ref.server, action);
    return null;
  }
  pool.setMaintenance(server, action === "maint");
  if (action !== "maint") pool.setDrain(server, action === "drain");
  return null;
}
