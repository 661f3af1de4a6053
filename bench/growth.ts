/**
 * How history grows with a long conversation: one thread of many messages (each two model turns;
 * every tenth calls the protected tool and is approved), its history's events and bytes at turn
 * checkpoints, for a thread of this release (input version 6: model turns as local activities,
 * whose input is not recorded), a lean thread of an earlier release (version 3: each model turn's
 * input carries only what was added) and one started the way the first releases did (version 2:
 * every model turn's input carries the whole conversation). All three are driven by this
 * release's client, so their replies are compact alike: the curves differ by the workflow alone.
 */
import { temporal } from '@temporalio/proto';
import { AGENT_THREAD_WORKFLOW } from '../src/core';
import { fetchRuns } from '../src/client/audit-trail';
import { BENCH_AGENT } from './bench-agent';
import type { BenchContext } from './context';
import { progress } from './concurrency';
import { approve, awaitAnswer } from './thread-steps';

export interface GrowthPoint {
  turns: number;
  /** Every run of the thread so far (continue-as-new starts new ones). */
  events: number;
  bytes: number;
  runs: number;
}

export interface GrowthResult {
  inputVersion: 2 | 3 | 6;
  points: GrowthPoint[];
  approvals: number;
}

/** Checkpoints, in model turns. */
export const GROWTH_CHECKPOINTS = [10, 50, 200];

export async function runGrowth(ctx: BenchContext, messages: number): Promise<GrowthResult[]> {
  const results: GrowthResult[] = [];
  for (const inputVersion of [6, 3, 2] as const) {
    const threadId = `${ctx.runId}-growth-v${inputVersion}`;
    await ctx.airlock.client.workflow.start(AGENT_THREAD_WORKFLOW, { workflowId: threadId, taskQueue: ctx.airlock.taskQueue, args: [{ version: inputVersion, agent: BENCH_AGENT }] });
    const points: GrowthPoint[] = [];
    let approvals = 0;
    const tick = progress(`long thread, input version ${inputVersion}`, messages);
    for (let index = 1; index <= messages; index++) {
      if (index % 10 === 0) {
        const response = await ctx.airlock.handleMessage(threadId, `delete the file growth-${index}.txt`);
        const interrupt = response.state.currentInterrupt;
        if (!interrupt) throw new Error(`Long thread ${threadId} did not ask for approval at message ${index}`);
        await approve(ctx.airlock, threadId, interrupt.id);
        await awaitAnswer(ctx.airlock, threadId);
        approvals++;
      } else {
        const response = await ctx.airlock.handleMessage(threadId, `call lookup with {"q":"question ${index}: ${'what is in the report? '.repeat(8)}"}`);
        if (response.state.status !== 'idle') throw new Error(`Long thread ${threadId} is '${response.state.status}' after message ${index}`);
      }
      if (GROWTH_CHECKPOINTS.includes(index * 2)) points.push({ turns: index * 2, ...(await measure(ctx, threadId)) });
      tick();
    }
    await ctx.airlock.endThread(threadId);
    await ctx.airlock.handle(threadId).result();
    results.push({ inputVersion, points, approvals });
  }
  return results;
}

async function measure(ctx: BenchContext, threadId: string): Promise<Omit<GrowthPoint, 'turns'>> {
  const runs = await fetchRuns(ctx.airlock.client, threadId);
  const bytes = runs.reduce((sum, events) => sum + temporal.api.history.v1.History.encode({ events }).finish().length, 0);
  return { events: runs.reduce((sum, events) => sum + events.length, 0), bytes, runs: runs.length };
}
