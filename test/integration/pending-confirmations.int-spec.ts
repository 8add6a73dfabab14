import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { v4 as uuidv4 } from 'uuid';
import { RetentionPruner } from '@claimchain/messaging';
import { fhirClaimTreatments, migratedDataSource, waitFor } from '@claimchain/testing';
import { ConfirmTreatmentService } from '../../apps/treatment-verification/src/confirmations/confirm-treatment/confirm-treatment.service';
import { pendingConfirmationsRetention } from '../../apps/treatment-verification/src/confirmations/confirmations.repository';
import { dataSourceOptions } from '../../apps/treatment-verification/src/persistence/data-source.options';
import { RunningSystem, startSystem } from '../e2e/system';

const HOUR_MS = 3_600_000;

/**
 * Confirmations that arrive before their claim are bounded per provider and expire, so a provider confirming claims
 * that never come (or a claim-intake that stopped sending) cannot grow treatment-verification's table for ever.
 */
describe(ConfirmTreatmentService.name, () => {
  describe('pending confirmations in the running service', () => {
    let system: RunningSystem;
    let ds: DataSource;

    const confirm = async (provider: string) =>
      fetch(system.url('treatment-verification', '/v1/confirmations'), {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(await system.as('provider', provider)) },
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

    it('expires a pending confirmation after its time, which makes room for another', async () => {
      const provider = `clinic-${uuidv4().slice(0, 8)}`;
      const first = (await (await confirm(provider)).json()) as { confirmationId: string };
      expect((await confirm(provider)).status).toBe(202);
      // Past the hour, though not so far past that a run has already looked below it (RetentionPruner's floor).
      await ds.query(`UPDATE confirmations SET created_at = now() - interval '65 minutes' WHERE id = $1`, [
        first.confirmationId,
      ]);
      const headers = await system.as('provider', provider);
      await waitFor(
        'the expired confirmation to be gone',
        async () =>
          (
            await fetch(system.url('treatment-verification', `/v1/confirmations/${first.confirmationId}`), {
              headers,
            })
          ).status === 404,
      );
      expect((await confirm(provider)).status).toBe(202);
    });
  });

  describe(pendingConfirmationsRetention.name, () => {
    let ds: DataSource;

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
    const left = async (ids: string[]) =>
      (await ds.query(`SELECT id::text FROM confirmations WHERE id = ANY($1::uuid[])`, [ids]))
        .map((r: { id: string }) => r.id)
        .sort();
    const pruneOnce = () =>
      new RetentionPruner(ds, [pendingConfirmationsRetention(HOUR_MS)], {
        intervalMs: 60_000,
        batchSize: 10,
      }).pruneOnce();

    beforeAll(async () => {
      ds = await migratedDataSource(`${process.env.DATABASE_PREFIX}_pending_confirmations`, dataSourceOptions(''));
    });

    afterAll(async () => {
      await ds?.destroy();
    });

    it('deletes only confirmations still pending past their time, and none whose claim is being decided', async () => {
      const expired = await row('pending', '2 hours');
      const beingDecided = await row('pending', '2 hours');
      const decided = await row('verified', '30 days');
      const recent = await row('pending', '59 minutes');
      // A confirmation POST or the claim's arrival holds the claim's lock while it decides.
      const decider = new Client({ connectionString: (ds.options as { url: string }).url });
      await decider.connect();
      try {
        await decider.query(`SELECT pg_advisory_lock(hashtext($1))`, [`confirm:${beingDecided.claimId}`]);
        expect(await pruneOnce()).toEqual({ 'pending-confirmations': 1 });
        const all = [expired, beingDecided, decided, recent].map((r) => r.id);
        expect(await left(all)).toEqual([beingDecided.id, decided.id, recent.id].sort());

        await decider.query(`SELECT pg_advisory_unlock(hashtext($1))`, [`confirm:${beingDecided.claimId}`]);
        expect(await pruneOnce()).toEqual({ 'pending-confirmations': 1 });
        expect(await left(all)).toEqual([decided.id, recent.id].sort());
      } finally {
        await decider.end();
      }
    });
  });
});
