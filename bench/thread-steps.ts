/** The steps of one bench thread, each checking that the thread did what it should. */
import type { AirlockClient } from '../src/client';
import type { ThreadSummary } from '../src/core';
import { benchMessage } from './bench-agent';
import { forEachLimited, progress } from './concurrency';

/** Sends the message that asks for the protected tool; returns the id of the interrupt that waits. */
export async function parkThread(airlock: AirlockClient, threadId: string, index: number): Promise<string> {
  const response = await airlock.handleMessage(threadId, benchMessage(index));
  const interrupt = response.state.currentInterrupt;
  if (response.state.status !== 'awaiting_approval' || interrupt?.toolName !== 'delete_file') {
    throw new Error(`Thread ${threadId} should wait for approval of delete_file, but is '${response.state.status}'`);
  }
  return interrupt.id;
}

/** Accepts the interrupt through the `decide` update. */
export async function approve(airlock: AirlockClient, threadId: string, interruptId: string): Promise<void> {
  const outcome = await airlock.decide(threadId, { interruptId, action: 'accept', approver: 'bench' });
  if (outcome.type !== 'applied') throw new Error(`Decision on ${threadId} was not applied: ${outcome.type === 'refused' ? outcome.reason : outcome.type}`);
}

/** Waits for the thread's final answer (after the tool ran). */
export async function awaitAnswer(airlock: AirlockClient, threadId: string): Promise<void> {
  const response = await airlock.awaitResponse(threadId);
  if (response.state.status !== 'idle' || !response.content.includes('delete_file: deleted')) {
    throw new Error(`Thread ${threadId} should have answered after the tool ran, but is '${response.state.status}': ${response.content}`);
  }
}

/** Ends threads and waits until each workflow has returned its summary; checks one interrupt each. */
export async function endThreads(airlock: AirlockClient, threadIds: readonly string[], concurrency: number, label: string): Promise<void> {
  const tick = progress(label, threadIds.length);
  await forEachLimited(threadIds, concurrency, async (threadId) => {
    await airlock.endThread(threadId);
    const summary: ThreadSummary = await airlock.handle(threadId).result();
    if (summary.interrupts !== 1) throw new Error(`Thread ${threadId} ended with ${summary.interrupts} interrupts, expected 1`);
    tick();
  });
}
