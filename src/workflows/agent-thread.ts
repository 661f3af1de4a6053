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
  patched,
  currentUpdateInfo,
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
  checkMessage,
  decideUpdate,
  decisionSignal,
  endThreadSignal,
  getStateQuery,
  parseDecision,
  parseThreadInput,
  safeDecisionParts,
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
  DecisionOutcome,
  HitlInterrupt,
  HitlPolicy,
  PendingSummary,
  ThreadInput,
  ThreadState,
  ThreadStatus,
  ThreadSummary,
  ToolApproval,
  ToolRunOptions,
} from '../core';
import { describeWaiting } from './current-details';
import { InterruptBook, type DecisionArrival } from './interrupt-book';

const DEFAULT_MAX_TURNS = 20;
/**
 * Marks runs in which the agent's definition and policy come from the worker's registry alone
 * (loaded at the start and before each message) and the thread input names an agent. Runs
 * recorded before it replay as they ran.
 */
const POLICY_FROM_REGISTRY = 'airlock-policy-from-registry';

/** A tool call about to run: the model's call id, the arguments, and the approval that opened it. */
interface ToolRun {
  id: string;
  name: string;
  args: unknown;
  turn: number;
  runOptions?: ToolRunOptions;
  approval?: ToolApproval;
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

/** The pending interrupt as visibility shows it: the arguments in full, and their digest to bind a decision to them. */
function summarizePending(interrupt: HitlInterrupt): PendingSummary {
  return {
    id: interrupt.id,
    toolName: interrupt.toolName,
    args: interrupt.toolArgs,
    argsDigest: interrupt.argsDigest,
    policyNote: interrupt.policyNote,
    createdAt: interrupt.createdAt,
    deadline: interrupt.deadline,
    approvers: interrupt.policy.approvers,
    ...(interrupt.policy.requireSignature && { requireSignature: true }),
  };
}

const hasOwn = (record: object, key: string) => Object.prototype.hasOwnProperty.call(record, key);

/** The agent thread workflow. Returns when the thread is ended (`endThreadSignal`). */
export async function agentThread(rawInput: ThreadInput): Promise<ThreadSummary> {
  const threadId = workflowInfo().workflowId;
  const registryOnly = patched(POLICY_FROM_REGISTRY);
  let input: ThreadInput;
  /** Only runs recorded before POLICY_FROM_REGISTRY took their spec from the input; they replay as they ran. */
  let spec: AgentSpec | undefined;
  if (registryOnly) {
    const parsed = parseThreadInput(rawInput);
    if (!parsed.ok) throw ApplicationFailure.create({ type: ErrorType.ThreadInputInvalid, message: parsed.reason, nonRetryable: true });
    input = parsed.input;
  } else {
    const legacy = rawInput as unknown as { agent: string | AgentSpec; carried?: { spec?: AgentSpec } };
    spec = legacy.carried?.spec ?? (typeof legacy.agent === 'object' ? legacy.agent : undefined);
    input = { ...rawInput, agent: spec?.name ?? (legacy.agent as string) };
  }
  const agentName = input.agent;
  const carried = input.carried;
  const messages: ChatMessage[] = [...(carried?.messages ?? [])];
  const inbox: string[] = [...(carried?.inbox ?? [])];
  const book = new InterruptBook(threadId, () => spec?.trustedKeys ?? []);
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
  /**
   * Applies a decision or refuses it. Every refusal of a well-formed decision is recorded in
   * history (an audit event with the decision's parts and how it arrived); malformed input is
   * described, never stored or repeated.
   */
  const decide = (raw: unknown, arrival: DecisionArrival): DecisionOutcome => {
    const parsed = parseDecision(raw);
    const check = parsed.ok ? book.check(parsed.decision) : { ok: false as const, errorType: ErrorType.DecisionInvalid, reason: parsed.reason };
    if (!parsed.ok || !check.ok) {
      const refusal = check as Extract<typeof check, { ok: false }>;
      const decision = parsed.ok ? parsed.decision : safeDecisionParts(raw);
      audit({ kind: 'decision-refused', decision, errorType: refusal.errorType, reason: refusal.reason, at: new Date().toISOString(), ...arrival });
      return { type: 'refused', interruptId: decision.interruptId ?? '', reason: refusal.reason, errorType: refusal.errorType };
    }
    const resolution = book.apply(check, parsed.decision, arrival, Date.now());
    auditResolved(check.interrupt);
    return { type: 'applied', interruptId: check.interrupt.id, resolution };
  };
  const acceptMessage = (text: unknown) => {
    if (ended) throw ApplicationFailure.create({ type: ErrorType.ThreadEnded, message: 'This thread has ended and takes no more messages', nonRetryable: true });
    const problem = checkMessage(text);
    if (problem) throw ApplicationFailure.create({ type: ErrorType.MessageInvalid, message: problem, nonRetryable: true });
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
    const problem = ended ? 'the thread has ended' : checkMessage(text);
    if (problem) {
      log.warn('Ignored a user message signal', { threadId, problem });
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
      const outcome = decide(decision, { via: 'update', updateId: currentUpdateInfo()?.id });
      if (outcome.type === 'applied') syncVisibility();
      return outcome;
    },
    {
      // Malformed decisions are refused before anything is written; well-formed ones that do not
      // fit are answered by the handler, so the refusal is on record.
      validator: (decision) => {
        const parsed = parseDecision(decision);
        if (!parsed.ok) throw ApplicationFailure.create({ type: ErrorType.DecisionInvalid, message: parsed.reason, nonRetryable: true });
      },
      description: 'Accept or reject an interrupt; the outcome says whether it was applied or refused, and why',
    },
  );
  setHandler(decisionSignal, (decision) => {
    const outcome = decide(decision, { via: 'signal' });
    if (outcome.type === 'refused') log.warn('Refused a decision signal', { threadId, errorType: outcome.errorType, reason: outcome.reason });
    else syncVisibility();
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

  const load = () => loadAgent.executeWithOptions({ summary: `load agent ${agentName}` }, [agentName]);
  if (!spec) spec = await load();
  /** The spec was loaded for the message about to be answered (at the run's start). */
  let specIsFresh = true;
  const agent = (): AgentSpec => spec!;
  upsertSearchAttributes([{ key: AirlockAgent, value: agentName }]);
  syncVisibility();

  /** Waits for a person's decision or the policy's timeout, then runs or skips the call. */
  const holdForApproval = async (interrupt: HitlInterrupt, runOptions?: ToolRunOptions): Promise<string> => {
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
    const call = { id: interrupt.toolCallId, name: interrupt.toolName, args: interrupt.toolArgs, turn: interrupt.turn, runOptions };
    switch (resolution.type) {
      case 'accepted': {
        const { approver, reason, signature } = resolution;
        const approval: ToolApproval = { by: 'person', interruptId: interrupt.id, approver, ...(reason !== undefined && { reason }), ...(signature && { signature }) };
        return runTool({ ...call, approval }, `approved by ${approver}`);
      }
      case 'rejected':
        return `A person (${resolution.approver}) rejected this ${interrupt.toolName} call; it was not run.${resolution.reason ? ` Reason: ${resolution.reason}` : ''}`;
      case 'timed-out':
        if (resolution.outcome === 'accept') return runTool({ ...call, approval: { by: 'timeout', interruptId: interrupt.id } }, 'accepted at the approval timeout');
        return `Approval for this ${interrupt.toolName} call timed out (no one decided within ${String(interrupt.policy.timeout)}); it was not run. No person rejected it.`;
      case 'cancelled':
        return `This ${interrupt.toolName} call was cancelled (${resolution.reason}); it was not run.`;
    }
  };

  /** Runs one tool call as an activity; failures come back as text for the model. */
  const runTool = async (call: ToolRun, why: string): Promise<string> => {
    const options = call.runOptions ?? (hasOwn(agent().toolOptions ?? {}, call.name) ? agent().toolOptions![call.name] : undefined);
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
            agent: agentName,
            toolName: call.name,
            toolCallId: call.id,
            args: call.args,
            idempotencyKey: `${threadId}/${call.turn}/${call.id}`,
            interruptId: call.approval?.interruptId,
            ...(call.approval && { approval: call.approval }),
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
    // The policy the worker's registry gave for this call; results recorded by older versions carry none.
    const policy: HitlPolicy | null =
      call.policy !== undefined ? call.policy : hasOwn(agent().interrupts, call.name) ? agent().interrupts[call.name] : null;
    if (!policy || policy.allowAuto) {
      return runTool({ id: call.id, name: call.name, args: call.args, turn: callTurn, runOptions: call.runOptions }, policy ? 'auto-approved' : 'unprotected');
    }
    const interrupt = book.open(call, call.args, policy, callTurn, Date.now());
    audit({ kind: 'interrupt-opened', interrupt: { ...interrupt } });
    // Ended while the model was thinking: nobody is asked any more.
    if (ended) book.cancelPending('the thread was ended', Date.now()).forEach(auditResolved);
    return holdForApproval(interrupt, call.runOptions);
  };

  /** Model turns until the model answers without tool calls. */
  const answer = async () => {
    const maxTurns = agent().maxTurns ?? DEFAULT_MAX_TURNS;
    for (let turnsThisMessage = 0; turnsThisMessage < maxTurns; turnsThisMessage++) {
      turn++;
      const result = await callModel.executeWithOptions({ summary: `model turn ${turn}` }, [
        { threadId, agent: agentName, messages, turn },
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
      // Each message is answered under the worker's current definition (a tightened policy, a revoked key).
      if (registryOnly && !specIsFresh) spec = await load();
      specIsFresh = false;
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
      await continueAsNew<typeof agentThread>({ version: 2, agent: agentName, carried: { messages, turn, inbox } });
    }
  }
  syncVisibility();
  await condition(allHandlersFinished);
  return { threadId, agent: agentName, turns: turn, messages: messages.length, interrupts: book.all().length };
}
