import readline from 'node:readline';
import { isDecisionRefusal, prettyCanonicalJson } from '../core';
import type { AgentResponse, ChatMessage, HitlInterrupt } from '../core';
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
 * The terminal chat: type messages, approve or reject protected tool calls at the prompt, like
 * the seed's example. Reads lines from stdin without a TTY too, so it can be scripted. Returns at
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
  /** Shows the messages the user has not seen yet: results, answers, messages queued from elsewhere. */
  const showNew = (messages: ChatMessage[]) => {
    if (messages.length < shown) shown = 0;
    const unseen = messages.slice(shown);
    showConversation(print, unseen);
    for (const message of unseen) if (message.role === 'assistant' && message.content) lastAnswerShown = message.content;
    shown = messages.length;
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

  /** Asks until the answer is explicit: accept, reject, or leave with the approval pending. */
  const askDecision = async (): Promise<'accept' | 'reject' | 'leave'> => {
    for (;;) {
      const answer = await ask('Approve? (y/n): ');
      if (answer === undefined || LEAVE.test(answer)) return 'leave';
      if (/^(y|yes)$/i.test(answer)) return 'accept';
      if (/^(n|no)$/i.test(answer)) return 'reject';
      print('Please answer y (yes) or n (no); exit or quit leaves with the approval pending.');
    }
  };

  /** Shows each pending interrupt and asks for a decision until the thread needs no one. */
  const settle = async (response: AgentResponse): Promise<AgentResponse | undefined> => {
    for (;;) {
      showNew(response.state.messages);
      const interrupt = response.state.currentInterrupt;
      if (!interrupt) return response;
      showInterrupt(print, interrupt);
      const action = await askDecision();
      if (action === 'leave') {
        print(`\nThe approval ${safeLine(interrupt.id)} is still pending; nothing was decided.`);
        return undefined;
      }
      const reason = action === 'accept' ? undefined : (await ask('Reason (optional): ')) || undefined;
      try {
        response = await waiting(client.resumeWithApproval(threadId, action, { approver, reason, interruptId: interrupt.id }));
      } catch (err) {
        if (!isRefusal(err)) throw err;
        print(`Decision refused: ${safeLine((err as Error).message)}`);
        response = await waiting(client.awaitResponse(threadId));
      }
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
      if (existing.status === 'idle') showNew(existing.messages);
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
    const messages = response.state.messages;
    const own = messages.findIndex((message, index) => index >= shown && message.role === 'user' && message.content === text);
    if (own === shown) shown += 1;
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

/** The approval box: tool, full arguments (pretty JSON, sorted keys), note, deadline, interrupt id, all escaped. */
function showInterrupt(print: (text?: string) => void, interrupt: HitlInterrupt): void {
  print(`\n${RULE}`);
  print('🔒 APPROVAL REQUIRED');
  print(RULE);
  print(`Tool: ${safeLine(interrupt.toolName)}`);
  print(`Arguments: ${safeText(prettyCanonicalJson(interrupt.toolArgs))}`);
  if (interrupt.policyNote) print(`Note: ${safeLine(interrupt.policyNote)}`);
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

function isRefusal(err: unknown): boolean {
  return isDecisionRefusal((err as { name?: unknown })?.name);
}
