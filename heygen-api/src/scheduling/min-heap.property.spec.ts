import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MinHeap } from './min-heap.js';

// The runner's schedule and the webhook queue pop in this order: smallest first, and among equal
// keys the one pushed first (their `less` breaks ties by insertion order).

interface Item {
  key: number;
  order: number;
}

const byKeyThenOrder = (a: Item, b: Item): boolean =>
  a.key < b.key || (a.key === b.key && a.order < b.order);

describe(MinHeap.name, () => {
  it('should pop items in sorted order, whatever pushes and pops come between', () => {
    const op = fc.oneof(fc.record({ push: fc.integer({ min: 0, max: 20 }) }), fc.constant('pop'));
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const sut = new MinHeap<Item>(byKeyThenOrder);
        const model: Item[] = [];
        let order = 0;
        for (const step of ops) {
          if (step === 'pop') {
            model.sort((a, b) => a.key - b.key || a.order - b.order);
            expect(sut.pop()).toBe(model.shift());
          } else {
            const item = { key: step.push, order: order++ };
            sut.push(item);
            model.push(item);
          }
          expect(sut.size).toBe(model.length);
          const smallest = [...model].sort((a, b) => a.key - b.key || a.order - b.order)[0];
          expect(sut.peek()).toBe(smallest);
        }
      }),
    );
  });

  it('should keep only the items retained, in sorted order, whatever came before', () => {
    const op = fc.oneof(
      fc.record({ push: fc.integer({ min: 0, max: 20 }) }),
      fc.constant('pop'),
      fc.record({ dropKeysBelow: fc.integer({ min: 0, max: 20 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const sut = new MinHeap<Item>(byKeyThenOrder);
        let model: Item[] = [];
        let order = 0;
        const sortModel = () => model.sort((a, b) => a.key - b.key || a.order - b.order);
        for (const step of ops) {
          if (step === 'pop') {
            sortModel();
            expect(sut.pop()).toBe(model.shift());
          } else if ('push' in step) {
            const item = { key: step.push, order: order++ };
            sut.push(item);
            model.push(item);
          } else {
            // Odd keys below the bound go: a scattered subset, as dead entries are.
            const keep = (item: Item) => item.key >= step.dropKeysBelow || item.key % 2 === 0;
            sut.retain(keep);
            model = model.filter(keep);
          }
          expect(sut.size).toBe(model.length);
          expect(sut.peek()).toBe(sortModel()[0]);
        }
        const drained: Item[] = [];
        for (let item = sut.pop(); item; item = sut.pop()) drained.push(item);
        expect(drained).toEqual(sortModel());
      }),
    );
  });

  it('should answer undefined when empty, and after clear()', () => {
    const sut = new MinHeap<Item>(byKeyThenOrder);
    expect(sut.pop()).toBeUndefined();
    sut.push({ key: 1, order: 0 });
    sut.clear();
    expect(sut.size).toBe(0);
    expect(sut.peek()).toBeUndefined();
  });
});
