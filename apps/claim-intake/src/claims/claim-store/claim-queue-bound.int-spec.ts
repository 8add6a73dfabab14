import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { v4 as uuidv4 } from 'uuid';
import { waitForAdvisoryLockWaiters } from '@claimchain/testing';
import { ClaimSubmissionBatcher } from './claim-submission.batcher';
import { SubmitClaimService } from '../submit-claim/submit-claim.service';
import { fhirClaim, newKey, RunningSystem, startSystem } from '../../../../../test/e2e/system';

/**
 * claim-intake's group-commit queue is bounded (CLAIM_QUEUE_MAX): with both transactions stuck in Postgres, one
 * submission waits and the next is refused at once with a 503 problem and Retry-After, not queued without end.
 */
describe(ClaimSubmissionBatcher.name, () => {
  let system: RunningSystem;
  let insurer: { authorization: string };
  let admin: Client;
  let ds: DataSource;
  const tenant = `insurer-${uuidv4().slice(0, 8)}`;

  const submit = (patient: string, key = newKey()) =>
    fetch(system.url('claim-intake', '/v1/claims'), {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json', ...insurer, ...key },
      body: JSON.stringify(fhirClaim(patient, tenant, 'clinic-queue')),
    });

  beforeAll(async () => {
    system = await startSystem({ services: ['claim-intake'], env: { CLAIM_QUEUE_MAX: '1' } });
    insurer = await system.as('insurer', tenant);
    ds = system.app('claim-intake').get(DataSource);
    admin = new Client({ connectionString: (ds.options as { url: string }).url });
    await admin.connect();
  });

  afterAll(async () => {
    await admin?.end();
    await system?.stop();
  });

  it('answers 503 with Retry-After once the queue is full, and takes the same request once it has drained', async () => {
    // Both transaction slots wait on a patient's lock held here, so whatever is submitted next has to queue.
    const patient = `p-${uuidv4()}`;
    const pseudonym = system.app('claim-intake').get(SubmitClaimService).pseudonymise(tenant, `Patient/${patient}`);
    const lock = `patient:${tenant}:${pseudonym}`;
    await admin.query(`SELECT pg_advisory_lock(hashtext($1))`, [lock]);
    // One after the other: sent together, both can land in one batch, which waits on the lock once.
    const holders = [submit(patient)];
    await waitForAdvisoryLockWaiters(ds, 1, 'the first transaction to wait on the patient');
    holders.push(submit(patient));
    await waitForAdvisoryLockWaiters(ds, 2, 'both transactions to wait on the patient');

    // One of these two takes the only place in the queue; the other is refused, whichever arrives second.
    const keys = [newKey(), newKey()];
    const patients = [`p-${uuidv4()}`, `p-${uuidv4()}`];
    const racing = patients.map((p, i) => submit(p, keys[i]));
    const refusedIndex = await Promise.race(racing.map((r, i) => r.then(() => i)));
    const refused = await racing[refusedIndex];

    expect(refused.status).toBe(503);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(await refused.json()).toMatchObject({ status: 503, code: 'CLAIM.QUEUE_FULL', instance: '/v1/claims' });

    await admin.query(`SELECT pg_advisory_unlock(hashtext($1))`, [lock]);
    expect((await Promise.all(holders)).map((r) => r.status).sort()).toEqual([202, 409]);
    expect((await racing[1 - refusedIndex]).status).toBe(202);
    const retried = await submit(patients[refusedIndex], keys[refusedIndex]);
    expect(retried.status).toBe(202);
  });
});
