import { temporal } from '@temporalio/proto';
import { airlockSearchAttributes } from '../core/search-attributes';

/** The operator service of a `Connection` or a worker's `NativeConnection`. */
interface HasOperatorService {
  operatorService: {
    listSearchAttributes(request: { namespace: string }): Promise<{ customAttributes?: Record<string, unknown> | null }>;
    addSearchAttributes(request: { namespace: string; searchAttributes: Record<string, temporal.api.enums.v1.IndexedValueType> }): Promise<unknown>;
  };
}

// gRPC status codes.
const ALREADY_EXISTS = 6;
const UNIMPLEMENTED = 12;

const indexedValueType = (type: (typeof airlockSearchAttributes)[number]['type']) =>
  temporal.api.enums.v1.IndexedValueType[`INDEXED_VALUE_TYPE_${type}`];

/**
 * Registers Airlock's search attributes in a namespace where they are missing (operator service).
 * Threads keep them up to date, so a server without them fails every workflow task. Airlock's
 * dev server registers them at start; `createWorker` calls this for any other server.
 * @throws the server's error when it refuses (e.g. no permission to add search attributes)
 */
export async function ensureSearchAttributes(connection: HasOperatorService, namespace: string): Promise<void> {
  let existing: Record<string, unknown> = {};
  try {
    existing = (await connection.operatorService.listSearchAttributes({ namespace })).customAttributes ?? {};
  } catch (err) {
    // The time-skipping test server cannot list them, but can add them.
    if ((err as { code?: number }).code !== UNIMPLEMENTED) throw err;
  }
  const missing = airlockSearchAttributes.filter((key) => !(key.name in existing));
  if (missing.length === 0) return;
  try {
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map((key) => [key.name, indexedValueType(key.type)])),
    });
  } catch (err) {
    if ((err as { code?: number }).code !== ALREADY_EXISTS) throw err;
  }
}
