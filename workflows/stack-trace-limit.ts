/**
 * Preloaded into the worker's workflow sandbox unless WORKER_WORKFLOW_STACK_TRACES=on
 * (workers/bundle-options.ts). For the stack-trace query the SDK captures a stack trace each time
 * workflow code creates a promise and maps every frame through the bundle's source map; at a thousand
 * journeys that was about a fifth of the workflow thread's CPU (docs/performance.md). With no frames
 * captured that work goes; the price is that the stack-trace query, and errors thrown by workflow
 * code, carry no frames. Runs once per sandbox, before its globals are frozen.
 */
Error.stackTraceLimit = 0;

export {};
