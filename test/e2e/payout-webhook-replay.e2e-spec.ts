import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { v4 as uuidv4 } from 'uuid';
import { loadServiceConfig } from '@claimchain/config';
import { CloudEvent, Topics } from '@claimchain/wire';
import { leafHashOfEvent } from '@claimchain/ledger';
import { waitFor } from '@claimchain/testing';
import { contractIdOf, DEMO_CONTRACT } from '../../apps/payout/src/engine/contract.definition';
import { SIGNATURE_HEADER, verifyWebhook } from '../../apps/payout/src/payments/webhook.rail';
import { runReplay } from '../../apps/payout/src/adjudication/claim-replay.command';
import { fhirClaim, fhirClaimTreatments, newKey, RunningSystem, startSystem } from './system';

/**
 * Issue 5's last pieces on the running system: the insurer's payout webhook (registration API, signed deliveries
 * retried until acknowledged), policies.enrolled.v1 on the ledger, and `npm run replay` on a paid claim.
 */
describe('payout webhooks, enrolment events and replay, end to end', () => {
  let system: RunningSystem;
  let db: Client;
  let verifierKey: string;
  const url: RunningSystem['url'] = (service, path) => system.url(service, path);

  beforeAll(async () => {
    // Small backoff so a refused delivery is retried within the test; the count of retries is what is checked.
    // A payout refused three times fails, so the failure and ops' retry are reached quickly.
    system = await startSystem({
      env: { PAYMENT_RETRY_BASE_MS: '50', PAYMENT_RETRY_MAX_MS: '200', PAYMENT_MAX_ATTEMPTS: '3' },
    });
    db = new Client({ connectionString: loadServiceConfig('payout', process.env).databaseUrl });
    await db.connect();
    verifierKey = (await (await fetch(url('ledger-anchoring', '/v1/ledger/public-key'))).text()).trim();
  }, 120_000);

  afterAll(async () => {
    await db?.end();
    await system?.stop();
  });

  const call = async (method: string, path: string, auth: object, body?: unknown) => {
    const res = await fetch(url('payout', path), {
      method,
      headers: { ...auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, type: res.headers.get('content-type'), body: text ? JSON.parse(text) : undefined };
  };

  /** Submits a claim for `insurer`, has the provider confirm it, and waits until claim-intake shows it paid. */
  async function paidClaim(insurer: string, until: 'paid' | 'payment-failed' = 'paid'): Promise<string> {
    const asInsurer = await system.as('insurer', insurer);
    const res = await fetch(url('claim-intake', '/v1/claims'), {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json', ...asInsurer, ...newKey() },
      body: JSON.stringify(fhirClaim(`p-${uuidv4()}`, insurer)),
    });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    const confirmed = await fetch(url('treatment-verification', '/v1/confirmations'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(await system.as('provider', 'clinic-e2e')), ...newKey() },
      body: JSON.stringify({
        claimId: id,
        performed: fhirClaimTreatments(),
      }),
    });
    expect([201, 202]).toContain(confirmed.status);
    await waitFor(
      `the claim to be ${until}`,
      async () => {
        const claim = await fetch(url('claim-intake', `/v1/claims/${id}`), { headers: asInsurer });
        return ((await claim.json()) as { status: string }).status === until;
      },
      { timeoutMs: 60_000 },
    );
    return id;
  }

  async function outboxEvent(topic: string, key: string): Promise<CloudEvent> {
    const { rows } = await db.query(`SELECT payload FROM outbox WHERE topic = $1 AND message_key = $2`, [topic, key]);
    return rows[0].payload as CloudEvent;
  }

  /** Waits until the ledger serves the event's receipt, and checks its leaf commits to the event. */
  async function onLedger(event: CloudEvent): Promise<void> {
    const receipt = await waitFor(
      `${event.type} ${event.id} on the ledger`,
      async () => {
        const res = await fetch(url('ledger-anchoring', `/v1/ledger/events/${event.id}/receipt`));
        return res.ok ? ((await res.json()) as { leafHash: string }) : undefined;
      },
      { timeoutMs: 60_000 },
    );
    // The leaf is salted (ADR 16); the salt is kept by the ledger beside the event, never served publicly.
    const [{ data_salt: salt }] = (await system
      .app('ledger-anchoring')
      .get(DataSource)
      .query(`SELECT data_salt FROM ledger_leaves WHERE event_id = $1`, [event.id])) as { data_salt: Buffer | null }[];
    expect(receipt.leafHash).toBe(leafHashOfEvent(event, salt).toString('base64'));
  }

  describe('the payout endpoint API', () => {
    it("registers, shows, rotates and removes the caller's own endpoint; the secret is shown only when issued", async () => {
      const insurer = await system.as('insurer', `insurer-api-${uuidv4()}`);
      expect((await call('GET', '/v1/payout-endpoint', insurer)).status).toBe(404);

      const created = await call('PUT', '/v1/payout-endpoint', insurer, { url: 'https://pay.acme.example/hooks' });
      expect(created).toMatchObject({
        status: 201,
        body: { url: 'https://pay.acme.example/hooks', secret: expect.stringMatching(/^whsec_/) },
      });
      const shown = await call('GET', '/v1/payout-endpoint', insurer);
      expect(shown.status).toBe(200);
      expect(shown.body).not.toHaveProperty('secret');
      // The secret is stored sealed, never in clear.
      const { rows } = await db.query(`SELECT secret_ciphertext FROM payout_endpoints WHERE url = $1`, [
        'https://pay.acme.example/hooks',
      ]);
      expect(Buffer.from(rows[0].secret_ciphertext).includes(Buffer.from(created.body.secret))).toBe(false);

      const moved = await call('PUT', '/v1/payout-endpoint', insurer, { url: 'https://pay2.acme.example/hooks' });
      expect(moved.status).toBe(200);
      expect(moved.body).not.toHaveProperty('secret');
      const rotated = await call('POST', '/v1/payout-endpoint/secret', insurer);
      expect(rotated.status).toBe(200);
      expect(rotated.body.secret).toMatch(/^whsec_/);
      expect(rotated.body.secret).not.toBe(created.body.secret);

      // Another insurer sees nothing of it; a provider may not use the API at all.
      const other = await system.as('insurer', `insurer-other-${uuidv4()}`);
      expect((await call('GET', '/v1/payout-endpoint', other)).status).toBe(404);
      expect((await call('GET', '/v1/payout-endpoint', await system.as('provider', 'clinic-e2e'))).status).toBe(403);

      expect((await call('DELETE', '/v1/payout-endpoint', insurer)).status).toBe(204);
      expect((await call('GET', '/v1/payout-endpoint', insurer)).status).toBe(404);
      expect((await call('DELETE', '/v1/payout-endpoint', insurer)).status).toBe(404);
    });

    it('refuses a URL that is not https (outside loopback) as problem+json naming /url', async () => {
      const insurer = await system.as('insurer', `insurer-api-${uuidv4()}`);
      const refused = await call('PUT', '/v1/payout-endpoint', insurer, { url: 'http://pay.acme.example/hooks' });
      expect(refused.status).toBe(400);
      expect(refused.type).toContain('application/problem+json');
      expect(refused.body).toMatchObject({
        code: 'PAYOUT_ENDPOINT.INVALID',
        errors: [{ pointer: '/url', detail: 'must be https (plain http only to a loopback host)' }],
      });
      const missing = await call('PUT', '/v1/payout-endpoint', insurer, {});
      expect(missing.body.errors).toEqual([{ pointer: '/url', detail: 'Required' }]);
    });

    it('refuses URLs to private, link-local and metadata addresses, naming /url', async () => {
      const insurer = await system.as('insurer', `insurer-api-${uuidv4()}`);
      for (const target of [
        'https://169.254.169.254/latest/meta-data',
        'https://10.0.0.8/hook',
        'https://[fd00::1]/',
      ]) {
        const refused = await call('PUT', '/v1/payout-endpoint', insurer, { url: target });
        expect(refused).toMatchObject({
          status: 400,
          type: expect.stringContaining('application/problem+json'),
          body: {
            code: 'PAYOUT_ENDPOINT.INVALID',
            errors: [{ pointer: '/url', detail: 'must not point to a private, link-local or reserved address' }],
          },
        });
      }
      expect((await call('GET', '/v1/payout-endpoint', insurer)).status).toBe(404);
    });
  });

  it("delivers a paid claim to the insurer's webhook, signed, retried after a 500 and settled on the 2xx", async () => {
    const insurerId = `insurer-hook-${uuidv4()}`;
    const answers = [500];
    const deliveries: { status: number; valid: boolean; key: string; body: Record<string, unknown> }[] = [];
    let secret = '';
    const server: Server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const status = answers.shift() ?? 204;
        const valid = verifyWebhook(secret, body, String(req.headers[SIGNATURE_HEADER]), new Date());
        deliveries.push({ status, valid, key: String(req.headers['idempotency-key']), body: JSON.parse(body) });
        res.statusCode = status;
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const hook = `http://127.0.0.1:${(server.address() as AddressInfo).port}/claimchain`;
      const registered = await call('PUT', '/v1/payout-endpoint', await system.as('insurer', insurerId), { url: hook });
      expect(registered.status).toBe(201);
      secret = registered.body.secret;

      const claimId = await paidClaim(insurerId);
      const settled = await waitFor('the webhook payout to settle', async () => {
        const { rows } = await db.query(`SELECT id, status, rail, attempts FROM payouts WHERE claim_id = $1`, [
          claimId,
        ]);
        return rows[0]?.status === 'settled' ? rows[0] : undefined;
      });
      expect(settled).toMatchObject({ rail: 'insurer-webhook', attempts: 2 });
      expect(deliveries.map(({ status, valid, key }) => ({ status, valid, key }))).toEqual([
        { status: 500, valid: true, key: settled.id },
        { status: 204, valid: true, key: settled.id },
      ]);
      expect(deliveries[1].body).toMatchObject({
        type: 'payout.instruction',
        payoutId: settled.id,
        claimId,
        insurerId,
      });
      // The acknowledgement leads to payouts.settled.v1 like the bank's settlement, and it is on the ledger.
      await onLedger(await outboxEvent(Topics.PayoutsSettled, claimId));
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('shows a payout the webhook refused as payment-failed; ops find it, retry it, and the claim is paid again', async () => {
    const insurerId = `insurer-failing-${uuidv4()}`;
    let accept = false;
    const statuses: number[] = [];
    const server: Server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.statusCode = accept ? 204 : 500;
        statuses.push(res.statusCode);
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const asInsurer = await system.as('insurer', insurerId);
      const ops = await system.as('ops', 'ops-e2e');
      const hook = `http://127.0.0.1:${(server.address() as AddressInfo).port}/claimchain`;
      expect((await call('PUT', '/v1/payout-endpoint', asInsurer, { url: hook })).status).toBe(201);

      // Refused on all three attempts: payouts.failed.v1 reaches claim-intake, which says so.
      const claimId = await paidClaim(insurerId, 'payment-failed');
      const claimOf = async () =>
        (await (await fetch(url('claim-intake', `/v1/claims/${claimId}`), { headers: asInsurer })).json()) as {
          status: string;
          paid: string | null;
          timeline: { type: string }[];
        };
      const failedClaim = await claimOf();
      expect(failedClaim.paid).toBe('120.40');
      expect(failedClaim.timeline.map((e) => e.type)).toEqual(
        expect.arrayContaining(['payout.released', 'payout.failed']),
      );
      const listed = await fetch(url('claim-intake', '/v1/claims?status=payment-failed&limit=200'), {
        headers: asInsurer,
      });
      expect(((await listed.json()) as { items: { id: string }[] }).items.map((c) => c.id)).toEqual([claimId]);
      expect(statuses).toEqual([500, 500, 500]);

      // Ops find it among the failed payouts (insurers may not look).
      expect((await call('GET', '/v1/ops/payouts?status=failed', asInsurer)).status).toBe(403);
      const failed = await call('GET', '/v1/ops/payouts?status=failed&limit=200', ops);
      expect(failed.status).toBe(200);
      const item = (failed.body.items as { claimId: string; payoutId: string }[]).find((p) => p.claimId === claimId);
      expect(item).toMatchObject({
        status: 'failed',
        rail: 'insurer-webhook',
        attempts: 3,
        amount: '120.40',
        lastError: 'Error: webhook answered 500',
        retries: 0,
      });
      const payoutId = item!.payoutId;
      expect((await call('GET', '/v1/ops/payouts?status=lost', ops)).body.errors).toEqual([
        expect.objectContaining({ pointer: '/status' }),
      ]);

      // A retry needs a reason, a known payout, and a payout that failed.
      const retryPath = `/v1/ops/payouts/${payoutId}/retry`;
      const noReason = await call('POST', retryPath, ops, {});
      expect(noReason).toMatchObject({
        status: 400,
        type: expect.stringContaining('application/problem+json'),
        body: { code: 'PAYOUT.RETRY_INVALID', errors: [{ pointer: '/reason', detail: 'Required' }] },
      });
      expect((await call('POST', `/v1/ops/payouts/${uuidv4()}/retry`, ops, { reason: 'x' })).body).toMatchObject({
        status: 404,
        code: 'PAYOUT.NOT_FOUND',
      });
      expect((await call('POST', '/v1/ops/payouts/not-a-uuid/retry', ops, { reason: 'x' })).status).toBe(400);
      expect((await call('POST', retryPath, asInsurer, { reason: 'x' })).status).toBe(403);

      accept = true;
      const retried = await call('POST', retryPath, ops, { reason: 'INC-42: insurer endpoint fixed' });
      expect(retried).toMatchObject({ status: 200, body: { payoutId, status: 'released', attempts: 0, retries: 1 } });

      // The normal path follows: delivered, settled, and the claim is paid again, its timeline telling the story.
      const paidAgain = await waitFor('the claim to be paid again', async () => {
        const c = await claimOf();
        return c.status === 'paid' && c.timeline.some((e) => e.type === 'payout.settled') ? c : undefined;
      });
      expect(paidAgain.timeline.map((e) => e.type)).toEqual(
        expect.arrayContaining(['payout.failed', 'payout.retried', 'payout.settled']),
      );
      expect(statuses).toEqual([500, 500, 500, 204]);
      expect((await call('POST', retryPath, ops, { reason: 'again' })).body).toMatchObject({
        status: 409,
        code: 'PAYOUT.NOT_FAILED',
      });
      const retryEvent = await outboxEvent(Topics.PayoutsRetried, claimId);
      expect(retryEvent.data).toMatchObject({
        payoutId,
        retriedBy: 'ops:ops-e2e',
        reason: 'INC-42: insurer endpoint fixed',
        previousAttempts: 3,
      });
      // The failure and the intervention are on the ledger like the payment itself.
      await onLedger(await outboxEvent(Topics.PayoutsFailed, claimId));
      await onLedger(retryEvent);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('records each enrolment as policies.enrolled.v1, written with the policy and anchored on the ledger', async () => {
    const insurer = await system.as('insurer', 'insurer-e2e');
    const res = await fetch(url('payout', '/v1/policies'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...insurer, ...newKey() },
      body: JSON.stringify({
        coverageId: `cov-${uuidv4().slice(0, 8)}`,
        contractId: contractIdOf(DEMO_CONTRACT),
        memberPseudonym: 'a'.repeat(64),
        period: { start: '2027-01-01', end: '2027-12-31' },
      }),
    });
    expect(res.status).toBe(201);
    const policy = (await res.json()) as { id: string; coverageId: string };
    const event = await outboxEvent(Topics.PoliciesEnrolled, policy.id);
    expect(event).toMatchObject({
      type: 'policy.enrolled',
      subject: policy.id,
      tenantid: 'insurer-e2e',
      data: {
        policyId: policy.id,
        insurerId: 'insurer-e2e',
        coverageId: policy.coverageId,
        contractId: contractIdOf(DEMO_CONTRACT),
        memberPseudonym: 'a'.repeat(64),
        period: { start: '2027-01-01', end: '2027-12-31' },
      },
    });
    await onLedger(event);
  });

  describe('npm run replay', () => {
    let claimId: string;
    const replay = async (...args: string[]) => {
      const out: string[] = [];
      const io = {
        env: { ...process.env, LEDGER_URL: url('ledger-anchoring', '') },
        stdout: { write: (l: string) => out.push(l) },
        stderr: { write: () => true },
      };
      const code = await runReplay(args, io);
      expect(out).toHaveLength(1);
      return { code, report: JSON.parse(out[0]) };
    };

    beforeAll(async () => {
      claimId = await paidClaim('insurer-e2e');
      await onLedger(await outboxEvent(Topics.ClaimsAdjudicated, claimId));
    }, 90_000);

    it('re-adjudicates a paid claim from ledger-proven inputs to a byte-identical decision (exit 0)', async () => {
      const { code, report } = await replay(claimId, '--key', verifierKey);
      expect(report).toMatchObject({
        result: 'identical',
        claimId,
        identical: true,
        bytesIdentical: true,
        storedHash: report.recomputedHash,
        recordedHash: report.recomputedHash,
        ledger: { claimSubmitted: { verified: true }, claimAdjudicated: { verified: true } },
        payable: '120.40',
      });
      expect(code).toBe(0);
    });

    it('reports a tampered stored decision as different (exit 1)', async () => {
      const { rows } = await db.query(`SELECT result FROM adjudications WHERE claim_id = $1`, [claimId]);
      try {
        await db.query(
          `UPDATE adjudications SET result = jsonb_set(result, '{payable}', '"999.00"') WHERE claim_id = $1`,
          [claimId],
        );
        const { code, report } = await replay(claimId, '--key', verifierKey);
        expect(report).toMatchObject({ result: 'different', identical: false, bytesIdentical: false });
        expect(report.storedHash).not.toBe(report.recomputedHash);
        // The ledger-proven record still agrees with the recomputation: the stored row is what changed.
        expect(report.recordedHash).toBe(report.recomputedHash);
        expect(code).toBe(1);
      } finally {
        await db.query(`UPDATE adjudications SET result = $2 WHERE claim_id = $1`, [claimId, rows[0].result]);
      }
    });

    it('reports a stored claim the ledger does not commit to as not proven (exit 1)', async () => {
      const { rows } = await db.query(`SELECT submitted_event FROM claims WHERE claim_id = $1`, [claimId]);
      try {
        await db.query(
          `UPDATE claims SET submitted_event = jsonb_set(submitted_event, '{data,providerId}', '"forged-clinic"')
            WHERE claim_id = $1`,
          [claimId],
        );
        const { code, report } = await replay(claimId, '--key', verifierKey);
        expect(report).toMatchObject({
          result: 'different',
          ledger: { claimSubmitted: { verified: false }, claimAdjudicated: { verified: true } },
        });
        expect(code).toBe(1);
      } finally {
        await db.query(`UPDATE claims SET submitted_event = $2 WHERE claim_id = $1`, [
          claimId,
          rows[0].submitted_event,
        ]);
      }
    });

    it('answers exit 2 for an unknown claim or a missing ledger key', async () => {
      expect(await replay(uuidv4(), '--key', verifierKey)).toMatchObject({
        code: 2,
        report: { result: 'input-error' },
      });
      expect(await replay('not-a-uuid')).toMatchObject({ code: 2 });
    });
  });
});
