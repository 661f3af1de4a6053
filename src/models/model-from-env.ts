import type { ChatModel } from './chat-model';
import { OfflineModel } from './offline-model';
import { OpenAIChatModel } from './openai-chat-model';

/**
 * The model the programs use: OpenAI-compatible when `OPENAI_API_KEY` or `OPENAI_BASE_URL` is
 * set, else the offline deterministic model. `description` says which, for the startup banner.
 */
export function modelFromEnv(env: Record<string, string | undefined>): { model: ChatModel; description: string } {
  const openai = OpenAIChatModel.fromEnv(env);
  if (openai) return { model: openai, description: `${openai.name}${env.OPENAI_BASE_URL ? ` at ${env.OPENAI_BASE_URL}` : ''}` };
  return {
    model: new OfflineModel(),
    description: 'offline deterministic model (no model configured: set OPENAI_API_KEY or OPENAI_BASE_URL for a real one)',
  };
}
