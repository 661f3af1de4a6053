/** Airlock: durable human-in-the-loop approval for AI agents, on Temporal. */
export * from './core';
export { defineAgent, createExampleAgent } from './agents';
export type { Agent, AgentDefinition } from './agents';
export { defineTool, toToolSchema, ToolError, createDeleteFileTool, createSendEmailTool } from './tools';
export type { Tool, ToolContext } from './tools';
export { OfflineModel, OpenAIChatModel, ModelRequestRejectedError, ModelUnavailableError } from './models';
export type { ChatModel, ChatModelRequest } from './models';
export { createActivities } from './activities';
export type { ActivityDependencies, ApprovalSettings } from './activities';
export { bundleAirlockWorkflows, createWorker } from './worker';
export type { CreateWorkerOptions } from './worker';
export {
  AirlockClient,
  createApprovalServer,
  createApproverTokens,
  ensureSearchAttributes,
  listPendingApprovals,
  loadApproverTokens,
  openApiDocument,
  readAuditTrail,
  runTerminalChat,
} from './client';
export type {
  AirlockClientOptions,
  ApprovalOptions,
  ApprovalServer,
  ApprovalServerOptions,
  ApproverTokens,
  ListenOptions,
  PendingApproval,
  StartThreadOptions,
  TerminalChatOptions,
  TokenSources,
} from './client';
