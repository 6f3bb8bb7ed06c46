/**
 * The heap limit every launcher gives a worker process. Without one, V8 sizes each isolate's old
 * generation from the machine's memory (about 4 GiB on a 24 GiB host) and lets garbage pile up toward
 * it before collecting in earnest; the worker's main thread (activities) and its workflow thread (the
 * cached journeys) each grow that way. With 256 MiB per isolate the worker peaked about 200 MiB lower
 * at 1,000 journeys with no loss of throughput (docs/performance.md).
 */
export const WORKER_HEAP_LIMIT_MIB = 256;

/**
 * The environment a worker process starts with: NODE_OPTIONS with the default limit put first, so a
 * `--max-old-space-size` the operator already has in NODE_OPTIONS comes later and wins (V8 takes the
 * last one given).
 */
export function withWorkerHeapLimit(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv & { NODE_OPTIONS: string } {
  const own = env.NODE_OPTIONS?.trim();
  return { ...env, NODE_OPTIONS: `--max-old-space-size=${WORKER_HEAP_LIMIT_MIB}${own ? ` ${own}` : ''}` };
}
