/**
 * What continue-as-new carries of the conversation. Temporal fails a workflow whose
 * continue-as-new input is over 2 MB, and a long thread's conversation (tool results of up to
 * 200 K characters each) grows past that: a run carries at most `CARRIED_CONVERSATION_BYTES` of it,
 * the most recent exchanges whole. Everything stays in the earlier runs' histories (the audit trail
 * reads them); the model goes on from what was carried. Plain and deterministic.
 */
import type { ChatMessage } from '../core';

/** The most a run carries of its conversation into the next, as UTF-8 JSON bytes. */
export const CARRIED_CONVERSATION_BYTES = 1_000_000;

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
  const kept = messages.slice(from).map((message) => ({ ...message }));
  total = sizes.slice(from).reduce((sum, size) => sum + size, 0);
  const longestFirst = kept.map((_, index) => index).sort((a, b) => kept[b].content.length - kept[a].content.length || a - b);
  for (const index of longestFirst) {
    if (total <= budget) break;
    const message = kept[index];
    if (message.content.length <= SHORTENED_CHARS) break;
    const before = jsonBytes(message);
    message.content = `${message.content.slice(0, SHORTENED_CHARS)}\n[${message.content.length - SHORTENED_CHARS} more characters were not carried into this run of the thread]`;
    total -= before - jsonBytes(message);
  }
  return { messages: kept, dropped: from, shortened: true };
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
