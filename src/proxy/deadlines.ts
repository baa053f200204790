/**
 * The proxy's per-connection deadlines (session timeouts, connect timeouts) in one binary heap
 * under a single Deno timer. A `setTimeout` + `clearTimeout` pair costs ~3.9 µs in Deno, and a
 * short-lived connection needed two or three of them; here scheduling and cancelling are heap
 * operations, and the one real timer is re-armed only when the earliest deadline moves earlier
 * (with uniform timeouts, almost never). No deadline pending, no timer: an idle process does not
 * wake up.
 *
 * Deadlines are epoch milliseconds (`Date.now()`), like the sessions' own bookkeeping. A callback
 * runs once, at or after its deadline, unless cancelled first.
 *
 * @module
 */

/** A scheduled callback; pass it to {@linkcode cancelDeadline}. */
export interface Deadline {
  readonly at: number;
  readonly fn: () => void;
  /** Position in the heap, -1 once it ran or was cancelled. */
  index: number;
}

const heap: Deadline[] = [];
let timer: ReturnType<typeof setTimeout> | undefined = undefined;
/** When the real timer fires (Infinity: none armed). */
let timerAt = Infinity;

/** Runs `fn` at epoch ms `at` (or as soon as possible after it). */
export function scheduleDeadline(at: number, fn: () => void): Deadline {
  const d: Deadline = { at, fn, index: heap.length };
  heap.push(d);
  up(d.index);
  if (at < timerAt) arm(at);
  return d;
}

/** Forgets a deadline that has not run yet (no effect after it ran). */
export function cancelDeadline(d: Deadline): void {
  const i = d.index;
  if (i < 0) return;
  d.index = -1;
  const last = heap.pop()!;
  if (i < heap.length) {
    heap[i] = last;
    last.index = i;
    down(i);
    up(last.index);
  }
  if (heap.length === 0) {
    // Nothing left to wait for: no wakeup (and no timer left behind).
    clearTimeout(timer);
    timer = undefined;
    timerAt = Infinity;
  }
  // Otherwise the real timer stays: if it now fires early, it finds nothing due and re-arms.
}

/** Deadlines pending (for tests). */
export function pendingDeadlines(): number {
  return heap.length;
}

function arm(at: number): void {
  if (timer !== undefined) clearTimeout(timer);
  timerAt = at;
  timer = setTimeout(fire, Math.max(0, at - Date.now()));
}

function fire(): void {
  timer = undefined;
  timerAt = Infinity;
  const now = Date.now();
  try {
    while (heap.length > 0 && heap[0].at <= now) {
      const d = heap[0];
      cancelDeadline(d);
      d.fn();
    }
  } finally {
    // Re-armed even when a callback threw (which surfaces as a timer callback's would).
    if (heap.length > 0 && heap[0].at < timerAt) arm(heap[0].at);
  }
}

function up(i: number): void {
  const d = heap[i];
  while (i > 0) {
    const p = (i - 1) >> 1;
    const parent = heap[p];
    if (parent.at <= d.at) break;
    heap[i] = parent;
    parent.index = i;
    i = p;
  }
  heap[i] = d;
  d.index = i;
}

function down(i: number): void {
  const n = heap.length;
  const d = heap[i];
  for (;;) {
    let c = 2 * i + 1;
    if (c >= n) break;
    if (c + 1 < n && heap[c + 1].at < heap[c].at) c++;
    const child = heap[c];
    if (child.at >= d.at) break;
    heap[i] = child;
    child.index = i;
    i = c;
  }
  heap[i] = d;
  d.index = i;
}
