/**
 * What a thread tells operators: a span per message answered and per approval waited for, and the
 * decision metrics. Deterministic and replay-safe: spans use workflow time and the workflow's
 * seeded randomness, and are exported (through the OpenTelemetry interceptors' sink) only outside
 * replay; `metricMeter` emits nothing during replay. Neither adds a command to history.
 *
 * Spans are made only in runs that are traced (see tracing-gate.ts); `@opentelemetry/api` is
 * loaded by the first of them. Its module costs every new sandbox (each new thread, each thread
 * replayed after eviction) about half a millisecond of the worker's CPU, and in an untraced run
 * its no-op tracer would make spans that go nowhere. The answer's promise chain is the same either
 * way, so the order of commands does not depend on it.
 */
import { metricMeter } from '@temporalio/workflow';
import type { Context, Span } from '@opentelemetry/api';
import { METRICS, SPANS, SPAN_ATTRIBUTES } from '../core';
import type { HitlInterrupt, InterruptResolution } from '../core';
import { isTracedRun } from './tracing-gate';

type OtelApi = typeof import('@opentelemetry/api');

/** The OpenTelemetry API in a traced run, `undefined` in any other. */
const otelApi = (): OtelApi | undefined => (isTracedRun() ? (require('@opentelemetry/api') as OtelApi) : undefined);

/** The approver of a resolution, where a person decided. */
function approverOf(resolution: InterruptResolution): string | undefined {
  return 'approver' in resolution ? resolution.approver : undefined;
}

/** A thread's spans and decision metrics. */
export class ThreadTelemetry {
  /** The trace each queued message arrived in (its Update's or signal's span), by message number. */
  private readonly arrivals = new Map<number, Context>();

  // Made per thread run: the workflow's meter tags what it emits with the run's namespace and task queue.
  private readonly decisions = metricMeter.createCounter(METRICS.decisions, 'decisions', 'Interrupts resolved, by tool and outcome');
  private readonly timeToDecide = metricMeter.createHistogram(METRICS.timeToDecide, 'int', 'ms', 'From an interrupt opening to its resolution, by tool and outcome');

  constructor(
    private readonly threadId: string,
    private readonly agentName: string,
  ) {}

  /** Remembers the trace message `n` arrived in: it is answered in that trace. Call from its handler. */
  messageArrived(n: number): void {
    const api = otelApi();
    if (api) this.arrivals.set(n, api.context.active());
  }

  /** Runs `answer` inside an `airlock.message` span, a child of the span the message arrived in. */
  async answering<T>(n: number | undefined, answer: () => Promise<T>): Promise<T> {
    const api = otelApi();
    if (!api) return await answer();
    const parent = (n !== undefined && this.arrivals.get(n)) || api.context.active();
    if (n !== undefined) this.arrivals.delete(n);
    const span = api.trace.getTracer('airlock').startSpan(SPANS.message, { attributes: { [SPAN_ATTRIBUTES.threadId]: this.threadId, ...(n !== undefined && { [SPAN_ATTRIBUTES.message]: n }) } }, parent);
    try {
      return await api.context.with(api.trace.setSpan(parent, span), answer);
    } catch (err) {
      span.setStatus({ code: api.SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
      throw err;
    } finally {
      span.end();
    }
  }

  /** Starts the `airlock.approval` span of an interrupt that just opened (in the current message's trace), in a traced run. */
  approvalOpened(interrupt: HitlInterrupt): Span | undefined {
    return otelApi()?.trace.getTracer('airlock').startSpan(SPANS.approval, {
      startTime: Date.parse(interrupt.createdAt),
      attributes: { [SPAN_ATTRIBUTES.threadId]: this.threadId, [SPAN_ATTRIBUTES.interruptId]: interrupt.id, [SPAN_ATTRIBUTES.tool]: interrupt.toolName },
    });
  }

  /** Ends the approval's span with its outcome and approver, and counts the decision and its wait. */
  approvalResolved(interrupt: HitlInterrupt, span: Span | undefined): void {
    const resolution = interrupt.resolution;
    if (!resolution) return;
    const outcome = resolution.type;
    const approver = approverOf(resolution);
    span?.setAttribute(SPAN_ATTRIBUTES.outcome, outcome);
    if (approver !== undefined) span?.setAttribute(SPAN_ATTRIBUTES.approver, approver);
    span?.end(Date.now());
    const waitedMs = Math.max(0, Date.now() - Date.parse(interrupt.createdAt));
    const tags = { tool: interrupt.toolName, outcome, agent: this.agentName };
    this.decisions.add(1, tags);
    this.timeToDecide.record(Number.isFinite(waitedMs) ? Math.round(waitedMs) : 0, tags);
  }
}
