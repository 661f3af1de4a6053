/**
 * The floor the bench compares Airlock with: the same steps as a bare Temporal workflow, written
 * the plain way (no policy, no audit, no visibility): a message (Update with start) → model
 * activity → wait for a decision (Update) → tool activity → model activity → the answer (Update).
 */
import * as wf from '@temporalio/workflow';
import type { BareActivities, BareMessage } from './types';

export const bareMessageUpdate = wf.defineUpdate<{ status: string }, [string]>('bareMessage');
export const bareDecideUpdate = wf.defineUpdate<void, [string]>('bareDecide');
export const bareAwaitUpdate = wf.defineUpdate<{ status: string; content: string }, []>('bareAwait');
export const bareEndSignal = wf.defineSignal('bareEnd');

const { bareModel, bareTool } = wf.proxyActivities<BareActivities>({ startToCloseTimeout: '1m' });

export async function bareThread(): Promise<number> {
  const messages: BareMessage[] = [];
  let status: 'idle' | 'running' | 'waiting' = 'idle';
  let queued: string | undefined;
  let decision: string | undefined;
  let ended = false;
  let approvals = 0;
  wf.setHandler(bareMessageUpdate, async (text) => {
    queued = text;
    status = 'running';
    await wf.condition(() => status !== 'running');
    return { status };
  });
  wf.setHandler(bareDecideUpdate, (approver) => {
    decision = approver;
  });
  wf.setHandler(bareAwaitUpdate, async () => {
    await wf.condition(() => status !== 'running');
    const last = messages[messages.length - 1];
    return { status, content: last?.role === 'assistant' ? last.content : '' };
  });
  wf.setHandler(bareEndSignal, () => void (ended = true));
  for (;;) {
    await wf.condition(() => queued !== undefined || ended);
    if (ended) break;
    messages.push({ role: 'user', content: queued! });
    queued = undefined;
    let reply = await bareModel(messages);
    messages.push(reply);
    while (reply.toolCall) {
      status = 'waiting';
      await wf.condition(() => decision !== undefined);
      status = 'running';
      approvals++;
      decision = undefined;
      messages.push({ role: 'tool', content: await bareTool(wf.workflowInfo().workflowId, reply.toolCall.arguments) });
      reply = await bareModel(messages);
      messages.push(reply);
    }
    status = 'idle';
  }
  return approvals;
}
