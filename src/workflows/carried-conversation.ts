/**
 * What continue-as-new carries of the conversation, and how a reply stays within its size. Temporal fails a workflow whose
 * continue-as-new input is over 2 MB, and a long thread's conversation (tool results of up to
 * 200 K characters each) grows past that: a run carries at most `CARRIED_CONVERSATION_BYTES` of it,
 * the most recent exchanges whole. Everything stays in the earlier runs' histories (the audit trail
 * reads them); the model goes on from what was carried. Plain and deterministic.
 */
import type { ChatMessage } from '../core';

/** The most a run carries of its conversation into the next, as UTF-8 JSON bytes. */
export const CARRIED_CONVERSATION_BYTES = 1_000_000;

/**
 * The most of the conversation a reply carries, as UTF-8 JSON bytes: Temporal refuses an Update
 * result over 2 MB, and an exchange's tool results can add up to more (32 calls of up to 200 K
 * characters each). Past it, the reply's longest tool results are shortened; the thread keeps them whole.
 */
export const REPLY_MESSAGES_BYTES = 1_000_000;

/**
 * The most a model activity's input carries of the messages added since the previous turn, as
 * UTF-8 JSON bytes. Past it, the activity reads them from the thread (the `conversation` query).
 */
export const MODEL_INPUT_ADDED_BYTES = 1_000_000;

/** The part of a message's text kept when even the last exchange alone is over the budget. */
const SHORTENED_CHARS = 2_000;

export interface CarriedConversation {
  messages: ChatMessage[];
  /** How many messages at the start were left behind (0: none). */
  dropped: number;
  /** Whether texts in the last exchange were shortened (it alone was over the budget). */
  shortened: boolean;
}

/**
 * The conversation to carry within `budget` bytes: all of it when it fits; else the most recent
 * messages from a user message on (an exchange is never cut in two: a tool result always follows
 * its call); else, when the last exchange alone is over, that exchange with its longest texts
 * shortened to their start and a note of how much was left out.
 */
export function carriedConversation(messages: ChatMessage[], budget = CARRIED_CONVERSATION_BYTES): CarriedConversation {
  // Most conversations are far under the budget: a bound on their size spares counting their bytes.
  if (!exceedsBytes(messages, budget, true)) return { messages, dropped: 0, shortened: false };
  const sizes = messages.map(jsonBytes);
  let total = sizes.reduce((sum, size) => sum + size, 0);
  if (total <= budget) return { messages, dropped: 0, shortened: false };
  let lastUser = -1;
  for (let i = 0, suffix = total; i < messages.length; suffix -= sizes[i], i++) {
    if (messages[i].role !== 'user') continue;
    if (suffix <= budget) return { messages: messages.slice(i), dropped: i, shortened: false };
    lastUser = i;
  }
  // The last exchange alone is over the budget: its longest texts are shortened until it fits.
  const from = Math.max(lastUser, 0);
  const kept = shortenedToFit(messages.slice(from), budget, () => true, 'were not carried into this run of the thread');
  return { messages: kept.messages, dropped: from, shortened: kept.shortened };
}

/** Whether `messages` take more than `budget` bytes as UTF-8 JSON (`boundOnly`: whether they may, by a bound that counts no bytes). */
export function exceedsBytes(messages: ChatMessage[], budget: number, boundOnly = false): boolean {
  if (messages.reduce((sum, message) => sum + bytesAtMost(message), 0) <= budget) return false;
  return boundOnly || messages.reduce((sum, message) => sum + jsonBytes(message), 0) > budget;
}

/**
 * `messages` within `budget` bytes, the longest texts of those `mayShorten` picks cut to their
 * start with a note (`[N more characters <leftOut>]`) until they fit, or as close as that gets
 * (tool calls' arguments are never cut: the approver saw them, and they ran as written).
 * The messages given are not changed; `shortened` says whether any text was.
 */
export function shortenedToFit(messages: ChatMessage[], budget: number, mayShorten: (message: ChatMessage) => boolean, leftOut: string): { messages: ChatMessage[]; shortened: boolean } {
  // Most replies are a few KB: a bound on their size spares counting their bytes.
  if (!exceedsBytes(messages, budget, true)) return { messages, shortened: false };
  const sizes = messages.map(jsonBytes);
  let total = sizes.reduce((sum, size) => sum + size, 0);
  if (total <= budget) return { messages, shortened: false };
  const kept = [...messages];
  const longestFirst = kept
    .map((_, index) => index)
    .filter((index) => mayShorten(kept[index]) && kept[index].content.length > SHORTENED_CHARS)
    .sort((a, b) => kept[b].content.length - kept[a].content.length || a - b);
  for (const index of longestFirst) {
    if (total <= budget) break;
    const content = kept[index].content;
    const shortened = { ...kept[index], content: `${content.slice(0, SHORTENED_CHARS)}\n[${content.length - SHORTENED_CHARS} more characters ${leftOut}]` };
    total -= sizes[index] - jsonBytes(shortened);
    kept[index] = shortened;
  }
  return { messages: kept, shortened: kept.some((message, index) => message !== messages[index]) };
}

/** At least as many bytes as a message's JSON takes (a UTF-16 code unit is at most 6 bytes of JSON: `\\u001f`). */
function bytesAtMost(message: ChatMessage): number {
  let units = message.content.length + 200;
  if (message.role === 'assistant') for (const call of message.toolCalls ?? []) units += call.id.length + call.name.length + call.arguments.length + 100;
  if (message.role === 'tool') units += message.toolCallId.length + message.name.length;
  return units * 6;
}

/** UTF-8 bytes of a message's JSON (no `TextEncoder` needed: counted from the UTF-16 code units). */
function jsonBytes(message: ChatMessage): number {
  const text = JSON.stringify(message);
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}
