import type { Client } from '@temporalio/client';
import { AirlockAgent, AirlockStatus, PENDING_MEMO_KEY, isToolName } from '../core';
import type { PendingSummary } from '../core';
import { readPendingMemo } from '../core/wire-schemas';
import { listThreads, readMemo, readSearchAttribute } from './thread-listing';

/** An interrupt waiting for a decision, as the inbox lists it. */
export interface PendingApproval extends PendingSummary {
  threadId: string;
  agent?: string;
}


/**
 * Every interrupt waiting for a decision across all threads, oldest first. Served by Temporal
 * visibility alone (the search attributes and the memo the threads keep), so it reads no thread's
 * state and works while no worker runs. Visibility is eventually consistent: a decision made a
 * moment ago may still show for a second.
 * A thread whose memo this client cannot read (encrypted under a key it lacks) is left out and
 * passed to `onUnreadable`; the others are listed.
 * @throws Error for a tool name that is not a valid tool name
 */
export async function listPendingApprovals(client: Client, options: { tool?: string; onUnreadable?: (threadId: string) => void } = {}): Promise<PendingApproval[]> {
  const { tool, onUnreadable } = options;
  if (tool !== undefined && !isToolName(tool)) throw new Error('Invalid tool name: use 1-64 letters, digits, _ or -');
  let query = `${AirlockStatus.name} = 'awaiting_approval' AND ExecutionStatus = 'Running'`;
  if (tool) query += ` AND AirlockPendingTools = '${tool}'`;
  const approvals: PendingApproval[] = [];
  for await (const thread of listThreads(client, query)) {
    let memo: unknown;
    try {
      memo = await readMemo(client, thread, PENDING_MEMO_KEY);
    } catch {
      onUnreadable?.(thread.workflowId);
      continue;
    }
    const agent = readSearchAttribute(thread, AirlockAgent.name);
    for (const summary of readPendingMemo(memo)) {
      if (!tool || summary.toolName === tool) approvals.push({ threadId: thread.workflowId, agent: typeof agent === 'string' ? agent : undefined, ...summary });
    }
  }
  return approvals.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.threadId.localeCompare(b.threadId));
}
