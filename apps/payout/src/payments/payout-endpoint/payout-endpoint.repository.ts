import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';

export interface PayoutEndpointRow {
  insurerId: string;
  url: string;
  secretCiphertext: Buffer;
  secretRotatedAt: Date;
  createdAt: Date;
  updatedAt: Date;
}

const COLUMNS = `insurer_id AS "insurerId", url, secret_ciphertext AS "secretCiphertext",
  secret_rotated_at AS "secretRotatedAt", created_at AS "createdAt", updated_at AS "updatedAt"`;

/** SQL on payout_endpoints: one webhook per insurer. */
@Injectable()
export class PayoutEndpointRepository {
  async find(em: EntityManager, insurerId: string): Promise<PayoutEndpointRow | undefined> {
    const rows: PayoutEndpointRow[] = await em.query(`SELECT ${COLUMNS} FROM payout_endpoints WHERE insurer_id = $1`, [
      insurerId,
    ]);
    return rows[0];
  }

  /** Creates the registration with its sealed secret; undefined when the insurer already has one. */
  async insert(
    em: EntityManager,
    e: { insurerId: string; url: string; secretCiphertext: Buffer },
  ): Promise<PayoutEndpointRow | undefined> {
    const rows: PayoutEndpointRow[] = await em.query(
      `INSERT INTO payout_endpoints (insurer_id, url, secret_ciphertext) VALUES ($1, $2, $3)
       ON CONFLICT (insurer_id) DO NOTHING RETURNING ${COLUMNS}`,
      [e.insurerId, e.url, e.secretCiphertext],
    );
    return rows[0];
  }

  async updateUrl(em: EntityManager, insurerId: string, url: string): Promise<PayoutEndpointRow | undefined> {
    const [rows]: [PayoutEndpointRow[], number] = await em.query(
      `UPDATE payout_endpoints SET url = $2, updated_at = now() WHERE insurer_id = $1 RETURNING ${COLUMNS}`,
      [insurerId, url],
    );
    return rows[0];
  }

  async replaceSecret(
    em: EntityManager,
    insurerId: string,
    secretCiphertext: Buffer,
  ): Promise<PayoutEndpointRow | undefined> {
    const [rows]: [PayoutEndpointRow[], number] = await em.query(
      `UPDATE payout_endpoints SET secret_ciphertext = $2, secret_rotated_at = now(), updated_at = now()
        WHERE insurer_id = $1 RETURNING ${COLUMNS}`,
      [insurerId, secretCiphertext],
    );
    return rows[0];
  }

  async delete(em: EntityManager, insurerId: string): Promise<boolean> {
    const [, affected]: [unknown[], number] = await em.query(`DELETE FROM payout_endpoints WHERE insurer_id = $1`, [
      insurerId,
    ]);
    return affected > 0;
  }
}
