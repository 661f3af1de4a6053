import type { AgentResponse, AuditEntry, ChatMessage } from '../../core';
import type { PendingApproval } from '../pending-approvals';

/** `3m`, `2h 5m`, `4d 1h`: a short duration for tables. */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

const shorten = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** Columns padded to their widest cell. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  const line = (cells: string[]) => cells.map((cell, column) => cell.padEnd(widths[column])).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export function formatPending(approvals: PendingApproval[], now = Date.now()): string {
  if (approvals.length === 0) return 'No approvals pending.';
  return table(
    ['THREAD', 'INTERRUPT', 'TOOL', 'ARGUMENTS', 'NOTE', 'AGE', 'DEADLINE'],
    approvals.map((approval) => [
      approval.threadId,
      approval.id,
      approval.toolName,
      shorten(approval.argsPreview, 48),
      shorten(approval.policyNote ?? '', 36),
      formatAge(now - Date.parse(approval.createdAt)),
      approval.deadline ? `${approval.deadline} (in ${formatAge(Date.parse(approval.deadline) - now)})` : '-',
    ]),
  );
}

export function formatAudit(entries: AuditEntry[]): string {
  if (entries.length === 0) return 'No interrupts in this thread.';
  return table(
    ['TIME', 'INTERRUPT', 'TOOL', 'ARGUMENTS', 'DECISION', 'BY', 'REASON', 'RESULT'],
    entries.map((entry) => [
      entry.timestamp,
      entry.interruptId,
      entry.toolName,
      shorten(JSON.stringify(entry.toolArgs) ?? '', 40),
      entry.decision === 'timed-out' ? `timed-out (${entry.outcome})` : entry.decision,
      entry.approver ?? '',
      shorten(entry.refusal ? `${entry.refusal.errorType}: ${entry.refusal.reason}` : (entry.reason ?? ''), 40),
      shorten(entry.result ?? '', 40),
    ]),
  );
}

/** What the agent said, or what it waits for. */
export function formatResponse(threadId: string, response: AgentResponse): string {
  const { state } = response;
  if (state.lastError) return `The model could not answer: ${state.lastError.type}: ${state.lastError.message}`;
  if (state.pendingInterrupts.length === 0) return `Agent: ${response.content}`;
  const lines = [`Thread ${threadId} waits for approval:`];
  for (const interrupt of state.pendingInterrupts) {
    lines.push(`  ${interrupt.id}  ${interrupt.toolName} ${JSON.stringify(interrupt.toolArgs)}${interrupt.policyNote ? `  — ${interrupt.policyNote}` : ''}`);
    lines.push(`    airlock approve ${threadId} ${interrupt.id}   |   airlock reject ${threadId} ${interrupt.id} --reason "..."`);
  }
  return lines.join('\n');
}

export function formatConversation(messages: ChatMessage[]): string {
  return messages
    .map((message) => {
      if (message.role === 'user') return `You: ${message.content}`;
      if (message.role === 'tool') return `  [${message.name}] ${message.content}`;
      const calls = (message.toolCalls ?? []).map((call) => `  → ${call.name} ${call.arguments}`);
      return [message.content ? `Agent: ${message.content}` : '', ...calls].filter(Boolean).join('\n');
    })
    .filter(Boolean)
    .join('\n');
}
