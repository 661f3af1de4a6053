/**
 * What the Temporal Web UI shows of a thread from its start: a one-line summary (in the list and
 * on the thread's page) and details (markdown) naming the agent and who started it.
 */

/** `text` as inline markdown code, with a fence longer than any backtick run inside so it cannot close early. */
function inlineCode(text: string): string {
  const fence = '`'.repeat(Math.max(1, ...(text.match(/`+/g) ?? []).map((run) => run.length + 1)));
  const pad = text.startsWith('`') || text.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${text.replace(/[\r\n]+/g, ' ')}${pad}${fence}`;
}

/** The static summary: one line, plain text. */
export function threadSummary(agent: string): string {
  return `Airlock thread (agent ${agent})`;
}

/** The static details: the thread, its agent, the task queue and the identity of the client that started it (what waits is in the current details and the search attributes). */
export function threadDetails(fields: { threadId: string; agent: string; taskQueue: string; startedBy: string }): string {
  return [
    `**Airlock thread** ${inlineCode(fields.threadId)}`,
    '',
    `- Agent: ${inlineCode(fields.agent)}`,
    `- Started by: ${inlineCode(fields.startedBy)}`,
    `- Task queue: ${inlineCode(fields.taskQueue)}`,
  ].join('\n');
}
