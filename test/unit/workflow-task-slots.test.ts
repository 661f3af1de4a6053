/**
 * A worker with a small cache runs half as many workflow tasks at once as it caches threads (at
 * least 2), unless the caller chose; a cache of 80 or more keeps Temporal's default of 40.
 */
import { noopMetricMeter } from '@temporalio/common';
import { DefaultLogger } from '@temporalio/worker';
import { compileWorkerOptions } from '@temporalio/worker/lib/worker-options';
import { temporalDefaultCache, workflowTaskSlots } from '../../src/worker/create-worker';

test('a small cache gets half as many workflow tasks at once, at least 2', () => {
  expect(workflowTaskSlots({ maxCachedWorkflows: 20 })).toEqual({ maxConcurrentWorkflowTaskExecutions: 10 });
  expect(workflowTaskSlots({ maxCachedWorkflows: 79 })).toEqual({ maxConcurrentWorkflowTaskExecutions: 39 });
  expect(workflowTaskSlots({ maxCachedWorkflows: 3 })).toEqual({ maxConcurrentWorkflowTaskExecutions: 2 });
  // Temporal takes a cache of 1 (or any other below 2 but 0) as 2.
  expect(workflowTaskSlots({ maxCachedWorkflows: 1 })).toEqual({ maxConcurrentWorkflowTaskExecutions: 2 });
  expect(workflowTaskSlots({ maxCachedWorkflows: -5 })).toEqual({ maxConcurrentWorkflowTaskExecutions: 2 });
});

test("a count or a tuner the caller chose, no cache, or a cache of 80 or more is left to the caller and Temporal", () => {
  expect(workflowTaskSlots({ maxCachedWorkflows: 20, maxConcurrentWorkflowTaskExecutions: 15 })).toEqual({});
  expect(workflowTaskSlots({ maxCachedWorkflows: 20, tuner: { tunerOptions: { targetMemoryUsage: 0.8, targetCpuUsage: 0.9 } } })).toEqual({});
  expect(workflowTaskSlots({ maxCachedWorkflows: 0 })).toEqual({});
  expect(workflowTaskSlots({ maxCachedWorkflows: 80 })).toEqual({});
  expect(workflowTaskSlots({ maxCachedWorkflows: 5000 })).toEqual({});
});

test("a count given as undefined is no choice", () => {
  expect(workflowTaskSlots({ maxCachedWorkflows: 20, maxConcurrentWorkflowTaskExecutions: undefined })).toEqual({ maxConcurrentWorkflowTaskExecutions: 10 });
});

test("without a cache size, the cache is the one Temporal sizes from V8's heap limit", () => {
  for (const reuseV8Context of [true, false]) {
    const compiled = compileWorkerOptions({ taskQueue: 'slots', activities: {}, reuseV8Context }, new DefaultLogger('ERROR'), noopMetricMeter);
    expect(temporalDefaultCache(reuseV8Context)).toBe(compiled.maxCachedWorkflows);
    const expected = compiled.maxCachedWorkflows >= 80 ? {} : { maxConcurrentWorkflowTaskExecutions: Math.max(2, Math.floor(compiled.maxCachedWorkflows / 2)) };
    expect(workflowTaskSlots({ reuseV8Context })).toEqual(expected);
  }
});
