import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The outbox and inbox tables every service owns in its own database. Each app lists these migrations in its own,
 * this one first, so the tables are the same everywhere.
 */
export class MessagingTables1732400000000 implements MigrationInterface {
  name = 'MessagingTables1732400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE outbox (
        seq          bigserial PRIMARY KEY,
        event_id     uuid NOT NULL UNIQUE,
        topic        text NOT NULL,
        message_key  text NOT NULL,
        payload      jsonb NOT NULL,
        created_at   timestamptz NOT NULL DEFAULT now(),
        published_at timestamptz
      )`);
    await q.query(`CREATE INDEX outbox_unpublished ON outbox (seq) WHERE published_at IS NULL`);
    await q.query(`
      CREATE TABLE inbox (
        event_id     uuid PRIMARY KEY,
        topic        text NOT NULL,
        processed_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE inbox`);
    await q.query(`DROP TABLE outbox`);
  }
}

/**
 * The columns the retention pruner reads by (RetentionPruner): published outbox rows by when they were published,
 * inbox rows by when they were processed.
 */
export class MessagingRetentionIndexes1733400000000 implements MigrationInterface {
  name = 'MessagingRetentionIndexes1733400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX outbox_published_at ON outbox (published_at) WHERE published_at IS NOT NULL`);
    await q.query(`CREATE INDEX inbox_processed_at ON inbox (processed_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX inbox_processed_at`);
    await q.query(`DROP INDEX outbox_published_at`);
  }
}

/**
 * Each inbox row keeps its message's fingerprint (SHA-256 of the value), so an event id arriving again with other
 * content is told from a redelivery (and dead-lettered) instead of being skipped as a duplicate. Rows from before
 * have none and count as matching.
 */
export class InboxFingerprints1733500000000 implements MigrationInterface {
  name = 'InboxFingerprints1733500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE inbox ADD COLUMN fingerprint bytea`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE inbox DROP COLUMN fingerprint`);
  }
}

/**
 * Each outbox row keeps the W3C `traceparent` of the trace its event continues (ADR 20): the relay publishes the row
 * later, in another transaction and often another request's turn, and sends it as the message's header. NULL when
 * tracing is off.
 */
export class OutboxTraceparent1733600002000 implements MigrationInterface {
  name = 'OutboxTraceparent1733600002000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE outbox ADD COLUMN traceparent text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE outbox DROP COLUMN traceparent`);
  }
}

/** The messaging tables' migrations, in order, for every service's data source. */
export const MESSAGING_MIGRATIONS = [
  MessagingTables1732400000000,
  MessagingRetentionIndexes1733400000000,
  InboxFingerprints1733500000000,
  OutboxTraceparent1733600002000,
];
