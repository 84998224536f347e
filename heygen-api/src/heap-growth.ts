import { setFlagsFromString } from 'node:v8';

/**
 * How far past its live size V8 may let the heap grow before its next full collection, %.
 *
 * V8 picks that factor itself, up to 4× for a heap that allocates fast, and gives memory back only
 * once the process has been idle for a while. Under a create flood with 200,000 retained jobs
 * (~100 MB live), that made 500 MB of RSS; at 50 % the same flood peaks at 270 MB for the same
 * throughput (docs/design.md, "Memory per job"). The factor is read at every collection, so
 * setting it once the process runs is enough.
 */
export const HEAP_GROWING_PERCENT = 50;

/** Applies HEAP_GROWING_PERCENT to this process. */
export function limitHeapGrowth(): void {
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}
