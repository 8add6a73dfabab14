import { DataSource, EntityManager, EntitySubscriberInterface, QueryRunner, TransactionCommitEvent } from 'typeorm';

/** Work queued on a transaction, by its query runner; a rolled-back transaction's queue is dropped unrun. */
const queued = new WeakMap<QueryRunner, (() => void)[]>();

/**
 * Runs `effect` once the transaction `em` belongs to has committed, or at once when `em` is in none. For counters
 * of what a transaction decided (an adjudication, a payout): counted inside it, a transaction that rolls back and is
 * retried would be counted twice. Needs `runAfterCommits` installed on the data source.
 */
export function afterCommit(em: EntityManager, effect: () => void): void {
  const runner = em.queryRunner;
  if (!runner?.isTransactionActive) return effect();
  const effects = queued.get(runner);
  if (effects) effects.push(effect);
  else queued.set(runner, [effect]);
}

/** The TypeORM subscriber that runs afterCommit's queue on the outermost commit and drops it on a rollback. */
class AfterCommitSubscriber implements EntitySubscriberInterface {
  afterTransactionCommit({ queryRunner }: TransactionCommitEvent): void {
    if (queryRunner.isTransactionActive) return; // a savepoint released: the transaction goes on
    const effects = queued.get(queryRunner);
    queued.delete(queryRunner);
    for (const effect of effects ?? []) effect();
  }

  afterTransactionRollback({ queryRunner }: { queryRunner: QueryRunner }): void {
    if (!queryRunner.isTransactionActive) queued.delete(queryRunner);
  }
}

/** Lets afterCommit see `dataSource`'s commits (once per data source). */
export function runAfterCommits(dataSource: DataSource): void {
  if (dataSource.subscribers.some((s) => s instanceof AfterCommitSubscriber)) return;
  // TypeORM builds the list from the options at initialize; a subscriber added after still hears every event.
  dataSource.subscribers.push(new AfterCommitSubscriber());
}
