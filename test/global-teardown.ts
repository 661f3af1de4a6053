import type { DevServer } from '../scripts/dev-server';

export default async function globalTeardown(): Promise<void> {
  await (globalThis as { airlockDevServer?: DevServer }).airlockDevServer?.stop();
}
