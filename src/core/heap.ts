/**
 * Indexed binary max-heap keyed by string with bigint priorities. update/remove are O(log n) via a
 * key -> position index; top(k) walks the heap with a small candidate heap in O(k log k), so the
 * ranking never sorts every channel. Ties are broken by key so the order is deterministic.
 */
export class IndexedMaxHeap {
  private keys: string[] = [];
  private prios: bigint[] = [];
  private readonly pos = new Map<string, number>();

  get size(): number {
    return this.keys.length;
  }

  has(key: string): boolean {
    return this.pos.has(key);
  }

  priority(key: string): bigint | undefined {
    const i = this.pos.get(key);
    return i === undefined ? undefined : this.prios[i];
  }

  /** Inserts or changes the priority of key. */
  set(key: string, priority: bigint): void {
    const i = this.pos.get(key);
    if (i === undefined) {
      this.keys.push(key);
      this.prios.push(priority);
      this.pos.set(key, this.keys.length - 1);
      this.up(this.keys.length - 1);
      return;
    }
    const old = this.prios[i];
    this.prios[i] = priority;
    if (priority > old) this.up(i);
    else if (priority < old) this.down(i);
  }

  delete(key: string): boolean {
    const i = this.pos.get(key);
    if (i === undefined) return false;
    const last = this.keys.length - 1;
    this.swap(i, last);
    this.keys.pop();
    this.prios.pop();
    this.pos.delete(key);
    if (i < this.keys.length) {
      this.up(i);
      this.down(i);
    }
    return true;
  }

  clear(): void {
    this.keys = [];
    this.prios = [];
    this.pos.clear();
  }

  peek(): { key: string; priority: bigint } | undefined {
    return this.keys.length ? { key: this.keys[0], priority: this.prios[0] } : undefined;
  }

  /** The k highest entries, highest first, without disturbing the heap. */
  top(k: number): { key: string; priority: bigint }[] {
    const out: { key: string; priority: bigint }[] = [];
    if (k <= 0 || this.keys.length === 0) return out;
    // candidate heap of positions, ordered like the main heap
    const cand: number[] = [0];
    while (out.length < k && cand.length) {
      const i = cand[0];
      const last = cand.pop()!;
      if (cand.length) {
        cand[0] = last;
        this.siftCandDown(cand);
      }
      out.push({ key: this.keys[i], priority: this.prios[i] });
      for (const c of [2 * i + 1, 2 * i + 2]) {
        if (c < this.keys.length) {
          cand.push(c);
          this.siftCandUp(cand, cand.length - 1);
        }
      }
    }
    return out;
  }

  private before(a: number, b: number): boolean {
    const pa = this.prios[a];
    const pb = this.prios[b];
    return pa > pb || (pa === pb && this.keys[a] < this.keys[b]);
  }

  private up(i: number): void {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }

  private down(i: number): void {
    const n = this.keys.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.before(l, m)) m = l;
      if (r < n && this.before(r, m)) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }

  private swap(a: number, b: number): void {
    if (a === b) return;
    const k = this.keys[a];
    this.keys[a] = this.keys[b];
    this.keys[b] = k;
    const p = this.prios[a];
    this.prios[a] = this.prios[b];
    this.prios[b] = p;
    this.pos.set(this.keys[a], a);
    this.pos.set(this.keys[b], b);
  }

  private siftCandUp(cand: number[], i: number): void {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(cand[i], cand[p])) break;
      [cand[i], cand[p]] = [cand[p], cand[i]];
      i = p;
    }
  }

  private siftCandDown(cand: number[]): void {
    let i = 0;
    const n = cand.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.before(cand[l], cand[m])) m = l;
      if (r < n && this.before(cand[r], cand[m])) m = r;
      if (m === i) return;
      [cand[i], cand[m]] = [cand[m], cand[i]];
      i = m;
    }
  }
}
