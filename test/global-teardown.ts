import type { DevServer } from '../src/devtools/dev-server';

export default async function globalTeardown(): Promise<void> {
  const holder = globalThis as { airlockDevServer?: DevServer };
  const server = holder.airlockDevServer;
  holder.airlockDevServer = undefined;
  await server?.stop();
}
