/**
 * A thread's state and its transitions: the conversation, the message queue, the interrupts and
 * how decisions change them. Plain and deterministic (no Temporal calls): the workflow function
 * wires it to handlers and activities; unit tests drive it directly.
 */
import { ErrorType, LIMITS, checkMessage, isCarriedExchange, parseDecision, safeDecisionParts } from '../core';
import type {
  AgentResponse,
  AgentSettings,
  CarriedExchange,
  CallModelInput,
  AuditEvent,
  ChatMessage,
  Decision,
  DecisionOutcome,
  GrantRevocation,
  GrantRevocationOutcome,
  HitlInterrupt,
  ThreadState,
  ThreadStatus,
  ToolGrant,
} from '../core';
import { GrantBook } from './grant-book';
import { InterruptBook, type DecisionArrival, type DecisionCheck, type EditReview } from './interrupt-book';
import { MessageQueue } from './message-queue';
import { CANCELLED_BY_END } from './model-text';
import { MODEL_INPUT_ADDED_BYTES, exceedsBytes } from './carried-conversation';

/** What the thread starts from: a fresh start, or what continue-as-new carried. */
export interface ThreadStart {
  threadId: string;
  agentName: string;
  messages?: ChatMessage[];
  turn?: number;
  inbox?: string[];
  grants?: ToolGrant[];
  /** Input version 3 or later: lean history (see `ThreadInput.version`). */
  lean?: boolean;
  /** Input version 4 or 5: model turns run as the agent's settings say (`AgentSpec.modelTurns`). */
  localModelTurns?: boolean;
  /**
   * Input version 5: a run whose settings are not loaded yet runs its first model turn as a local
   * activity that brings them, and answers only when the agent's turns are local (version 4 loads
   * them as the run starts instead).
   */
  settingsWithFirstTurn?: boolean;
  /** Input version 6: records leave out what they would say twice (the tool input, the pending memo). */
  compactRecords?: boolean;
  /** The exchange the previous run answered last (continue-as-new). */
  lastExchange?: CarriedExchange;
}

/** A decision that passed its checks and waits to be applied (an edit first waits for the worker's verdict on its arguments). */
export interface CheckedDecision {
  decision: Decision;
  check: Extract<DecisionCheck, { ok: true }>;
}

export class AgentThreadState {
  readonly threadId: string;
  readonly agentName: string;
  readonly messages: ChatMessage[];
  readonly queue: MessageQueue;
  readonly book: InterruptBook;
  readonly grants: GrantBook;
  /** The agent as the worker's registry gave it, loaded at the start and for each message. */
  spec?: AgentSettings;
  turn: number;
  ended = false;
  lastError: ThreadState['lastError'];
  /** A user message rejected what waited: the turn in progress stops after its tool results, and that message is answered next. */
  private turnCut = false;
  readonly lean: boolean;
  /** Version 4: a model turn may run as a local activity (see `modelTurnIsLocal`). */
  readonly localModelTurns: boolean;
  /** Input version 5 (see `ThreadStart.settingsWithFirstTurn`). */
  readonly settingsWithFirstTurn: boolean;
  /** Input version 6 (see `ThreadStart.compactRecords`). */
  readonly compactRecords: boolean;
  /** Version 5: the local turn that brings the settings found no agent in this worker; the turn runs as an activity. */
  private settingsNotHere = false;
  /** The settings were just loaded (`loadedSpec`): the next message's first turn need not ask for them. */
  private specFresh = false;
  /** Version 6: the output of each tool activity this run recorded, by tool-call id (a local turn echoes those results without it). */
  private readonly toolOutputs = new Map<string, string>();
  /** Lean runs: how many messages the model activity was given already (it keeps them, or reads them from the thread). */
  private sentToModel: number;
  /** Where each awaited message's exchange starts in the conversation, by message number (responses carry the messages from there). */
  private readonly exchangeStarts = new Map<number, number>();
  private lastExchangeStart = 0;
  /** The exchange the previous run answered last, while it is still the latest. */
  private carriedExchange?: CarriedExchange;
  /** The model turns taken before each exchange start (by message index). */
  private readonly turnAt = new Map<number, number>();

  constructor(start: ThreadStart) {
    this.threadId = start.threadId;
    this.agentName = start.agentName;
    this.messages = [...(start.messages ?? [])];
    this.turn = start.turn ?? 0;
    this.queue = new MessageQueue(start.inbox);
    this.book = new InterruptBook(start.threadId, () => this.spec?.trustedKeys ?? []);
    this.grants = new GrantBook(start.grants);
    this.lean = start.lean ?? false;
    this.localModelTurns = start.localModelTurns ?? false;
    this.settingsWithFirstTurn = start.settingsWithFirstTurn ?? false;
    this.compactRecords = start.compactRecords ?? false;
    this.sentToModel = this.messages.length;
    if (start.lastExchange) {
      this.lastExchangeStart = start.lastExchange.start;
      this.turnAt.set(start.lastExchange.start, start.lastExchange.turn);
      this.carriedExchange = start.lastExchange;
    }
  }

  /**
   * What continue-as-new carries of the exchange answered last (see `CarriedThreadState.lastExchange`):
   * nothing when it would not pass the next run's check (too many or too large decided calls), so
   * the next run always starts; its response then lacks those calls, as before this was carried.
   */
  lastExchangeToCarry(): CarriedExchange | undefined {
    const turn = this.turnAt.get(this.lastExchangeStart) ?? 0;
    // A run continues as new only after answering a message of its own: the exchange is this run's.
    const decided = this.book.all().filter((interrupt) => interrupt.turn > turn && interrupt.resolution);
    const exchange = { start: this.lastExchangeStart, turn, interrupts: decided };
    return isCarriedExchange(exchange, this.messages.length, this.turn) ? exchange : undefined;
  }

  /**
   * The model activity's input for `turn`: the whole conversation (older runs), or, in a lean run,
   * only what was added since the previous turn (and the agent's settings asked for on a message's
   * first turn). A local turn's input is not recorded: version 4 hands it the whole conversation
   * and it returns what was added (`echoFrom`), so history holds each message once either way.
   */
  /**
   * Whether a model activity whose added messages are over `MODEL_INPUT_ADDED_BYTES` reads them
   * from the thread: the workflow answers (with a patch marker, so that inputs recorded before
   * replay as they ran); `false` leaves them in the input.
   */
  largeAddedByQuery: () => boolean = () => false;

  modelInput(turn: number, firstOfMessage: boolean): CallModelInput {
    const base = { threadId: this.threadId, agent: this.agentName, turn };
    // Settings loaded moments ago (a version 4 run's start) are not asked for again.
    const withSpec = (firstOfMessage && !this.specFresh) || (this.settingsWithFirstTurn && !this.spec);
    this.specFresh = false;
    if (!this.lean) return { ...base, messages: this.messages };
    if (this.modelTurnIsLocal()) {
      const echoFrom = this.sentToModel;
      this.sentToModel = this.messages.length;
      const echoRecorded = this.recordedOutputsFrom(echoFrom);
      return {
        ...base,
        messages: this.messages,
        echoFrom,
        ...(echoRecorded.length > 0 && { echoRecorded }),
        ...(this.compactRecords && { compactResult: true }),
        ...(withSpec && { withSpec: true }),
        ...(!this.spec && { ifLocal: true }),
      };
    }
    const added = this.messages.slice(this.sentToModel);
    // Messages too large for the activity's input (tool results add up): it reads them from the thread.
    const byQuery = exceedsBytes(added, MODEL_INPUT_ADDED_BYTES) && this.largeAddedByQuery();
    const conversation = byQuery ? { from: this.messages.length, added: [] } : { from: this.sentToModel, added };
    this.sentToModel = this.messages.length;
    return { ...base, conversation, ...(withSpec && { withSpec: true }) };
  }

  /** Version 6: a tool activity's output, which history records in its result. */
  toolRan(toolCallId: string, output: string): void {
    if (this.compactRecords) this.toolOutputs.set(toolCallId, output);
  }

  /** The tool results from message `from` on whose text is their tool activity's output, as recorded. */
  private recordedOutputsFrom(from: number): number[] {
    const indexes: number[] = [];
    for (let index = from; index < this.messages.length; index++) {
      const message = this.messages[index];
      if (message.role === 'tool' && this.toolOutputs.get(message.toolCallId) === message.content) indexes.push(index);
    }
    return indexes;
  }

  /**
   * Whether the next model turn runs as a local activity: version 4 or 5, when the worker's spec
   * says `'local'`; version 5 also while the settings are not loaded (the turn brings them, and
   * answers only if they say `'local'`).
   */
  modelTurnIsLocal(): boolean {
    if (!this.localModelTurns) return false;
    if (this.spec) return this.spec.modelTurns === 'local';
    return this.settingsWithFirstTurn && !this.settingsNotHere;
  }

  /** Version 5: the local turn brought the settings without answering (the agent's turns run as activities). */
  turnDeferred(input: CallModelInput, spec: AgentSettings): void {
    this.modelTurnFailed(input);
    this.loadedSpec(spec);
  }

  /** Version 5: this worker does not host the agent; the turn runs as an activity, which asks for the settings. */
  settingsNotInThisWorker(): void {
    this.settingsNotHere = true;
  }

  /** The agent's settings, loaded as a run starts (version 4, or 5 with grants) or by a deferred turn: the turn that follows does not ask for them again. */
  loadedSpec(spec: AgentSettings): void {
    this.spec = spec;
    this.specFresh = true;
  }

  /** The thread waits for a message: the settings loaded before it may be old by the time it comes. */
  settingsMayBeStale(): void {
    this.specFresh = false;
  }

  /**
   * A local model turn's reply is recorded in its marker: the next turn echoes only what was added
   * after it (tool results, messages), not the reply again.
   */
  localReplyRecorded(): void {
    // Only when the reply directly follows what the turn was given: anything else added meanwhile
    // is in no marker yet, and the next turn echoes it (and the reply again).
    if (this.messages.length === this.sentToModel + 1) this.sentToModel = this.messages.length;
  }

  /**
   * A local model turn failed: it recorded nothing, so the next turn is given (and echoes) the
   * messages this one was given too.
   */
  modelTurnFailed(input: CallModelInput): void {
    if (input.echoFrom !== undefined) this.sentToModel = input.echoFrom;
  }

  /** The loaded agent. */
  get agent(): AgentSettings {
    if (!this.spec) throw new Error('The agent is not loaded yet');
    return this.spec;
  }

  status(): ThreadStatus {
    if (this.book.hasPending()) return 'awaiting_approval';
    if (this.queue.busy || this.queue.waiting().length > 0) return 'running';
    return this.ended ? 'ended' : 'idle';
  }

  /** Nothing runs: the thread has answered, waits for a person, or has ended. */
  settled(): boolean {
    return this.status() !== 'running';
  }

  snapshot(): ThreadState {
    const pendingInterrupts = this.book.pending();
    return {
      threadId: this.threadId,
      agent: this.agentName,
      status: this.status(),
      messages: this.messages,
      currentInterrupt: pendingInterrupts[0],
      pendingInterrupts,
      interrupts: this.book.all(),
      grants: this.grants.all(),
      turn: this.turn,
      lastError: this.lastError,
    };
  }

  /** The agent's last words, unless the last message got no answer. */
  lastAnswer(): string {
    const last = this.messages[this.messages.length - 1];
    return last?.role === 'assistant' && !this.lastError ? last.content : '';
  }

  /** What `awaitResponse` returns: the state with the latest exchange's messages. */
  response(): AgentResponse {
    const state = this.responseState(this.lastExchangeStart);
    return { content: state.status === 'idle' ? this.lastAnswer() : '', state };
  }

  /**
   * The state as a response carries it, so its size does not grow with the thread: the messages
   * from `from` on, the interrupts of those turns (and any still waiting), no grants (`getState`
   * has the whole state).
   */
  private responseState(from: number): ThreadState {
    const state = this.snapshot();
    const firstTurn = this.turnAt.get(from) ?? 0;
    // An exchange the previous run answered: its decided interrupts came with it.
    const carried = this.carriedExchange?.start === from ? this.carriedExchange.interrupts : [];
    const interrupts = [...carried, ...state.interrupts.filter((interrupt) => interrupt.turn > firstTurn || !interrupt.resolution)];
    const exchange = { ...state, messages: state.messages.slice(from), messagesFrom: from, interrupts, grants: undefined };
    if (!this.lean) return exchange;
    // Lean: each waiting interrupt once, in `pendingInterrupts`; the client puts it back into
    // `interrupts` and `currentInterrupt` (see `completeResponse`).
    return { ...exchange, interrupts: interrupts.filter((interrupt) => interrupt.resolution), currentInterrupt: undefined };
  }

  /** Why a message cannot be taken now, or `undefined`. */
  refuseMessage(text: unknown): { type: string; message: string } | undefined {
    if (this.ended) return { type: ErrorType.ThreadEnded, message: 'This thread has ended and takes no more messages' };
    const problem = checkMessage(text);
    return problem ? { type: ErrorType.MessageInvalid, message: problem } : undefined;
  }

  /** Whether the sender of message `n` (an Update) can be answered: its answer, its interrupt, or the end. */
  canRespondTo(n: number): boolean {
    return this.queue.isAnswered(n) || (this.queue.isAnswering(n) && this.status() === 'awaiting_approval') || (this.ended && this.queue.isNotStarted(n));
  }

  /** The response to message `n`: its own answer once answered, else the interrupt it waits on. */
  responseTo(n: number): AgentResponse {
    // A sender gets one response: its message's exchange (or the latest, when it never started).
    const from = this.exchangeStarts.get(n) ?? this.lastExchangeStart;
    this.exchangeStarts.delete(n);
    return { content: this.queue.takeAnswer(n), state: this.responseState(from) };
  }

  /**
   * Takes a user message (`wantsAnswer`: an Update waits for its answer). Under
   * `onMessageWhileWaiting: 'reject-pending'` a message that arrives while calls wait for a person
   * is the user's answer: they are rejected with it as the reason. Returns the message's number
   * and the audit events.
   */
  receiveMessage(text: string, wantsAnswer: boolean, now: number): { n: number; audit: AuditEvent[] } {
    const n = this.queue.receive(text, wantsAnswer);
    if (this.spec?.onMessageWhileWaiting !== 'reject-pending' || !this.queue.busy || !this.book.hasPending()) return { n, audit: [] };
    this.turnCut = true;
    return { n, audit: this.book.rejectPendingByMessage(text, LIMITS.reasonChars, now).map(resolvedEvent) };
  }

  /** Whether a user message cut the current turn short (asked once: it resets). */
  takeTurnCut(): boolean {
    const cut = this.turnCut;
    this.turnCut = false;
    return cut;
  }

  /** Starts answering the next queued message: it joins the conversation. */
  startNextMessage(): void {
    const text = this.queue.start();
    this.lastExchangeStart = this.messages.length;
    this.turnAt.set(this.messages.length, this.turn);
    if (this.queue.isAwaited(this.queue.current())) this.exchangeStarts.set(this.queue.current(), this.messages.length);
    this.messages.push({ role: 'user', content: text });
    this.lastError = undefined;
  }

  /** Ends the message being answered. */
  finishMessage(): void {
    this.queue.finish(this.lastAnswer());
  }

  /**
   * Checks a decision: malformed input or one that does not fit is refused (the audit event goes
   * to history with the decision's well-formed parts and how it arrived; malformed input is
   * described, never kept). A decision that passes is applied with `apply` (an edit once the
   * worker has checked its arguments).
   */
  check(raw: unknown, arrival: DecisionArrival, now: number): { ok: true; checked: CheckedDecision } | { ok: false; outcome: DecisionOutcome; audit: AuditEvent[] } {
    const parsed = parseDecision(raw);
    const check = parsed.ok ? this.book.check(parsed.decision) : { ok: false as const, errorType: ErrorType.DecisionInvalid, reason: parsed.reason };
    if (parsed.ok && check.ok) return { ok: true, checked: { decision: parsed.decision, check } };
    const refusal = check as Extract<typeof check, { ok: false }>;
    return this.refusal(parsed.ok ? parsed.decision : safeDecisionParts(raw), refusal.errorType, refusal.reason, arrival, now);
  }

  /** A refused decision: its outcome and its audit event. */
  refusal(decision: Partial<Decision>, errorType: string, reason: string, arrival: DecisionArrival, now: number): { ok: false; outcome: DecisionOutcome; audit: AuditEvent[] } {
    const kept = { ...decision };
    delete kept.args;
    delete kept.grant;
    delete kept.signature;
    return {
      ok: false,
      outcome: { type: 'refused', interruptId: decision.interruptId ?? '', reason, errorType },
      audit: [{ kind: 'decision-refused', decision: kept, errorType, reason, at: new Date(now).toISOString(), ...arrival }],
    };
  }

  /**
   * Applies a checked decision; an edit with the worker's verdict on its arguments (`null` verdict:
   * they do not fit the tool, and the edit is refused with `editProblem`). A grant that came with
   * an accept or a decided edit is issued.
   */
  apply(checked: CheckedDecision, arrival: DecisionArrival, now: number, edit?: { verdict?: EditReview; problem?: string }): { outcome: DecisionOutcome; audit: AuditEvent[]; grant?: ToolGrant } {
    const { decision, check } = checked;
    const interrupt = check.interrupt;
    if (decision.action === 'edit') {
      if (!edit?.verdict) {
        const reason = `The edited arguments do not fit '${interrupt.toolName}'; nothing ran and the call still waits:\n${edit?.problem ?? 'no verdict'}`;
        const refused = this.refusal(decision, ErrorType.DecisionEditInvalid, reason, arrival, now);
        return { outcome: refused.outcome, audit: refused.audit };
      }
      const result = this.book.applyEdit(check, decision, edit.verdict, arrival, now);
      if (result.type === 'escalated') {
        const last = interrupt.edits![interrupt.edits!.length - 1];
        return {
          outcome: { type: 'escalated', interruptId: interrupt.id, interrupt: { ...interrupt } },
          audit: [
            {
              kind: 'interrupt-edited',
              interruptId: interrupt.id,
              toolName: interrupt.toolName,
              edit: last,
              policy: interrupt.policy,
              ...(interrupt.askReason !== undefined && { askReason: interrupt.askReason }),
              callDigest: interrupt.callDigest!,
            },
          ],
        };
      }
    } else {
      this.book.apply(check, decision, arrival, now);
    }
    const audit: AuditEvent[] = [resolvedEvent(interrupt)];
    let grant: ToolGrant | undefined;
    if (decision.grant && (interrupt.resolution?.type === 'accepted' || interrupt.resolution?.type === 'edited')) {
      grant = this.grants.issue(interrupt, decision, check.decidedOnDigest, check.signedBy, check.grantTtlMs, now);
      interrupt.resolution.grantId = grant.id;
      audit.push({ kind: 'grant-issued', grant: { ...grant } });
    }
    return { outcome: { type: 'applied', interruptId: interrupt.id, resolution: interrupt.resolution!, ...(grant && { grant: { ...grant } }) }, audit, ...(grant && { grant }) };
  }

  /** Applies a decision that needs no verdict from the worker, or refuses it (the accept/reject/respond path in one step). */
  decide(raw: unknown, arrival: DecisionArrival, now: number): { outcome: DecisionOutcome; audit: AuditEvent[]; grant?: ToolGrant } {
    const checked = this.check(raw, arrival, now);
    if (!checked.ok) return checked;
    return this.apply(checked.checked, arrival, now);
  }

  /**
   * Revokes a grant (see `GrantBook.revoke`). Returns the outcome and the audit events. Without
   * the agent's settings (a continued run before they came) only the granter may revoke, unless
   * `policyRequired` is false (a run recorded before that rule, replayed as it ran).
   */
  revokeGrant(request: GrantRevocation, now: number, policyRequired = true): { outcome: GrantRevocationOutcome; audit: AuditEvent[] } {
    const grant = this.grants.all().find((candidate) => candidate.id === request.grantId);
    if (policyRequired && grant && !grant.ended && !this.spec && request.by !== grant.grantedBy) {
      // A continued run without the agent's settings does not know the tool's approvers.
      // (`policyRequired` false: a run recorded before this rule, replayed as it ran.)
      const reason = "The agent's settings are not loaded in this run yet: until it answers a message, only the granter may revoke this grant";
      return { outcome: { type: 'refused', grantId: request.grantId, reason, errorType: ErrorType.DecisionNotAllowed }, audit: [] };
    }
    const policy = grant && this.spec?.interrupts[grant.toolName];
    const result = this.grants.revoke(request, policy, now);
    if (!result.ok) return { outcome: { type: 'refused', grantId: request.grantId, reason: result.reason, errorType: result.errorType }, audit: [] };
    return { outcome: { type: 'revoked', grant: { ...result.grant } }, audit: [grantEndedEvent(result.grant)] };
  }

  /** Ends the thread: what still waits for a person is cancelled. Returns the audit events. */
  end(now: number): AuditEvent[] {
    this.ended = true;
    return this.cancelPending(now);
  }

  /** Cancels every interrupt still waiting (the thread ended). Returns the audit events. */
  cancelPending(now: number): AuditEvent[] {
    return this.book.cancelPending(CANCELLED_BY_END, now).map(resolvedEvent);
  }
}

/** The audit event of an interrupt that has just been resolved. */
export function resolvedEvent(interrupt: HitlInterrupt): AuditEvent {
  return { kind: 'interrupt-resolved', interruptId: interrupt.id, toolName: interrupt.toolName, resolution: interrupt.resolution! };
}

/** The audit event of a grant that has just ended (revoked or expired). */
export function grantEndedEvent(grant: ToolGrant): AuditEvent {
  return { kind: 'grant-ended', grantId: grant.id, interruptId: grant.interruptId, toolName: grant.toolName, ended: grant.ended! };
}
