import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Ed25519PublicJwk } from '@claimchain/wire';

export interface ProviderKeyRow {
  provider_id: string;
  key_id: string;
  public_jwk: Ed25519PublicJwk;
  registered_at: Date;
  revoked_at: Date | null;
}

export interface InsurerPolicyRow {
  signature_required: boolean;
  date_tolerance_days: number;
}

const KEY_ROW = `provider_id, key_id, public_jwk, registered_at, revoked_at`;

/** The SQL of providers' attestation keys and insurers' attestation policies. */
@Injectable()
export class AttestationsRepository {
  /**
   * Registers a key; an existing row with its id (active or revoked, perhaps another provider's) is returned as it
   * is, with `created` false.
   */
  async registerKey(
    em: EntityManager,
    k: { providerId: string; keyId: string; jwk: Ed25519PublicJwk },
  ): Promise<{ row: ProviderKeyRow; created: boolean }> {
    const inserted: ProviderKeyRow[] = await em.query(
      `INSERT INTO provider_keys (provider_id, key_id, public_jwk) VALUES ($1, $2, $3::jsonb)
       ON CONFLICT (key_id) DO NOTHING RETURNING ${KEY_ROW}`,
      [k.providerId, k.keyId, JSON.stringify(k.jwk)],
    );
    if (inserted.length > 0) return { row: inserted[0], created: true };
    const [row]: ProviderKeyRow[] = await em.query(`SELECT ${KEY_ROW} FROM provider_keys WHERE key_id = $1`, [k.keyId]);
    return { row, created: false };
  }

  async listKeys(em: EntityManager, providerId: string): Promise<ProviderKeyRow[]> {
    return em.query(`SELECT ${KEY_ROW} FROM provider_keys WHERE provider_id = $1 ORDER BY registered_at, key_id`, [
      providerId,
    ]);
  }

  /** Revokes a key from now on; a key revoked before keeps its first revocation time. */
  async revokeKey(em: EntityManager, keyId: string): Promise<ProviderKeyRow | undefined> {
    // UPDATE … RETURNING answers [rows, count] (an INSERT or SELECT answers its rows).
    const [rows]: [ProviderKeyRow[], number] = await em.query(
      `UPDATE provider_keys SET revoked_at = coalesce(revoked_at, now()) WHERE key_id = $1 RETURNING ${KEY_ROW}`,
      [keyId],
    );
    return rows[0];
  }

  /** The keys these (provider, key id) pairs name, keyed `provider\0keyId`, in one statement. */
  async keysFor(
    em: EntityManager,
    pairs: readonly { providerId: string; keyId: string }[],
  ): Promise<Map<string, ProviderKeyRow>> {
    if (pairs.length === 0) return new Map();
    const rows: ProviderKeyRow[] = await em.query(
      `SELECT ${KEY_ROW} FROM provider_keys k
         JOIN unnest($1::text[], $2::text[]) AS p(provider_id, key_id) USING (provider_id, key_id)`,
      [pairs.map((p) => p.providerId), pairs.map((p) => p.keyId)],
    );
    return new Map(rows.map((r) => [`${r.provider_id}\0${r.key_id}`, r]));
  }

  /** Sets the insurer's policy; a tolerance left out keeps the one it had (0 for a new policy). */
  async setPolicy(
    em: EntityManager,
    insurerId: string,
    p: { signatureRequired: boolean; dateToleranceDays?: number },
  ): Promise<void> {
    await em.query(
      `INSERT INTO attestation_policies (insurer_id, signature_required, date_tolerance_days)
       VALUES ($1, $2, coalesce($3, 0))
       ON CONFLICT (insurer_id) DO UPDATE
         SET signature_required = $2,
             date_tolerance_days = coalesce($3, attestation_policies.date_tolerance_days),
             updated_at = now()`,
      [insurerId, p.signatureRequired, p.dateToleranceDays ?? null],
    );
  }

  /** The insurers' own policies (those that set one), in one statement. */
  async policies(em: EntityManager, insurerIds: readonly string[]): Promise<Map<string, InsurerPolicyRow>> {
    if (insurerIds.length === 0) return new Map();
    const rows: (InsurerPolicyRow & { insurer_id: string })[] = await em.query(
      `SELECT insurer_id, signature_required, date_tolerance_days FROM attestation_policies
        WHERE insurer_id = ANY($1::text[])`,
      [insurerIds],
    );
    return new Map(rows.map(({ insurer_id, ...row }) => [insurer_id, row]));
  }
}
