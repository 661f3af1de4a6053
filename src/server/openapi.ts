/** The OpenAPI 3.1 description of the approval API, served at `/api/openapi.json`, generated from the zod schemas of requests and responses. */
import { z } from 'zod';
import { ApprovalsQuerySchema, DecisionRequestSchema, RevokeRequestSchema, ResponseSchemas } from './api-schemas';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: object, description: string) => ({ description, content: { 'application/json': { schema } } });
const error = (description: string) => json(ref('Error'), description);
const unauthorized = error('No token, or a token no approver has (with `WWW-Authenticate: Bearer`)');
const throttled = {
  ...error('Too many invalid tokens from this client address (`TooManyAttempts`): every request needing a token is refused, unchecked, until the window ends'),
  headers: { 'Retry-After': { description: 'Seconds until the address may try again', schema: { type: 'integer', minimum: 1 } } },
};
const unavailable = error('No worker answered the thread in time (`WorkerUnavailable`)');
const threadParam = { name: 'id', in: 'path', required: true, description: 'The thread id (workflow id)', schema: { type: 'string' } };
const grantParam = { name: 'grantId', in: 'path', required: true, description: "The grant's id (`g-<interruptId>`)", schema: { type: 'string' } };

const strip = ({ $schema: _schema, ...schema }: Record<string, unknown>) => schema;
const has = (field: string, value: object) => ({ properties: { [field]: value }, required: [field] });
const decisionRequest = {
  ...strip(z.toJSONSchema(DecisionRequestSchema, { io: 'input' })),
  // The schema's refinements, which JSON Schema output leaves out: exactly one of approved/action;
  // args with an edit only, message with a response only, grant with an accept or an edit only.
  oneOf: [{ required: ['approved'] }, { required: ['action'] }],
  allOf: [
    { if: has('action', { const: 'edit' }), then: { required: ['args'] }, else: { not: { required: ['args'] } } },
    { if: has('action', { const: 'respond' }), then: { required: ['message'] }, else: { not: { required: ['message'] } } },
    { if: { anyOf: [has('action', { enum: ['accept', 'edit'] }), has('approved', { const: true })] }, else: { not: { required: ['grant'] } } },
  ],
};
const revokeRequest = strip(z.toJSONSchema(RevokeRequestSchema, { io: 'input' }));
const toolQuery = strip(z.toJSONSchema(ApprovalsQuerySchema.shape.tool.unwrap(), { io: 'input' }));

// Every response body's schema comes from the same zod schemas the readers check.
const schemas = Object.fromEntries(Object.entries(ResponseSchemas).map(([name, schema]) => [name, strip(z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }))]));

const paths = {
  '/api/approvals': {
    get: {
      summary: 'Interrupts waiting for a decision across threads, oldest first (Temporal visibility: eventually consistent)',
      parameters: [{ name: 'tool', in: 'query', required: false, description: 'Only interrupts of this tool', schema: toolQuery }],
      responses: {
        200: json(ref('Approvals'), 'The pending approvals'),
        400: error('A malformed tool name'),
        401: unauthorized,
        429: throttled,
      },
    },
    post: {
      summary:
        "Decide an interrupt as the authenticated approver: accept (optionally with a grant), reject, edit (run other arguments) or respond (don't run; answer the model). Send the `argsDigest` and `callDigest` you were shown.",
      requestBody: { required: true, content: { 'application/json': { schema: decisionRequest } } },
      responses: {
        200: json(ref('DecisionApplied'), 'The decision was applied (an accepted or edited call runs; a response goes to the model)'),
        202: json(
          ref('DecisionEscalated'),
          "The edit was kept but the edited call needs another approver under the policy (e.g. a larger amount): nothing ran; `pending` says who may decide it now and why",
        ),
        400: error(
          'Malformed JSON, wrong types, unknown fields (an `approver` field included), not exactly one of approved/action, args without an edit (or an edit without args), message without a response, grant with a reject or a response, a malformed grant',
        ),
        401: unauthorized,
        403: error(
          "Not among the policy's `approvers`, or a decision the policy does not allow (`DecisionNotAllowed`); a grant the policy forbids or whose ttl exceeds its cap (`GrantNotAllowed`); a signed decision required that the service could not give (`DecisionSignatureRequired`, `DecisionSignatureInvalid`)",
        ),
        404: error('No such thread (`ThreadNotFound`) or interrupt (`InterruptNotFound`)'),
        409: error(
          'Already decided (`InterruptAlreadyDecided`), timed out (`InterruptTimedOut`), the thread ended (`ThreadEnded`), or the call changed since you looked: its arguments differ from `argsDigest`, or another approver edited it since `callDigest` (`DecisionArgumentsChanged`)',
        ),
        413: error('The body is over the size limit'),
        422: error("An edit whose arguments do not fit the tool's schema (`DecisionEditInvalid`, with the schema's message): nothing ran, the call still waits"),
        429: throttled,
        503: unavailable,
      },
    },
  },
  '/api/threads/{id}': {
    get: {
      summary: "A thread's state and conversation (needs a running worker)",
      parameters: [threadParam],
      responses: {
        200: json(ref('Thread'), 'The thread'),
        401: unauthorized,
        404: error('No such thread'),
        429: throttled,
        503: unavailable,
      },
    },
  },
  '/api/threads/{id}/audit': {
    get: {
      summary: "A thread's audit trail, rebuilt from its event history",
      parameters: [threadParam],
      responses: {
        200: json(ref('Audit'), 'The audit trail'),
        401: unauthorized,
        404: error('No such thread'),
        429: throttled,
      },
    },
  },
  '/api/threads/{id}/grants': {
    get: {
      summary: "A thread's grants (active, revoked, expired) with how many calls each let through, rebuilt from its event history (no worker needed)",
      parameters: [threadParam],
      responses: {
        200: json(ref('Grants'), 'The grants'),
        401: unauthorized,
        404: error('No such thread'),
        429: throttled,
      },
    },
  },
  '/api/threads/{id}/grants/{grantId}/revoke': {
    post: {
      summary: 'Revoke a grant as the authenticated approver: later calls it would have let through are asked about again',
      parameters: [threadParam, grantParam],
      requestBody: { required: false, content: { 'application/json': { schema: revokeRequest } } },
      responses: {
        200: json(ref('GrantRevoked'), 'The grant was revoked'),
        400: error('Malformed JSON, unknown fields (a `by` field included), a reason too long'),
        401: unauthorized,
        403: error("The tool's policy names its approvers and this one is neither among them nor the granter (`DecisionNotAllowed`)"),
        404: error('No such thread (`ThreadNotFound`), or no such grant or one that already ended (`GrantNotFound`)'),
        409: error('The thread ended (`ThreadEnded`)'),
        413: error('The body is over the size limit'),
        429: throttled,
        503: unavailable,
      },
    },
  },
  '/api/decisions/recent': {
    get: {
      summary:
        'Who decided what, when: the resolved interrupts of the most recent threads (visibility lists them: running ones newest started first, then the most recently closed; up to 50 are read), newest first, from their audit trails',
      parameters: [{ name: 'limit', in: 'query', required: false, description: 'Decisions to return, 1 to 100; default 20', schema: { type: 'integer', minimum: 1, maximum: 100 } }],
      responses: {
        200: json(ref('RecentDecisions'), 'The recent decisions'),
        400: error('A limit that is not a number from 1 to 100'),
        401: unauthorized,
        429: throttled,
      },
    },
  },
  '/api/events': {
    get: {
      summary: 'Server-Sent Events: `approvals` ({ approvals: PendingApproval[] }) at connection and on every change; `problem` ({ message }) when visibility cannot be read',
      responses: { 200: { description: 'An event stream', content: { 'text/event-stream': { schema: { type: 'string' } } } }, 401: unauthorized, 429: throttled },
    },
  },
  '/api/me': {
    get: {
      summary: 'The approver the token belongs to',
      responses: { 200: json(ref('Me'), 'The approver'), 401: unauthorized, 429: throttled },
    },
  },
  '/api/openapi.json': { get: { summary: 'This document (no token needed)', security: [], responses: { 200: { description: 'OpenAPI 3.1' } } } },
  '/healthz': {
    get: { summary: 'Liveness: the process answers (no token needed; nothing else is said)', security: [], responses: { 200: json(ref('Health'), '`{ "status": "ok" }`') } },
  },
  '/readyz': {
    get: {
      summary: 'Readiness: the service can reach Temporal and is not stopping (no token needed)',
      security: [],
      responses: {
        200: json(ref('Health'), '`{ "status": "ready" }`'),
        503: json(ref('Health'), '`draining` (stopping: requests in progress finish, new ones belong elsewhere) or `unavailable` (Temporal does not answer)'),
      },
    },
  },
};

/** The OpenAPI 3.1 document of the approval API. */
export function openApiDocument() {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Airlock approval API',
      version: '1',
      description: 'Decide the interrupts of Airlock agent threads. Every endpoint but this document needs `Authorization: Bearer <approver token>`; the decision is recorded under the name the token belongs to.',
    },
    components: { schemas, securitySchemes: { approverToken: { type: 'http', scheme: 'bearer' } } },
    security: [{ approverToken: [] }],
    paths,
  };
}
