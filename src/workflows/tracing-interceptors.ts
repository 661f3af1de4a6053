/** Workflow interceptors of a worker that traces: new threads are traced (see tracing-gate.ts). */
import type { WorkflowInterceptors } from '@temporalio/workflow';
import { gatedTracingInterceptors } from './tracing-gate';

export const interceptors = (): WorkflowInterceptors => gatedTracingInterceptors(true);
