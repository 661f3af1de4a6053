import type { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { airlockSearchAttributes } from '../core/search-attributes';

/**
 * Registers Airlock's search attributes in a namespace where they are missing (operator service).
 * `temporal server start-dev` started by Airlock registers them itself; a cluster or the
 * time-skipping server needs this once.
 */
export async function ensureSearchAttributes(connection: Connection, namespace: string): Promise<void> {
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
  const missing = airlockSearchAttributes.filter((key) => !(key.name in (customAttributes ?? {})));
  if (missing.length === 0) return;
  await connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(missing.map((key) => [key.name, temporal.api.enums.v1.IndexedValueType[`INDEXED_VALUE_TYPE_${key.type}`]])),
  });
}
