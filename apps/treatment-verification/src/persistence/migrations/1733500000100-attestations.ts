import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Signed attestations (issue 15.1, ADR 15): providers' Ed25519 public keys, registered and revoked by ops; each
 * insurer's policy whether its claims need a signed confirmation; and the attestation a confirmation carried, with
 * the hash that treatments.verified.v1 commits to the ledger.
 */
export class Attestations1733500000100 implements MigrationInterface {
  name = 'Attestations1733500000100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE provider_keys (
        key_id         text PRIMARY KEY,
        provider_id    text NOT NULL,
        public_jwk     jsonb NOT NULL,
        registered_at  timestamptz NOT NULL DEFAULT now(),
        revoked_at     timestamptz
      )`);
    // A key (its thumbprint) belongs to one provider; ops list a provider's keys.
    await q.query(`CREATE INDEX provider_keys_provider ON provider_keys (provider_id, registered_at)`);
    await q.query(`
      CREATE TABLE attestation_policies (
        insurer_id          text PRIMARY KEY,
        signature_required  boolean NOT NULL,
        updated_at          timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`ALTER TABLE confirmations ADD COLUMN attestation jsonb`);
    await q.query(`ALTER TABLE confirmations ADD COLUMN attestation_hash char(64)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE confirmations DROP COLUMN attestation_hash`);
    await q.query(`ALTER TABLE confirmations DROP COLUMN attestation`);
    await q.query(`DROP TABLE attestation_policies`);
    await q.query(`DROP TABLE provider_keys`);
  }
}
