import { prettyCanonicalJson } from '../core';
import type { HitlInterrupt, ThreadStatus } from '../core';

const MAX_ARGS_CHARS = 600;

/** A code fence longer than any backtick run inside `text`, so the text cannot close it and write markdown. */
const fenceFor = (text: string, min: number) => '`'.repeat(Math.max(min, ...(text.match(/`+/g) ?? []).map((run) => run.length + 1)));

/** Text shown as plain text in markdown: every character markdown could read as syntax is escaped. */
const plain = (text: string) => text.replace(/[\\`*_{}[\]()#+\-.!|<>~]/g, (char) => `\\${char}`).replace(/\s+/g, ' ');

/**
 * Markdown for the Web UI's "current details". While the thread waits it leads with what an
 * operator decides on: each waiting tool and its arguments, then the note, the interrupt and the
 * deadline; the thread's id and status come last.
 */
export function describeWaiting(threadId: string, status: ThreadStatus, pending: HitlInterrupt[]): string {
  if (pending.length === 0) return `**${threadId}** — ${status}`;
  const lines: string[] = [];
  for (const interrupt of pending) {
    let args = prettyCanonicalJson(interrupt.toolArgs);
    if (args.length > MAX_ARGS_CHARS) args = `${args.slice(0, MAX_ARGS_CHARS)}… (shortened: approve only where the arguments are shown in full)`;
    const fence = fenceFor(args, 3);
    const tool = fenceFor(interrupt.toolName, 1);
    if (lines.length) lines.push('', '---', '');
    lines.push(`**Awaiting approval: ${tool}${interrupt.toolName}${tool}**`, '', `${fence}json`, args, fence);
    if (interrupt.policyNote) lines.push('', `Note: ${interrupt.policyNote}`);
    if (interrupt.askReason) lines.push('', `Why it asks: ${plain(interrupt.askReason)}`);
    const lastEdit = interrupt.edits?.[interrupt.edits.length - 1];
    if (lastEdit) lines.push('', `Arguments edited by ${plain(lastEdit.approver)} at ${lastEdit.at}`);
    if (interrupt.policy.approvers?.length) lines.push('', `Who may approve: ${plain(interrupt.policy.approvers.join(', '))}`);
    const deadline = interrupt.deadline ? ` · deadline ${interrupt.deadline} (then ${interrupt.policy.onTimeout ?? 'reject'})` : '';
    lines.push('', `Interrupt \`${interrupt.id}\` · waiting since ${interrupt.createdAt}${deadline}`);
  }
  lines.push('', `**${threadId}** — awaiting approval (${pending.length})`);
  return lines.join('\n');
}
