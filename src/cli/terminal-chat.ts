import readline from 'node:readline';
import { allowedActions, canonicalJson, prettyCanonicalJson } from '../core';
import type { AgentResponse, ChatMessage, Decision, DecisionAction, HitlInterrupt } from '../core';
import type { AirlockClient } from '../client/airlock-client';
import { terminalSafe } from './terminal-text';

/** Where the chat reads and writes. Lines from a pipe work as well as a terminal. */
export interface ChatIO {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
}

export interface TerminalChatOptions {
  client: AirlockClient;
  threadId: string;
  /** Agent for a new thread. */
  agent: string;
  /** Recorded as the approver of decisions made here. */
  approver: string;
  io?: ChatIO;
}

const RULE = '═'.repeat(60);

/** A fresh thread id for a chat, from the time it starts: `chat-20261126131356`. */
export function newChatThreadId(now = new Date()): string {
  return `chat-${now.toISOString().slice(0, 19).replace(/[-:T]/g, '')}`;
}

/**
 * The terminal chat: type messages, decide protected tool calls at the prompt (approve, reject,
 * and where the policy allows, edit the arguments or respond in the tool's place), like the seed's
 * example. Reads lines from stdin without a TTY too, so it can be scripted. Returns at
 * `exit`, `quit` or end of input; the thread lives on and can be resumed by its id.
 */
export async function runTerminalChat({ client, threadId, agent, approver, io }: TerminalChatOptions): Promise<void> {
  const { input, output } = io ?? { input: process.stdin, output: process.stdout };
  const rl = readline.createInterface({ input, terminal: false });
  const lines = rl[Symbol.asyncIterator]();
  const print = (text = '') => output.write(`${text}\n`);
  const ask = async (prompt: string): Promise<string | undefined> => {
    output.write(prompt);
    const next = await lines.next();
    if (next.done) return undefined;
    if (!(input as { isTTY?: boolean }).isTTY) output.write(`${next.value}\n`);
    return next.value.trim();
  };
  /** How many of the thread's messages the chat has shown (or typed itself). */
  let shown = 0;
  /** The agent's last words shown, so an answer is never printed twice (nor skipped). */
  let lastAnswerShown: string | undefined;
  /**
   * Shows the messages the user has not seen yet: results, answers, messages queued from elsewhere.
   * A response carries its exchange only (from `messagesFrom`); when the user missed more than that
   * (a resumed chat), the rest comes from the thread's whole state.
   */
  const showNew = async (state: { messages: ChatMessage[]; messagesFrom?: number }) => {
    let { messages, messagesFrom: from = 0 } = state;
    if (from > shown) {
      const whole = await client.getState(threadId).catch(() => undefined);
      if (whole) ({ messages, messagesFrom: from = 0 } = whole);
    }
    if (from + messages.length < shown) shown = 0;
    const unseen = messages.slice(Math.max(0, shown - from));
    showConversation(print, unseen);
    for (const message of unseen) if (message.role === 'assistant' && message.content) lastAnswerShown = message.content;
    shown = from + messages.length;
  };

  /** Says so when the thread takes more than a moment (the model, a tool, or no worker), and every few seconds after. */
  const waiting = async <T>(call: Promise<T>): Promise<T> => {
    const started = Date.now();
    const elapsed = () => Math.round((Date.now() - started) / 1000);
    const notice = setTimeout(() => print(`(waiting for thread ${safeLine(threadId)}: the model or a tool is working, or no worker runs for its task queue…)`), WAIT_NOTICE_MS);
    const progress = setInterval(() => print(`(still waiting, ${elapsed()}s; Ctrl-C leaves, the thread lives on)`), WAIT_PROGRESS_MS);
    try {
      return await call;
    } finally {
      clearTimeout(notice);
      clearInterval(progress);
    }
  };

  /**
   * Asks until the answer is explicit: one of the decisions the policy allows (an edit's arguments,
   * a response's text, a rejection's optional reason), or leave with the approval pending.
   */
  const askDecision = async (interrupt: HitlInterrupt): Promise<ChatDecision | 'leave'> => {
    const choices = CHOICES.filter((choice) => allowedActions(interrupt.policy).includes(choice.action));
    const prompt = decisionPrompt(choices);
    for (;;) {
      const answer = await ask(prompt);
      if (answer === undefined || LEAVE.test(answer)) return 'leave';
      const choice = choices.find((candidate) => candidate.answers.test(answer));
      if (!choice) {
        print(`Please answer ${listChoices(choices)}; exit or quit leaves with the approval pending.`);
        continue;
      }
      if (choice.action === 'accept') return { action: 'accept' };
      if (choice.action === 'reject') {
        // The answer was explicit: input that ends here rejects without a reason.
        const reason = await ask('Reason (optional): ');
        return { action: 'reject', ...(reason && { reason }) };
      }
      const detail = choice.action === 'edit' ? await askArguments(interrupt) : await askResponse();
      if (detail !== 'back') return detail;
    }
  };

  /** The arguments to run instead: one line of JSON, asked again until it is a JSON object; an empty line goes back. */
  const askArguments = async (interrupt: HitlInterrupt): Promise<ChatDecision | 'leave' | 'back'> => {
    print(`Type the arguments to run instead as one line of JSON (an empty line goes back). Now: ${safeLine(canonicalJson(interrupt.toolArgs))}`);
    for (;;) {
      const answer = await ask('New arguments: ');
      if (answer === undefined || LEAVE.test(answer)) return 'leave';
      if (answer === '') return 'back';
      let value: unknown;
      try {
        value = JSON.parse(answer);
      } catch (err) {
        print(`That is not valid JSON (${safeLine((err as Error).message)}); try again, or an empty line to go back.`);
        continue;
      }
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) return { action: 'edit', args: value };
      print('The arguments must be a JSON object, e.g. {"path": "notes.txt"}; try again, or an empty line to go back.');
    }
  };

  /** What the model reads in the tool's place; an empty line goes back. */
  const askResponse = async (): Promise<ChatDecision | 'leave' | 'back'> => {
    const answer = await ask("Your answer (the model reads it instead of the tool's result; an empty line goes back): ");
    if (answer === undefined || LEAVE.test(answer)) return 'leave';
    return answer === '' ? 'back' : { action: 'respond', message: answer };
  };

  /** Shows each pending interrupt and asks for a decision until the thread needs no one. */
  const settle = async (response: AgentResponse): Promise<AgentResponse | undefined> => {
    for (;;) {
      await showNew(response.state);
      const interrupt = response.state.currentInterrupt;
      if (!interrupt) return response;
      showInterrupt(print, interrupt, approver);
      const chosen = await askDecision(interrupt);
      if (chosen === 'leave') {
        print(`\nThe approval ${safeLine(interrupt.id)} is still pending; nothing was decided.`);
        return undefined;
      }
      // Bound to the call as shown: if someone changed it meanwhile, the thread refuses this decision.
      const decision: Decision = { interruptId: interrupt.id, approver, ...chosen, ...(interrupt.callDigest !== undefined && { callDigest: interrupt.callDigest }) };
      const outcome = await waiting(client.decide(threadId, decision));
      if (outcome.type === 'refused') print(`Decision refused (${safeLine(outcome.errorType)}): ${safeText(outcome.reason)}`);
      if (outcome.type === 'escalated') {
        const now = outcome.interrupt;
        const who = now.policy.approvers?.length ? now.policy.approvers.map(safeLine).join(' or ') : 'another approval';
        print(`Your edit was kept, but the edited call needs another approver: it waits for ${who}${now.askReason ? ` (${safeLine(now.askReason)})` : ''}. Nothing ran.`);
      }
      response = await waiting(client.awaitResponse(threadId));
    }
  };

  const report = (response: AgentResponse) => {
    const error = response.state.lastError;
    if (error) print(`\n(The model could not answer: ${safeLine(error.type)}: ${safeText(error.message)})`);
    else if (response.content && response.content !== lastAnswerShown) print(`\nAgent: ${safeText(response.content)}`);
  };

  try {
    const existing = await waiting(client.getState(threadId).catch(() => undefined));
    if (existing) {
      print(`Resuming thread ${safeLine(threadId)} (${existing.messages.length} messages, ${safeLine(existing.status)}).`);
      shown = lastAnsweredExchange(existing.messages);
      if (existing.status === 'idle') await showNew(existing);
      else {
        const settled = await settle(await waiting(client.awaitResponse(threadId)));
        if (!settled) return;
        report(settled);
      }
    }
    for (;;) {
      const text = await ask('\nYou: ');
      if (text === undefined || LEAVE.test(text)) return;
      if (text === '') continue;
      const response = await settle(await waiting(client.handleMessage(threadId, text, { agent })).then((answer) => skipOwnMessage(answer, text)));
      if (!response) return;
      report(response);
    }
  } finally {
    rl.close();
  }

  /** The chat printed what the user typed: count that message as shown. */
  function skipOwnMessage(response: AgentResponse, text: string): AgentResponse {
    const { messages, messagesFrom: from = 0 } = response.state;
    const own = messages.findIndex((message, index) => from + index >= shown && message.role === 'user' && message.content === text);
    if (own !== -1 && from + own === shown) shown += 1;
    // The reply's exchange starts before what the chat counts as shown, with this very message: the
    // thread moved to a new run carrying only its recent conversation, so positions start lower now.
    else if (own === -1 && from < shown && messages[0]?.role === 'user' && messages[0].content === text) shown = from + 1;
    return response;
  }
}

const LEAVE = /^(exit|quit)$/i;
const WAIT_NOTICE_MS = 1_000;
const WAIT_PROGRESS_MS = 5_000;

/**
 * Where a resumed chat starts showing the conversation: at the last user message that got an
 * answer, so every result and message after it (queued ones included) is shown in order.
 */
function lastAnsweredExchange(messages: ChatMessage[]): number {
  let answered = false;
  for (let index = messages.length - 1; index >= 0; index -= 1) {
    const message = messages[index];
    if (message.role === 'assistant' && message.content && !message.toolCalls?.length) answered = true;
    if (message.role === 'user' && answered) return index;
  }
  return 0;
}

/** One line of text others wrote, safe to print: controls and invisible characters shown escaped. */
const safeLine = (text: string) => terminalSafe(text);
/** Text others wrote that may span lines (messages, results), safe to print. */
const safeText = (text: string) => terminalSafe(text, { keepNewlines: true });

/** A decision made at the prompt, without who made it and on what. */
type ChatDecision =
  | { action: 'accept' }
  | { action: 'reject'; reason?: string }
  | { action: 'edit'; args: unknown }
  | { action: 'respond'; message: string };

/** The answers at the decision prompt, in the order they are offered. */
const CHOICES: { action: DecisionAction; key: string; answers: RegExp; meaning: string }[] = [
  { action: 'accept', key: 'y', answers: /^(y|yes)$/i, meaning: 'yes' },
  { action: 'reject', key: 'n', answers: /^(n|no)$/i, meaning: 'no' },
  { action: 'edit', key: 'e', answers: /^(e|edit)$/i, meaning: 'edit the arguments' },
  { action: 'respond', key: 'r', answers: /^(r|respond)$/i, meaning: "respond in the tool's place" },
];

/** `Approve? (y/n): `, `Approve? (y/n, e edit, r respond): `, or `Decide (n reject, r respond): ` when accept or reject is not allowed. */
function decisionPrompt(choices: typeof CHOICES): string {
  const has = (action: DecisionAction) => choices.some((choice) => choice.action === action);
  const words: Record<DecisionAction, string> = { accept: 'approve', reject: 'reject', edit: 'edit', respond: 'respond' };
  if (has('accept') && has('reject')) {
    const more = choices.filter((choice) => choice.action !== 'accept' && choice.action !== 'reject').map((choice) => `, ${choice.key} ${words[choice.action]}`);
    return `Approve? (y/n${more.join('')}): `;
  }
  return `Decide (${choices.map((choice) => `${choice.key} ${words[choice.action]}`).join(', ')}): `;
}

/** `y (yes) or n (no)`, `y (yes), n (no), e (edit the arguments) or r (respond in the tool's place)`. */
function listChoices(choices: typeof CHOICES): string {
  const items = choices.map((choice) => `${choice.key} (${choice.meaning})`);
  return items.length === 1 ? items[0] : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

/**
 * The approval box: tool, full arguments (pretty JSON, sorted keys), an edited call's original
 * arguments and editor, note, why the policy asks, who may approve, deadline, interrupt id, all escaped.
 */
function showInterrupt(print: (text?: string) => void, interrupt: HitlInterrupt, approver: string): void {
  print(`\n${RULE}`);
  print('🔒 APPROVAL REQUIRED');
  print(RULE);
  print(`Tool: ${safeLine(interrupt.toolName)}`);
  print(`Arguments: ${safeText(prettyCanonicalJson(interrupt.toolArgs))}`);
  if (interrupt.originalArgs !== undefined) {
    const editor = interrupt.edits?.[interrupt.edits.length - 1]?.approver;
    print(`Edited by: ${editor ? safeLine(editor) : 'an approver'} (the edited call waits for a stricter approval)`);
    print(`Model's arguments: ${safeText(prettyCanonicalJson(interrupt.originalArgs))}`);
  }
  if (interrupt.policyNote) print(`Note: ${safeLine(interrupt.policyNote)}`);
  if (interrupt.askReason) print(`Asks because: ${safeLine(interrupt.askReason)}`);
  const approvers = interrupt.policy.approvers;
  if (approvers?.length) {
    print(`Approvers: ${approvers.map(safeLine).join(', ')}${approvers.includes(approver) ? '' : ` (not you, ${safeLine(approver)}: the thread refuses your decision; exit leaves it pending)`}`);
  }
  if (interrupt.deadline) print(`Deadline: ${safeLine(interrupt.deadline)} (then: ${safeLine(interrupt.policy.onTimeout ?? 'reject')})`);
  print(`Interrupt: ${safeLine(interrupt.id)}`);
  print(RULE);
}

function showConversation(print: (text?: string) => void, messages: ChatMessage[]): void {
  for (const message of messages) {
    if (message.role === 'user') print(`You: ${safeText(message.content)}`);
    else if (message.role === 'assistant' && message.content) print(`Agent: ${safeText(message.content)}`);
    else if (message.role === 'tool') print(`  [${safeLine(message.name)}] ${safeText(message.content)}`);
  }
}
