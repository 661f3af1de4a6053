/**
 * The approval service's health endpoints, served without a token and with fixed words only:
 * `GET /healthz` 200 while the process runs; `GET /readyz` 200 when Temporal answers, 503 when it
 * does not or while the service drains (stopping: open requests finish, new ones are not wanted).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AirlockClient } from '../client/airlock-client';
import { sendJson } from './http-io';

export const HEALTH_PATHS = ['/healthz', '/readyz'] as const;

/** What readiness reads. */
export interface HealthState {
  client: AirlockClient;
  draining: () => boolean;
  /** How long Temporal has to answer. */
  timeoutMs: number;
}

/** Answers `/healthz` or `/readyz`. */
export async function serveHealth(req: IncomingMessage, res: ServerResponse, path: string, state: HealthState): Promise<void> {
  if (req.method !== 'GET') {
    res.setHeader('Allow', 'GET');
    return sendJson(res, 405, { error: { type: 'MethodNotAllowed', message: `${req.method} is not allowed on ${path}` } });
  }
  if (path === '/healthz') return sendJson(res, 200, { status: 'ok' });
  if (state.draining()) return sendJson(res, 503, { status: 'draining' });
  const reachable = await temporalAnswers(state);
  // Stopping began while Temporal was asked: say so rather than ready.
  if (state.draining()) return sendJson(res, 503, { status: 'draining' });
  sendJson(res, reachable ? 200 : 503, { status: reachable ? 'ready' : 'unavailable' });
}

/** Whether the Temporal server answers a cheap call within the timeout. */
async function temporalAnswers({ client, timeoutMs }: HealthState): Promise<boolean> {
  const connection = client.client.connection;
  try {
    await connection.withDeadline(Date.now() + timeoutMs, () => connection.workflowService.getSystemInfo({}));
    return true;
  } catch {
    return false;
  }
}
