/**
 * Test helpers for the balancer tests: a fake pool with settable loads and full flags.
 *
 * @module
 */
import type { Balancer, BalancerHooks, LbEntry } from "./balancer.ts";

/** Hooks whose answers the test sets directly. */
export class FakePool implements BalancerHooks<string> {
  /** Load per server (missing = 0). */
  readonly loads = new Map<string, number>();
  /** Servers that are at maxconn. */
  readonly fulls = new Set<string>();

  /** Current load of `server`. */
  load(server: string): number {
    return this.loads.get(server) ?? 0;
  }

  /** Whether `server` is full. */
  full(server: string): boolean {
    return this.fulls.has(server);
  }
}

/** Entries `s1..sN` with ids 1..N and the given weights. */
export function entries(weights: readonly number[]): LbEntry<string>[] {
  return weights.map((weight, i) => ({ server: `s${i + 1}`, id: i + 1, weight }));
}

/** `n` picks with the same key, as one space-separated string ("-" for null). */
export function picks(b: Balancer<string>, n: number, key: Uint8Array | null = null): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(b.pick(key) ?? "-");
  return out.join(" ");
}

/** Counts of each server over `n` picks, each pick using `keyOf(i)`. */
export function tally(
  b: Balancer<string>,
  n: number,
  keyOf: (i: number) => Uint8Array | null = () => null,
): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const s = b.pick(keyOf(i)) ?? "-";
    counts.set(s, (counts.get(s) ?? 0) + 1);
  }
  return counts;
}
