/** The worker options that trace threads: Temporal's OpenTelemetry interceptors and the workflow spans' sink. */
import { OpenTelemetryActivityInboundInterceptor, OpenTelemetryActivityOutboundInterceptor, makeWorkflowExporter } from '@temporalio/interceptors-opentelemetry';
import type { WorkerOptions } from '@temporalio/worker';
import type { WorkerTracing } from '../telemetry/tracing';

/** The workflow interceptor modules of tracing: they must be in the workflow bundle. */
export const TRACING_WORKFLOW_MODULES = [require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors')];

/**
 * Interceptors for activities (a `RunActivity:<name>` span, a child of the workflow's
 * `StartActivity:<name>`) and workflows (bundled when the worker bundles its workflows), and the
 * `exporter` sink through which workflow spans leave the sandbox (never called during replay).
 */
export function tracingWorkerOptions(tracing: WorkerTracing, prebuiltBundle: boolean): Pick<WorkerOptions, 'interceptors' | 'sinks'> {
  return {
    interceptors: {
      activity: [(ctx) => ({ inbound: new OpenTelemetryActivityInboundInterceptor(ctx), outbound: new OpenTelemetryActivityOutboundInterceptor(ctx) })],
      // A pre-built bundle carries them itself (bundleAirlockWorkflows({ tracing: true })).
      ...(!prebuiltBundle && { workflowModules: TRACING_WORKFLOW_MODULES }),
    },
    sinks: { exporter: makeWorkflowExporter(tracing.spanProcessor, tracing.resource) },
  };
}
