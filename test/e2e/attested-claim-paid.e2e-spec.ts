import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { v4 as uuidv4 } from 'uuid';
import { attestationHash, treatmentStatement } from '@claimchain/wire';
import { waitFor } from '@claimchain/testing';
import { runCli } from '../../tools/verifier/src/verifier.cli';
import { runReplay } from '../../apps/payout/src';
import { keygen, signConfirmation } from '../../scripts/sign-confirmation';
import { CPT, fhirClaim, fhirClaimTreatments, newKey, RunningSystem, startSystem } from './system';

interface ReceiptEntry {
  event: { type: string; data: Record<string, unknown> };
}

/**
 * Issue 15.1 end to end on the real broker: an insurer that requires signed confirmations, a provider whose key ops
 * registered, a claim paid on the provider's signed attestation, and a receipt that verifies offline and carries
 * the attestation's hash, so an auditor holding the attestation can check it is what the ledger recorded; and
 * (items 3 and 7) a partially verified claim paid for its verified lines only, the others denied with a CARC code.
 */
describe('a claim paid on a signed attestation', () => {
  let system: RunningSystem;
  const insurerId = `insurer-attest-${uuidv4().slice(0, 8)}`;
  const providerId = `clinic-attest-${uuidv4().slice(0, 8)}`;

  beforeAll(async () => {
    system = await startSystem({ env: { CONFIRMATION_SIGNATURES_REQUIRED: 'false' } });
  }, 120_000);

  afterAll(async () => {
    await system?.stop();
  });

  /**
   * Submits the fixture claim of `insurerId` for `providerId` and waits until it is in that provider's worklist, so
   * the insurer's attestation policy applies when the provider confirms. Returns the claim's id.
   */
  async function submitToWorklist(insurerId: string, providerId: string): Promise<string> {
    const submitted = await fetch(system.url('claim-intake', '/v1/claims'), {
      method: 'POST',
      headers: {
        'content-type': 'application/fhir+json',
        ...(await system.as('insurer', insurerId)),
        ...newKey(),
      },
      body: JSON.stringify(fhirClaim(`p-${uuidv4()}`, insurerId, providerId)),
    });
    expect(submitted.status).toBe(202);
    const { id } = (await submitted.json()) as { id: string };
    const provider = await system.as('provider', providerId);
    await waitFor('the claim in the provider’s worklist', async () => {
      const list = (await (
        await fetch(system.url('treatment-verification', '/v1/worklist'), { headers: provider })
      ).json()) as { items: { claimId: string }[] };
      return list.items.some((c) => c.claimId === id);
    });
    return id;
  }

  it('is paid, and its receipt commits to the provider’s attestation', async () => {
    const tv = (path: string) => system.url('treatment-verification', path);
    const ops = { 'content-type': 'application/json', ...(await system.as('ops', 'ops-1')) };
    const insurer = await system.as('insurer', insurerId);
    const provider = await system.as('provider', providerId);
    const keyFile = join(mkdtempSync(join(tmpdir(), 'attest-e2e-')), 'clinic.pem');
    const { publicKeyJwk } = keygen(keyFile);
    expect(
      (
        await fetch(tv('/v1/provider-keys'), {
          method: 'POST',
          headers: { ...ops, ...newKey() },
          body: JSON.stringify({ providerId, publicKeyJwk }),
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await fetch(tv('/v1/attestation-policies'), {
          method: 'PUT',
          headers: ops,
          body: JSON.stringify({ insurerId, signatureRequired: true }),
        })
      ).status,
    ).toBe(200);

    // The provider finds the claim in its worklist, so the insurer's policy applies when it confirms.
    const id = await submitToWorklist(insurerId, providerId);
    const unsigned = await fetch(tv('/v1/confirmations'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...provider, ...newKey() },
      body: JSON.stringify({ claimId: id, performed: fhirClaimTreatments() }),
    });
    expect(unsigned.status).toBe(422);

    const body = signConfirmation({ keyFile, providerId, claimId: id, performed: fhirClaimTreatments() });
    const confirmed = await fetch(tv('/v1/confirmations'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...provider, ...newKey() },
      body: JSON.stringify(body),
    });
    expect(confirmed.status).toBe(201);

    const receipt = await waitFor(
      'the claim to be paid and its receipt to cover its four events',
      async () => {
        const claim = (await (
          await fetch(system.url('claim-intake', `/v1/claims/${id}`), { headers: insurer })
        ).json()) as { status: string };
        if (claim.status !== 'paid') return undefined;
        const res = await fetch(system.url('claim-intake', `/v1/claims/${id}/receipt`), { headers: insurer });
        if (res.status !== 200) return undefined;
        const r = (await res.json()) as { entries: ReceiptEntry[] };
        return r.entries.length >= 4 ? r : undefined;
      },
      { timeoutMs: 60_000 },
    );

    const verified = receipt.entries.find((e) => e.event.type === 'treatment.verified')!;
    const statement = treatmentStatement({
      claimId: id,
      providerId,
      performed: body.performed,
      signedAt: body.attestation.signedAt,
    });
    expect(verified.event.data.attestationHash).toBe(attestationHash(statement, body.attestation));

    const vkey = (await (await fetch(system.url('ledger-anchoring', '/v1/ledger/public-key'))).text()).trim();
    const dir = mkdtempSync(join(tmpdir(), 'attest-receipt-'));
    const out: string[] = [];
    const io = { stdout: { write: (t: string) => out.push(t) }, stderr: { write: (t: string) => out.push(t) } };
    writeFileSync(join(dir, 'receipt.json'), JSON.stringify(receipt));
    expect(await runCli(['receipt', join(dir, 'receipt.json'), '--key', vkey], io)).toBe(0);
    // Another attestation in the receipt no longer matches what the ledger recorded.
    verified.event.data.attestationHash = 'f'.repeat(64);
    writeFileSync(join(dir, 'swapped.json'), JSON.stringify(receipt));
    expect(await runCli(['receipt', join(dir, 'swapped.json'), '--key', vkey], io)).toBe(1);
  }, 120_000);

  it('pays a partially verified claim for its verified lines only; its receipt and the provider’s attestation verify offline', async () => {
    const tv = (path: string) => system.url('treatment-verification', path);
    const lenientInsurer = `insurer-lines-${uuidv4().slice(0, 8)}`;
    const clinic = `clinic-lines-${uuidv4().slice(0, 8)}`;
    const ops = { 'content-type': 'application/json', ...(await system.as('ops', 'ops-1')) };
    const insurer = await system.as('insurer', lenientInsurer);
    const provider = await system.as('provider', clinic);
    const dir = mkdtempSync(join(tmpdir(), 'lines-e2e-'));
    const keygenOutput = keygen(join(dir, 'clinic.pem'), clinic);
    const registered = await fetch(tv('/v1/provider-keys'), {
      method: 'POST',
      headers: { ...ops, ...newKey() },
      body: JSON.stringify({ providerId: clinic, publicKeyJwk: keygenOutput.publicKeyJwk }),
    });
    expect(registered.status).toBe(201);
    // Signed, and a performance may be a day off its line's serviced date.
    const policy = await fetch(tv('/v1/attestation-policies'), {
      method: 'PUT',
      headers: ops,
      body: JSON.stringify({ insurerId: lenientInsurer, signatureRequired: true, dateToleranceDays: 1 }),
    });
    expect(await policy.json()).toMatchObject({ signatureRequired: true, dateToleranceDays: 1 });

    const id = await submitToWorklist(lenientInsurer, clinic);

    // The office visit (line 1) the day after its serviced date, within the tolerance; one lab test of the two
    // claimed (line 2); and a venipuncture the claim does not list.
    const body = signConfirmation({
      keyFile: join(dir, 'clinic.pem'),
      providerId: clinic,
      claimId: id,
      performed: [
        { system: CPT, code: '99213', quantity: 1, performedAt: '2026-11-21' },
        { system: CPT, code: '85025', quantity: 1, performedAt: '2026-11-20' },
        { system: CPT, code: '36415', quantity: 1, performedAt: '2026-11-20' },
      ],
    });
    const confirmed = await fetch(tv('/v1/confirmations'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...provider, ...newKey() },
      body: JSON.stringify(body),
    });
    expect(confirmed.status).toBe(201);
    expect(await confirmed.json()).toMatchObject({
      outcome: 'verified',
      // The one lab test verified nothing, so it is reported with the venipuncture.
      reasons: [{ sequence: 2, code: 'QUANTITY_SHORT' }, { code: 'NOT_CLAIMED' }, { code: 'NOT_CLAIMED' }],
    });

    const receipt = await waitFor(
      'the claim to be paid and its receipt to cover its four events',
      async () => {
        const claim = (await (
          await fetch(system.url('claim-intake', `/v1/claims/${id}`), { headers: insurer })
        ).json()) as { status: string };
        if (claim.status !== 'paid') return undefined;
        const res = await fetch(system.url('claim-intake', `/v1/claims/${id}/receipt`), { headers: insurer });
        if (res.status !== 200) return undefined;
        const r = (await res.json()) as { entries: ReceiptEntry[] };
        return r.entries.length >= 4 ? r : undefined;
      },
      { timeoutMs: 60_000 },
    );
    const eventOf = (type: string) => receipt.entries.find((e) => e.event.type === type)!.event.data;
    expect(eventOf('treatment.verified')).toMatchObject({
      items: [{ sequence: 1, code: '99213', performedAt: '2026-11-21' }],
      unverified: [{ sequence: 2, code: 'QUANTITY_SHORT' }],
      unclaimed: [
        { code: '85025', quantity: 1 },
        { code: '36415', quantity: 1 },
      ],
    });
    // Line 1 alone is paid (the demo contract: 80 % of 120.00); line 2 is denied, CO-151.
    expect(eventOf('claim.adjudicated')).toMatchObject({
      decision: 'partial',
      payable: '96.00',
      lines: [
        { sequence: 1, benefit: '96.00' },
        { sequence: 2, benefit: '0.00', reasons: ['CO-151'] },
      ],
      replay: { unverified: [{ sequence: 2, code: 'QUANTITY_SHORT' }] },
    });
    expect(eventOf('payout.released')).toMatchObject({ amount: '96.00' });

    // The ClaimResponse denies line 2 with its CARC code.
    const remittance = (await (
      await fetch(system.url('payout', `/v1/remittances/${id}`), { headers: insurer })
    ).json()) as { item: { itemSequence: number; adjudication: { reason?: { coding: { code: string }[] } }[] }[] };
    const reasonsOf = (sequence: number) =>
      remittance.item
        .find((i) => i.itemSequence === sequence)!
        .adjudication.flatMap((a) => a.reason?.coding.map((c) => c.code) ?? []);
    expect(reasonsOf(2)).toEqual(['151']);
    expect(reasonsOf(1)).not.toContain('151');

    const vkey = (await (await fetch(system.url('ledger-anchoring', '/v1/ledger/public-key'))).text()).trim();
    // The decision, line denial included, replays byte-identically from ledger-proven inputs.
    const replayed = await waitFor('the decision to replay from ledger-proven inputs', async () => {
      const lines: string[] = [];
      const code = await runReplay([id, '--key', vkey], {
        env: { ...process.env, LEDGER_URL: system.url('ledger-anchoring', '') },
        stdout: { write: (l: string) => lines.push(l) },
        stderr: { write: () => true },
      });
      return code === 0 ? (JSON.parse(lines[0]) as Record<string, unknown>) : undefined;
    });
    expect(replayed).toMatchObject({ result: 'identical', bytesIdentical: true, payable: '96.00' });

    // Offline: the receipt against the ledger's key, and the provider's signed confirmation against its key.
    writeFileSync(join(dir, 'receipt.json'), JSON.stringify(receipt));
    writeFileSync(join(dir, 'confirmation.json'), JSON.stringify(body));
    writeFileSync(join(dir, 'clinic.jwk.json'), JSON.stringify(keygenOutput));
    const out: string[] = [];
    const io = { stdout: { write: (t: string) => out.push(t) }, stderr: { write: (t: string) => out.push(t) } };
    const verify = (attestation: string) =>
      runCli(
        [
          'receipt',
          join(dir, 'receipt.json'),
          '--key',
          vkey,
          '--attestation',
          attestation,
          '--provider-key',
          `@${join(dir, 'clinic.jwk.json')}`,
        ],
        io,
      );
    expect(await verify(join(dir, 'confirmation.json'))).toBe(0);
    expect(out.join('')).toContain('covers verified line(s) 1');
    // A statement claiming more of line 2 than the provider signed does not verify.
    const inflated = {
      ...body,
      performed: body.performed.map((p) => (p.code === '85025' ? { ...p, quantity: 2 } : p)),
    };
    writeFileSync(join(dir, 'inflated.json'), JSON.stringify(inflated));
    expect(await verify(join(dir, 'inflated.json'))).toBe(1);
  }, 120_000);

  it('pends an unsigned verification under a contract that requires an attestation, and pays the signed correction', async () => {
    const tv = (path: string) => system.url('treatment-verification', path);
    const insurerOwn = `insurer-asks-${uuidv4().slice(0, 8)}`;
    const clinic = `clinic-asks-${uuidv4().slice(0, 8)}`;
    const ops = { 'content-type': 'application/json', ...(await system.as('ops', 'ops-1')) };
    const insurer = await system.as('insurer', insurerOwn);
    const provider = await system.as('provider', clinic);
    const keyFile = join(mkdtempSync(join(tmpdir(), 'asks-e2e-')), 'clinic.pem');
    const registered = await fetch(tv('/v1/provider-keys'), {
      method: 'POST',
      headers: { ...ops, ...newKey() },
      body: JSON.stringify({ providerId: clinic, publicKeyJwk: keygen(keyFile, clinic).publicKeyJwk }),
    });
    expect(registered.status).toBe(201);
    // No attestation policy at treatment-verification: it accepts an unsigned confirmation. The insurer's own
    // contract is what asks for the signature, and the ledger records that it did.
    const published = await fetch(system.url('payout', '/v1/contracts'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...insurer, ...newKey() },
      body: JSON.stringify({
        name: 'signed-only',
        version: '1',
        parameters: { currency: 'EUR', coinsurancePercent: 20, excludedCodes: [], attestationRequired: true },
        rules: [
          {
            name: 'covered',
            conditions: { all: [{ fact: 'quantity', operator: 'greaterThan', value: 0 }] },
            event: { type: 'pay-line' },
          },
        ],
      }),
    });
    expect(published.status).toBe(201);

    const id = await submitToWorklist(insurerOwn, clinic);
    const confirm = async (body: unknown) => {
      const res = await fetch(tv('/v1/confirmations'), {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...provider, ...newKey() },
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(201);
      return (await res.json()) as { confirmationId: string; outcome: string };
    };
    const unsigned = await confirm({ claimId: id, performed: fhirClaimTreatments() });
    expect(unsigned.outcome).toBe('verified');

    const pended = await waitFor(
      'the claim pended for want of an attestation',
      async () => {
        const queue = (await (await fetch(system.url('payout', '/v1/reviews'), { headers: insurer })).json()) as {
          items: { claimId: string; lines: { pendReasons: string[] }[] }[];
        };
        return queue.items.find((i) => i.claimId === id);
      },
      { timeoutMs: 60_000 },
    );
    expect(pended.lines.map((l) => l.pendReasons)).toEqual([['attestation-missing'], ['attestation-missing']]);
    // The provider is told on its confirmation, which stays verified, what it can do.
    const told = await waitFor('the provider told its verification lacks the attestation', async () => {
      const c = (await (
        await fetch(tv(`/v1/confirmations/${unsigned.confirmationId}`), { headers: provider })
      ).json()) as {
        outcome: string;
        reasons: { code: string; message: string }[];
      };
      return c.reasons.some((r) => r.code === 'ATTESTATION_REQUIRED') ? c : undefined;
    });
    expect(told.outcome).toBe('verified');
    expect(told.reasons.find((r) => r.code === 'ATTESTATION_REQUIRED')!.message).toMatch(/confirm again, signed/);

    // The provider takes its unsigned verification back (ADR 25) and confirms again, signed: that pays the claim.
    const withdrawal = await fetch(tv(`/v1/confirmations/${unsigned.confirmationId}/withdraw`), {
      method: 'POST',
      headers: { ...provider, ...newKey() },
    });
    expect(withdrawal.status).toBe(202);
    await waitFor('the unsigned confirmation withdrawn', async () => {
      const c = (await (
        await fetch(tv(`/v1/confirmations/${unsigned.confirmationId}`), { headers: provider })
      ).json()) as {
        outcome: string;
      };
      return c.outcome === 'withdrawn';
    });
    const signed = await confirm(
      signConfirmation({ keyFile, providerId: clinic, claimId: id, performed: fhirClaimTreatments() }),
    );
    expect(signed.outcome).toBe('verified');
    await waitFor(
      'the claim paid on the signed correction',
      async () => {
        const claim = (await (
          await fetch(system.url('claim-intake', `/v1/claims/${id}`), { headers: insurer })
        ).json()) as { status: string; paid: string | null };
        return claim.status === 'paid' && claim.paid === '120.40';
      },
      { timeoutMs: 60_000 },
    );
  }, 120_000);
});
