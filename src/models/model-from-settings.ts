import type { ChatModel } from './chat-model';
import { OfflineModel } from './offline-model';
import { OpenAIChatModel } from './openai-chat-model';

/** The OpenAI settings of the programs (from `OPENAI_API_KEY`, `OPENAI_BASE_URL`, `OPENAI_MODEL`). */
export interface OpenAISettings {
  apiKey?: string;
  baseUrl?: string;
  model: string;
}

/**
 * The model the programs use: OpenAI-compatible when an API key or a base URL is set, else the
 * offline deterministic model. `description` says which, for the startup banner.
 */
export function modelFromSettings(settings: OpenAISettings): { model: ChatModel; description: string } {
  if (settings.apiKey || settings.baseUrl) {
    const openai = new OpenAIChatModel({ apiKey: settings.apiKey, baseURL: settings.baseUrl, model: settings.model, timeoutMs: 240_000 });
    return { model: openai, description: `${openai.name}${settings.baseUrl ? ` at ${settings.baseUrl}` : ''}` };
  }
  return {
    model: new OfflineModel(),
    description: 'offline deterministic model (no model configured: set OPENAI_API_KEY or OPENAI_BASE_URL for a real one)',
  };
}
