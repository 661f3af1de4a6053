import { prettyCanonicalJson } from '../core';
import type { HitlInterrupt, ThreadStatus } from '../core';

const MAX_ARGS_CHARS = 600;

/** Markdown for the Web UI's "current details": what the thread waits for, in a few lines. */
export function describeWaiting(threadId: string, status: ThreadStatus, pending: HitlInterrupt[]): string {
  if (pending.length === 0) return `**${threadId}** — ${status}`;
  const lines = [`**${threadId}** — awaiting approval (${pending.length})`];
  for (const interrupt of pending) {
    let args = prettyCanonicalJson(interrupt.toolArgs);
    if (args.length > MAX_ARGS_CHARS) args = `${args.slice(0, MAX_ARGS_CHARS)}… (shortened: approve only where the arguments are shown in full)`;
    // A fence longer than any backtick run inside, so the arguments cannot close it and write markdown.
    const fence = '`'.repeat(Math.max(3, ...(args.match(/`+/g) ?? []).map((run) => run.length + 1)));
    lines.push('', `**\`${interrupt.toolName}\`** — interrupt \`${interrupt.id}\``);
    if (interrupt.policyNote) lines.push('', `Note: ${interrupt.policyNote}`);
    const deadline = interrupt.deadline ? ` · deadline ${interrupt.deadline} (then ${interrupt.policy.onTimeout ?? 'reject'})` : '';
    lines.push('', `Waiting since ${interrupt.createdAt}${deadline}`, '', `${fence}json`, args, fence);
  }
  return lines.join('\n');
}
