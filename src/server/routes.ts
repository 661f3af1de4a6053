/** The approval API's endpoints: authentication, validation, and a call to the Airlock client each. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { inspect } from 'node:util';
import { AirlockError, ErrorType, summarizePending } from '../core';
import { withWorkerDeadline as deadlineFor } from '../client/worker-deadline';
import type { AirlockClient } from '../client/airlock-client';
import type { PendingApproval } from '../client/pending-approvals';
import type { GrantRevocationOutcome } from '../core';
import { ApprovalsQuerySchema, DecisionRequestSchema, GrantPathSchema, RecentDecisionsQuerySchema, RevokeRequestSchema, parseRequest, toDecision } from './api-schemas';
import type { ApprovalEvents } from './approval-events';
import type { ApproverTokens } from './auth';
import { clientAddress, type AuthGuard } from './auth-guard';
import { authenticateRequest } from './request-auth';
import { HttpError, HttpErrorType, toHttpError } from './http-errors';
import { readJsonBody, sendError, sendJson } from './http-io';
import { openApiDocument } from './openapi';

/** What the endpoints share. */
export interface ApiContext {
  client: AirlockClient;
  tokens: ApproverTokens;
  /** Throttles and logs failed authentications per client address. */
  authGuard: AuthGuard;
  events: ApprovalEvents;
  /** The client decisions go through: it signs them with the service's key when there is one. */
  decider: AirlockClient;
  /** How long a call that needs a worker (a decision, a thread's state) may wait for one. */
  workerTimeoutMs: number;
  maxBodyBytes: number;
  log: (line: string) => void;
  /** The pending approvals this service can read (threads under codec keys it lacks are logged, not listed). */
  listPending: (options?: { tool?: string }) => Promise<PendingApproval[]>;
}

interface ApiRequest {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  /** The path's captured segments, decoded. */
  params: string[];
  /** The authenticated approver ('' on a public endpoint). */
  approver: string;
  context: ApiContext;
}

interface Route {
  method: 'GET' | 'POST';
  path: RegExp;
  /** Served without a token. */
  public?: boolean;
  handle(request: ApiRequest): Promise<void>;
}

/**
 * Runs a call that needs a worker (a decision, a state query) with the context's deadline, and
 * answers 503 when no worker answered in time.
 */
async function withWorkerDeadline<T>(context: ApiContext, threadId: string, fn: () => Promise<T>, afterTimeout = ''): Promise<T> {
  try {
    return await deadlineFor(context.client.client, threadId, context.workerTimeoutMs, fn);
  } catch (err) {
    if (AirlockError.isType(err, ErrorType.WorkerUnavailable)) {
      throw new HttpError(ErrorType.WorkerUnavailable, `${(err as Error).message}.${afterTimeout}`, err);
    }
    throw toHttpError(err, threadId);
  }
}

const ROUTES: Route[] = [
  {
    method: 'GET',
    path: /^\/api\/openapi\.json$/,
    public: true,
    handle: async ({ res }) => sendJson(res, 200, openApiDocument()),
  },
  {
    method: 'GET',
    path: /^\/api\/me$/,
    handle: async ({ res, approver }) => sendJson(res, 200, { approver }),
  },
  {
    method: 'GET',
    path: /^\/api\/approvals$/,
    async handle({ res, url, context }) {
      const query = parseRequest(ApprovalsQuerySchema, Object.fromEntries(url.searchParams), 'query');
      sendJson(res, 200, { approvals: await context.listPending({ tool: query.tool }) });
    },
  },
  {
    method: 'POST',
    path: /^\/api\/approvals$/,
    async handle({ req, res, approver, context }) {
      const refused = (why: string, threadId?: string, interruptId?: string) =>
        context.log(`${new Date().toISOString()} decision refused: approver ${JSON.stringify(approver)}${threadId === undefined ? '' : ` thread ${JSON.stringify(threadId)} interrupt ${JSON.stringify(interruptId)}`} from ${clientAddress(req)}: ${why}`);
      let request;
      try {
        request = parseRequest(DecisionRequestSchema, await readJsonBody(req, context.maxBodyBytes), 'decision');
      } catch (err) {
        refused(err instanceof HttpError ? `${err.type}: ${err.message}` : 'unreadable request');
        throw err;
      }
      const { threadId } = request;
      const decision = toDecision(request, approver);
      const outcome = await withWorkerDeadline(
        context,
        threadId,
        () => context.decider.decide(threadId, decision),
        ' The decision may still be applied when one picks the thread up: check the pending list before deciding again.',
      ).catch(async (err: unknown) => {
        // The deadline passed, but the decision may have landed just before it: never report an applied decision as failed.
        if (err instanceof HttpError && err.type === ErrorType.WorkerUnavailable) {
          const applied = await context.client.findAppliedDecision(threadId, decision).catch(() => undefined);
          if (applied) return applied;
        }
        const error = toHttpError(err, threadId);
        refused(`${error.type}: ${error.message}`, threadId, request.interruptId);
        throw error;
      });
      if (outcome.type === 'refused') {
        // The thread recorded the refusal in its history too (its audit trail shows it).
        refused(`${outcome.errorType}: ${outcome.reason}`, threadId, request.interruptId);
        throw new HttpError(outcome.errorType, outcome.reason);
      }
      if (outcome.type === 'escalated') {
        // The edit was kept, but the edited call needs another approver: nothing ran, it waits (202).
        const pending = { threadId, ...summarizePending(outcome.interrupt, []) };
        return sendJson(res, 202, { outcome, pending });
      }
      sendJson(res, 200, { outcome });
    },
  },
  {
    method: 'GET',
    path: /^\/api\/decisions\/recent$/,
    async handle({ res, url, context }) {
      const query = parseRequest(RecentDecisionsQuerySchema, Object.fromEntries(url.searchParams), 'query');
      sendJson(res, 200, await context.client.recentDecisions({ limit: query.limit }));
    },
  },
  {
    method: 'GET',
    path: /^\/api\/events$/,
    handle: async ({ res, context }) => context.events.subscribe(res),
  },
  {
    method: 'GET',
    path: /^\/api\/threads\/([^/]+)$/,
    async handle({ res, params: [threadId], context }) {
      const state = await withWorkerDeadline(context, threadId, () => context.client.getState(threadId));
      // The same summaries the pending list shows, so the thread page's cards are the inbox's.
      const pending = state.pendingInterrupts.map((interrupt) => ({ threadId, agent: state.agent, ...summarizePending(interrupt, state.messages) }));
      sendJson(res, 200, { state, pending });
    },
  },
  {
    method: 'GET',
    path: /^\/api\/threads\/([^/]+)\/audit$/,
    async handle({ res, params: [threadId], context }) {
      const entries = await context.client.auditTrail(threadId);
      sendJson(res, 200, { entries });
    },
  },
  {
    method: 'GET',
    path: /^\/api\/threads\/([^/]+)\/grants$/,
    async handle({ res, params: [threadId], context }) {
      // From history: works while no worker runs.
      sendJson(res, 200, { grants: await context.client.grants(threadId) });
    },
  },
  {
    method: 'POST',
    path: /^\/api\/threads\/([^/]+)\/grants\/([^/]+)\/revoke$/,
    async handle({ req, res, params, approver, context }) {
      const refused = (why: string) =>
        context.log(`${new Date().toISOString()} revocation refused: approver ${JSON.stringify(approver)} thread ${JSON.stringify(params[0])} grant ${JSON.stringify(params[1])} from ${clientAddress(req)}: ${why}`);
      let threadId: string, grantId: string, reason: string | undefined;
      try {
        ({ threadId, grantId } = parseRequest(GrantPathSchema, { threadId: params[0], grantId: params[1] }, 'path'));
        ({ reason } = parseRequest(RevokeRequestSchema, await readJsonBody(req, context.maxBodyBytes, {}), 'revocation'));
      } catch (err) {
        refused(err instanceof HttpError ? `${err.type}: ${err.message}` : 'unreadable request');
        throw err;
      }
      const outcome: GrantRevocationOutcome = await withWorkerDeadline(context, threadId, () => context.client.revokeGrant(threadId, grantId, approver, reason)).catch(
        async (err: unknown) => {
          // As with decisions: a revocation that landed just before the deadline is reported as done.
          if (err instanceof HttpError && err.type === ErrorType.WorkerUnavailable) {
            const grant = (await context.client.grants(threadId).catch(() => [])).find((candidate) => candidate.id === grantId);
            if (grant?.ended?.type === 'revoked' && grant.ended.by === approver) return { type: 'revoked' as const, grant };
          }
          const error = toHttpError(err, threadId);
          refused(`${error.type}: ${error.message}`);
          throw error;
        },
      );
      if (outcome.type === 'refused') {
        refused(`${outcome.errorType}: ${outcome.reason}`);
        throw new HttpError(outcome.errorType, outcome.reason);
      }
      sendJson(res, 200, { outcome });
    },
  },
];

/** Serves a request under `/api/`: finds the route, authenticates, runs it, and answers any error as JSON. */
export async function handleApiRequest(req: IncomingMessage, res: ServerResponse, url: URL, context: ApiContext): Promise<void> {
  try {
    const matching = ROUTES.filter((route) => route.path.test(url.pathname));
    if (matching.length === 0) throw new HttpError(HttpErrorType.NotFound, 'No endpoint at this path: the API is described at /api/openapi.json');
    const route = matching.find((candidate) => candidate.method === req.method);
    if (!route) {
      res.setHeader('Allow', matching.map((candidate) => candidate.method).join(', '));
      throw new HttpError(HttpErrorType.MethodNotAllowed, `${req.method} is not allowed on this endpoint (Allow: ${matching.map((candidate) => candidate.method).join(', ')})`);
    }
    const approver = route.public ? '' : authenticate(req, res, url, context);
    const params = (route.path.exec(url.pathname) ?? []).slice(1).map(decodeSegment);
    await route.handle({ req, res, url, params, approver, context });
  } catch (err) {
    const error = toHttpError(err);
    if (error.type === HttpErrorType.InternalError) {
      context.log(`${req.method} ${url.pathname} failed: ${inspect(error.cause ?? err, { depth: 4 })}`);
    }
    if (!res.headersSent) sendError(res, error);
    else res.end();
  }
}

/**
 * The approver the request's bearer token belongs to. An address throttled for failed attempts is
 * refused before its token is looked at (429 with `Retry-After`); every failure is logged, without the token.
 * @throws HttpError `TooManyAttempts` while throttled, `Unauthorized` for no token or a wrong one
 */
function authenticate(req: IncomingMessage, res: ServerResponse, url: URL, context: ApiContext): string {
  return authenticateRequest(req, res, url.pathname, context.authGuard, (header) => context.tokens.authenticate(header), 'Authentication required: send Authorization: Bearer <approver token>');
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(HttpErrorType.RequestInvalid, 'A path segment is not valid percent-encoding');
  }
}
