/**
 * What the workflow bundle preloads into the sandbox, the same for a bundle built at the worker's
 * start, a prebuilt one (workers/bundle.ts) and the tests' one. `stackTraces`: keep the frames the
 * stack-trace query and workflow errors show, at the CPU cost workflows/stack-trace-limit.ts describes.
 */
export function sandboxPreloads(stackTraces: boolean): string[] {
  return stackTraces ? [] : [require.resolve('../workflows/stack-trace-limit')];
}
