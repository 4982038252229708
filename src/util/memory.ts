// For a thread that keeps its process within a memory bound: the resident size, read cheaply enough
// to ask per job, and a full garbage collection on demand. V8 collects its old generation late (when
// it has grown by a multiple of what was live after the last full collection), and memory it frees is
// pooled for reuse, not returned, so the resident size is the highest the heap ever reached. A thread
// that sees its process near the bound collects first.
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Resident size is read at most this often (a read is a /proc file read, ~20-40 us; jobs take ~0.5 ms). */
const RSS_CHECK_MS = 20;

/**
 * True when the last reading of `read()` was above `limit`; reads again only once `intervalMs` have
 * passed since the last reading (by `now`), so a per-job question costs a clock read.
 */
export function rssAbove(
  limit: number,
  read: () => number = process.memoryUsage.rss,
  now: () => number = performance.now.bind(performance),
  intervalMs = RSS_CHECK_MS,
): () => boolean {
  let at = Number.NEGATIVE_INFINITY;
  let above = false;
  return () => {
    const t = now();
    if (t - at >= intervalMs) {
      at = t;
      above = read() > limit;
    }
    return above;
  };
}

let collect: (() => void) | undefined;

/**
 * This thread's full garbage collection: V8's `gc`, which `--expose-gc` gives every context created
 * after it is set (here a throw-away one, on first use), so Node needs no flag for it.
 */
export function fullCollection(): () => void {
  if (collect === undefined) {
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as () => void;
  }
  return collect;
}

/**
 * Memory this thread's collector can free, in bytes: its heap in use and the memory of its buffers
 * (ArrayBuffers of earlier jobs and files are freed only when collected too).
 */
export const heapUsed = (): number => {
  const h = getHeapStatistics();
  return h.used_heap_size + h.external_memory;
};

/**
 * A check to call often (per job): runs `collect` when `above()` is true and the heap in use has grown
 * by `growth` bytes since what the last collection left (a collection that found little to free is
 * not repeated while the resident size stays up: freed memory is pooled, not returned), at most once
 * per `intervalMs` (by `now`). Returns whether it collected.
 */
export function collectWhen(
  above: () => boolean,
  {
    used = heapUsed,
    collect = () => fullCollection()(),
    now = performance.now.bind(performance),
    growth = 16 * 1024 * 1024,
    intervalMs = 250,
  }: {
    used?: () => number;
    collect?: () => void;
    now?: () => number;
    growth?: number;
    intervalMs?: number;
  } = {},
): () => boolean {
  let last = Number.NEGATIVE_INFINITY;
  let left = 0;
  return () => {
    if (!above()) return false;
    const t = now();
    if (t - last < intervalMs || used() - left < growth) return false;
    last = t;
    collect();
    left = used();
    return true;
  };
}
