/**
 * One agent thread = one workflow execution (workflow id = thread id). Deterministic code only:
 * everything that talks to the world is an activity, time comes from Temporal timers.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import {
  AUDIT_MEMO_KEY,
  AirlockAgent,
  AirlockNextDeadline,
  AirlockPendingSince,
  AirlockPendingTools,
  AirlockStatus,
  ErrorType,
  PENDING_MEMO_KEY,
  awaitResponseUpdate,
  decideUpdate,
  decisionSignal,
  endThreadSignal,
  getStateQuery,
  sendMessageUpdate,
  toMilliseconds,
  userMessageSignal,
} from '../core';
import type {
  AgentResponse,
  AgentSpec,
  AirlockActivities,
  AuditEvent,
  ChatMessage,
  CheckedToolCall,
  Decision,
  DecisionOutcome,
  HitlInterrupt,
  PendingSummary,
  ThreadInput,
  ThreadState,
  ThreadStatus,
  ThreadSummary,
} from '../core';
import { describeWaiting } from './current-details';
import { InterruptBook } from './interrupt-book';

const DEFAULT_MAX_TURNS = 20;

/** A tool call about to run: the model's call id, the arguments, and the interrupt that approved it. */
interface ToolRun {
  id: string;
  name: string;
  args: unknown;
  turn: number;
  interruptId?: string;
}

// A lookup in the worker's own registry: a local activity records the spec in history without a
// round trip through the server.
const { loadAgent } = proxyLocalActivities<AirlockActivities>({
  startToCloseTimeout: '10s',
  retry: { maximumAttempts: 5, nonRetryableErrorTypes: [ErrorType.AgentNotFound] },
});

const { callModel } = proxyActivities<AirlockActivities>({
  startToCloseTimeout: '5m',
  heartbeatTimeout: '1m',
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '1m',
    maximumAttempts: 10,
    nonRetryableErrorTypes: [ErrorType.ModelRequestRejected, ErrorType.AgentNotFound],
  },
});

// A tool that throws is retried a few times with the same idempotency key; after that the
// model is told it failed. Argument errors never reach here: they are returned, not thrown.
const { executeTool } = proxyActivities<AirlockActivities>({
  startToCloseTimeout: '10m',
  retry: { initialInterval: '1s', maximumAttempts: 3, nonRetryableErrorTypes: [ErrorType.ToolNotFound] },
});

const ARGS_PREVIEW_CHARS = 500;

function summarizePending(interrupt: HitlInterrupt): PendingSummary {
  const args = JSON.stringify(interrupt.toolArgs);
  return {
    id: interrupt.id,
    toolName: interrupt.toolName,
    argsPreview: args.length > ARGS_PREVIEW_CHARS ? `${args.slice(0, ARGS_PREVIEW_CHARS)}…` : args,
    policyNote: interrupt.policyNote,
    createdAt: interrupt.createdAt,
    deadline: interrupt.deadline,
    approvers: interrupt.policy.approvers,
  };
}

/** The agent thread workflow. Returns when the thread is ended (`endThreadSignal`). */
export async function agentThread(input: ThreadInput): Promise<ThreadSummary> {
  const threadId = workflowInfo().workflowId;
  const carried = input.carried;
  let spec: AgentSpec | undefined = carried?.spec ?? (typeof input.agent === 'object' ? input.agent : undefined);
  const agentName = spec?.name ?? (input.agent as string);
  const messages: ChatMessage[] = [...(carried?.messages ?? [])];
  const inbox: string[] = [...(carried?.inbox ?? [])];
  const book = new InterruptBook();
  let turn = carried?.turn ?? 0;
  // Messages are numbered in arrival order (carried ones first) and answered in that order.
  let received = inbox.length;
  let answered = 0;
  /** The number of the message being answered, 0 while idle. */
  let answering = 0;
  /** The final answer of each message whose sender still waits for it, by message number. */
  const answers = new Map<number, string>();
  let busy = false;
  let ended = false;
  let lastError: ThreadState['lastError'];

  const status = (): ThreadStatus => {
    if (book.pending().length > 0) return 'awaiting_approval';
    if (busy || inbox.length > 0) return 'running';
    return ended ? 'ended' : 'idle';
  };
  const state = (): ThreadState => {
    const pendingInterrupts = book.pending();
    return {
      threadId,
      agent: agentName,
      status: status(),
      messages,
      currentInterrupt: pendingInterrupts[0],
      pendingInterrupts,
      interrupts: book.all(),
      turn,
      lastError,
    };
  };
  const lastMessageText = () => {
    const last = messages[messages.length - 1];
    return last?.role === 'assistant' && !lastError ? last.content : '';
  };
  const response = (): AgentResponse => {
    const current = state();
    return { content: current.status === 'idle' ? lastMessageText() : '', state: current };
  };
  const settled = () => status() !== 'running';
  /** The response to message `n`: its own answer once answered, else the interrupt it waits on. */
  const responseTo = (n: number): AgentResponse => {
    const content = answers.get(n) ?? '';
    answers.delete(n);
    return { content, state: state() };
  };
  // Every audit event is a memo upsert: history keeps each one, with its time, as the audit trail.
  const audit = (event: AuditEvent) => upsertMemo({ [AUDIT_MEMO_KEY]: event });
  const auditResolved = (interrupt: HitlInterrupt) =>
    audit({ kind: 'interrupt-resolved', interruptId: interrupt.id, toolName: interrupt.toolName, resolution: interrupt.resolution! });
  const decide = (decision: Decision): DecisionOutcome => {
    const check = book.check(decision);
    if (!check.ok) return { type: 'refused', interruptId: String(decision?.interruptId), reason: check.reason, errorType: check.errorType };
    const resolution = book.apply(check.interrupt, decision, Date.now());
    auditResolved(check.interrupt);
    return { type: 'applied', interruptId: check.interrupt.id, resolution };
  };
  const acceptMessage = (text: unknown) => {
    if (ended) throw ApplicationFailure.create({ type: ErrorType.ThreadEnded, message: `Thread '${threadId}' has ended`, nonRetryable: true });
    if (typeof text !== 'string' || text.trim() === '') {
      throw ApplicationFailure.create({ type: ErrorType.MessageInvalid, message: 'A message must be non-empty text', nonRetryable: true });
    }
  };

  // Handlers first: messages and decisions can arrive at any point of the loop below.
  setHandler(getStateQuery, state);
  setHandler(
    sendMessageUpdate,
    async (text) => {
      inbox.push(text);
      const mine = ++received;
      answers.set(mine, '');
      await condition(() => answered >= mine || (answering === mine && status() === 'awaiting_approval') || (ended && answering < mine));
      return responseTo(mine);
    },
    { validator: acceptMessage, description: 'Send a user message; returns the answer or the interrupt that waits for a person' },
  );
  setHandler(userMessageSignal, (text) => {
    if (ended || typeof text !== 'string' || text.trim() === '') {
      log.warn('Ignored a user message signal', { threadId, ended });
      return;
    }
    inbox.push(text);
    received++;
  });
  setHandler(
    awaitResponseUpdate,
    async () => {
      await condition(settled);
      return response();
    },
    { description: 'Wait until the thread has answered or needs a person' },
  );
  setHandler(
    decideUpdate,
    (decision) => {
      const outcome = decide(decision);
      // Only reachable if the state changed between validation and handling.
      if (outcome.type === 'refused') throw ApplicationFailure.create({ type: outcome.errorType, message: outcome.reason, nonRetryable: true });
      syncVisibility();
      return outcome;
    },
    {
      validator: (decision) => {
        const check = book.check(decision);
        if (!check.ok) throw ApplicationFailure.create({ type: check.errorType, message: check.reason, nonRetryable: true });
      },
      description: 'Accept or reject an interrupt; refused at once if it does not fit',
    },
  );
  setHandler(decisionSignal, (decision) => {
    const outcome = decide(decision);
    if (outcome.type === 'refused') {
      log.warn('Ignored a decision signal', { threadId, ...outcome });
      audit({ kind: 'decision-refused', decision, errorType: outcome.errorType, reason: outcome.reason, at: new Date().toISOString() });
    } else syncVisibility();
  });
  setHandler(endThreadSignal, () => {
    ended = true;
    book.cancelPending('the thread was ended', Date.now()).forEach(auditResolved);
  });

  // Visibility: search attributes for the pending-approvals inbox, details for the Web UI.
  let shownStatus: ThreadStatus | undefined;
  let shownPending = '';
  const syncVisibility = () => {
    const pending = book.pending();
    const now = status();
    const pendingKey = pending.map((interrupt) => interrupt.id).join(',');
    if (now === shownStatus && pendingKey === shownPending) return;
    shownStatus = now;
    shownPending = pendingKey;
    const deadlines = pending.flatMap((interrupt) => (interrupt.deadline ? [interrupt.deadline] : [])).sort();
    upsertSearchAttributes([
      { key: AirlockStatus, value: now },
      { key: AirlockPendingTools, value: pending.length ? [...new Set(pending.map((interrupt) => interrupt.toolName))] : null },
      { key: AirlockPendingSince, value: pending.length ? new Date(pending[0].createdAt) : null },
      { key: AirlockNextDeadline, value: deadlines.length ? new Date(deadlines[0]) : null },
    ]);
    upsertMemo({ [PENDING_MEMO_KEY]: pending.length ? pending.map(summarizePending) : undefined });
    setCurrentDetails(describeWaiting(threadId, now, pending));
  };

  if (!spec) spec = await loadAgent.executeWithOptions({ summary: `load agent ${agentName}` }, [agentName]);
  const agent = spec;
  upsertSearchAttributes([{ key: AirlockAgent, value: agent.name }]);
  syncVisibility();

  /** Waits for a person's decision or the policy's timeout, then runs or skips the call. */
  const holdForApproval = async (interrupt: HitlInterrupt): Promise<string> => {
    syncVisibility();
    const decided = () => interrupt.resolution !== undefined;
    if (interrupt.policy.timeout !== undefined) {
      const inTime = await condition(decided, toMilliseconds(interrupt.policy.timeout), {
        summary: `approval deadline for ${interrupt.toolName} (${interrupt.id})`,
      });
      if (!inTime && !decided()) {
        book.expire(interrupt, Date.now());
        auditResolved(interrupt);
      }
    } else {
      await condition(decided);
    }
    syncVisibility();
    const resolution = interrupt.resolution!;
    const call = { id: interrupt.toolCallId, name: interrupt.toolName, args: interrupt.toolArgs, turn: interrupt.turn, interruptId: interrupt.id };
    switch (resolution.type) {
      case 'accepted':
        return runTool(call, `approved by ${resolution.approver}`);
      case 'rejected':
        return `A person (${resolution.approver}) rejected this ${interrupt.toolName} call; it was not run.${resolution.reason ? ` Reason: ${resolution.reason}` : ''}`;
      case 'timed-out':
        if (resolution.outcome === 'accept') return runTool(call, 'accepted at the approval timeout');
        return `Approval for this ${interrupt.toolName} call timed out (no one decided within ${String(interrupt.policy.timeout)}); it was not run. No person rejected it.`;
      case 'cancelled':
        return `This ${interrupt.toolName} call was cancelled (${resolution.reason}); it was not run.`;
    }
  };

  /** Runs one tool call as an activity; failures come back as text for the model. */
  const runTool = async (call: ToolRun, why: string): Promise<string> => {
    const options = agent.toolOptions?.[call.name];
    try {
      const result = await executeTool.executeWithOptions(
        {
          summary: `${call.name} — ${why}`,
          ...(options?.timeout !== undefined && { startToCloseTimeout: toMilliseconds(options.timeout) }),
          ...(options?.maxAttempts !== undefined && { retry: { maximumAttempts: options.maxAttempts } }),
        },
        [
          {
            threadId,
            agent: agent.name,
            toolName: call.name,
            toolCallId: call.id,
            args: call.args,
            idempotencyKey: `${threadId}/${call.turn}/${call.id}`,
            interruptId: call.interruptId,
          },
        ],
      );
      return result.ok ? result.output : `Error (${result.errorType}): ${result.error}`;
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      const cause = err.cause instanceof ApplicationFailure ? err.cause : undefined;
      return `Error (${cause?.type ?? ErrorType.ToolFailed}): ${cause?.message ?? err.message}`;
    }
  };

  const handleToolCall = async (call: CheckedToolCall, callTurn: number): Promise<string> => {
    if (call.status === 'invalid') return `Error (${call.errorType}): ${call.error}`;
    const policy = agent.interrupts[call.name];
    if (!policy || policy.allowAuto) {
      return runTool({ id: call.id, name: call.name, args: call.args, turn: callTurn }, policy ? 'auto-approved' : 'unprotected');
    }
    const interrupt = book.open(call, call.args, policy, callTurn, Date.now());
    audit({ kind: 'interrupt-opened', interrupt: { ...interrupt } });
    // Ended while the model was thinking: nobody is asked any more.
    if (ended) book.cancelPending('the thread was ended', Date.now()).forEach(auditResolved);
    return holdForApproval(interrupt);
  };

  /** Model turns until the model answers without tool calls. */
  const answer = async () => {
    const maxTurns = agent.maxTurns ?? DEFAULT_MAX_TURNS;
    for (let turnsThisMessage = 0; turnsThisMessage < maxTurns; turnsThisMessage++) {
      turn++;
      const result = await callModel.executeWithOptions({ summary: `model turn ${turn}` }, [
        { threadId, agent, messages, turn },
      ]);
      messages.push(result.message);
      if (result.toolCalls.length === 0) return;
      // Every call starts at once: unprotected ones run, protected ones wait; results go back in the model's order.
      const outputs = await Promise.all(result.toolCalls.map((call) => handleToolCall(call, turn)));
      result.toolCalls.forEach((call, index) => {
        messages.push({ role: 'tool', toolCallId: call.id, name: call.name, content: outputs[index] });
      });
      if (ended) return;
    }
    messages.push({ role: 'assistant', content: `Stopped after ${maxTurns} model turns without a final answer.` });
  };

  for (;;) {
    await condition(() => inbox.length > 0 || ended);
    // An ended thread answers nothing more; messages still queued get an empty response.
    if (ended) break;
    busy = true;
    answering = answered + 1;
    messages.push({ role: 'user', content: inbox.shift()! });
    syncVisibility();
    lastError = undefined;
    try {
      await answer();
    } catch (err) {
      // The model failed for good (retries exhausted or non-retryable): the thread stays usable.
      if (!(err instanceof ActivityFailure)) throw err;
      const cause = err.cause instanceof ApplicationFailure ? err.cause : undefined;
      lastError = { type: cause?.type ?? 'ModelFailed', message: cause?.message ?? err.message, at: new Date().toISOString() };
      log.warn('The model failed; the message got no answer', { threadId, ...lastError });
    }
    if (answers.has(answering)) answers.set(answering, lastMessageText());
    busy = false;
    answering = 0;
    answered++;
    syncVisibility();
    if (workflowInfo().continueAsNewSuggested && inbox.length === 0 && !ended) {
      await condition(() => allHandlersFinished() || inbox.length > 0 || ended);
      if (inbox.length > 0 || ended) continue;
      await continueAsNew<typeof agentThread>({ version: 1, agent: agent.name, carried: { spec: agent, messages, turn, inbox } });
    }
  }
  syncVisibility();
  await condition(allHandlersFinished);
  return { threadId, agent: agent.name, turns: turn, messages: messages.length, interrupts: book.all().length };
}
