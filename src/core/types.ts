/**
 * The data contract shared by the workflow, the activities and every client.
 * Pure TypeScript: no Node imports, so the workflow bundle can use it.
 */
import type { DecisionSignature, TrustedKey } from './decision-signing';

/** A duration: milliseconds, or a string such as `'30s'`, `'15m'`, `'1h'`, `'2d'`. */
export type Duration = number | string;

/**
 * How a tool is protected. Mirrors the seed's `HitlPolicy` and adds a durable timeout.
 */
export interface HitlPolicy {
  /** `true` runs the tool without asking anyone. */
  allowAuto: boolean;
  /** Explanation shown to the approver. */
  note?: string;
  /** How long a person has to decide. No timeout: the interrupt waits until decided. */
  timeout?: Duration;
  /** What happens when the timeout fires. Default `'reject'`. */
  onTimeout?: 'reject' | 'accept';
  /** Approver identities allowed to decide. Absent or empty: anyone who can reach the thread. */
  approvers?: string[];
  /**
   * Decisions must carry a valid signature from a key the worker trusts (an approver's own key, or
   * the approval service's). Default: the worker's `requireSignedDecisions` (itself default `false`;
   * set it for production).
   */
  requireSignature?: boolean;
  /**
   * The tool is irreversible or high-risk: approvers must confirm an approval in a second, explicit
   * step (the inbox asks "Yes, run <tool>" after Approve). Carried into the pending summary as
   * `confirm`; it changes how a decision is asked for, not which decisions the thread accepts.
   * Default `false`.
   */
  confirm?: boolean;
  /**
   * The decisions a person may make on this tool's calls. Default: all four (`accept`, `reject`,
   * `edit`, `respond`). Others are refused (`DecisionNotAllowed`), and the inbox and CLI offer
   * only these.
   */
  allowedDecisions?: DecisionAction[];
  /**
   * Whether an approver may accept *and grant*: later calls of the tool in the same thread that
   * match a pattern run without asking. Default `true`; `false` forbids grants; `{ maxTtl }` caps
   * how long one may last.
   */
  grants?: boolean | { maxTtl?: Duration };
  /**
   * Set by the worker when a rule of the policy (`review` in the tool's policy) decides per call
   * whether to ask and who approves. Each call's outcome is recorded in history with its reason.
   */
  conditional?: boolean;
}

/** What a person may decide on an interrupt. */
export type DecisionAction = 'accept' | 'reject' | 'edit' | 'respond';

/** Every decision action, in the order approvers are offered them. */
export const DECISION_ACTIONS: readonly DecisionAction[] = ['accept', 'reject', 'edit', 'respond'];

/** The actions a policy allows (`allowedDecisions`, default all). */
export function allowedActions(policy: Pick<HitlPolicy, 'allowedDecisions'>): DecisionAction[] {
  return policy.allowedDecisions && policy.allowedDecisions.length > 0 ? DECISION_ACTIONS.filter((action) => policy.allowedDecisions!.includes(action)) : [...DECISION_ACTIONS];
}

/** Whether a policy lets approvers grant. */
export function allowsGrants(policy: Pick<HitlPolicy, 'grants'>): boolean {
  return policy.grants !== false;
}

/**
 * What the worker's rule said about one call's arguments: whether a person must approve it and
 * why, in words the approver (or the audit) reads: "amount 5,000 exceeds 1,000".
 */
export interface CallReview {
  ask: boolean;
  reason: string;
}

/** What the model sees of a tool. */
export interface ToolSchema {
  name: string;
  description: string;
  /** JSON Schema of the arguments object. */
  parameters: Record<string, unknown>;
}

/**
 * An agent as data, as the worker's registry gives it to the workflow (recorded in history by the
 * `loadAgent` local activity). Tool implementations live in the worker and are looked up by name.
 * Nobody who starts a thread or sends a message can supply or change it.
 */
export interface AgentSpec {
  name: string;
  instructions: string;
  /** Tool names the agent may call. */
  tools: string[];
  /** HITL policy per tool name. A tool without a policy runs without approval. */
  interrupts: Record<string, HitlPolicy>;
  /** Model turns allowed for one user message before the thread stops and says so. Default 20. */
  maxTurns?: number;
  /** How each tool's activity runs, where it differs from the defaults (10 minutes, 3 attempts). */
  toolOptions?: Record<string, ToolRunOptions>;
  /** The public keys this worker trusts for signed decisions. */
  trustedKeys?: TrustedKey[];
  /**
   * What a user message that arrives while approvals wait does: `'queue'` (default) waits until
   * they are decided; `'reject-pending'` takes the message as the user's answer: the waiting calls
   * of that turn are rejected with the message as the reason, then the message is answered.
   */
  onMessageWhileWaiting?: 'queue' | 'reject-pending';
  /**
   * How threads of input version 4 and 5 run this agent's model turns (see `ModelTurns`): the
   * worker's choice (the agent's, else its model's), recorded with the spec, which a version 4
   * thread loads as each run starts and a version 5 thread's first model turn brings. Without it
   * (the load failed, or the worker running the thread does not host the agent) turns run as
   * activities.
   */
  modelTurns?: ModelTurns;
}

/**
 * The agent's settings as a thread reads them and history records them: its policies and how its
 * turns and tools run, without its name, instructions or tool list (which only the model
 * activity reads, from the worker's registry). Results recorded by earlier releases carry those too.
 */
export type AgentSettings = Omit<AgentSpec, 'name' | 'instructions' | 'tools'> & Partial<Pick<AgentSpec, 'name' | 'instructions' | 'tools'>>;

/**
 * How a model turn runs. `'local'`: a local activity, in the worker that runs the thread and
 * within its workflow task: history records only the result (one marker event), but the thread
 * takes no Update, signal or query until the turn ends (a turn longer than the workflow task
 * timeout keeps its task alive by heartbeats). For models that answer at once. `'activity'`: an
 * activity of its own (more events, a heartbeat; the thread stays responsive while it runs).
 */
export type ModelTurns = 'local' | 'activity';

/** How a tool's activity runs. */
export interface ToolRunOptions {
  /** Longest a single run may take before it is retried (Temporal start-to-close timeout). Default `'10m'`. */
  timeout?: Duration;
  /** Runs of one call at most, the first included. Default 3. Retries reuse the idempotency key. */
  maxAttempts?: number;
}

/** A tool call as the model produced it. */
export interface ToolCall {
  /** The model's tool-call id. */
  id: string;
  name: string;
  /** The raw JSON text of the arguments, as the model wrote it. */
  arguments: string;
}

export type ChatMessage =
  | { role: 'user'; content: string }
  | { role: 'assistant'; content: string; toolCalls?: ToolCall[] }
  | { role: 'tool'; toolCallId: string; name: string; content: string };

export type AssistantMessage = Extract<ChatMessage, { role: 'assistant' }>;

/** A tool call checked against the worker's tool registry before anything runs. */
export type CheckedToolCall =
  | {
      id: string;
      name: string;
      status: 'valid';
      args: unknown;
      /**
       * The worker's policy for this tool when the call was checked (`null`: unprotected). Absent
       * only in results recorded by older versions, which used the spec loaded at the run's start.
       */
      policy?: HitlPolicy | null;
      /** How the tool's activity runs, from the worker's registry. */
      runOptions?: ToolRunOptions;
      /** What a conditional policy's rule said about these arguments (`policy` already reflects it). */
      review?: CallReview;
    }
  | { id: string; name: string; status: 'invalid'; error: string; errorType: string };

/** The seed's `HitlAction`: what a person decides. */
export enum HitlAction {
  Accept = 'accept',
  Reject = 'reject',
  /** Run the call with changed arguments (same tool). */
  Edit = 'edit',
  /** Do not run the tool; answer in its place with a message the model reads as its result. */
  Respond = 'respond',
}

/**
 * A grant that comes with an accept (or an edit): later calls of the same tool in the same thread
 * run without asking while every pattern matches and the grant has neither expired nor been revoked.
 */
export interface GrantRequest {
  /**
   * Argument name → glob pattern on its (string) value: `*` matches within a path segment, `**`
   * across segments; a value with a `..` segment never matches. E.g. `{ path: 'scratch/**' }`,
   * `{ to: '*@example.com' }`. At least one.
   */
  match: Record<string, string>;
  /** How long the grant lasts (a durable timer). Default: until revoked or the policy's `maxTtl`. */
  ttl?: Duration;
}

/** A decision on one interrupt. */
export interface Decision {
  interruptId: string;
  action: HitlAction | DecisionAction;
  /** Who decided. Recorded in history; a signature binds it to a key. */
  approver: string;
  reason?: string;
  /** `edit` only: the arguments to run instead (validated against the tool's schema; the policy is evaluated again on them). */
  args?: unknown;
  /** `respond` only: what the model reads as the tool's result. */
  message?: string;
  /** The tool the decision is for. When given it must be the interrupt's: a decision never changes the tool. */
  toolName?: string;
  /** `accept` or `edit` only: let later matching calls run without asking. */
  grant?: GrantRequest;
  /**
   * `argsDigest(toolArgs)` of the arguments the approver saw. When given, a decision on other
   * arguments is refused (`DecisionArgumentsChanged`). Signed decisions always carry it.
   */
  argsDigest?: string;
  /**
   * The interrupt's `callDigest` (tool, arguments and policy) the approver saw: if the call changed
   * since (another approver edited it), the decision is refused (`DecisionArgumentsChanged`, "the
   * call changed since you looked"). The CLI, the HTTP API and the inbox always send it.
   */
  callDigest?: string;
  /** An Ed25519 signature over the decision (see `signDecision`). */
  signature?: DecisionSignature;
}

/** How a decision reached the thread; `message`: the user's new message rejected what waited. */
export type DecisionChannel = 'update' | 'signal' | 'message';

/** The key that signed a decision, as the workflow verified it. */
export interface SignedBy {
  keyId: string;
  kind: TrustedKey['kind'];
  owner: string;
}

/** Who decided and through what: kept with every person's decision and every refusal. */
export interface DecisionOrigin {
  approver: string;
  reason?: string;
  /** Set when the decision carried a valid signature. */
  signedBy?: SignedBy;
  /** The verified signature itself, kept in history. */
  signature?: DecisionSignature;
  via?: DecisionChannel;
  /** The update's id, which leads the audit reader to the sender's identity in history. */
  updateId?: string;
}

/** How an interrupt ended. */
export type InterruptResolution =
  | ({ type: 'accepted'; at: string; grantId?: string } & DecisionOrigin)
  | ({ type: 'rejected'; at: string } & DecisionOrigin)
  /** Accepted with changed arguments: `args` ran, the interrupt's `originalArgs` are what the model asked. */
  | ({ type: 'edited'; at: string; args: unknown; argsDigest: string; decidedOnDigest: string; grantId?: string } & DecisionOrigin)
  /** Not run: the approver's `message` went to the model as the tool's result. */
  | ({ type: 'responded'; at: string; message: string } & DecisionOrigin)
  /** `at` is the deadline: when the durable timer fired, whenever a worker next ran the thread. */
  | { type: 'timed-out'; outcome: 'accept' | 'reject'; at: string }
  | { type: 'cancelled'; reason: string; at: string };

/** The id a thread gives the interrupt of tool call `toolCallId` of model turn `turn`. */
export function interruptIdOf(turn: number, toolCallId: string): string {
  return `t${turn}-${toolCallId}`;
}

/** The tool call an interrupt id of `turn` names (`interruptIdOf`); `undefined` for an id of another form. */
export function toolCallIdOf(interruptId: string, turn: number): string | undefined {
  const prefix = interruptIdOf(turn, '');
  return interruptId.startsWith(prefix) ? interruptId.slice(prefix.length) : undefined;
}

/** The turn an interrupt id names (`interruptIdOf`); `undefined` for an id of another form. */
export function turnOfInterruptId(interruptId: string): number | undefined {
  const turn = /^t(\d{1,9})-/.exec(interruptId);
  return turn ? Number(turn[1]) : undefined;
}

/** The seed's `HitlInterrupt`: a protected tool call waiting for (or past) a decision. */
export interface HitlInterrupt {
  id: string;
  toolName: string;
  /** The arguments exactly as they will run if accepted. */
  toolArgs: unknown;
  /** `argsDigest(toolArgs)`: what a signed or bound decision must name. Absent in older threads. */
  argsDigest?: string;
  policyNote?: string;
  /** ISO time the interrupt was created (workflow time). */
  createdAt: string;
  /** ISO time the policy's timeout resolves it, if it has one. */
  deadline?: string;
  toolCallId: string;
  /** The model turn that asked for it. */
  turn: number;
  policy: HitlPolicy;
  /** Why a conditional policy asks for this call ("amount 5,000 exceeds 1,000"). */
  askReason?: string;
  /**
   * `callDigest(toolName, toolArgs, policy)`: changes whenever the call does (an edit). A decision
   * that names an older one is refused. Absent in older threads.
   */
  callDigest?: string;
  /** The arguments the model asked for, when an approver edited them (`toolArgs` holds the edited ones). */
  originalArgs?: unknown;
  /** Edits that left the call waiting for a stricter approval, oldest first. */
  edits?: InterruptEdit[];
  resolution?: InterruptResolution;
}

/** An edit that changed a waiting call without deciding it (the edited call needs another approver). */
export interface InterruptEdit extends DecisionOrigin {
  at: string;
  args: unknown;
  argsDigest: string;
}

/** A standing permission: later calls of `toolName` matching `match` run without asking. */
export interface ToolGrant {
  /** `g-<interruptId>`. */
  id: string;
  toolName: string;
  match: Record<string, string>;
  /** The interrupt whose decision granted it. */
  interruptId: string;
  /** Who granted, and the decision that did (its signature, when signed, covers the grant). */
  grantedBy: string;
  decision: Decision;
  /** The digest of the arguments the granting decision was made on. */
  decidedOnDigest: string;
  signedBy?: SignedBy;
  createdAt: string;
  expiresAt?: string;
  /** Calls it let through. */
  uses: number;
  ended?: { type: 'revoked'; by: string; reason?: string; at: string } | { type: 'expired'; at: string };
}

/** A request to revoke a grant. */
export interface GrantRevocation {
  grantId: string;
  /** Who revokes; recorded in history. */
  by: string;
  reason?: string;
}

/** What revoking a grant did. */
export type GrantRevocationOutcome = { type: 'revoked'; grant: ToolGrant } | { type: 'refused'; grantId: string; reason: string; errorType: string };

/** The result of a decision: applied, refused with a reason the sender sees, or (an edit that needs a stricter approval) escalated. */
export type DecisionOutcome =
  | { type: 'applied'; interruptId: string; resolution: InterruptResolution; grant?: ToolGrant }
  /** The edit was kept but the edited call needs another approval (`interrupt` shows who and why); nothing ran. */
  | { type: 'escalated'; interruptId: string; interrupt: HitlInterrupt }
  | { type: 'refused'; interruptId: string; reason: string; errorType: string };

export type ThreadStatus = 'idle' | 'running' | 'awaiting_approval' | 'ended';

/** What a thread is, as a query or a response returns it. */
export interface ThreadState {
  threadId: string;
  agent: string;
  status: ThreadStatus;
  messages: ChatMessage[];
  /** The oldest interrupt still waiting for a decision (the seed's `current_interrupt`). */
  currentInterrupt?: HitlInterrupt;
  /** Every interrupt still waiting, oldest first. */
  pendingInterrupts: HitlInterrupt[];
  /** Every interrupt this run of the thread has seen, decided or not. */
  interrupts: HitlInterrupt[];
  /** Grants issued in this thread (active, revoked and expired), oldest first. */
  grants?: ToolGrant[];
  /** Model turns so far. */
  turn: number;
  /**
   * Set in the responses of `handleMessage`, `resumeWithApproval` and `awaitResponse`: `messages`
   * then holds the conversation from this index on (the exchange the response answers), so a
   * response's size does not grow with the thread. `getState` returns the whole conversation.
   */
  messagesFrom?: number;
  /** Why the last message got no answer: the model failed for good (e.g. a rejected API key). */
  lastError?: { type: string; message: string; at: string };
}

/** What `handleMessage` and `resumeWithApproval` return: the agent's latest words and the thread's state. */
export interface AgentResponse {
  /** The last assistant text, or empty while the thread waits for approval. */
  content: string;
  state: ThreadState;
}

/**
 * The seed's audit entry, one per interrupt (or per refused decision), rebuilt from history:
 * with the interrupt id, the policy, the reason and the tool's result.
 */
export interface AuditEntry {
  /** When it was decided (or created, while pending). */
  timestamp: string;
  threadId: string;
  interruptId: string;
  toolName: string;
  toolArgs: unknown;
  /**
   * `edited`: ran with an approver's arguments (`toolArgs`; `originalArgs` what the model asked);
   * `responded`: not run, `response` went to the model; `allowed`: a protected tool's call ran
   * without asking, by the policy's rule (`reason`) or a grant (`grantId`); `grant-revoked`,
   * `grant-expired`: the end of a grant issued on `interruptId`.
   */
  decision: 'pending' | 'accepted' | 'rejected' | 'edited' | 'responded' | 'allowed' | 'timed-out' | 'cancelled' | 'refused' | 'grant-revoked' | 'grant-expired';
  /** Who decided; `timeout` for a timeout's resolution. */
  approver?: string;
  /** The Temporal client identity that sent the decision (as the sender declared it to the server). */
  sender?: string;
  /** How the decision arrived. */
  via?: DecisionChannel;
  /** The key whose valid signature the decision carried; absent for unsigned decisions. */
  signedBy?: SignedBy;
  argsDigest?: string;
  reason?: string;
  /** The tool's output or error, when it ran. */
  result?: string;
  createdAt: string;
  policyNote?: string;
  policy?: HitlPolicy;
  /** What the timeout resolved it as, for `timed-out`. */
  outcome?: 'accept' | 'reject';
  /** Why a decision was refused, for `refused` (error type and message). */
  refusal?: { errorType: string; reason: string };
  /** The model's arguments, when an approver edited them (`toolArgs` then holds what ran or waits). */
  originalArgs?: unknown;
  /** Edits that escalated the call to a stricter approval before it was decided. */
  edits?: InterruptEdit[];
  /** Why the policy asked ("amount 5,000 exceeds 1,000"). */
  askReason?: string;
  /** `responded`: what the model read in place of the tool's result. */
  response?: string;
  /** The grant this decision issued, or (`allowed`) the grant that let the call through. */
  grantId?: string;
  grant?: Pick<ToolGrant, 'id' | 'match' | 'expiresAt'>;
}

/** The version of the audit events and pending summaries this release writes (see `core/wire-schemas.ts`). */
export const WIRE_VERSION = 2;

/** The memo key under which the thread records each audit event (history keeps every upsert). */
export const AUDIT_MEMO_KEY = 'airlock.audit';
/** The memo key with a short view of the pending interrupts, for the inbox served from visibility. */
export const PENDING_MEMO_KEY = 'airlock.pending';

/** An audit event the thread writes to history (as a memo upsert) when an interrupt opens, ends, or a decision is ignored. */
export type AuditEvent = { /** 2 for events written by this release; absent in the first. */ version?: number } & (
  | { kind: 'interrupt-opened'; interrupt: Omit<HitlInterrupt, 'resolution'> }
  | { kind: 'interrupt-resolved'; interruptId: string; toolName: string; resolution: InterruptResolution }
  /** A waiting call was edited into one that needs another approval; it still waits. */
  | { kind: 'interrupt-edited'; interruptId: string; toolName: string; edit: InterruptEdit; policy: HitlPolicy; askReason?: string; callDigest: string }
  /** A protected tool's call ran without asking: the policy's rule or a grant let it through. */
  | { kind: 'call-allowed'; toolCallId: string; turn: number; toolName: string; args: unknown; by: 'rule' | 'grant'; reason: string; grantId?: string; at: string }
  | { kind: 'grant-issued'; grant: ToolGrant }
  | { kind: 'grant-ended'; grantId: string; interruptId: string; toolName: string; ended: NonNullable<ToolGrant['ended']> }
  | {
      kind: 'decision-refused';
      /** The refused decision's well-formed parts (never raw input that failed validation). */
      decision: Partial<Decision>;
      errorType: string;
      reason: string;
      at: string;
      via?: DecisionChannel;
      updateId?: string;
    }
);

/** One pending interrupt as the visibility memo shows it. */
export interface PendingSummary {
  id: string;
  toolName: string;
  /** The arguments in full (show them with sorted keys: `prettyCanonicalJson`). */
  args?: unknown;
  /** `argsDigest(args)`: send it with the decision to bind it to what was shown. */
  argsDigest?: string;
  /** Only in summaries written by older versions: JSON of the arguments, cut at 500 characters. Never approve on it. */
  argsPreview?: string;
  /** Decisions must be signed. */
  requireSignature?: boolean;
  policyNote?: string;
  createdAt: string;
  deadline?: string;
  approvers?: string[];
  /** The policy asks approvers to confirm an approval (`HitlPolicy.confirm`): an irreversible or high-risk tool. */
  confirm?: boolean;
  /** Why the call exists: the user's message that led to it and the agent's words in that turn. */
  context?: PendingContext;
  /** Why the policy asks for this call ("amount 5,000 exceeds 1,000"). */
  askReason?: string;
  /** The call's digest (tool, arguments, policy): send it with the decision. */
  callDigest?: string;
  /** The decisions the policy allows; absent: all. */
  allowedDecisions?: DecisionAction[];
  /** The policy lets approvers grant. */
  grants?: boolean;
  /** The model's arguments, when an approver edited them (`args` holds the edited ones). */
  originalArgs?: unknown;
  /** Who edited the call last, when someone did. */
  editedBy?: string;
}

/** The conversation around a pending tool call, each text cut at 2,000 characters (a cut ends with `…`). */
export interface PendingContext {
  /** The latest user message before the call. */
  userMessage?: string;
  /** The text of the assistant message that made the call, when it had any. */
  agentText?: string;
}

/**
 * Input of the `agentThread` workflow. Versioned: continue-as-new carries it across runs. A thread
 * names its agent; its definition and policy come from the worker's registry only.
 */
export interface ThreadInput {
  /**
   * 6: this release's: version 5, with records that leave out what they would say twice: the tool
   * activity's input without the thread id, idempotency key and interrupt id (the activity puts
   * them back from the workflow id, the turn and the call id), and the pending memo in its third
   * form (no digests or policy flags: the policy itself, readers work out the rest).
   * 5: version 4, except that a run loads the agent's settings as it starts only
   * when it carries grants (a revocation checks them against the policy); otherwise its first model
   * turn brings them, as a local activity that answers only if the agent's turns are local.
   * 4: version 3, plus the agent's settings loaded as each run starts, model
   * turns as the worker's settings say (`AgentSpec.modelTurns`: a local activity, one marker event
   * whose input is not recorded, or an activity), and no audit event that another event of the
   * same task records.
   * 3: lean history (no version marker, the agent's settings come with the first model turn of
   * each message, one visibility write per workflow task, the model activity reads the
   * conversation from the thread). 2: earlier releases. Runs of 2 and 3 replay as they ran.
   */
  version: 2 | 3 | 4 | 5 | 6;
  /** The name of an agent the worker hosts. */
  agent: string;
  /** Carried over by continue-as-new. */
  carried?: CarriedThreadState;
}

export interface CarriedThreadState {
  messages: ChatMessage[];
  turn: number;
  /** User messages not yet answered. */
  inbox: string[];
  /** Grants still active (accepted only from a run that continued as new, never from a client's start). */
  grants?: ToolGrant[];
  /**
   * The exchange answered last: where it starts in `messages`, the model turns taken before it, and
   * its decided interrupts, so that an `awaitResponse` the next run answers (a caller that decided
   * just before the run continued as new) gets the same response. Accepted only from a run that
   * continued as new; workers of earlier releases ignore it.
   */
  lastExchange?: CarriedExchange;
}

/** The exchange a run answered last, as continue-as-new carries it. */
export interface CarriedExchange {
  start: number;
  turn: number;
  interrupts: HitlInterrupt[];
}

/** The workflow's model activity input. */
export interface CallModelInput {
  threadId: string;
  /** The agent's name: instructions, tools and policy come from the worker's registry. */
  agent: string;
  /** The whole conversation (threads of version 2, and 4, whose local activity input is not recorded). Version 3 sends `conversation` instead. */
  messages?: ChatMessage[];
  /**
   * Version 3: the conversation is the thread's first `from` messages (which the activity keeps
   * from earlier turns, or reads from the thread with the `conversation` query) followed by `added`.
   * History then holds each message once, not once per turn.
   */
  conversation?: { from: number; added: ChatMessage[] };
  turn: number;
  /** Return the agent's settings with the result (the first turn of each message, version 3 on; version 5's first turn of a run). */
  withSpec?: boolean;
  /**
   * A local model turn (version 4 and 5), whose input history does not record: return the messages from
   * this index on (`given`), so history holds the conversation once, as version 3's inputs did.
   */
  echoFrom?: number;
  /**
   * Version 6: of the messages echoed, the tool results whose text their tool activity's result
   * records (by index in the conversation): echoed without it (`EchoedMessage`).
   */
  echoRecorded?: number[];
  /**
   * Version 6, a local turn: return the result without what it would say twice
   * (`withoutRepeatedCallParts`). Only this release's workflow code reads such a marker back, so
   * earlier versions' threads, which a worker of the release before may replay, never get one.
   */
  compactResult?: boolean;
  /**
   * Version 5, a local turn whose thread has no settings yet (`withSpec`): answer only when the
   * agent's turns are local; otherwise return the settings alone (`DeferredModelTurn`), and the
   * thread runs the turn as an activity.
   */
  ifLocal?: boolean;
}

/** A local turn asked `ifLocal` for an agent whose turns run as activities: its settings, and no answer. */
export interface DeferredModelTurn {
  deferred: true;
  spec: AgentSettings;
}

/**
 * A local turn's result as its marker records it (`withoutRepeatedCallParts`): `toolCalls` absent
 * when every call of the message was valid and carries nothing the message and settings do not.
 */
export type RecordedModelTurn = Omit<CallModelResult, 'toolCalls'> & { toolCalls?: CheckedToolCall[] };

/**
 * A message a local turn echoes: as the thread holds it, or a tool result without its text, which
 * its tool activity's result records (`output`), and without its call when it answers the first
 * call still open (`echoesOf`).
 */
export type EchoedMessage = ChatMessage | { role: 'tool'; toolCallId: string; name: string } | { role: 'tool' };

export interface CallModelResult {
  message: AssistantMessage;
  /** The message's tool calls, checked against the tool registry, in the model's order. */
  toolCalls: CheckedToolCall[];
  /** The agent's settings from the worker's registry, when asked (`withSpec`): without its instructions. */
  spec?: AgentSettings;
  /** The conversation this turn was given, from `echoFrom` on (local turns). */
  given?: { from: number; added: EchoedMessage[] };
}

export interface ExecuteToolInput {
  threadId: string;
  /** The agent whose tool this is. */
  agent: string;
  toolName: string;
  toolCallId: string;
  args: unknown;
  /** Stable across retries and worker restarts: `<threadId>/<turn>/<toolCallId>`. */
  idempotencyKey: string;
  /** Set when a person (or a timeout) approved the call. */
  interruptId?: string;
  /**
   * The approval that opened a protected call. The activity refuses to run a tool the worker's
   * policy protects without one that fits the policy (a second line behind the workflow).
   */
  approval?: ToolApproval;
}

/**
 * `executeTool`'s input as the workflow sends it. Threads of input version 6 leave out what the
 * activity knows already: the thread id (the workflow id), the idempotency key and the interrupt
 * id (both from the thread id, `turn` and the call id). `toolInputInFull` puts them back.
 */
export type ExecuteToolWireInput = Omit<ExecuteToolInput, 'threadId' | 'idempotencyKey'> & {
  threadId?: string;
  idempotencyKey?: string;
  /** Version 6: the model turn that asked for the call. */
  turn?: number;
};

/** What approved a protected tool call, as the tool activity checks it. */
export type ToolApproval =
  | {
      by: 'person';
      interruptId: string;
      approver: string;
      reason?: string;
      signature?: DecisionSignature;
      /** `edit`: the approver ran these arguments instead; the signature covers both digests. Default `accept`. */
      action?: 'accept' | 'edit';
      /** The digest of the arguments the decision was made on (an edit's signature covers it). */
      decidedOnDigest?: string;
      /** The grant that came with the decision (its signature covers it). */
      grant?: GrantRequest;
    }
  | { by: 'timeout'; interruptId: string }
  /** A grant let the call through: the activity checks it still fits the policy and the arguments. */
  | { by: 'grant'; interruptId?: undefined; grant: ToolGrant };

export type ExecuteToolResult = { ok: true; output: string } | { ok: false; error: string; errorType: string };

/** Input of the `reviewToolCall` activity: arguments an approver proposes for a waiting call. */
export interface ReviewToolCallInput {
  agent: string;
  toolName: string;
  args: unknown;
}

/** The worker's verdict on proposed arguments: valid, with the policy that applies to them; or why not. */
export type ReviewToolCallResult = { ok: true; policy: HitlPolicy | null; review?: CallReview } | { ok: false; errorType: string; error: string };

/** The activities the `agentThread` workflow calls: its only doors to the world. */
export interface AirlockActivities {
  /** Checks an edit's arguments against the tool's schema and evaluates the policy on them (a local activity). */
  reviewToolCall(input: ReviewToolCallInput): Promise<ReviewToolCallResult>;
  /** The spec of an agent the worker hosts, its policy and trusted keys. Throws `AgentNotFound`. */
  /** The agent's spec; `settingsOnly`: without its instructions, which only the model activity reads (version 4 and 5). */
  loadAgent(name: string, options?: { settingsOnly?: boolean }): Promise<AgentSettings>;
  /** One model turn: the conversation in, an assistant message with checked tool calls out. */
  callModel(input: CallModelInput): Promise<CallModelResult | RecordedModelTurn | DeferredModelTurn>;
  /** Runs one tool call. Invalid arguments come back as `{ ok: false }`; a throwing tool is retried. */
  executeTool(input: ExecuteToolWireInput): Promise<ExecuteToolResult>;
}

/** What the workflow returns when the thread ends. */
export interface ThreadSummary {
  threadId: string;
  agent: string;
  turns: number;
  messages: number;
  interrupts: number;
}

/** The workflow type name of an agent thread. */
export const AGENT_THREAD_WORKFLOW = 'agentThread';
/** The task queue workers and clients use unless told otherwise. */
export const DEFAULT_TASK_QUEUE = 'airlock';
