/**
 * `executeTool`'s input as history records it. Threads of input version 6 leave out what the
 * thread id, the turn and the call id give: the activity (and `airlock audit`, reading history)
 * put it back. Pure.
 */
import { AirlockError, ErrorType } from './errors';
import { interruptIdOf, type ExecuteToolInput, type ExecuteToolWireInput } from './types';

/** `input` with the thread id, idempotency key and interrupt id; `threadId` is the workflow id of the thread that sent it. */
export function toolInputInFull(input: ExecuteToolWireInput, threadId: string): ExecuteToolInput {
  if (input.threadId !== undefined && input.idempotencyKey !== undefined) return input as ExecuteToolInput;
  const { turn, ...rest } = input;
  if (!Number.isSafeInteger(turn) || turn! < 0) throw new AirlockError('A tool call names neither its thread nor its turn', ErrorType.WireDataInvalid);
  // A person's or a timeout's approval is for this very call: its interrupt is the call's.
  const approvedByPerson = rest.approval !== undefined && rest.approval.by !== 'grant';
  return {
    ...rest,
    threadId,
    idempotencyKey: `${threadId}/${turn}/${rest.toolCallId}`,
    ...(approvedByPerson && { interruptId: interruptIdOf(turn!, rest.toolCallId) }),
  };
}
