/**
 * Preloaded into the workflow bundle's shared context before any thread runs, unless a worker keeps
 * stack traces (`createWorker({ workflowStackTraces: true })`). Temporal's SDK captures a stack
 * trace, mapped through the bundle's source map, for every promise workflow code creates; with the
 * limit at 0 each capture is empty and cheap. The context's globals are frozen after preloading,
 * so no thread can change it back.
 */
Error.stackTraceLimit = 0;

export {};
