import { allowedActions, canonicalJson, prettyCanonicalJson } from '../core';
import type { AgentResponse, AuditEntry, ChatMessage, DecisionAction, HitlInterrupt, ToolGrant } from '../core';
import type { PendingApproval } from '../client/pending-approvals';
import { terminalSafe } from './terminal-text';
import { cliName } from './context';

/** `3m`, `2h 5m`, `4d 1h`: a short duration for tables; `?` when it cannot be computed. */
export function formatAge(ms: number): string {
  if (!Number.isFinite(ms)) return '?';
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** Cut at `max` code points (never inside a surrogate pair). */
function shorten(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : text;
}

/** One line of text others wrote, safe to print: controls and invisible characters shown escaped. */
const safeLine = (text: string) => terminalSafe(text);
/** Text others wrote that may span lines (messages, results), safe to print. */
const safeText = (text: string) => terminalSafe(text, { keepNewlines: true });
const indent = (text: string, by: string) => text.replace(/^/gm, by);

/** Columns padded to their widest cell. Cells are printed as given: escape them first. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  const render = (cells: string[]) => cells.map((cell, column) => cell.padEnd(widths[column])).join('  ').trimEnd();
  return [render(header), ...rows.map(render)].join('\n');
}

/**
 * Every pending approval as a block of labelled lines (thread, interrupt, tool, agent, note, why the
 * policy asks, age, deadline, approvers, the decisions allowed when the policy restricts them,
 * whether grants are forbidden, who edited the call, digest and signature when set), then its full
 * arguments as pretty JSON with sorted keys (and, for an edited call, the model's arguments):
 * never shortened, so nothing placed last can hide. All text is escaped with {@link terminalSafe}.
 */
export function formatPending(approvals: PendingApproval[], now = Date.now()): string {
  if (approvals.length === 0) return 'No approvals pending.';
  const count = approvals.length === 1 ? '1 approval pending.' : `${approvals.length} approvals pending, oldest first.`;
  return [count, ...approvals.map((approval) => formatApproval(approval, now))].join('\n\n');
}

function formatApproval(approval: PendingApproval, now: number): string {
  const fields: [string, string][] = [
    ['Thread', safeLine(approval.threadId)],
    ['Interrupt', safeLine(approval.id)],
    ['Tool', safeLine(approval.toolName)],
    ['Agent', approval.agent ? safeLine(approval.agent) : '-'],
    ['Note', approval.policyNote ? safeLine(approval.policyNote) : '-'],
  ];
  if (approval.askReason) fields.push(['Asks because', safeLine(approval.askReason)]);
  fields.push(
    ['Age', formatAge(now - Date.parse(approval.createdAt))],
    ['Deadline', approval.deadline ? `${safeLine(approval.deadline)} (in ${formatAge(Date.parse(approval.deadline) - now)})` : '-'],
    ['Approvers', approval.approvers?.length ? approval.approvers.map(safeLine).join(', ') : 'anyone who can reach the thread'],
  );
  if (approval.allowedDecisions) fields.push(['Decisions', `${approval.allowedDecisions.map((action) => DECISION_COMMANDS[action]).join(', ')} only`]);
  // Summaries that carry a callDigest say whether grants are allowed (older ones do not).
  if (approval.callDigest !== undefined && !approval.grants) fields.push(['Grants', 'not allowed by the policy']);
  if (approval.originalArgs !== undefined) fields.push(['Edited by', `${approval.editedBy ? safeLine(approval.editedBy) : 'an approver'} (it waits for a stricter approval)`]);
  if (approval.argsDigest) fields.push(['Digest', safeLine(approval.argsDigest)]);
  if (approval.callDigest) fields.push(['Call digest', safeLine(approval.callDigest)]);
  if (approval.requireSignature) fields.push(['Signature', 'required: only a signed decision is accepted']);
  const width = Math.max(...fields.map(([label]) => label.length)) + 2;
  const rendered = fields.map(([label, value]) => `${`${label}:`.padEnd(width)}${value}`);
  return [...rendered, ...formatPendingArguments(approval)].join('\n');
}

function formatPendingArguments(approval: PendingApproval): string[] {
  const show = `run \`airlock show ${safeLine(approval.threadId)}\` to see the full arguments before deciding`;
  if (approval.args !== undefined && approval.originalArgs !== undefined) {
    return [
      'Arguments (edited):',
      indent(safeText(prettyCanonicalJson(approval.args)), '  '),
      "Model's arguments:",
      indent(safeText(prettyCanonicalJson(approval.originalArgs)), '  '),
    ];
  }
  if (approval.args !== undefined) return ['Arguments:', indent(safeText(prettyCanonicalJson(approval.args)), '  ')];
  if (approval.argsPreview !== undefined) {
    return [`Arguments (shortened by an older version; ${show}):`, indent(safeLine(approval.argsPreview), '  ')];
  }
  return [`Arguments: not listed; ${show}.`];
}

/**
 * The audit trail as a one-line-per-interrupt table (and one line per call a rule or a grant let
 * through, per grant that ended). Every cell is escaped with {@link terminalSafe}; arguments,
 * reason and result are shortened to 40 characters, details to 80 (`--json` gives them whole).
 * BY is the approver, or for a call that ran without asking the rule or grant that let it through.
 * DETAILS says an edited call's original arguments and who escalated it, why the policy asked, a
 * response's text, the grant an approval issued, and the grant a row is about.
 */
export function formatAudit(entries: AuditEntry[]): string {
  if (entries.length === 0) return 'No interrupts in this thread.';
  return table(
    ['TIME', 'INTERRUPT', 'TOOL', 'ARGUMENTS', 'DECISION', 'BY', 'REASON', 'RESULT', 'SIGNED', 'SENT BY', 'DETAILS'],
    entries.map((entry) => [
      safeLine(entry.timestamp),
      safeLine(entry.interruptId),
      safeLine(entry.toolName),
      entry.toolArgs === undefined ? '' : shorten(safeLine(canonicalJson(entry.toolArgs)), 40),
      safeLine(entry.decision === 'timed-out' ? `timed-out (${entry.outcome})` : entry.decision),
      safeLine(auditBy(entry)),
      shorten(safeLine(entry.refusal ? `${entry.refusal.errorType}: ${entry.refusal.reason}` : (entry.reason ?? '')), 40),
      shorten(safeLine(entry.result ?? ''), 40),
      safeLine(entry.signedBy ? `key ${entry.signedBy.keyId}` : ''),
      shorten(safeLine(entry.sender ? `${entry.sender}${entry.via ? ` (${entry.via})` : ''}` : ''), 48),
      shorten(safeLine(auditDetails(entry)), 80),
    ]),
  );
}

function auditBy(entry: AuditEntry): string {
  if (entry.decision !== 'allowed') return entry.approver ?? '';
  return entry.grantId ? `grant ${entry.grantId}` : 'policy rule';
}

function auditDetails(entry: AuditEntry): string {
  const parts: string[] = [];
  if (entry.originalArgs !== undefined) parts.push(`model's arguments: ${canonicalJson(entry.originalArgs)}`);
  if (entry.edits?.length) parts.push(`edited by ${entry.edits.map((edit) => edit.approver).join(', ')} (escalated)`);
  if (entry.askReason && entry.decision !== 'allowed') parts.push(`asked: ${entry.askReason}`);
  if (entry.response !== undefined) parts.push(`response: ${entry.response}`);
  if (entry.grant && (entry.decision === 'accepted' || entry.decision === 'edited')) {
    parts.push(`granted ${entry.grant.id}: ${describeMatch(entry.grant.match)}${entry.grant.expiresAt ? ` until ${entry.grant.expiresAt}` : ''}`);
  } else if (entry.grantId && (entry.decision === 'grant-revoked' || entry.decision === 'grant-expired')) {
    parts.push(`grant ${entry.grantId}`);
  }
  return parts.join('; ');
}

/** A grant's patterns in words: `path matches scratch/** and to matches *@example.com`. Not escaped. */
export function describeMatch(match: Record<string, string>): string {
  return Object.entries(match)
    .map(([name, pattern]) => `${name} matches ${pattern}`)
    .join(' and ');
}

/**
 * A thread's grants as a table: id, tool, patterns, who granted, when, until when, uses, and
 * whether it is active, revoked (by whom), expired, or gone with its thread (`threadOpen` false: the
 * thread has ended). Every cell is escaped.
 */
export function formatGrants(threadId: string, grants: ToolGrant[], now = Date.now(), threadOpen = true): string {
  if (grants.length === 0) return `No grants in thread ${safeLine(threadId)}.`;
  return table(
    ['GRANT', 'TOOL', 'MATCH', 'GRANTED BY', 'CREATED', 'EXPIRES', 'USES', 'STATE'],
    grants.map((grant) => [
      safeLine(grant.id),
      safeLine(grant.toolName),
      safeLine(Object.entries(grant.match).map(([name, pattern]) => `${name}=${pattern}`).join(' ')),
      safeLine(`${grant.grantedBy}${grant.signedBy ? ` (key ${grant.signedBy.keyId})` : ''}`),
      safeLine(grant.createdAt),
      safeLine(grant.expiresAt ?? 'when revoked'),
      String(grant.uses),
      safeLine(grantState(grant, now, threadOpen)),
    ]),
  );
}

function grantState(grant: ToolGrant, now: number, threadOpen: boolean): string {
  const ended = grant.ended;
  if (ended?.type === 'revoked') return `revoked by ${ended.by} at ${ended.at}${ended.reason ? `: ${ended.reason}` : ''}`;
  if (ended?.type === 'expired') return `expired at ${ended.at}`;
  // Its timer fires when a worker runs the thread; past its time it covers nothing already.
  if (grant.expiresAt && Date.parse(grant.expiresAt) <= now) return `expired at ${grant.expiresAt}`;
  return threadOpen ? 'active' : 'ended with the thread';
}

/** The command that sends each decision. */
const DECISION_COMMANDS: Record<DecisionAction, string> = { accept: 'approve', reject: 'reject', edit: 'edit', respond: 'respond' };

/**
 * What the agent said, or what it waits for: each pending interrupt with its full arguments (JSON
 * with sorted keys) and the commands that decide it. All text is escaped with {@link terminalSafe}.
 */
export function formatResponse(threadId: string, response: AgentResponse): string {
  const { state } = response;
  if (state.lastError) return `The model could not answer: ${safeLine(state.lastError.type)}: ${safeText(state.lastError.message)}`;
  if (state.pendingInterrupts.length === 0) return `Agent: ${safeText(response.content)}`;
  const thread = safeLine(threadId);
  return [`Thread ${thread} waits for approval:`, ...state.pendingInterrupts.map((interrupt) => formatWaiting(thread, interrupt))].join('\n');
}

function formatWaiting(thread: string, interrupt: HitlInterrupt): string {
  const id = safeLine(interrupt.id);
  const note = interrupt.policyNote ? `  — ${safeLine(interrupt.policyNote)}` : '';
  const lines = [`  ${id}  ${safeLine(interrupt.toolName)} ${safeLine(canonicalJson(interrupt.toolArgs))}${note}`];
  if (interrupt.askReason) lines.push(`    asks because ${safeLine(interrupt.askReason)}${interrupt.policy.approvers?.length ? ` (approvers: ${interrupt.policy.approvers.map(safeLine).join(', ')})` : ''}`);
  lines.push(`    ${decisionHints(thread, id, allowedActions(interrupt.policy)).join('   |   ')}`);
  return lines.join('\n');
}

/** The commands that send the decisions a policy allows, for hints. */
function decisionHints(thread: string, id: string, actions: DecisionAction[]): string[] {
  const extra: Record<DecisionAction, string> = { accept: '', reject: ' --reason "..."', edit: " --args '{...}'", respond: ' --message "..."' };
  return actions.map((action) => `${cliName()} ${DECISION_COMMANDS[action]} ${thread} ${id}${extra[action]}`);
}

/**
 * A conversation as lines: `You:`, `Agent:`, each tool call (its arguments as JSON with sorted
 * keys when they parse, else the text the model wrote) and each tool result. All text is escaped
 * with {@link terminalSafe}; messages keep their line breaks.
 */
export function formatConversation(messages: ChatMessage[]): string {
  return messages
    .map((message) => {
      if (message.role === 'user') return `You: ${safeText(message.content)}`;
      if (message.role === 'tool') return `  [${safeLine(message.name)}] ${safeText(message.content)}`;
      const calls = (message.toolCalls ?? []).map((call) => `  → ${safeLine(call.name)} ${formatCallArguments(call.arguments)}`);
      return [message.content ? `Agent: ${safeText(message.content)}` : '', ...calls].filter(Boolean).join('\n');
    })
    .filter(Boolean)
    .join('\n');
}

/** A tool call's raw JSON arguments as the tool will read them, on one line. */
function formatCallArguments(raw: string): string {
  try {
    return safeLine(canonicalJson(raw.trim() === '' ? {} : JSON.parse(raw)));
  } catch {
    return safeLine(raw);
  }
}
