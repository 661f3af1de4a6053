import type { AssistantMessage, ChatMessage, ModelTurns, ToolCall } from '../core';
import type { ChatModel, ChatModelRequest } from './chat-model';

interface Intent {
  name: string;
  args: Record<string, unknown> | string;
}

/** A clause may go on from an earlier message: "and send …", "then delete …", "also …". */
const CONTINUATION = /^(?:(?:and|then|also|now)\s+)+/i;
/** Words that point back at the last thing done, as an email's topic. */
const BACK_REFERENCE = /^(?:it|that|this|what (?:you|was) (?:just )?did|what happened)$/i;
const CLAUSE_SPLIT = /\s+(?:and(?:\s+then)?|then)\s+(?=(?:please\s+)?(?:delete|remove|send|e-?mail|call|pay)\b)|;\s*/i;
const PAY = /^(?:please\s+)?pay\s+\$?(\d+(?:\.\d{1,2})?)\s+to\s+([^\s,]+?)(?:\s+for\s+(.+?))?[.!?]?$/i;
const DELETE = /^(?:please\s+)?(?:delete|remove)\s+(?:the\s+)?(?:file\s+)?["'`]?([^\s"'`]+?)["'`]?[.!?]?$/i;
const EMAIL = /^(?:please\s+)?(?:send\s+(?:an?\s+)?e-?mail|e-?mail)\s+to\s+(\S+@[^\s,]+?)[,.]?(?:\s+(?:about|re|regarding|saying)\s+(.+?))?[.!?]?$/i;
const CALL = /^(?:please\s+)?call\s+([a-zA-Z0-9_-]+)\s+with\s+(.+)$/is;

/**
 * A deterministic model that needs no network: it turns requests such as "delete the file
 * /tmp/x", "send an email to a@b.c about the launch" or "call <tool> with <json>" into tool calls
 * (several clauses joined by "and" become several calls in one turn; a message may open with
 * "and …"; "about it" names the last tool's result), and answers with a summary after tool results. The default when no model is configured.
 */
export class OfflineModel implements ChatModel {
  readonly name = 'offline';
  /** It answers at once: its turns run as local activities. */
  readonly turns: ModelTurns = 'local';

  async complete(request: ChatModelRequest): Promise<AssistantMessage> {
    const last = request.messages[request.messages.length - 1];
    if (last?.role === 'tool') return { role: 'assistant', content: summarizeToolResults(request.messages) };
    if (last?.role !== 'user') return { role: 'assistant', content: 'How can I help?' };
    const available = new Set(request.tools.map((tool) => tool.name));
    const intents = last.content
      .trim()
      .split(CLAUSE_SPLIT)
      .map((clause) => parseClause(clause, () => lastThingDone(request.messages)))
      .filter((intent): intent is Intent => intent !== undefined && (available.has(intent.name) || intent.name.startsWith('!')));
    if (intents.length === 0) return { role: 'assistant', content: describeAbilities([...available]) };
    const toolCalls: ToolCall[] = intents.map((intent, index) => ({
      id: `call_${request.turn}_${index + 1}`,
      name: intent.name.replace(/^!/, ''),
      arguments: typeof intent.args === 'string' ? intent.args : JSON.stringify(intent.args),
    }));
    return { role: 'assistant', content: '', toolCalls };
  }
}

function parseClause(clause: string, lastDone: () => string | undefined): Intent | undefined {
  const text = clause.trim().replace(CONTINUATION, '');
  const call = CALL.exec(text);
  // "call <tool> with <json>" passes the model's arguments through verbatim, even to unknown tools.
  if (call) return { name: `!${call[1]}`, args: call[2].trim() };
  const pay = PAY.exec(text);
  if (pay) return { name: 'make_payment', args: { amount: Number(pay[1]), to: pay[2], ...(pay[3] && { memo: pay[3].trim() }) } };
  const del = DELETE.exec(text);
  if (del) return { name: 'delete_file', args: { path: del[1] } };
  const email = EMAIL.exec(text);
  if (email) {
    let topic = email[2]?.trim() ?? 'a note';
    // "… about it": the last thing done in this thread.
    if (BACK_REFERENCE.test(topic)) topic = lastDone() ?? 'a note';
    return {
      name: 'send_email',
      args: { to: email[1], subject: topic.charAt(0).toUpperCase() + topic.slice(1), body: `Hello,\n\nThis is about ${topic}.\n` },
    };
  }
  return undefined;
}

/** The last tool's result in the conversation, as "<tool>: <result>" on one line; none before any tool ran. */
function lastThingDone(messages: ChatMessage[]): string | undefined {
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i];
    if (message.role !== 'tool') continue;
    const result = message.content.replace(/\s+/g, ' ').trim();
    return `${message.name}: ${result.length > 200 ? `${result.slice(0, 200)}…` : result}`;
  }
  return undefined;
}

function summarizeToolResults(messages: ChatMessage[]): string {
  const results: string[] = [];
  for (let i = messages.length - 1; i >= 0 && messages[i].role === 'tool'; i--) {
    const message = messages[i] as Extract<ChatMessage, { role: 'tool' }>;
    results.unshift(`- ${message.name}: ${message.content}`);
  }
  return `Here is what happened:\n${results.join('\n')}`;
}

function describeAbilities(tools: string[]): string {
  if (tools.length === 0) return 'I am the offline model and this agent has no tools.';
  return [
    `I am the offline model. This agent can use: ${tools.join(', ')}.`,
    'Try "delete the file notes.txt", "send an email to ops@example.com about the deploy", "pay 50 to acme",',
    'or "call <tool> with <json arguments>".',
  ].join(' ');
}
