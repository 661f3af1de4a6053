import {
  Client,
  Connection,
  WithStartWorkflowOperation,
  type ConnectionOptions,
  type WorkflowHandle,
} from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { randomBytes } from 'node:crypto';
import {
  AGENT_THREAD_WORKFLOW,
  AirlockAgent,
  AirlockStatus,
  airlockSearchAttributes,
  AirlockError,
  DEFAULT_TASK_QUEUE,
  argsDigest,
  signDecision,
  signedFieldsOf,
  revokeGrantUpdate,
  DecisionRefusedError,
  ErrorType,
  HitlAction,
  isAirlockError,
  isDecisionRefusal,
  awaitResponseReplyUpdate,
  decideReplyUpdate,
  expandOutcome,
  RESOLVED_AS,
  expandReply,
  REPLY_FORM,
  knowledgeOf,
  decisionSignal,
  endThreadSignal,
  getStateQuery,
  sendMessageReplyUpdate,
  userMessageSignal,
} from '../core';
import type { AgentResponse, AuditEntry, Decision, DecisionOutcome, GrantRequest, HitlInterrupt, GrantRevocationOutcome, SigningKey, ThreadInput, ThreadState, ToolGrant } from '../core';
import { readAuditTrail, readGrants } from './audit-trail';
import { threadEnded, translatingTemporalErrors } from './temporal-errors';
import { listPendingApprovals, type PendingApproval } from './pending-approvals';
import { listRecentDecisions, type RecentDecisions, type RecentDecisionsOptions } from './recent-decisions';
import { threadDetails, threadSummary } from './thread-metadata';

/**
 * What a client holds of an exchange once its decision was applied: `held` with the interrupt
 * resolved as `outcome` says (the thread holds the same resolution). `held` itself is not changed.
 */
export function withResolution(held: AgentResponse, outcome: DecisionOutcome): AgentResponse {
  if (outcome.type !== 'applied' || !held.state.interrupts.some((interrupt) => interrupt.id === outcome.interruptId)) return held;
  const resolved = (interrupt: HitlInterrupt) => (interrupt.id === outcome.interruptId ? { ...interrupt, resolution: outcome.resolution } : interrupt);
  const pendingInterrupts = held.state.pendingInterrupts.filter((interrupt) => interrupt.id !== outcome.interruptId);
  return { ...held, state: { ...held.state, interrupts: held.state.interrupts.map(resolved), pendingInterrupts, currentInterrupt: pendingInterrupts[0] } };
}

/**
 * The update id of a decision: the same for the same decision (66 bits of a digest of it, in
 * base64url), so the server drops a retried duplicate and answers it with the first one's outcome.
 * Short, as history records it four times.
 */
export function decisionUpdateId(decision: Decision): string {
  return `d-${updateIdText(Buffer.from(argsDigest(decision).slice(0, 18), 'hex'))}`;
}

/**
 * gRPC settings of the client connections Airlock makes: an answer may be up to 64 MiB (gRPC's
 * default is 4 MB, and a page of a history with large payloads can be more).
 */
export const CLIENT_CHANNEL_ARGS = { 'grpc.max_receive_message_length': 64 * 1024 * 1024 } as const;

/** A fresh update id: 66 random bits, shorter than the SDK's UUID (history records it four times). */
function newUpdateId(): string {
  return updateIdText(randomBytes(9));
}

/** 11 base64url characters (66 bits) of `bytes` (9 of them, 72 bits). */
function updateIdText(bytes: Buffer): string {
  return bytes.toString('base64url').slice(0, 11);
}

/** What the client asks of `sendMessage` and `awaitResponse`: the compact reply (`reply-form.ts`). */
const REPLY = { form: REPLY_FORM };

/** How many threads' last replies a client keeps, to tell `awaitResponse` what it holds (the oldest go first). */
const HELD_REPLIES = 256;

/** Options of `AirlockClient`. */
export interface AirlockClientOptions {
  /** An existing Temporal client. Default: one over `connection`. */
  client?: Client;
  connection?: Connection;
  /** Default `'default'`. */
  namespace?: string;
  /**
   * The data converter of the client made over `connection`, e.g. `{ payloadCodecs: [new EncryptionCodec(keys)] }`
   * for encrypted history (ignored when `client` is given: that client's own converter applies).
   */
  dataConverter?: DataConverter;
  /** Task queue new threads start on. Default `'airlock'`. */
  taskQueue?: string;
  /** The agent (a name the workers host) new threads run when a call does not name one. */
  defaultAgent?: string;
  /**
   * Sign every decision this client sends with this key (an approver's key from `airlock keys
   * create`, or the approval service's). The signature covers the thread, the interrupt, the
   * action, the approver, the reason and the digest of the interrupt's arguments as history
   * records them. An approver key signs only for its owner.
   */
  signingKey?: SigningKey;
}

/** Options of a thread's start. */
export interface StartThreadOptions {
  /** The thread id (= workflow id). */
  threadId: string;
  /**
   * The name of an agent the workers host. Default: the client's `defaultAgent`. Its definition
   * and policy come from the worker; a thread's starter cannot supply them.
   */
  agent?: string;
}

/** A decision as `resumeWithApproval` takes it. */
export interface ApprovalOptions {
  /** Who decides; recorded in history. */
  approver: string;
  /** Why (shown to the model on a rejection). */
  reason?: string;
  /** Which interrupt. Default: the thread's current (oldest pending) interrupt. */
  interruptId?: string;
  /** `edit`: the arguments to run instead. */
  args?: unknown;
  /** `respond`: what the model reads as the tool's result. */
  message?: string;
  /** `accept` or `edit`: also let later matching calls of the tool run without asking. */
  grant?: GrantRequest;
  /** The `callDigest` the decision was made on (refused if the call changed since). */
  callDigest?: string;
}

/**
 * The Airlock client library: start threads, send messages, decide interrupts, read state.
 * Every call is a Temporal message to the thread's workflow; nothing is stored elsewhere.
 */
export class AirlockClient {
  readonly client: Client;
  readonly taskQueue: string;
  private readonly defaultAgent?: string;
  private readonly signingKey?: SigningKey;
  /** The last reply of each thread this client sent a message to or awaited: `awaitResponse` then gets only what is new. */
  private readonly held = new Map<string, AgentResponse>();
  /** Whether new threads start with their search attributes (see `starting`). */
  private startAttributes = true;

  constructor(options: AirlockClientOptions = {}) {
    this.client = options.client ?? new Client({ connection: options.connection, namespace: options.namespace ?? 'default', dataConverter: options.dataConverter });
    this.taskQueue = options.taskQueue ?? DEFAULT_TASK_QUEUE;
    this.defaultAgent = options.defaultAgent;
    this.signingKey = options.signingKey;
  }

  /** Connects to a Temporal server and returns a client. */
  static async connect(options: Omit<AirlockClientOptions, 'client' | 'connection'> & { connection?: ConnectionOptions } = {}): Promise<AirlockClient> {
    const connection = await Connection.connect({ ...options.connection, channelArgs: { ...CLIENT_CHANNEL_ARGS, ...options.connection?.channelArgs } });
    return new AirlockClient({ ...options, connection });
  }

  /** The workflow handle of a thread, for anything this class does not cover. */
  handle(threadId: string): WorkflowHandle {
    return this.client.workflow.getHandle(threadId);
  }

  /** Starts a thread with no message yet. Starting an existing running thread is a no-op. */
  async startThread(options: StartThreadOptions): Promise<void> {
    await translatingTemporalErrors(options.threadId, () =>
      this.starting((attributes) => this.client.workflow.start(AGENT_THREAD_WORKFLOW, { ...this.startOptions(options, attributes ? 'idle' : undefined), workflowIdConflictPolicy: 'USE_EXISTING' })),
    );
  }

  /**
   * Sends a user message and waits for the response: the agent's answer, or the state with a
   * `currentInterrupt` when a protected tool waits for a person. Starts the thread if it does not
   * exist (with `agent`, or the client's default agent).
   * @throws AirlockError `ThreadEnded` when the thread has ended, `MessageInvalid` for an empty,
   * oversized or malformed message, `ThreadNotFound` with no agent to start one
   */
  async handleMessage(threadId: string, message: string, options: { agent?: string } = {}): Promise<AgentResponse> {
    const agent = options.agent ?? this.defaultAgent;
    const args: [string, typeof REPLY] = [message, REPLY];
    return translatingTemporalErrors(threadId, () => {
      if (!agent) return this.handle(threadId).executeUpdate(sendMessageReplyUpdate, { args, updateId: newUpdateId() });
      return this.starting((attributes) => {
        const startWorkflowOperation = new WithStartWorkflowOperation(AGENT_THREAD_WORKFLOW, {
          ...this.startOptions({ threadId, agent }, attributes ? 'running' : undefined),
          workflowIdConflictPolicy: 'USE_EXISTING',
        });
        return this.client.workflow.executeUpdateWithStart(sendMessageReplyUpdate, { args, updateId: newUpdateId(), startWorkflowOperation });
      });
    }).then((reply) => this.hold(threadId, completeResponse(expandReply(reply, threadId, message))));
  }

  /**
   * Sends a user message without waiting for the answer (a signal: accepted even while no worker runs).
   * @throws AirlockError `ThreadNotFound`, `ThreadEnded`
   */
  async sendMessage(threadId: string, message: string): Promise<void> {
    await translatingTemporalErrors(threadId, () => this.handle(threadId).signal(userMessageSignal, message));
  }

  /**
   * Decides an interrupt through an update: the outcome says at once whether it was applied or
   * refused (unknown interrupt, already decided, timed out, approver not allowed) and why.
   */
  async decide(threadId: string, decision: Decision): Promise<DecisionOutcome> {
    try {
      const sent = await this.withSignature(threadId, decision);
      const updateId = decisionUpdateId(sent);
      const outcome = await translatingTemporalErrors(threadId, () => this.handle(threadId).executeUpdate(decideReplyUpdate, { args: [sent, REPLY], updateId }));
      return this.holdOutcome(threadId, expandOutcome(outcome, String(sent.interruptId), updateId, sent));
    } catch (err) {
      if (isAirlockError(err) && isDecisionRefusal(err.type)) return { type: 'refused', interruptId: decision.interruptId, reason: err.message, errorType: err.type };
      if (isAirlockError(err) && err.type === ErrorType.ThreadNotFound) throw await this.endedOr(threadId, err);
      throw err;
    }
  }

  /**
   * Whether a decision landed: the outcome, read from the thread's history, when the interrupt was
   * resolved by this approver with this action; `undefined` when it was not (yet). Works while no
   * worker runs; use it when `decide` gave up waiting (a deadline) to learn whether it was applied.
   * @throws AirlockError `ThreadNotFound`
   */
  async findAppliedDecision(threadId: string, decision: Pick<Decision, 'interruptId' | 'action' | 'approver'>): Promise<DecisionOutcome | undefined> {
    const resolved = RESOLVED_AS[String(decision.action)];
    if (resolved !== 'accepted' && resolved !== 'rejected') {
      const entry = (await this.auditTrail(threadId)).find((candidate) => candidate.interruptId === decision.interruptId && candidate.decision === resolved && candidate.approver === decision.approver);
      if (!entry) return undefined;
      const origin = { approver: decision.approver, ...(entry.reason !== undefined && { reason: entry.reason }), ...(entry.signedBy && { signedBy: entry.signedBy }), ...(entry.via && { via: entry.via }) };
      const resolution =
        resolved === 'responded'
          ? { type: 'responded' as const, at: entry.timestamp, message: entry.response ?? '', ...origin }
          : { type: 'edited' as const, at: entry.timestamp, args: entry.toolArgs, argsDigest: entry.argsDigest ?? argsDigest(entry.toolArgs), decidedOnDigest: argsDigest(entry.originalArgs), ...origin };
      return { type: 'applied', interruptId: decision.interruptId, resolution };
    }
    const entry = (await this.auditTrail(threadId)).find(
      (candidate) => candidate.interruptId === decision.interruptId && candidate.decision === resolved && candidate.approver === decision.approver,
    );
    if (!entry) return undefined;
    const origin = { approver: decision.approver, ...(entry.reason !== undefined && { reason: entry.reason }), ...(entry.signedBy && { signedBy: entry.signedBy }), ...(entry.via && { via: entry.via }) };
    return { type: 'applied', interruptId: decision.interruptId, resolution: { type: resolved, at: entry.timestamp, ...origin } };
  }

  /**
   * Sends a decision as a signal: fire-and-forget, stored even while no worker runs. A decision
   * that does not fit is ignored by the thread; use `decide` to learn the outcome.
   */
  async sendDecision(threadId: string, decision: Decision): Promise<void> {
    const sent = await this.withSignature(threadId, decision);
    await translatingTemporalErrors(threadId, () => this.handle(threadId).signal(decisionSignal, sent));
  }

  /**
   * The digest of an interrupt's arguments (`argsDigest`), read from the thread's history, so it
   * works while no worker runs.
   * @throws AirlockError `InterruptNotFound` when the thread has no such interrupt
   */
  async interruptArgsDigest(threadId: string, interruptId: string): Promise<string> {
    const entry = (await this.auditTrail(threadId)).find((candidate) => candidate.interruptId === interruptId && candidate.decision !== 'refused');
    if (!entry) throw new AirlockError('No interrupt with that id in this thread', ErrorType.InterruptNotFound);
    return entry.argsDigest ?? argsDigest(entry.toolArgs);
  }

  /**
   * An Update with an id sent to a completed thread comes back as NOT_FOUND, like one to no thread:
   * `ThreadEnded` when the thread exists and has ended, else `notFound`.
   */
  private async endedOr(threadId: string, notFound: AirlockError): Promise<AirlockError> {
    const described = await this.handle(threadId).describe().catch(() => undefined);
    if (!described || described.status.name === 'RUNNING') return notFound;
    return threadEnded(threadId);
  }

  /** The decision signed with the client's key (when it has one and the decision is not signed yet). */
  private async withSignature(threadId: string, decision: Decision): Promise<Decision> {
    const key = this.signingKey;
    if (!key || decision.signature) return decision;
    if (key.kind === 'approver' && decision.approver !== key.owner) {
      throw new AirlockError(`This client's key '${key.keyId}' signs for ${key.owner} only`, ErrorType.DecisionSignatureInvalid);
    }
    const digest = decision.argsDigest ?? (await this.interruptArgsDigest(threadId, decision.interruptId));
    const signed = { ...decision, argsDigest: digest };
    return { ...signed, signature: signDecision(signedFieldsOf(signed, threadId, digest), key) };
  }

  /**
   * Revokes a grant: later calls it would have let through are asked about again. A revocation
   * that cannot be made (no such grant, already ended, the thread has ended, a malformed request)
   * is answered `{ type: 'refused', errorType, reason }`.
   * @throws AirlockError `ThreadNotFound`
   */
  async revokeGrant(threadId: string, grantId: string, by: string, reason?: string): Promise<GrantRevocationOutcome> {
    try {
      return await translatingTemporalErrors(threadId, () =>
        this.handle(threadId).executeUpdate(revokeGrantUpdate, { args: [{ grantId, by, ...(reason !== undefined && { reason }) }], updateId: newUpdateId() }),
      );
    } catch (err) {
      // Refused by the thread's validator (an unknown or ended grant, a revoker not allowed): the same outcome as from its handler.
      if (isAirlockError(err) && (isDecisionRefusal(err.type) || err.type === ErrorType.GrantNotFound)) return { type: 'refused', grantId, reason: err.message, errorType: err.type };
      throw err;
    }
  }

  /**
   * The thread's grants (active, revoked, expired) with how many calls each let through, read
   * from history (works while no worker runs).
   * @throws AirlockError `ThreadNotFound`
   */
  async grants(threadId: string): Promise<ToolGrant[]> {
    return readGrants(this.client, threadId);
  }

  /**
   * The seed's `resume_with_approval`: decides the current (or named) interrupt and returns the
   * response that follows: the answer, or the next interrupt that waits.
   * @throws DecisionRefusedError when the decision is refused (its `type` says why)
   */
  async resumeWithApproval(threadId: string, action: HitlAction | Decision['action'], options: ApprovalOptions): Promise<AgentResponse> {
    let interruptId = options.interruptId;
    if (!interruptId) {
      interruptId = (await this.getState(threadId)).currentInterrupt?.id;
      if (!interruptId) throw new DecisionRefusedError(`Thread '${threadId}' has no interrupt waiting`, ErrorType.InterruptNotFound, '');
    }
    const { approver, reason, args, message, grant, callDigest } = options;
    const decision: Decision = {
      interruptId,
      action,
      approver,
      ...(reason !== undefined && { reason }),
      ...(args !== undefined && { args }),
      ...(message !== undefined && { message }),
      ...(grant !== undefined && { grant }),
      ...(callDigest !== undefined && { callDigest }),
    };
    const outcome = await this.decide(threadId, decision);
    if (outcome.type === 'refused') throw new DecisionRefusedError(outcome.reason, outcome.errorType, interruptId);
    return this.awaitResponse(threadId);
  }

  /** Waits until the thread has answered or needs a person, and returns that response. */
  async awaitResponse(threadId: string): Promise<AgentResponse> {
    const held = this.held.get(threadId);
    const args: [typeof REPLY, string | undefined] = [REPLY, held && knowledgeOf(held)];
    return translatingTemporalErrors(threadId, () => this.handle(threadId).executeUpdate(awaitResponseReplyUpdate, { args, updateId: newUpdateId() })).then((reply) =>
      this.hold(threadId, completeResponse(expandReply(reply, threadId, undefined, held))),
    );
  }

  /**
   * Notes an applied decision's resolution in what this client holds of the thread, so that the
   * next `awaitResponse` says it holds it and the reply leaves it out; returns the outcome.
   */
  private holdOutcome(threadId: string, outcome: DecisionOutcome): DecisionOutcome {
    const held = this.held.get(threadId);
    if (held) this.held.set(threadId, withResolution(held, outcome));
    return outcome;
  }

  /** Keeps `response` as what this client holds of the thread's latest exchange; returns it. */
  private hold(threadId: string, response: AgentResponse): AgentResponse {
    this.held.delete(threadId);
    this.held.set(threadId, response);
    if (this.held.size > HELD_REPLIES) this.held.delete(this.held.keys().next().value!);
    return response;
  }

  /**
   * The thread's state: messages, status, pending interrupts (a query: needs a running worker).
   * @throws AirlockError `ThreadNotFound`
   */
  async getState(threadId: string): Promise<ThreadState> {
    return translatingTemporalErrors(threadId, () => this.handle(threadId).query(getStateQuery));
  }

  /**
   * Every interrupt waiting for a decision across threads, oldest first, from visibility. A thread
   * this client cannot read (encrypted under a key it lacks) is left out and given to `onUnreadable`.
   */
  async pendingApprovals(options: { tool?: string; onUnreadable?: (threadId: string) => void } = {}): Promise<PendingApproval[]> {
    return listPendingApprovals(this.client, options);
  }

  /** Who decided what, when, across the most recent threads, newest first (see `listRecentDecisions`). */
  async recentDecisions(options: RecentDecisionsOptions = {}): Promise<RecentDecisions> {
    return listRecentDecisions(this.client, options);
  }

  /**
   * The thread's audit trail, rebuilt from its event history (works while no worker runs).
   * @throws AirlockError `ThreadNotFound`
   */
  async auditTrail(threadId: string): Promise<AuditEntry[]> {
    return readAuditTrail(this.client, threadId);
  }

  /** Ends the thread once it has answered what it was asked. */
  async endThread(threadId: string): Promise<void> {
    await translatingTemporalErrors(threadId, () => this.handle(threadId).signal(endThreadSignal));
  }

  /**
   * Starts a thread with its agent and first status as search attributes, so the thread's first
   * workflow task need not write them; where the namespace has no Airlock search attributes yet
   * (no worker has registered them), it starts without, as before, and this client stops trying.
   */
  private async starting<T>(start: (withAttributes: boolean) => Promise<T>): Promise<T> {
    if (!this.startAttributes) return start(false);
    try {
      return await start(true);
    } catch (err) {
      if (!namesMissingSearchAttribute(err)) throw err;
      this.startAttributes = false;
      return start(false);
    }
  }

  /** `status`: the search attributes to start with (the agent, and this status); none when undefined. */
  private startOptions({ threadId, agent }: StartThreadOptions, status?: 'idle' | 'running') {
    const chosen = agent ?? this.defaultAgent;
    if (!chosen) throw new Error('No agent given and the client has no defaultAgent');
    if (typeof chosen !== 'string') throw new Error('agent must be the name of an agent the workers host');
    const input: ThreadInput = { version: 6, agent: chosen };
    return {
      workflowId: threadId,
      taskQueue: this.taskQueue,
      // A thread id names one conversation for good: an ended thread is not started afresh.
      workflowIdReusePolicy: 'REJECT_DUPLICATE' as const,
      args: [input] as [ThreadInput],
      staticSummary: threadSummary(chosen),
      staticDetails: threadDetails({ threadId, agent: chosen, taskQueue: this.taskQueue, startedBy: this.client.options.identity }),
      ...(status && {
        typedSearchAttributes: [
          { key: AirlockAgent, value: chosen },
          { key: AirlockStatus, value: status },
        ],
      }),
    };
  }
}

/** Whether a start failed because the namespace does not know one of Airlock's search attributes. */
function namesMissingSearchAttribute(err: unknown): boolean {
  const names = airlockSearchAttributes.map((key) => key.name);
  for (let cause = err, depth = 0; cause instanceof Error && depth < 5; cause = (cause as { cause?: unknown }).cause, depth += 1) {
    if (/search attribute/i.test(cause.message) && names.some((name) => cause instanceof Error && cause.message.includes(name))) return true;
  }
  return false;
}

/**
 * A lean thread's response names each waiting interrupt once, in `pendingInterrupts`: put it back
 * into `interrupts` (after the exchange's decided ones) and `currentInterrupt` (the oldest), so
 * every response reads the same whatever thread version sent it.
 */
export function completeResponse(response: AgentResponse): AgentResponse {
  const state = response.state;
  const pending = state.pendingInterrupts ?? [];
  const listed = new Set(state.interrupts.map((interrupt) => interrupt.id));
  return {
    ...response,
    state: { ...state, pendingInterrupts: pending, currentInterrupt: state.currentInterrupt ?? pending[0], interrupts: [...state.interrupts, ...pending.filter((interrupt) => !listed.has(interrupt.id))] },
  };
}
