/**
 * Traces over OTLP HTTP (JSON): a tracer provider for the process, registered globally so that
 * Temporal's client and activity interceptors use it, and the span processor the workflow
 * interceptors' sink hands workflow spans to. Started only when an endpoint is configured.
 */
import { context, propagation, trace } from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { AsyncLocalContextManager } from './async-context';

/** Where spans go. */
export interface TracingOptions {
  /** The OTLP HTTP traces URL, e.g. `http://collector:4318/v1/traces`. */
  endpoint: string;
  /** The `service.name` resource attribute. */
  serviceName: string;
  /** Longest wait before a batch of spans is sent. Default 2 s. */
  flushDelayMs?: number;
}

/** What `createWorker({ tracing })` needs: where finished spans go, and the resource they carry. */
export interface WorkerTracing {
  spanProcessor: SpanProcessor;
  resource: Resource;
}

/** A started tracer provider. */
export interface Tracing extends WorkerTracing {
  /** Sends the spans still buffered and stops. */
  shutdown(): Promise<void>;
}

/**
 * Starts tracing for this process: a global tracer provider with W3C trace-context propagation and
 * an AsyncLocalStorage context manager, exporting in batches to `endpoint`.
 */
export function startTracing(options: TracingOptions): Tracing {
  const resource = new Resource({ 'service.name': options.serviceName });
  const spanProcessor = new BatchSpanProcessor(new OTLPTraceExporter({ url: options.endpoint }), { scheduledDelayMillis: options.flushDelayMs ?? 2_000 });
  const provider = new BasicTracerProvider({ resource, spanProcessors: [spanProcessor] });
  provider.register({
    contextManager: new AsyncLocalContextManager(),
    propagator: new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
  });
  return {
    spanProcessor,
    resource,
    async shutdown() {
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}
