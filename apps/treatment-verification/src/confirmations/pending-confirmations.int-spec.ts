import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { v4 as uuidv4 } from 'uuid';
import { fhirClaimTreatments, migratedDataSource, testEventSigner, waitFor } from '@claimchain/testing';
import { ConfirmTreatmentService } from './confirm-treatment/confirm-treatment.service';
import { ConfirmationsRepository } from './confirmations.repository';
import { PendingConfirmationsExpiry } from './expire-pending/pending-confirmations.expiry';
import { dataSourceOptions } from '../persistence/data-source.options';
import { newKey, RunningSystem, startSystem } from '../../../../test/e2e/system';

const HOUR_MS = 3_600_000;

/**
 * Confirmations that arrive before their claim are bounded per provider and expire, so a provider confirming claims
 * that never come (or a claim-intake that stopped sending) cannot hold its quota or grow treatment-verification's
 * table for ever; the provider reads why each one ended.
 */
describe(ConfirmTreatmentService.name, () => {
  describe('pending confirmations in the running service', () => {
    let system: RunningSystem;
    let ds: DataSource;

    const confirm = async (provider: string) =>
      fetch(system.url('treatment-verification', '/v1/confirmations'), {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...newKey(), ...(await system.as('provider', provider)) },
        body: JSON.stringify({ claimId: uuidv4(), performed: fhirClaimTreatments() }),
      });

    beforeAll(async () => {
      system = await startSystem({
        services: ['treatment-verification'],
        env: {
          PENDING_CONFIRMATIONS_MAX_PER_PROVIDER: '2',
          PENDING_CONFIRMATION_TTL_HOURS: '1',
          PRUNE_INTERVAL_MS: '50',
        },
      });
      ds = system.app('treatment-verification').get(DataSource);
    });

    afterAll(async () => {
      await system?.stop();
    });

    it('refuses a provider beyond its bound with 429 and Retry-After, and no other provider', async () => {
      const provider = `clinic-${uuidv4().slice(0, 8)}`;
      expect([(await confirm(provider)).status, (await confirm(provider)).status]).toEqual([202, 202]);

      const refused = await confirm(provider);
      expect(refused.status).toBe(429);
      expect(refused.headers.get('content-type')).toContain('application/problem+json');
      expect(refused.headers.get('retry-after')).toBe('60');
      expect(await refused.json()).toMatchObject({ status: 429, code: 'CONFIRMATION.TOO_MANY_PENDING' });

      expect((await confirm(`clinic-${uuidv4().slice(0, 8)}`)).status).toBe(202);
    });

    it('expires a pending confirmation after its time with a reason its provider reads, which makes room for another', async () => {
      const provider = `clinic-${uuidv4().slice(0, 8)}`;
      const first = (await (await confirm(provider)).json()) as { confirmationId: string };
      expect((await confirm(provider)).status).toBe(202);
      await ds.query(`UPDATE confirmations SET created_at = now() - interval '65 minutes' WHERE id = $1`, [
        first.confirmationId,
      ]);
      const headers = await system.as('provider', provider);
      const expired = await waitFor('the confirmation to expire', async () => {
        const res = await fetch(system.url('treatment-verification', `/v1/confirmations/${first.confirmationId}`), {
          headers,
        });
        const body = (await res.json()) as { outcome: string };
        return body.outcome === 'expired' && body;
      });
      expect(expired).toMatchObject({
        confirmationId: first.confirmationId,
        reasons: [{ code: 'CLAIM_NOT_RECEIVED', message: expect.stringContaining('1 hour(s)') }],
        decidedAt: expect.any(String),
      });
      expect((await confirm(provider)).status).toBe(202);
    });
  });

  describe(PendingConfirmationsExpiry.name, () => {
    let ds: DataSource;
    const ttlMs = HOUR_MS;

    const row = async (outcome: string, age: string) => {
      const id = uuidv4();
      const claimId = uuidv4();
      await ds.query(
        `INSERT INTO confirmations (id, claim_id, provider_id, outcome, performed, reasons, created_at)
         VALUES ($1, $2, 'clinic', $3, '[]', '[]', now() - $4::interval)`,
        [id, claimId, outcome, age],
      );
      return { id, claimId };
    };
    const outcomes = async (ids: string[]) =>
      Object.fromEntries(
        (
          (await ds.query(`SELECT id::text, outcome FROM confirmations WHERE id = ANY($1::uuid[])`, [ids])) as {
            id: string;
            outcome: string;
          }[]
        ).map((r) => [r.id, r.outcome]),
      );
    const expiry = (batchSize = 10) =>
      new PendingConfirmationsExpiry(ds, new ConfirmationsRepository(testEventSigner('treatment-verification')), {
        ttlMs,
        intervalMs: 60_000,
        batchSize,
      });

    beforeAll(async () => {
      ds = await migratedDataSource(`${process.env.DATABASE_PREFIX}_pending_expiry`, dataSourceOptions(''));
    });

    afterAll(async () => {
      await ds?.destroy();
    });

    it('expires only confirmations still pending past their time, and none whose claim is being decided', async () => {
      const expired = await row('pending', '2 hours');
      const beingDecided = await row('pending', '2 hours');
      const decided = await row('verified', '30 days');
      const recent = await row('pending', '59 minutes');
      // A confirmation POST or the claim's arrival holds the claim's lock while it decides.
      const decider = new Client({ connectionString: (ds.options as { url: string }).url });
      await decider.connect();
      try {
        await decider.query(`SELECT pg_advisory_lock(hashtext($1))`, [`confirm:${beingDecided.claimId}`]);
        expect(await expiry().expireOnce()).toBe(1);
        const all = [expired, beingDecided, decided, recent].map((r) => r.id);
        expect(await outcomes(all)).toEqual({
          [expired.id]: 'expired',
          [beingDecided.id]: 'pending',
          [decided.id]: 'verified',
          [recent.id]: 'pending',
        });

        await decider.query(`SELECT pg_advisory_unlock(hashtext($1))`, [`confirm:${beingDecided.claimId}`]);
        expect(await expiry().expireOnce()).toBe(1);
        expect((await outcomes(all))[beingDecided.id]).toBe('expired');
        // With the clock moved past the recent one's time too (an injected now, no waiting).
        expect(await expiry().expireOnce(new Date(Date.now() + 2 * 60_000))).toBe(1);
        expect((await outcomes(all))[recent.id]).toBe('expired');
      } finally {
        await decider.end();
      }
    });

    it('works through more expired confirmations than one batch holds', async () => {
      const rows = await Promise.all(Array.from({ length: 5 }, () => row('pending', '3 hours')));
      expect(await expiry(2).expireOnce()).toBe(5);
      expect(Object.values(await outcomes(rows.map((r) => r.id)))).toEqual(Array(5).fill('expired'));
    });
  });
});
