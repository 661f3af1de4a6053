/**
 * Workflow interceptors of a worker that does not trace: new threads are not traced, threads that
 * began traced keep their interceptors so that they replay as they ran (see tracing-gate.ts).
 */
import type { WorkflowInterceptors } from '@temporalio/workflow';
import { gatedTracingInterceptors } from './tracing-gate';

export const interceptors = (): WorkflowInterceptors => gatedTracingInterceptors(false);
