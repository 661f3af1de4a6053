export type { ChatModel, ChatModelRequest } from './chat-model';
export { ModelRequestRejectedError, ModelUnavailableError } from './model-errors';
export { OfflineModel } from './offline-model';
export { OpenAIChatModel } from './openai-chat-model';
export { ScriptedModel, callTools, reply } from './scripted-model';
export type { ScriptedStep } from './scripted-model';
export { modelFromSettings } from './model-from-settings';
export type { OpenAISettings } from './model-from-settings';
