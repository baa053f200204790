/**
 * `balance roundrobin`: HAProxy's fast weighted round robin (lb_fwrr.c), reproduced step by
 * step so that the server order is the one HAProxy 2.6 produces, including after weight
 * changes (slowstart, `set weight`) and servers going down or up.
 *
 * HAProxy keeps three ordered trees per group: "curr" (servers placed on the current window,
 * keyed by their next position), "init" (servers waiting to be placed, heaviest first) and
 * "next" (servers pushed to the next window). Trees are ebtrees where equal keys keep their
 * insertion order; here each tree is an indexed binary heap ordered by (key, insertion
 * sequence), which gives the same order with O(log n) insert, first and delete.
 *
 * @module
 */
import type { Balancer, BalancerHooks, LbEntry } from "./balancer.ts";
import { EWEIGHT_MAX, scaledWeight, UWEIGHT_RANGE, WEIGHT_SCALE } from "./_common.ts";

/** Per-server FWRR state (HAProxy's npos/lpos/rweight/lb_tree/lb_node). */
interface RrServer<S> {
  readonly server: S;
  /** Committed effective weight (cur_eweight). */
  eweight: number;
  /** Weight being applied by the current update (next_eweight). */
  nextEweight: number;
  npos: number;
  lpos: number;
  rweight: number;
  /** The tree holding this server, or null when it is not usable. */
  tree: Heap<S> | null;
  key: number;
  seq: number;
  heapIdx: number;
  /** Chain of servers extracted during one pick (saturated or avoided). */
  nextFull: RrServer<S> | null;
  /** Present in the last update with a positive weight. */
  usable: boolean;
}

/** An ebtree stand-in: min-heap on (key, insertion sequence) with removal by handle. */
class Heap<S> {
  readonly items: RrServer<S>[] = [];

  first(): RrServer<S> | null {
    return this.items.length ? this.items[0] : null;
  }

  insert(s: RrServer<S>, key: number, seq: number): void {
    s.key = key;
    s.seq = seq;
    s.tree = this;
    s.heapIdx = this.items.length;
    this.items.push(s);
    this.#up(s.heapIdx);
  }

  /** Removes `s` if it is in this heap (eb32_delete on a detached node is a no-op too). */
  delete(s: RrServer<S>): void {
    const i = s.heapIdx;
    if (i < 0 || this.items[i] !== s) return;
    const last = this.items.pop()!;
    s.heapIdx = -1;
    if (last !== s) {
      this.items[i] = last;
      last.heapIdx = i;
      this.#down(i);
      this.#up(last.heapIdx);
    }
  }

  #less(a: RrServer<S>, b: RrServer<S>): boolean {
    return a.key < b.key || (a.key === b.key && a.seq < b.seq);
  }

  #up(i: number): void {
    const items = this.items;
    const s = items[i];
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.#less(s, items[p])) break;
      items[i] = items[p];
      items[i].heapIdx = i;
      i = p;
    }
    items[i] = s;
    s.heapIdx = i;
  }

  #down(i: number): void {
    const items = this.items;
    const n = items.length;
    const s = items[i];
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && this.#less(items[c + 1], items[c])) c++;
      if (!this.#less(items[c], s)) break;
      items[i] = items[c];
      items[i].heapIdx = i;
      i = c;
    }
    items[i] = s;
    s.heapIdx = i;
  }
}

/**
 * HAProxy's dynamic weighted round robin. Weights are scaled by 16 like HAProxy's eweight, so
 * slowstart steps of 1/16 are exact.
 */
export class RoundRobinBalancer<S> implements Balancer<S> {
  readonly #hooks: BalancerHooks<S>;
  readonly #states = new Map<S, RrServer<S>>();
  readonly #curr = new Heap<S>();
  #init = new Heap<S>();
  #next = new Heap<S>();
  #currPos = 0;
  #currWeight = 0;
  #nextWeight = 0;
  #usableCount = 0;
  #seq = 0;
  #initialized = false;

  /** Creates an empty balancer; call {@linkcode RoundRobinBalancer.update} first. */
  constructor(hooks: BalancerHooks<S>) {
    this.#hooks = hooks;
  }

  /** Applies state and weight changes one server at a time, as HAProxy's lb callbacks do. */
  update(entries: readonly LbEntry<S>[]): void {
    if (!this.#initialized) {
      this.#initialized = true;
      this.#initGroup(entries);
      return;
    }
    const seen = new Set<S>();
    for (const e of entries) seen.add(e.server);
    for (const st of this.#states.values()) {
      if (st.usable && !seen.has(st.server)) this.#setDown(st);
    }
    for (const e of entries) {
      let st = this.#states.get(e.server);
      if (!st) {
        st = newState(e.server);
        this.#states.set(e.server, st);
      }
      const w = scaledWeight(e.weight);
      if (st.usable ? w === st.eweight : w === 0) continue;
      st.nextEweight = w;
      if (!st.usable) this.#setUp(st);
      else if (w === 0) this.#setDown(st);
      else this.#updateWeight(st);
    }
  }

  /** Next server in HAProxy's order, skipping full servers and `avoid` when possible. */
  pick(_key: Uint8Array | null, avoid?: S): S | null {
    if (this.#usableCount === 0) return null;
    const hooks = this.#hooks;
    let switched = false;
    let avoided: RrServer<S> | null = null;
    let full: RrServer<S> | null = null;
    let srv: RrServer<S> | null = null;
    for (;;) {
      if (!this.#currWeight) this.#currPos = this.#currWeight = this.#nextWeight;
      srv = this.#fromGroup();
      if (!srv) {
        if (switched) {
          srv = avoided;
          break;
        }
        switched = true;
        this.#switchTrees();
        continue;
      }
      this.#updatePosition(srv);
      srv.tree!.delete(srv);
      this.#currPos++;
      if (!hooks.full(srv.server)) {
        if (srv.server !== avoid || avoided) break;
        avoided = srv;
      }
      srv.nextFull = full;
      full = srv;
    }
    if (srv) this.#queue(srv);
    while (full) {
      const f = full;
      full = f.nextFull;
      f.nextFull = null;
      if (f === srv) continue;
      if (switched) this.#queueByWeight(this.#init, f);
      else this.#queue(f);
    }
    return srv ? srv.server : null;
  }

  /** fwrr_init_server_groups: every usable server waits in "init", heaviest first. */
  #initGroup(entries: readonly LbEntry<S>[]): void {
    let total = 0;
    for (const e of entries) {
      const st = newState(e.server);
      this.#states.set(e.server, st);
      st.eweight = st.nextEweight = scaledWeight(e.weight);
      if (st.eweight > 0) {
        st.usable = true;
        total += st.eweight;
        this.#usableCount++;
        this.#queueByWeight(this.#init, st);
      }
    }
    this.#currPos = this.#currWeight = this.#nextWeight = total;
  }

  /** fwrr_set_server_status_down. */
  #setDown(st: RrServer<S>): void {
    this.#nextWeight -= st.eweight;
    this.#usableCount--;
    st.tree?.delete(st);
    st.tree = null;
    st.usable = false;
    st.eweight = st.nextEweight = 0;
  }

  /** fwrr_set_server_status_up. */
  #setUp(st: RrServer<S>): void {
    this.#nextWeight += st.nextEweight;
    this.#usableCount++;
    st.usable = true;
    this.#getSrv(st);
    st.npos = this.#currPos +
      Math.trunc((this.#nextWeight + this.#currWeight - this.#currPos) / st.nextEweight);
    this.#queue(st);
    st.eweight = st.nextEweight;
  }

  /** fwrr_update_server_weight for a server that stays usable. */
  #updateWeight(st: RrServer<S>): void {
    this.#nextWeight = this.#nextWeight - st.eweight + st.nextEweight;
    if (st.tree === this.#init) {
      this.#init.delete(st);
      this.#queueByWeight(this.#init, st);
    } else if (!st.tree) {
      this.#getSrv(st);
      st.npos = this.#currPos +
        Math.trunc((this.#nextWeight + this.#currWeight - this.#currPos) / st.nextEweight);
      this.#queue(st);
    } else {
      this.#getSrv(st);
      const prevNext = st.npos;
      const step = Math.trunc(this.#nextWeight / st.nextEweight);
      st.npos = st.lpos + step;
      st.rweight = 0;
      if (st.npos > prevNext) st.npos = prevNext;
      if (st.npos < this.#currPos + 2) st.npos = this.#currPos + step;
      st.tree.delete(st);
      this.#queue(st);
    }
    st.eweight = st.nextEweight;
  }

  /** fwrr_queue_by_weight: heavier servers first. */
  #queueByWeight(root: Heap<S>, st: RrServer<S>): void {
    root.insert(st, EWEIGHT_MAX - st.nextEweight, ++this.#seq);
  }

  /** fwrr_queue_srv: place on the current window, or push to the next one. */
  #queue(st: RrServer<S>): void {
    if (!st.usable || st.nextEweight <= 0) {
      st.tree = null;
    } else if (
      st.npos >= 2 * this.#currWeight || st.npos >= this.#currWeight + this.#nextWeight
    ) {
      st.npos -= this.#currWeight;
      this.#queueByWeight(this.#next, st);
    } else {
      const key = UWEIGHT_RANGE * st.npos +
        Math.trunc((EWEIGHT_MAX + st.rweight - st.nextEweight) / WEIGHT_SCALE);
      this.#curr.insert(st, key, ++this.#seq);
    }
  }

  /** fwrr_get_srv: prepare a server being extracted from its tree. */
  #getSrv(st: RrServer<S>): void {
    if (st.tree === this.#init) {
      st.npos = st.rweight = 0;
    } else if (st.tree === this.#next) {
      st.npos += this.#currWeight;
    } else if (st.tree === null) {
      st.npos = this.#currPos;
    }
  }

  /** fwrr_switch_trees. */
  #switchTrees(): void {
    const swap = this.#init;
    this.#init = this.#next;
    this.#next = swap;
    this.#currWeight = this.#nextWeight;
    this.#currPos = this.#currWeight;
  }

  /** fwrr_get_server_from_group: current window first, else the next waiting server. */
  #fromGroup(): RrServer<S> | null {
    const s1 = this.#curr.first();
    if (s1 && s1.eweight && s1.npos <= this.#currPos) return s1;
    const s2 = this.#init.first();
    if (s2 && s2.eweight) {
      s2.npos = s2.rweight = 0;
      return s2;
    }
    return s1;
  }

  /** fwrr_update_position. */
  #updatePosition(s: RrServer<S>): void {
    const ew = s.eweight;
    if (!ew) return;
    if (!s.npos) s.npos = this.#currPos;
    s.lpos = s.npos;
    s.npos += Math.trunc(this.#nextWeight / ew);
    s.rweight += this.#nextWeight % ew;
    if (s.rweight >= ew) {
      s.rweight -= ew;
      s.npos++;
    }
  }
}

function newState<S>(server: S): RrServer<S> {
  return {
    server,
    eweight: 0,
    nextEweight: 0,
    npos: 0,
    lpos: 0,
    rweight: 0,
    tree: null,
    key: 0,
    seq: 0,
    heapIdx: -1,
    nextFull: null,
    usable: false,
  };
}
