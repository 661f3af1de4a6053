import { ApplicationFailure, Context } from '@temporalio/activity';
import type { WorkflowHandle } from '@temporalio/client';
import { z } from 'zod';
import {
  ErrorType,
  LIMITS,
  allowedActions,
  allowsGrants,
  argsDigest,
  canonicalJson,
  capText,
  checkDecisionSignature,
  conversationQuery,
  describeSize,
  grantMatches,
  hasControlCharacters,
  isWellFormedValue,
  quoteIfSafe,
  signedFieldsOf,
  toWellFormedText,
  toolInputInFull,
  echoesOf,
  withoutRepeatedCallParts,
} from '../core';
import type {
  AgentSettings,
  AgentSpec,
  AirlockActivities,
  AssistantMessage,
  CallModelInput,
  CallReview,
  ChatMessage,
  CheckedToolCall,
  ExecuteToolInput,
  ExecuteToolResult,
  ExecuteToolWireInput,
  HitlPolicy,
  ReviewToolCallResult,
  ToolCall,
  ToolSchema,
  TrustedKey,
} from '../core';
import type { Agent, PolicyVerdict } from '../agents';
import type { ChatModel } from '../models';
import { ModelRequestRejectedError, ModelUnavailableError } from '../models';
import { ToolError, toToolSchema } from '../tools';
import { annotateModelTurn, observeToolRun } from './activity-telemetry';

/** What the activities need: the agents (with their tools) this worker hosts, and the model. */
export interface ActivityDependencies {
  agents: Agent[];
  model: ChatModel;
  /** Who may sign decisions, and whether policies require it by default. */
  approvals?: ApprovalSettings;
}

/** The worker's approver configuration. */
export interface ApprovalSettings {
  /** Public keys whose signatures the threads accept (approvers' own keys, the approval service's key). */
  trustedKeys?: TrustedKey[];
  /**
   * Every protected tool requires signed decisions unless its policy says `requireSignature: false`.
   * Default `false`; the recommended setting for production is `true`.
   */
  requireSignedDecisions?: boolean;
}

/** callModel's heartbeat: well inside its 20 s heartbeat timeout (src/workflows/answer-message.ts). */
const HEARTBEAT_EVERY_MS = 5_000;
/** Conversations kept between model turns (per thread run), so each turn's input carries only what was added. */
const CONVERSATIONS_KEPT = 2_000;
/** The longest wait a provider's `retry-after` may impose before the next attempt. */
const MAX_RETRY_AFTER_MS = 5 * 60_000;

/**
 * Builds the workflow's activities from their dependencies: `loadAgent`, `callModel` (one model
 * turn, tool calls checked against the schemas before anything runs) and `executeTool`.
 */
export function createActivities({ agents, model, approvals = {} }: ActivityDependencies): AirlockActivities {
  const byName = new Map(agents.map((agent) => [agent.name, agent]));
  const conversations = new Map<string, ChatMessage[]>();
  /**
   * The conversation a model turn is given: what this worker kept from the thread's previous turn
   * (or, on a miss, what the `conversation` query reads from the thread) up to `from`, then `added`.
   */
  const conversationOf = async (input: CallModelInput): Promise<ChatMessage[]> => {
    // Given whole: version 2, and local turns (a later turn that runs as an activity, after the
    // worker's settings changed, reads what it lacks with the `conversation` query).
    if (input.messages) return input.messages;
    const { from, added } = input.conversation ?? { from: 0, added: [] };
    const { workflowId, runId } = Context.current().info.workflowExecution ?? { workflowId: input.threadId, runId: undefined };
    const key = `${workflowId}/${runId ?? ''}`;
    let before = conversations.get(key) ?? [];
    if (before.length < from) before = [...before, ...(await readConversation(Context.current().client.workflow.getHandle(workflowId, runId), before.length, from))];
    const conversation = [...before.slice(0, from), ...added];
    conversations.delete(key);
    conversations.set(key, conversation);
    if (conversations.size > CONVERSATIONS_KEPT) conversations.delete(conversations.keys().next().value!);
    return conversation;
  };
  const schemas = new Map<Agent, Map<string, ToolSchema>>();
  const trustedKeys = approvals.trustedKeys ?? [];

  const findAgent = (name: unknown): Agent => {
    const agent = typeof name === 'string' ? byName.get(name) : undefined;
    if (agent) return agent;
    throw ApplicationFailure.create({
      type: ErrorType.AgentNotFound,
      message: `This worker has no agent ${quoteIfSafe(name, 'agent')} (it has: ${[...byName.keys()].join(', ') || 'none'})`,
      nonRetryable: true,
    });
  };
  /** The worker's policy for a tool as data, with the worker's signature default applied; `null` when unprotected. */
  const policyOf = (agent: Agent, toolName: string): HitlPolicy | null => {
    const spec = agent.spec();
    const policy = Object.prototype.hasOwnProperty.call(spec.interrupts, toolName) ? spec.interrupts[toolName] : undefined;
    if (!policy) return null;
    if (policy.allowAuto) return policy;
    // Only a requirement is written: history records this policy with every call it protects.
    const { requireSignature, ...rest } = policy;
    return (requireSignature ?? approvals.requireSignedDecisions) ? { ...rest, requireSignature: true } : rest;
  };
  /**
   * The policy that applies to one call: the tool's, with its rule (if it has one) evaluated on the
   * arguments: a call the rule lets through runs without asking, one it stops names why and who
   * may approve it.
   */
  const policyFor = (agent: Agent, toolName: string, args: unknown): { policy: HitlPolicy | null; review?: CallReview } => {
    const policy = policyOf(agent, toolName);
    const rule = agent.interrupts[toolName]?.review;
    if (!policy || policy.allowAuto || !rule) return { policy };
    const verdict = runRule(rule, args);
    if (!verdict.ask) return { policy: { ...policy, allowAuto: true }, review: { ask: false, reason: verdict.reason } };
    return { policy: verdict.approvers ? { ...policy, approvers: verdict.approvers } : policy, review: { ask: true, reason: verdict.reason } };
  };
  const specOf = (agent: Agent): AgentSpec => {
    const spec = agent.spec();
    const interrupts = Object.fromEntries(Object.keys(spec.interrupts).map((tool) => [tool, policyOf(agent, tool)!]));
    return { ...spec, interrupts, modelTurns: spec.modelTurns ?? model.turns ?? 'activity', ...(trustedKeys.length > 0 && { trustedKeys }) };
  };
  /** What history records of the agent's settings: the spec without what only the model activity reads (its name, instructions and tool list). */
  const settingsOf = (agent: Agent): AgentSettings => {
    const { instructions: _instructions, name: _name, tools: _tools, ...settings } = specOf(agent);
    return settings;
  };
  const toolOf = (agent: Agent, name: string) => {
    const tool = agent.tool(name);
    if (tool) return tool;
    throw ApplicationFailure.create({ type: ErrorType.ToolNotFound, message: `This worker has no tool ${quoteIfSafe(name, 'tool')} for agent '${agent.name}'`, nonRetryable: true });
  };
  const toolSchemas = (agent: Agent, spec: AgentSpec): ToolSchema[] => {
    let cached = schemas.get(agent);
    if (!cached) {
      cached = new Map(agent.tools.map((tool) => [tool.name, toToolSchema(tool)]));
      schemas.set(agent, cached);
    }
    return spec.tools.flatMap((name) => cached.get(name) ?? []);
  };

  /** Runs one tool call: the approval checked again, the arguments parsed, the tool's result capped. */
  async function runTool(input: ExecuteToolInput): Promise<ExecuteToolResult> {
    const agent = findAgent(input.agent);
    const tool = toolOf(agent, input.toolName);
    // The policy as it applies to exactly these arguments (its rule, if any, evaluated again).
    const refusal = checkApproval(input, policyFor(agent, input.toolName, input.args).policy, trustedKeys);
    if (refusal) return { ok: false, errorType: ErrorType.ApprovalMissing, error: refusal };
    const parsed = tool.parameters.safeParse(input.args);
    if (!parsed.success) return { ok: false, errorType: ErrorType.ToolArgumentsInvalid, error: z.prettifyError(parsed.error) };
    const context = Context.current();
    try {
      const output = await tool.execute(parsed.data, {
        threadId: input.threadId,
        toolCallId: input.toolCallId,
        idempotencyKey: input.idempotencyKey,
        interruptId: input.interruptId,
        attempt: context.info.attempt,
        signal: context.cancellationSignal,
      });
      const text = typeof output === 'string' ? output : (JSON.stringify(output) ?? '');
      if (text.length > LIMITS.toolResultChars) {
        return {
          ok: false,
          errorType: ErrorType.ToolResultTooLarge,
          error: `${input.toolName} ran, but its result (${describeSize(text.length)}) is over the ${describeSize(LIMITS.toolResultChars)} a model turn may receive`,
        };
      }
      return { ok: true, output: toWellFormedText(text) };
    } catch (err) {
      if (err instanceof ToolError) return { ok: false, errorType: ErrorType.ToolFailed, error: toWellFormedText(err.message.slice(0, 2_000)) };
      throw err;
    }
  }

  return {
    async loadAgent(name, options) {
      const agent = findAgent(name);
      return options?.settingsOnly ? settingsOf(agent) : specOf(agent);
    },

    async callModel(input) {
      const { threadId, agent: named, turn } = input;
      // Older workflow code passed the whole spec; only its name is read: the registry is the source.
      const agent = findAgent(typeof named === 'object' && named !== null ? (named as { name?: unknown }).name : named);
      // Version 5's first turn of a run: the settings alone when the agent's turns are not local.
      const settings = input.withSpec ? settingsOf(agent) : undefined;
      if (input.ifLocal && settings?.modelTurns !== 'local') return { deferred: true, spec: settings ?? settingsOf(agent) };
      const spec = agent.spec();
      annotateModelTurn(threadId, turn);
      const context = Context.current();
      // A local activity (version 4 and 5 threads) has no heartbeat: its workflow task keeps it alive.
      const heartbeat = context.info.isLocal ? undefined : setInterval(() => context.heartbeat(), HEARTBEAT_EVERY_MS);
      try {
        const message = await model.complete({
          instructions: spec.instructions,
          messages: await conversationOf(input),
          tools: toolSchemas(agent, spec),
          signal: context.cancellationSignal,
          threadId,
          turn,
        });
        const reply = withUniqueCallIds(wellFormedReply(message), turn);
        const toolCalls = (reply.toolCalls ?? []).map((call, index) => {
          if (index >= LIMITS.toolCallsPerTurn) return overTurnLimit(call);
          const checked = checkToolCall(call, spec, agent);
          if (checked.status !== 'valid') return checked;
          const { policy, review } = policyFor(agent, call.name, checked.args);
          return { ...checked, policy, runOptions: spec.toolOptions?.[call.name], ...(review && { review }) };
        });
        const result = { message: withoutOversizedArguments(reply), toolCalls, ...(settings && { spec: settings }) };
        // The model's part is checked; the echo of what the thread already holds is not its reply.
        assertResultFits(result);
        // A version 6 thread's local turn says nothing twice: only this release's workflow code reads its marker.
        if (!input.messages || input.echoFrom === undefined) return result;
        const from = input.echoFrom;
        const added = echoesOf(input.messages, from, new Set(input.echoRecorded ?? []), input.compactResult === true);
        return { ...(input.compactResult ? withoutRepeatedCallParts(result) : result), given: { from, added } };
      } catch (err) {
        throw toModelFailure(err);
      } finally {
        clearInterval(heartbeat);
      }
    },

    async reviewToolCall({ agent: named, toolName, args }): Promise<ReviewToolCallResult> {
      const agent = findAgent(named);
      const tool = toolOf(agent, toolName);
      if (!isWellFormedValue(args) || (JSON.stringify(args) ?? '').length > LIMITS.toolArgsChars) {
        return { ok: false, errorType: ErrorType.ToolArgumentsInvalid, error: `Arguments must be JSON of valid text, at most ${describeSize(LIMITS.toolArgsChars)}` };
      }
      const parsed = tool.parameters.safeParse(args);
      if (!parsed.success) return { ok: false, errorType: ErrorType.ToolArgumentsInvalid, error: safeValidationText(z.prettifyError(parsed.error)) };
      return { ok: true, ...policyFor(agent, toolName, args) };
    },

    async executeTool(sent: ExecuteToolWireInput): Promise<ExecuteToolResult> {
      // Version 6 threads leave out what the workflow id, the turn and the call id give.
      const input = toolInputInFull(sent, Context.current().info.workflowExecution?.workflowId ?? sent.threadId ?? '');
      return observeToolRun(input, () => runTool(input));
    },
  };
}

/**
 * The tool activity's second line of defence: a tool the worker's policy protects runs only with
 * an approval that fits that policy now: a person's (signed by a trusted key where the policy
 * requires it, by one of its approvers where it names them) or a timeout the policy resolves as
 * accept. Returns why not, or `undefined`.
 */
function checkApproval(input: ExecuteToolInput, policy: HitlPolicy | null, trustedKeys: TrustedKey[]): string | undefined {
  if (!policy || policy.allowAuto) return undefined;
  const approval = input.approval;
  const refused = (why: string) => `${input.toolName} is protected by this worker's policy and was not run: ${why}`;
  if (approval?.by === 'grant') return checkGrantApproval(input, approval.grant, policy, trustedKeys, refused);
  if (!approval || approval.interruptId !== input.interruptId) return refused('the call carries no approval');
  if (approval.by === 'timeout') return policy.onTimeout === 'accept' ? undefined : refused('the policy does not accept on timeout');
  if (policy.approvers?.length && !policy.approvers.includes(approval.approver)) return refused('the approver is not among the policy\'s approvers');
  if (!policy.requireSignature) return undefined;
  if (!approval.signature) return refused('the policy requires a signed decision');
  const edit = approval.action === 'edit';
  if (edit && !approval.decidedOnDigest) return refused('the edit does not name the arguments it was made on');
  const decision = {
    interruptId: approval.interruptId,
    action: approval.action ?? 'accept',
    approver: approval.approver,
    reason: approval.reason,
    // An edit's signature covers the arguments it runs: these.
    ...(edit && { args: input.args }),
    ...(approval.grant && { grant: approval.grant }),
  };
  const check = checkDecisionSignature(signedFieldsOf(decision, input.threadId, edit ? approval.decidedOnDigest! : argsDigest(input.args)), approval.signature, trustedKeys);
  return check.ok ? undefined : refused(check.reason);
}

/** A call a grant let through: the grant must fit this call and the policy evaluated on it, and hold its granter's signature where the policy requires one. */
function checkGrantApproval(
  input: ExecuteToolInput,
  grant: NonNullable<Extract<ExecuteToolInput['approval'], { by: 'grant' }>>['grant'],
  policy: HitlPolicy,
  trustedKeys: TrustedKey[],
  refused: (why: string) => string,
): string | undefined {
  if (!allowsGrants(policy) || !allowedActions(policy).includes('accept')) return refused('the policy does not allow grants');
  if (grant.toolName !== input.toolName || !grantMatches(grant, input.args)) return refused('the grant does not cover these arguments');
  if (canonicalJson(grant.decision.grant?.match) !== canonicalJson(grant.match)) return refused('the grant is not the one its decision made');
  if (policy.approvers?.length && !policy.approvers.includes(grant.grantedBy)) return refused('the granter is not among the policy\'s approvers for this call');
  if (!policy.requireSignature) return undefined;
  if (!grant.decision.signature) return refused('the policy requires a signed grant');
  const check = checkDecisionSignature(signedFieldsOf(grant.decision, input.threadId, grant.decidedOnDigest), grant.decision.signature, trustedKeys);
  return check.ok ? undefined : refused(check.reason);
}

/** A policy rule's verdict, checked: a rule that throws or answers malformed asks a person. */
function runRule(rule: (args: unknown) => PolicyVerdict, args: unknown): PolicyVerdict {
  let verdict: unknown;
  try {
    verdict = rule(args);
  } catch (err) {
    return { ask: true, reason: `the policy's rule failed (${capText(toWellFormedText(err instanceof Error ? err.message : String(err)), 200)}), so a person decides` };
  }
  const record = (typeof verdict === 'object' && verdict !== null ? verdict : {}) as Record<string, unknown>;
  const reason = typeof record.reason === 'string' && record.reason.trim() !== '' ? capText(toWellFormedText(record.reason), 500) : undefined;
  const approvers = record.approvers;
  const approversOk = approvers === undefined || (Array.isArray(approvers) && approvers.length > 0 && approvers.every((name) => typeof name === 'string' && name.trim() !== ''));
  if (record.ask === false && reason) return { ask: false, reason };
  if (record.ask === true && reason && approversOk) return { ask: true, reason, ...(approvers !== undefined && { approvers: approvers as string[] }) };
  return { ask: true, reason: "the policy's rule gave no valid answer, so a person decides" };
}

/** A schema's complaint without control characters and cut short: argument names come from the sender. */
function safeValidationText(text: string): string {
  const clean = toWellFormedText(text)
    .split('\n')
    .map((line) => (hasControlCharacters(line) ? line.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?') : line))
    .join('\n');
  return capText(clean, 1_000);
}

/** The reply with malformed text (lone surrogates) replaced, so nothing downstream has to encode it. */
function wellFormedReply(message: AssistantMessage): AssistantMessage {
  if (message.content.length > LIMITS.modelTextChars) {
    throw ApplicationFailure.create({
      type: ErrorType.ModelResponseTooLarge,
      message: `The model replied with ${describeSize(message.content.length)} of text; a turn may hold at most ${describeSize(LIMITS.modelTextChars)}`,
      nonRetryable: true,
    });
  }
  const toolCalls = message.toolCalls?.map((call) => ({ id: toWellFormedText(call.id), name: toWellFormedText(call.name), arguments: toWellFormedText(call.arguments) }));
  return { ...message, content: toWellFormedText(message.content), ...(toolCalls && { toolCalls }) };
}

/** The reply as history keeps it: arguments too large to accept are replaced by a note (the call's tool message says why). */
function withoutOversizedArguments(message: AssistantMessage): AssistantMessage {
  if (!message.toolCalls?.some((call) => call.arguments.length > LIMITS.toolArgsChars)) return message;
  const toolCalls = message.toolCalls.map((call) =>
    call.arguments.length > LIMITS.toolArgsChars ? { ...call, arguments: JSON.stringify({ omitted: `${describeSize(call.arguments.length)} of arguments, over the limit` }) } : call,
  );
  return { ...message, toolCalls };
}

/** Fails at once, not after minutes of retries, when the turn's result could not be stored in history. */
function assertResultFits(result: unknown): void {
  const text = JSON.stringify(result);
  const bytes = Buffer.byteLength(text);
  if (text.length <= LIMITS.modelResultChars && bytes <= LIMITS.modelResultBytes) return;
  throw ApplicationFailure.create({
    type: ErrorType.ModelResponseTooLarge,
    message: `The model's reply with its tool calls is ${describeSize(text.length)} (${describeBytes(bytes)}); a turn may hold at most ${describeSize(LIMITS.modelResultChars)} and ${describeBytes(LIMITS.modelResultBytes)}`,
    nonRetryable: true,
  });
}

/** `1.2 MB`-style byte counts for error messages. */
function describeBytes(bytes: number): string {
  return bytes >= 1_000_000 ? `${(bytes / 1_000_000).toFixed(1)} MB` : bytes >= 1_000 ? `${Math.round(bytes / 1_000)} KB` : `${bytes} bytes`;
}

/** A call past the turn's limit: it does not run, and the model reads why. */
function overTurnLimit(call: ToolCall): CheckedToolCall {
  return {
    id: call.id,
    name: call.name,
    status: 'invalid',
    errorType: ErrorType.ToolArgumentsInvalid,
    error: `Not run: a turn may make at most ${LIMITS.toolCallsPerTurn} tool calls; make this one in a later turn if it is still needed`,
  };
}


/**
 * Messages `from` to `to` of a thread's conversation, read with the `conversation` query a few at
 * a time: a query's answer is a payload, held to Temporal's size limits like any other (each
 * tool result fits; a run of large ones may not), so a read that fails is tried again in smaller
 * parts, down to one message.
 */
async function readConversation(handle: WorkflowHandle, from: number, to: number): Promise<ChatMessage[]> {
  const read: ChatMessage[] = [];
  let size = 64;
  for (let at = from; at < to; ) {
    const end = Math.min(to, at + size);
    try {
      read.push(...(await handle.query(conversationQuery, at, end)));
      at = end;
    } catch (err) {
      if (size === 1) throw err;
      size = Math.max(1, size >> 2);
    }
  }
  return read;
}

/** A tool-call id kept as the model sent it: short, and made of characters an interrupt id can carry. */
const KEPT_CALL_ID = new RegExp(`^[A-Za-z0-9_.:-]{1,${LIMITS.toolCallIdChars}}$`);

/**
 * Gives each tool call an id of its own: a blank, repeated, overlong or oddly written one (some
 * OpenAI-compatible servers send them; a model's output is untrusted) is replaced by
 * `call_<turn>_<n>`, never one another call of the turn holds. Every call then gets its own
 * interrupt, which an approver can name, its own result message and its own idempotency key. The
 * conversation carries the ids given here, so the model's next turn reads consistent ones.
 */
function withUniqueCallIds(message: AssistantMessage, turn: number): AssistantMessage {
  if (!message.toolCalls?.length) return message;
  const taken = new Set<string>();
  const kept = message.toolCalls.map((call) => {
    const keep = KEPT_CALL_ID.test(call.id) && !taken.has(call.id);
    if (keep) taken.add(call.id);
    return keep;
  });
  const toolCalls = message.toolCalls.map((call, index) => {
    if (kept[index]) return call;
    let id = `call_${turn}_${index + 1}`;
    for (let n = 2; taken.has(id); n++) id = `call_${turn}_${index + 1}_${n}`;
    taken.add(id);
    return { ...call, id };
  });
  return { ...message, toolCalls };
}

/** Checks a tool call against the agent before anything runs: known tool, JSON arguments, schema. */
function checkToolCall(call: ToolCall, spec: AgentSpec, agent: Agent): CheckedToolCall {
  const tool = spec.tools.includes(call.name) ? agent.tool(call.name) : undefined;
  if (!tool) {
    return {
      id: call.id,
      name: call.name,
      status: 'invalid',
      errorType: ErrorType.ToolNotFound,
      error: `Unknown tool ${quoteIfSafe(call.name, 'tool name')}. Available tools: ${spec.tools.join(', ') || 'none'}`,
    };
  }
  if (call.arguments.length > LIMITS.toolArgsChars) {
    return {
      id: call.id,
      name: call.name,
      status: 'invalid',
      errorType: ErrorType.ToolArgumentsInvalid,
      error: `Arguments for ${call.name} are ${describeSize(call.arguments.length)}; at most ${describeSize(LIMITS.toolArgsChars)} are accepted`,
    };
  }
  let args: unknown;
  try {
    args = call.arguments.trim() === '' ? {} : JSON.parse(call.arguments);
  } catch (err) {
    return {
      id: call.id,
      name: call.name,
      status: 'invalid',
      errorType: ErrorType.ToolArgumentsInvalid,
      error: `Arguments for ${call.name} are not valid JSON: ${capText(toWellFormedText((err as Error).message), 300)}`,
    };
  }
  // Key order does not change the length, so plain JSON measures what canonical JSON would.
  if (!isWellFormedValue(args) || JSON.stringify(args).length > LIMITS.toolArgsChars) {
    return {
      id: call.id,
      name: call.name,
      status: 'invalid',
      errorType: ErrorType.ToolArgumentsInvalid,
      error: `Arguments for ${call.name} must be JSON of valid text, nested at most 64 deep`,
    };
  }
  const parsed = tool.parameters.safeParse(args);
  if (!parsed.success) {
    return {
      id: call.id,
      name: call.name,
      status: 'invalid',
      errorType: ErrorType.ToolArgumentsInvalid,
      error: `Invalid arguments for ${call.name}:\n${z.prettifyError(parsed.error)}`,
    };
  }
  // The arguments as the model wrote them: what the approver sees is what runs.
  return { id: call.id, name: call.name, status: 'valid', args };
}

function toModelFailure(err: unknown): unknown {
  if (err instanceof ModelRequestRejectedError) {
    return ApplicationFailure.create({ type: err.type, message: err.message, nonRetryable: true });
  }
  if (err instanceof ModelUnavailableError) {
    return ApplicationFailure.create({ type: err.type, message: err.message, nextRetryDelay: err.retryAfterMs === undefined ? undefined : Math.min(err.retryAfterMs, MAX_RETRY_AFTER_MS) });
  }
  return err;
}
