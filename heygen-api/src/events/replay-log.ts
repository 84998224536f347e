/**
 * The last `capacity` items of a numbered sequence, in a ring: appending is O(1), memory is fixed,
 * and reading "everything after n" tells whether n is still covered.
 */
export class ReplayLog<T> {
  private readonly items: (T | undefined)[];
  private next = 1;

  constructor(private readonly capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1)
      throw new RangeError('capacity must be ≥ 1');
    this.items = new Array<T | undefined>(capacity);
  }

  /** The sequence number of the latest item, 0 before the first. */
  get head(): number {
    return this.next - 1;
  }

  /** Appends and returns the item's sequence number (1, 2, …). */
  append(item: T): number {
    const seq = this.next++;
    this.items[seq % this.capacity] = item;
    return seq;
  }

  /**
   * Items numbered after `seq`, oldest first; undefined when some of them were already overwritten
   * or `seq` lies in the future.
   */
  since(seq: number): T[] | undefined {
    const oldest = Math.max(1, this.next - this.capacity);
    if (!Number.isSafeInteger(seq) || seq < oldest - 1 || seq > this.head) return undefined;
    const result: T[] = [];
    for (let s = seq + 1; s < this.next; s++) result.push(this.items[s % this.capacity] as T);
    return result;
  }
}
