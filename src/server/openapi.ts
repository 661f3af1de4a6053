/** The OpenAPI 3.1 description of the approval API, served at `/api/openapi.json`, generated from the zod schemas of requests and responses. */
import { z } from 'zod';
import { ApprovalsQuerySchema, DecisionRequestSchema, ResponseSchemas } from './api-schemas';

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

const strip = ({ $schema: _schema, ...schema }: Record<string, unknown>) => schema;
const decisionRequest = {
  ...strip(z.toJSONSchema(DecisionRequestSchema, { io: 'input' })),
  // The schema's refinement, which JSON Schema output leaves out: exactly one of the two.
  oneOf: [{ required: ['approved'] }, { required: ['action'] }],
};
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
      summary: 'Accept or reject an interrupt as the authenticated approver',
      requestBody: { required: true, content: { 'application/json': { schema: decisionRequest } } },
      responses: {
        200: json(ref('DecisionApplied'), 'The decision was applied'),
        400: error('Malformed JSON, wrong types, unknown fields (an `approver` field included), not exactly one of approved/action'),
        401: unauthorized,
        403: error('The policy names the approvers and this one is not among them (`DecisionNotAllowed`), or requires a signed decision the service could not give (`DecisionSignatureRequired`, `DecisionSignatureInvalid`)'),
        404: error('No such thread (`ThreadNotFound`) or interrupt (`InterruptNotFound`)'),
        409: error('Already decided (`InterruptAlreadyDecided`), timed out (`InterruptTimedOut`), the thread ended (`ThreadEnded`), or the interrupt holds other arguments than `argsDigest` names (`DecisionArgumentsChanged`)'),
        413: error('The body is over the size limit'),
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
