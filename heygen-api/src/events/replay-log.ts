/**
 * The last `capacity` items appended, in a ring: appending is O(1) and memory is fixed. Appending
 * to a full ring hands back the item it pushed out, so the owner can account for it.
 */
export class ReplayLog<T> {
  private readonly items: (T | undefined)[];
  /** Where the next item goes; once the ring is full, also where the oldest one is. */
  private next = 0;
  private count = 0;

  constructor(private readonly capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1)
      throw new RangeError('capacity must be ≥ 1');
    this.items = new Array<T | undefined>(capacity);
  }

  get size(): number {
    return this.count;
  }

  /** Appends, and returns the oldest item when the ring was full and it had to go. */
  append(item: T): T | undefined {
    const evicted = this.count === this.capacity ? this.items[this.next] : undefined;
    this.items[this.next] = item;
    this.next = (this.next + 1) % this.capacity;
    this.count = Math.min(this.capacity, this.count + 1);
    return evicted;
  }

  /** The items that match, oldest first. */
  filter(matches: (item: T) => boolean): T[] {
    const result: T[] = [];
    const first = this.count === this.capacity ? this.next : 0;
    for (let i = 0; i < this.count; i++) {
      const item = this.items[(first + i) % this.capacity] as T;
      if (matches(item)) result.push(item);
    }
    return result;
  }
}
