import { MigrationInterface, QueryRunner } from 'typeorm';

export class Payout1732400000001 implements MigrationInterface {
  name = 'Payout1732400000001';

  async up(q: QueryRunner): Promise<void> {
    // Immutable contracts: the id is the SHA-256 of the definition's canonical JSON.
    await q.query(`
      CREATE TABLE contracts (
        id           char(64) PRIMARY KEY,
        insurer_id   text NOT NULL,
        name         text NOT NULL,
        version      text NOT NULL,
        definition   jsonb NOT NULL,
        published_at timestamptz NOT NULL DEFAULT now()
      )`);
    // The three facts adjudication waits for; they arrive on different topics, in any order.
    await q.query(`
      CREATE TABLE claims (
        claim_id    uuid PRIMARY KEY,
        insurer_id  text NOT NULL,
        provider_id text NOT NULL,
        currency    char(3) NOT NULL,
        items       jsonb NOT NULL
      )`);
    await q.query(`
      CREATE TABLE verifications (
        claim_id uuid PRIMARY KEY,
        event_id uuid NOT NULL UNIQUE,
        envelope jsonb NOT NULL
      )`);
    await q.query(`
      CREATE TABLE verification_anchors (
        event_id   uuid PRIMARY KEY,
        claim_id   uuid NOT NULL,
        leaf_index bigint NOT NULL,
        leaf_hash  text NOT NULL,
        tree_size  bigint NOT NULL,
        checkpoint text NOT NULL
      )`);
    // Exactly once, by constraint: one adjudication and at most one payout per claim.
    await q.query(`
      CREATE TABLE adjudications (
        claim_id    uuid PRIMARY KEY,
        contract_id char(64) NOT NULL REFERENCES contracts(id),
        decision    text NOT NULL,
        payable     numeric(17,2) NOT NULL,
        result      jsonb NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE payouts (
        id          uuid PRIMARY KEY,
        claim_id    uuid NOT NULL UNIQUE REFERENCES adjudications(claim_id),
        payee_id    text NOT NULL,
        amount      numeric(17,2) NOT NULL CHECK (amount > 0),
        currency    char(3) NOT NULL,
        released_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['payouts', 'adjudications', 'verification_anchors', 'verifications', 'claims', 'contracts']) {
      await q.query(`DROP TABLE ${t}`);
    }
  }
}
