/**
 * Airlock: durable human-in-the-loop approval for AI agents, on Temporal. This file is the
 * package's public surface; everything else is internal and may change.
 */

// The contract shared by the workflow, workers and clients.
export {
  AGENT_THREAD_WORKFLOW,
  DEFAULT_TASK_QUEUE,
  DECISION_REFUSALS,
  ERROR_LABELS,
  LIMITS,
  AirlockError,
  DecisionRefusedError,
  ErrorType,
  HitlAction,
  argsDigest,
  canonicalJson,
  isAirlockError,
  isDecisionRefusal,
  signDecision,
  toMilliseconds,
  airlockSearchAttributes,
  awaitResponseUpdate,
  decideUpdate,
  decisionSignal,
  endThreadSignal,
  getStateQuery,
  sendMessageUpdate,
  userMessageSignal,
} from './core';
export type {
  AgentResponse,
  AgentSpec,
  ModelTurns,
  AuditEntry,
  ChatMessage,
  Decision,
  DecisionOutcome,
  DecisionSignature,
  Duration,
  HitlInterrupt,
  HitlPolicy,
  InterruptResolution,
  PendingContext,
  PendingSummary,
  SignedBy,
  SigningKey,
  ThreadState,
  ThreadStatus,
  ToolRunOptions,
  TrustedKey,
} from './core';

// Defining agents, tools and models (worker side).
export { defineAgent, createExampleAgent, prepareExampleAgent } from './agents';
export type { Agent, AgentDefinition } from './agents';
export { defineTool, toToolSchema, ToolError, createDeleteFileTool, createSendEmailTool } from './tools';
export type { Tool, ToolContext } from './tools';
export { OfflineModel, OpenAIChatModel, ModelRequestRejectedError, ModelUnavailableError } from './models';
export type { ChatModel, ChatModelRequest } from './models';

// Running workers.
export { createActivities } from './activities';
export type { ActivityDependencies, ApprovalSettings } from './activities';
export { bundleAirlockWorkflows, createWorker, ensureSearchAttributes } from './worker';
export type { CreateWorkerOptions } from './worker';

// The client library: threads, decisions, the inbox from visibility, the audit trail, keys.
export {
  AirlockClient,
  createSigningKey,
  listPendingApprovals,
  listRecentDecisions,
  loadSigningKey,
  loadTrustedKeys,
  readAuditTrail,
  toAirlockError,
  trustedKeyOf,
} from './client';
export type { AirlockClientOptions, ApprovalOptions, PendingApproval, RecentDecisions, RecentDecisionsOptions, StartThreadOptions } from './client';

// The approval service (HTTP API and web inbox) and the terminal chat.
export { createApprovalServer, createApproverTokens, loadApproverTokens, openApiDocument } from './server';
export type { ApprovalServer, ApprovalServerOptions, ApproverTokens, CodecEndpointOptions, ListenOptions, TokenSources } from './server';
// History encryption: a payload codec for clients and workers, and its keys.
export { EncryptionCodec, CodecError, CodecErrorType, createKeyring, loadCodecKeys } from './codec';
export type { CodecKey, CodecKeyring, CodecKeySources } from './codec';
export { runTerminalChat } from './cli/terminal-chat';
export type { TerminalChatOptions } from './cli/terminal-chat';

// Operations: traces over OTLP HTTP, the runtime's Prometheus options, the awaiting-approval gauges, a health server.
export { startTracing } from './telemetry/tracing';
export type { Tracing, TracingOptions, WorkerTracing } from './telemetry/tracing';
export { prometheusTelemetry } from './telemetry/runtime-metrics';
export { startAwaitingApprovalGauge } from './telemetry/awaiting-approval-gauge';
export type { AwaitingApprovalGaugeOptions } from './telemetry/awaiting-approval-gauge';
export { startHealthServer } from './telemetry/health-server';
export type { HealthServer } from './telemetry/health-server';
export { METRICS, SPANS, SPAN_ATTRIBUTES } from './core';
