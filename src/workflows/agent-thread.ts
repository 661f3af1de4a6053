/**
 * One agent thread = one workflow execution (workflow id = thread id). This function is wiring:
 * it reads the input, registers the handlers, and runs the loop that answers messages. The state
 * and its rules live in `AgentThreadState`; tool calls in `ToolCalls`; what visibility shows in
 * `Visibility`. Deterministic code only: the world is reached through activities, time through
 * Temporal timers.
 */
import * as wf from '@temporalio/workflow';
import { ErrorType, LIMITS, checkGrantTtl, checkKnown, checkReplyOptions, compactOutcome, compactReply, parseDecision, parseRevocation, parseThreadInput, safeDecisionParts, wantsCompactReply } from '../core';
import { awaitResponseReplyUpdate, conversationQuery, decideReplyUpdate, decisionSignal, endThreadSignal, getStateQuery, revokeGrantUpdate, sendMessageReplyUpdate, userMessageSignal } from '../core';
import type { AgentResponse, AgentSpec, AirlockActivities, AuditEvent, CompactOutcome, DecisionChannel, DecisionOutcome, ReplyOptions, ThreadInput, ThreadSummary, ToolGrant } from '../core';
import { answerMessage } from './answer-message';
import { REPLY_MESSAGES_BYTES, carriedConversation, shortenedToFit } from './carried-conversation';
import { AgentThreadState, grantEndedEvent } from './thread-state';
import { ThreadTelemetry } from './thread-telemetry';
import { ToolCalls } from './tool-calls';
import { Visibility } from './visibility';

/**
 * Marks runs in which the agent's definition and policy come from the worker's registry alone
 * (loaded at the start and before each message) and the input names an agent. Runs recorded
 * before it replay as they ran.
 */
const POLICY_FROM_REGISTRY = 'airlock-policy-from-registry';

/**
 * Marks a revocation of a carried grant that reached a version 3 or 4 run before its settings
 * did: it waits for them, and without them only the granter may revoke (version 5 always does).
 * Recorded only where that happens, so other runs replay as they ran.
 */
const REVOCATION_NEEDS_POLICY = 'airlock-revocation-needs-policy';

/**
 * Marks a run that refused a decision whose grant would last longer than `GRANT_LIMITS.maxTtlMs`.
 * Recorded only where that happens: runs that issued such a grant before the limit replay as they ran.
 */
const GRANT_TTL_LIMIT = 'airlock-grant-ttl-limit';

/**
 * Marks a run that carried only part of its conversation into the next (see
 * `carried-conversation.ts`). Recorded only where that happens.
 */
const CARRIED_CONVERSATION_LIMIT = 'airlock-carried-conversation-limit';

/** Marks a run that shortened the tool results of a reply over its size (see `REPLY_MESSAGES_BYTES`). Recorded only where that happens. */
const REPLY_SIZE_LIMIT = 'airlock-reply-size-limit';

/** Marks a run whose model activity read its added messages from the thread (see `MODEL_INPUT_ADDED_BYTES`). Recorded only where that happens. */
const LARGE_MODEL_INPUT = 'airlock-large-model-input';

// A lookup in the worker's own registry: a local activity records the spec in history without a round trip.
const { loadAgent, reviewToolCall } = wf.proxyLocalActivities<AirlockActivities>({
  startToCloseTimeout: '10s',
  retry: { maximumAttempts: 5, nonRetryableErrorTypes: [ErrorType.AgentNotFound, ErrorType.ToolNotFound] },
});

const refuse = (type: string, message: string) => wf.ApplicationFailure.create({ type, message, nonRetryable: true });

/** The agent thread workflow. Returns when the thread is ended (`endThreadSignal`). */
export async function agentThread(rawInput: ThreadInput): Promise<ThreadSummary> {
  const threadId = wf.workflowInfo().workflowId;
  // Input versions 3 to 6 mark a lean run by themselves; earlier runs replay as they ran.
  const version = (rawInput as { version?: unknown } | null)?.version;
  const lean = version === 3 || version === 4 || version === 5 || version === 6;
  const version4 = version === 4 || version === 5 || version === 6;
  const version5 = version === 5 || version === 6;
  const version6 = version === 6;
  const registryOnly = lean || wf.patched(POLICY_FROM_REGISTRY);
  const { input, legacySpec } = readInput(rawInput, registryOnly);
  // Grants and the last exchange cross runs only by continue-as-new: never from a client's start,
  // nor from a retry or a cron run of one (those also name the run before, and get the client's
  // input again).
  const info = wf.workflowInfo();
  const continued = Boolean(info.continuedFromExecutionRunId) && info.attempt === 1 && !info.cronSchedule;
  const carried = input.carried && (continued ? input.carried : { ...input.carried, grants: undefined, lastExchange: undefined });
  const thread = new AgentThreadState({ threadId, agentName: input.agent, lean, localModelTurns: version4, settingsWithFirstTurn: version5, compactRecords: version6, ...carried });
  thread.spec = legacySpec;
  thread.largeAddedByQuery = () => wf.patched(LARGE_MODEL_INPUT);
  const visibility = new Visibility(thread, lean, version4, version6);
  const telemetry = new ThreadTelemetry(threadId, input.agent);
  const tools = new ToolCalls(thread, visibility, telemetry);

  /** Whether the settings a run loads as it starts (if it does) have come, or failed to. */
  let startSettled = false;
  // Handlers first: messages and decisions can arrive at any point of the loop below.
  wf.setHandler(getStateQuery, () => thread.snapshot());
  wf.setHandler(conversationQuery, (from, to) => thread.messages.slice(from, to));
  /** Refused decisions this run has recorded (see `LIMITS.refusalsOnRecord`). */
  let refusalsRecorded = 0;
  const record = (audit: AuditEvent[]) =>
    audit.forEach((event) => {
      if (event.kind === 'decision-refused') refusalsRecorded++;
      visibility.audit(event);
    });
  const receive = (text: string, wantsAnswer: boolean) => {
    const { n, audit } = thread.receiveMessage(text, wantsAnswer, Date.now());
    telemetry.messageArrived(n);
    record(audit);
    if (audit.length > 0) visibility.sync();
    return n;
  };
  // A reply is written into history: a client that asks gets it compact (see `reply-form.ts`).
  const reply = (full: AgentResponse, options: ReplyOptions | undefined, sent?: string, known?: string) => {
    const response = withinReplySize(full);
    return wantsCompactReply(options) ? compactReply(response, sent, known, options!.form) : response;
  };
  // A reply over its size carries its longest tool results shortened (recorded with a marker: replies of earlier runs replay as they ran).
  const withinReplySize = (response: AgentResponse): AgentResponse => {
    const fit = shortenedToFit(response.state.messages, REPLY_MESSAGES_BYTES, (message) => message.role === 'tool', 'are in the thread (getState) but not in this reply');
    return fit.shortened && wf.patched(REPLY_SIZE_LIMIT) ? { ...response, state: { ...response.state, messages: fit.messages } } : response;
  };
  // Refused as what the request is: a message's or a wait's options as MessageInvalid, a decision's as DecisionInvalid.
  const checkReply = (options: unknown, type: ErrorType = ErrorType.MessageInvalid) => {
    const problem = checkReplyOptions(options);
    if (problem) throw refuse(type, problem);
  };
  wf.setHandler(
    sendMessageReplyUpdate,
    async (text, options) => {
      const mine = receive(text, true);
      await wf.condition(() => thread.canRespondTo(mine));
      return reply(thread.responseTo(mine), options, text);
    },
    {
      validator: (text, options) => {
        const refusal = thread.refuseMessage(text);
        if (refusal) throw refuse(refusal.type, refusal.message);
        checkReply(options);
      },
      description: 'Send a user message; returns the answer or the interrupt that waits for a person',
    },
  );
  wf.setHandler(userMessageSignal, (text) => {
    const refusal = thread.refuseMessage(text);
    if (refusal) wf.log.warn('Ignored a user message signal', { threadId, problem: refusal.message });
    else receive(text, false);
  });
  wf.setHandler(awaitResponseReplyUpdate, async (options, known) => (await wf.condition(() => thread.settled()), reply(thread.response(), options, undefined, known)), {
    validator: (options, known) => {
      checkReply(options);
      const problem = checkKnown(known);
      if (problem) throw refuse(ErrorType.MessageInvalid, problem);
    },
    description: 'Wait until the thread has answered or needs a person',
  });
  // A grant with a time to live ends by a durable timer (and is checked against the clock at every use).
  const armExpiry = (grant: ToolGrant) => {
    if (!grant.expiresAt) return;
    void wf.sleep(Math.max(1, Date.parse(grant.expiresAt) - Date.now())).then(() => {
      const expired = thread.grants.expire(grant.id, Date.now());
      if (expired) visibility.audit(grantEndedEvent(expired));
    });
  };
  // An outcome is written into history: a client that asks gets it compact (see `reply-form.ts`).
  const decide = async (raw: unknown, via: DecisionChannel, options?: ReplyOptions): Promise<DecisionOutcome | CompactOutcome> => {
    const shaped = (outcome: DecisionOutcome) => (wantsCompactReply(options) ? compactOutcome(outcome, options!.form, raw) : outcome);
    const arrival = { via, ...(via === 'update' && { updateId: wf.currentUpdateInfo()?.id }) };
    const tooLong = checkGrantTtl((raw as { grant?: unknown } | null)?.grant);
    if (tooLong && wf.patched(GRANT_TTL_LIMIT)) {
      const refused = thread.refusal(safeDecisionParts(raw), ErrorType.DecisionInvalid, tooLong, arrival, Date.now());
      record(refused.audit);
      if (via === 'signal') wf.log.warn('Refused a decision signal', { threadId, errorType: ErrorType.DecisionInvalid, reason: tooLong });
      return shaped(refused.outcome);
    }
    let result = thread.check(raw, arrival, Date.now());
    if (result.ok && result.checked.decision.action === 'edit') {
      // An edit's arguments are checked by the worker (the tool's schema, the policy evaluated on
      // them), then the decision is checked again: another one may have landed meanwhile.
      const { decision, check } = result.checked;
      const verdict = await reviewToolCall.executeWithOptions({ summary: `review an edit of ${check.interrupt.toolName}` }, [
        { agent: input.agent, toolName: check.interrupt.toolName, args: decision.args },
      ]);
      result = thread.check(decision, arrival, Date.now());
      if (result.ok) return shaped(applied(thread.apply(result.checked, arrival, Date.now(), verdict.ok ? { verdict } : { problem: verdict.error }), via));
    } else if (result.ok) {
      return shaped(applied(thread.apply(result.checked, arrival, Date.now()), via));
    }
    record(result.audit);
    if (via === 'signal' && result.outcome.type === 'refused') {
      wf.log.warn('Refused a decision signal', { threadId, errorType: result.outcome.errorType, reason: result.outcome.reason });
    }
    return shaped(result.outcome);
  };
  const applied = ({ outcome, audit, grant }: { outcome: DecisionOutcome; audit: AuditEvent[]; grant?: ToolGrant }, via: DecisionChannel) => {
    record(audit);
    if (grant) armExpiry(grant);
    if (outcome.type !== 'refused') visibility.sync();
    else if (via === 'signal') wf.log.warn('Refused a decision signal', { threadId, errorType: outcome.errorType, reason: outcome.reason });
    return outcome;
  };
  wf.setHandler(decideReplyUpdate, (decision, options) => decide(decision, 'update', options), {
    // Malformed decisions are refused before anything is written; well-formed ones that do not fit
    // are answered by the handler, so the refusal is on record (the first LIMITS.refusalsOnRecord of a run).
    validator: (decision, options) => {
      const parsed = parseDecision(decision);
      if (!parsed.ok) throw refuse(ErrorType.DecisionInvalid, parsed.reason);
      const tooLong = checkGrantTtl(parsed.decision.grant);
      if (tooLong) throw refuse(ErrorType.DecisionInvalid, tooLong);
      checkReply(options, ErrorType.DecisionInvalid);
      if (refusalsRecorded >= LIMITS.refusalsOnRecord) {
        // Checked as the handler would (without changing anything): a refusal is answered here, off the record.
        const checked = thread.check(parsed.decision, { via: 'update' }, Date.now());
        if (!checked.ok && checked.outcome.type === 'refused') {
          throw refuse(checked.outcome.errorType, `${checked.outcome.reason} (not on record: this run has recorded ${LIMITS.refusalsOnRecord} refused decisions)`);
        }
      }
    },
    description: 'Accept, reject, edit or respond to an interrupt; the outcome says whether it was applied, escalated or refused, and why',
  });
  wf.setHandler(decisionSignal, (decision) => void decide(decision, 'signal'));
  wf.setHandler(
    revokeGrantUpdate,
    async (request) => {
      // A run that carries grants loads the agent's settings as it starts (version 3: with its
      // first model turn): a revocation that arrives first waits for them, to be checked against
      // the tool's approvers, and without them only the granter may revoke.
      const beforeSettings = !thread.spec && thread.grants.active().some((grant) => grant.id === request.grantId);
      const policyRequired = beforeSettings && (version5 || wf.patched(REVOCATION_NEEDS_POLICY));
      if (policyRequired) await wf.condition(() => thread.spec !== undefined || startSettled);
      const { outcome, audit } = thread.revokeGrant(request, Date.now(), policyRequired);
      record(audit);
      return outcome;
    },
    {
      validator: (request) => {
        const parsed = parseRevocation(request);
        if (!parsed.ok) throw refuse(ErrorType.DecisionInvalid, parsed.reason);
        // A revocation the thread can refuse at once is refused here: it would write nothing, yet
        // use up one of the run's Updates. One that waits for the agent's settings goes to the handler.
        const grant = thread.grants.byIdOf(request.grantId);
        if (grant && !grant.ended && !thread.spec) return;
        const refusal = thread.grants.refusalOf(request, grant && thread.spec?.interrupts[grant.toolName]);
        if (refusal) throw refuse(refusal.errorType, refusal.reason);
      },
      description: 'Revoke a grant: later matching calls are asked about again',
    },
  );
  thread.grants.active().forEach(armExpiry);
  wf.setHandler(endThreadSignal, () => record(thread.end(Date.now())));

  // A lean run gets the agent's settings with the first model turn of each message; others load
  // them. Version 4 also loads them when a run starts: how its model turns run depends on them.
  // Version 5 does only for a run that carries grants (a revocation checks the policy); its
  // first model turn brings them otherwise.
  const load = () => loadAgent.executeWithOptions({ summary: `load agent ${input.agent}` }, version4 ? [input.agent, { settingsOnly: true }] : [input.agent]);
  if (!lean) thread.spec ??= await load();
  if (version4 && (!version5 || thread.grants.active().length > 0)) {
    try {
      thread.loadedSpec(await load());
    } catch (err) {
      // E.g. no worker hosts the agent (mid-deploy): the thread stays; its first model turn runs as
      // an activity that asks for the settings, and fails or succeeds as a version 3 turn would.
      if (!(err instanceof wf.TemporalFailure)) throw err;
      wf.log.warn("Could not load the agent's settings at the start of the run", { threadId, problem: err.message });
    }
  }
  startSettled = true;
  let specIsFresh = true;
  visibility.showAgent();
  visibility.sync();

  for (;;) {
    // Settings loaded earlier than the next message's arrival are asked for again with its first turn.
    if (thread.queue.waiting().length === 0) thread.settingsMayBeStale();
    await wf.condition(() => thread.queue.waiting().length > 0 || thread.ended);
    // An ended thread answers nothing more; messages still queued get an empty response.
    if (thread.ended) break;
    thread.startNextMessage();
    visibility.sync();
    try {
      // Each message is answered under the worker's current definition (a tightened policy, a revoked key).
      if (registryOnly && !lean && !specIsFresh) thread.spec = await load();
      specIsFresh = false;
      await telemetry.answering(thread.queue.current(), () => answerMessage(thread, tools));
    } catch (err) {
      // The model failed for good (retries exhausted or non-retryable): the thread stays usable.
      if (!(err instanceof wf.ActivityFailure)) throw err;
      const cause = err.cause instanceof wf.ApplicationFailure ? err.cause : undefined;
      thread.lastError = { type: cause?.type ?? 'ModelFailed', message: cause?.message ?? err.message, at: new Date().toISOString() };
      wf.log.warn('The model failed; the message got no answer', { threadId, ...thread.lastError });
    }
    thread.finishMessage();
    visibility.sync();
    if (wf.workflowInfo().continueAsNewSuggested && thread.queue.waiting().length === 0 && !thread.ended) {
      // Continue as new only when nothing waits: a message that arrives meanwhile is answered first.
      await wf.condition(() => wf.allHandlersFinished() || thread.queue.waiting().length > 0 || thread.ended);
      if (thread.queue.waiting().length > 0 || thread.ended) continue;
      const grants = thread.grants.active();
      let messages = thread.messages;
      let lastExchange = thread.lastExchangeToCarry();
      // A conversation over the budget carries its most recent part (recorded with a marker, so runs that carried more replay as they ran).
      const carried = carriedConversation(messages);
      if ((carried.dropped > 0 || carried.shortened) && wf.patched(CARRIED_CONVERSATION_LIMIT)) {
        messages = carried.messages;
        lastExchange = lastExchange && lastExchange.start >= carried.dropped ? { ...lastExchange, start: lastExchange.start - carried.dropped } : undefined;
        wf.log.warn('The conversation is too large to carry whole into the next run: it carries the most recent messages', { threadId, dropped: carried.dropped, shortened: carried.shortened });
      }
      await wf.continueAsNew<typeof agentThread>({
        version: version6 ? 6 : version5 ? 5 : version4 ? 4 : 3,
        agent: input.agent,
        carried: { messages, turn: thread.turn, inbox: [], ...(grants.length > 0 && { grants }), lastExchange },
      });
    }
  }
  visibility.sync();
  await wf.condition(wf.allHandlersFinished);
  return { threadId, agent: input.agent, turns: thread.turn, messages: thread.messages.length, interrupts: thread.book.all().length };
}

/** The checked input; runs recorded before POLICY_FROM_REGISTRY took a spec from it, and replay as they ran. */
function readInput(rawInput: ThreadInput, registryOnly: boolean): { input: ThreadInput; legacySpec?: AgentSpec } {
  if (!registryOnly) {
    const legacy = rawInput as unknown as { agent: string | AgentSpec; carried?: ThreadInput['carried'] & { spec?: AgentSpec } };
    const legacySpec = legacy.carried?.spec ?? (typeof legacy.agent === 'object' ? legacy.agent : undefined);
    return { input: { ...rawInput, agent: legacySpec?.name ?? (legacy.agent as string) }, legacySpec };
  }
  const parsed = parseThreadInput(rawInput);
  if (!parsed.ok) throw refuse(ErrorType.ThreadInputInvalid, parsed.reason);
  return { input: parsed.input };
}
