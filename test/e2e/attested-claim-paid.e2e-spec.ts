import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { v4 as uuidv4 } from 'uuid';
import { attestationHash, treatmentStatement } from '@claimchain/contracts';
import { waitFor } from '@claimchain/testing';
import { runCli } from '../../tools/verifier/src/verifier.cli';
import { keygen, signConfirmation } from '../../scripts/sign-confirmation';
import { fhirClaim, fhirClaimTreatments, newKey, RunningSystem, startSystem } from './system';

interface ReceiptEntry {
  event: { type: string; data: Record<string, unknown> };
}

/**
 * Issue 15.1 end to end on the real broker: an insurer that requires signed confirmations, a provider whose key ops
 * registered, a claim paid on the provider's signed attestation, and a receipt that verifies offline and carries
 * the attestation's hash, so an auditor holding the attestation can check it is what the ledger recorded.
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

    const submitted = await fetch(system.url('claim-intake', '/v1/claims'), {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json', ...insurer, ...newKey() },
      body: JSON.stringify(fhirClaim(`p-${uuidv4()}`, insurerId, providerId)),
    });
    expect(submitted.status).toBe(202);
    const { id } = (await submitted.json()) as { id: string };
    // The provider finds the claim in its worklist, so the insurer's policy applies when it confirms.
    await waitFor('the claim in the provider’s worklist', async () => {
      const list = (await (await fetch(tv('/v1/worklist'), { headers: provider })).json()) as {
        items: { claimId: string }[];
      };
      return list.items.some((c) => c.claimId === id);
    });
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
});
