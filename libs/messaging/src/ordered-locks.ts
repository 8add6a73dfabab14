import { EntityManager } from 'typeorm';

/**
 * Takes a transaction-scoped advisory lock on each key (hashtext of it), in one statement and one global order (by
 * lock key), as a batch handler must (ADR 8): two batches that share keys then wait for each other instead of
 * deadlocking. A handler of one event takes the same lock through the same call.
 */
export async function lockInOrder(em: EntityManager, keys: readonly string[]): Promise<void> {
  if (keys.length === 0) return;
  await em.query(
    `SELECT count(pg_advisory_xact_lock(k)) FROM (
       SELECT DISTINCT hashtext(key) AS k FROM unnest($1::text[]) AS key ORDER BY k) AS keys`,
    [keys],
  );
}
