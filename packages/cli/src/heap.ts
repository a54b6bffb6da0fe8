/**
 * The bulk run's heap policy (decision 72).
 *
 * A 100,000-line run keeps ≈ 35 MB alive but allocates ≈ 6 MB per batch (gateway requests, notification decoding,
 * result rows) that dies a few batches later. With V8's default growth the old generation is allowed to grow well
 * past what survived its last full collection before collecting again, so garbage promoted during the submit phase
 * piles up to ≈ 95 MB of heap. Growing by at most 10 % keeps the run under 200 MB of RSS at no measurable cost in
 * time (docs/benchmarks.md, "CLI 100,000 lines"). No collection is forced: V8 still decides when to collect.
 *
 * `--heap-growing-percent` is read by V8 at each full collection, so it takes effect when set at run time (unlike
 * the new-space sizes, which are fixed when the heap is created). It is process-wide: set it only in commands that
 * own their process's lifetime.
 */
import { setFlagsFromString } from 'node:v8';

/** Old-generation growth allowed past the live size after a full collection, in percent. */
export const BULK_HEAP_GROWING_PERCENT = 10;

export function boundHeapGrowth(percent = BULK_HEAP_GROWING_PERCENT): void {
  setFlagsFromString(`--heap-growing-percent=${percent}`);
}
