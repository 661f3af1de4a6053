/**
 * The "approvals pending" gauges, counted from Temporal visibility rather than from the threads'
 * own metrics: a thread's wait outlives the worker that opened it (it may be evicted, replayed
 * elsewhere, decided days later), so per-process up/down counts drift on every restart. A count of
 * the running threads whose `AirlockStatus` is `awaiting_approval` is right whatever happened to
 * the workers, at the cost of one `count` call per tool every interval.
 */
import type { Client } from '@temporalio/client';
import type { MetricMeter } from '@temporalio/common';
import { AirlockPendingTools, AirlockStatus, METRICS, isToolName } from '../core';

/** Options of `startAwaitingApprovalGauge`. */
export interface AwaitingApprovalGaugeOptions {
  client: Client;
  /** The runtime's meter (`Runtime.instance().metricMeter`): the gauges go out on its Prometheus endpoint. */
  meter: MetricMeter;
  /** The protected tools to count one by one (the worker's agents'). */
  tools: string[];
  /** Time between two counts. Default 15 s. */
  intervalMs?: number;
  /** Where a failed count is reported (once until counting works again). */
  log: (line: string) => void;
}

const AWAITING = `${AirlockStatus.name} = 'awaiting_approval' AND ExecutionStatus = 'Running'`;

/** Counts now and every interval until the returned `stop` is called. */
export function startAwaitingApprovalGauge(options: AwaitingApprovalGaugeOptions): { stop: () => void } {
  const total = options.meter.createGauge(METRICS.threadsAwaitingApproval, 'int', 'threads', 'Running threads waiting for at least one decision (namespace-wide, from visibility)');
  const byTool = options.meter.createGauge(METRICS.threadsAwaitingToolApproval, 'int', 'threads', 'Running threads waiting for a decision on this tool (namespace-wide, from visibility)');
  const tools = [...new Set(options.tools)].filter(isToolName);
  let failing = false;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const count = async () => {
    try {
      total.set((await options.client.workflow.count(AWAITING)).count);
      for (const tool of tools) byTool.set((await options.client.workflow.count(`${AWAITING} AND ${AirlockPendingTools.name} = '${tool}'`)).count, { tool });
      failing = false;
    } catch (err) {
      if (!failing) options.log(`Cannot count the threads awaiting approval: ${(err as Error).message}`);
      failing = true;
    }
    if (!stopped) timer = setTimeout(() => void count(), options.intervalMs ?? 15_000).unref();
  };
  void count();
  return {
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
