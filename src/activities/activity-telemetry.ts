/**
 * What the activities tell operators: the `airlock_tool_runs` counter (by tool and result) on the
 * worker's metric meter; the interrupt and result on the `RunActivity:executeTool` span and the
 * thread and turn on `RunActivity:callModel` when tracing is on. Without metrics or tracing
 * configured, these are no-ops.
 */
import { trace } from '@opentelemetry/api';
import { Context } from '@temporalio/activity';
import { METRICS, SPAN_ATTRIBUTES } from '../core';
import type { ExecuteToolInput, ExecuteToolResult } from '../core';

/** Runs `run` (one attempt of the tool activity) and records its result: `ok`, the error type, or `failed` when it threw (and Temporal retries it). */
export async function observeToolRun(input: ExecuteToolInput, run: () => Promise<ExecuteToolResult>): Promise<ExecuteToolResult> {
  const span = trace.getActiveSpan();
  span?.setAttribute(SPAN_ATTRIBUTES.tool, input.toolName);
  if (input.interruptId !== undefined) span?.setAttribute(SPAN_ATTRIBUTES.interruptId, input.interruptId);
  let result = 'failed';
  try {
    const outcome = await run();
    result = outcome.ok ? 'ok' : outcome.errorType;
    return outcome;
  } finally {
    span?.setAttribute('airlock.result', result);
    Context.current().metricMeter.createCounter(METRICS.toolRuns, 'runs', 'Tool activity attempts, by tool and result').add(1, { tool: input.toolName, result });
  }
}

/** Names the thread and turn on the model turn's span (when tracing is on). */
export function annotateModelTurn(threadId: string, turn: number): void {
  const span = trace.getActiveSpan();
  span?.setAttribute(SPAN_ATTRIBUTES.threadId, threadId);
  span?.setAttribute(SPAN_ATTRIBUTES.turn, turn);
}
