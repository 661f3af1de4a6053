/**
 * Every sentence the model reads about what happened to a tool call, in one place: tests import
 * these instead of matching the words.
 */
import { canonicalJson } from '../core';
import type { HitlInterrupt } from '../core';

/** The reason given when ending a thread cancels what still waits. */
export const CANCELLED_BY_END = 'the thread was ended';

/** A person rejected the call. */
export function rejectedText(toolName: string, approver: string, reason?: string): string {
  return `A person (${approver}) rejected this ${toolName} call; it was not run.${reason ? ` Reason: ${reason}` : ''}`;
}

/** Nobody decided before the policy's timeout, which rejects. */
export function timedOutText(interrupt: Pick<HitlInterrupt, 'toolName' | 'policy'>): string {
  return `Approval for this ${interrupt.toolName} call timed out (no one decided within ${String(interrupt.policy.timeout)}); it was not run. No person rejected it.`;
}

/** The call was cancelled (the thread ended) before anyone decided. */
export function cancelledText(toolName: string, reason: string): string {
  return `This ${toolName} call was cancelled (${reason}); it was not run.`;
}

/** A tool error (invalid arguments, unknown tool, a failed run) as the model reads it. */
export function toolErrorText(errorType: string, message: string): string {
  return `Error (${errorType}): ${message}`;
}

/** The thread gave up on a message after this many model turns. */
export function maxTurnsText(maxTurns: number): string {
  return `Stopped after ${maxTurns} model turns without a final answer.`;
}

/** The user's new message answered what waited, so the call was not run. */
export function rejectedByMessageText(toolName: string): string {
  return `The user sent a new message instead of approving this ${toolName} call; it was not run. Their message follows.`;
}

/** A person answered in the tool's place: the model reads this as the tool's result. */
export function respondedText(toolName: string, approver: string, message: string): string {
  return `A person (${approver}) answered instead of running this ${toolName} call (it was not run): ${message}`;
}

/** A person changed the arguments before the call ran; `output` is what the run returned. */
export function editedText(approver: string, before: unknown, after: unknown, output: string): string {
  return `A person (${approver}) changed the arguments before this call ran (${describeChanges(before, after)}). It ran with the changed arguments. Result: ${output}`;
}

const shortJson = (value: unknown) => {
  const text = value === undefined ? 'absent' : canonicalJson(value);
  return text.length > 200 ? `${text.slice(0, 199)}…` : text;
};

/** `amount: 5000 → 500; memo: absent → "x"`, key by key for objects; the whole value otherwise. */
export function describeChanges(before: unknown, after: unknown): string {
  const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
  if (!isObject(before) || !isObject(after)) return `${shortJson(before)} → ${shortJson(after)}`;
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  const changes = keys.filter((key) => canonicalJson(before[key]) !== canonicalJson(after[key])).map((key) => `${key}: ${shortJson(before[key])} → ${shortJson(after[key])}`);
  return changes.length > 0 ? changes.join('; ') : 'no change';
}
