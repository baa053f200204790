/**
 * Constants and weight conversions shared by the load-balancing algorithms (HAProxy's
 * backend-t.h / server-t.h values). Private to this folder.
 *
 * @module
 */

/** HAProxy's BE_WEIGHT_SCALE: dynamic algorithms work on user weight × 16. */
export const WEIGHT_SCALE = 16;
/** HAProxy's SRV_UWGHT_RANGE / SRV_UWGHT_MAX: user weights go up to 256. */
export const UWEIGHT_RANGE = 256;
/** HAProxy's SRV_EWGHT_MAX (and SRV_EWGHT_RANGE): 256 × 16. */
export const EWEIGHT_MAX = UWEIGHT_RANGE * WEIGHT_SCALE;

/**
 * Effective weight of a dynamic algorithm (roundrobin, leastconn, consistent hash, random):
 * weight × 16, as HAProxy's `eweight`. Slowstart fractions keep their 1/16 resolution; any
 * positive weight yields at least 1; 0 and non-finite values mean "not usable".
 */
export function scaledWeight(weight: number): number {
  if (!(weight > 0) || !Number.isFinite(weight)) return 0;
  return Math.max(1, Math.round(weight * WEIGHT_SCALE));
}

/** Integer user weight for the map-based algorithms; any positive weight yields at least 1. */
export function mapWeight(weight: number): number {
  if (!(weight > 0) || !Number.isFinite(weight)) return 0;
  return Math.max(1, Math.round(weight));
}

/** Greatest common divisor of two non-negative integers (gcd(0, b) = b). */
export function gcd(a: number, b: number): number {
  while (b) {
    const t = a % b;
    a = b;
    b = t;
  }
  return a;
}
