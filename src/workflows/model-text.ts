/**
 * Every sentence the model reads about what happened to a tool call, in one place: tests import
 * these instead of matching the words.
 */
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
