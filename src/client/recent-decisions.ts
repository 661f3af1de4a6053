import type { Client } from '@temporalio/client';
import { AGENT_THREAD_WORKFLOW } from '../core';
import type { AuditEntry } from '../core';
import { readAuditTrail } from './audit-trail';
import { listThreads } from './thread-listing';

/** How many recent decisions to return and how many threads to read them from. */
export interface RecentDecisionsOptions {
  /** Decisions to return at most, newest first. Default 20. */
  limit?: number;
  /** Threads whose audit trails are read at most. Default 50. */
  scanThreads?: number;
}

/** The decisions of the threads read, newest first, and how many threads were read. */
export interface RecentDecisions {
  decisions: AuditEntry[];
  scannedThreads: number;
}

const DECIDED = new Set<AuditEntry['decision']>(['accepted', 'edited', 'responded', 'rejected', 'timed-out', 'cancelled']);
const PARALLEL_READS = 8;

/**
 * Who decided what, when: the resolved interrupts (accepted, edited, responded, rejected, timed out, cancelled) of the
 * most recent threads, newest decision first, each from the thread's audit trail (its event history).
 * The threads are those visibility lists first (running threads, newest started first, then the most
 * recently closed), up to `scanThreads`: a decision on an older thread beyond them is not listed.
 */
export async function listRecentDecisions(client: Client, options: RecentDecisionsOptions = {}): Promise<RecentDecisions> {
  const { limit = 20, scanThreads = 50 } = options;
  const threadIds: string[] = [];
  // Ids only: no memo is decoded, so a thread this client cannot read does not end the listing.
  for await (const { workflowId } of listThreads(client, `WorkflowType = '${AGENT_THREAD_WORKFLOW}'`, scanThreads)) {
    if (!threadIds.includes(workflowId)) threadIds.push(workflowId);
    if (threadIds.length >= scanThreads) break;
  }
  const decisions: AuditEntry[] = [];
  for (let from = 0; from < threadIds.length; from += PARALLEL_READS) {
    const trails = await Promise.all(
      // A thread deleted between the listing and the read has no trail to show.
      threadIds.slice(from, from + PARALLEL_READS).map((threadId) => readAuditTrail(client, threadId).catch(() => [] as AuditEntry[])),
    );
    for (const trail of trails) decisions.push(...trail.filter((entry) => DECIDED.has(entry.decision)));
  }
  decisions.sort((a, b) => b.timestamp.localeCompare(a.timestamp) || a.threadId.localeCompare(b.threadId));
  return { decisions: decisions.slice(0, limit), scannedThreads: threadIds.length };
}
