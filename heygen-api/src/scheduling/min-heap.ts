/** A binary min-heap: the smallest item by `less` is at the top; push and pop cost O(log n). */
export class MinHeap<T> {
  private readonly items: T[] = [];

  constructor(private readonly less: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    const items = this.items;
    // Sifted up as a hole: each parent moves down once, and the item is written once at the end.
    let i = items.length;
    items.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const above = items[parent]!;
      if (!this.less(item, above)) break;
      items[i] = above;
      i = parent;
    }
    items[i] = item;
  }

  pop(): T | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length === 0 || last === undefined) return top;
    this.siftDown(0, last);
    return top;
  }

  /**
   * Keeps only the items `keep` accepts, and makes a heap of them again: O(n), bottom-up. For
   * items that became dead while in the heap (the webhook queue's cancelled entries), which would
   * otherwise stay until they reached the top.
   */
  retain(keep: (item: T) => boolean): void {
    const items = this.items;
    let n = 0;
    for (const item of items) if (keep(item)) items[n++] = item;
    items.length = n;
    for (let i = (n >> 1) - 1; i >= 0; i--) this.siftDown(i, items[i]!);
  }

  clear(): void {
    this.items.length = 0;
  }

  /** Writes `item` at `start` or below, where it belongs among the children: sifted as a hole. */
  private siftDown(start: number, item: T): void {
    const items = this.items;
    const n = items.length;
    let i = start;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      const right = child + 1;
      if (right < n && this.less(items[right]!, items[child]!)) child = right;
      const below = items[child]!;
      if (!this.less(below, item)) break;
      items[i] = below;
      i = child;
    }
    items[i] = item;
  }
}
