import { generateKeyPairSync } from 'node:crypto';
import {
  attestationHash,
  ed25519KeyId,
  Ed25519PublicJwk,
  signTreatmentStatement,
  treatmentStatement,
} from '@claimchain/wire';
import { verifyAttestation } from './attestation.verifier';
import { runVerifier } from './testing/cli.harness';
import { testEvent } from './testing/remote-log.fixture';
import { freshLogPerTest } from './testing/log-under-test';

const CPT = 'http://www.ama-assn.org/go/cpt';
const CLAIM = 'claim-9';
const PROVIDER = 'city-clinic';

function providerKeys() {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const full = publicKey.export({ format: 'jwk' }) as Ed25519PublicJwk;
  const jwk: Ed25519PublicJwk = { kty: full.kty, crv: full.crv, x: full.x };
  return { privateKey, jwk, keyId: ed25519KeyId(jwk) };
}

/** The provider signs what it performed: line 1 fully, line 2 (quantity 2) only once. */
function signedConfirmation(keys: ReturnType<typeof providerKeys>, claimId = CLAIM) {
  const statement = treatmentStatement({
    claimId,
    providerId: PROVIDER,
    performed: [
      { system: CPT, code: '99213', quantity: 1, performedAt: '2026-11-20' },
      { system: CPT, code: '85025', quantity: 1, performedAt: '2026-11-20' },
    ],
    signedAt: '2026-11-20T12:00:00.000Z',
  });
  const attestation = signTreatmentStatement(keys.privateKey, keys.keyId, statement);
  return { statement, attestation, body: { claimId, performed: statement.performed, attestation } };
}

describe(verifyAttestation.name, () => {
  const t = freshLogPerTest();
  const keys = providerKeys();
  const signed = signedConfirmation(keys);
  const verification = (hash: string | undefined, items = [{ sequence: 1, code: '99213', quantity: 1 }]) => ({
    claimId: CLAIM,
    confirmationId: '018f0000-0000-7000-8000-000000000001',
    providerId: PROVIDER,
    items: items.map((i) => ({ ...i, system: CPT, performedAt: '2026-11-20' })),
    verifiedAt: '2026-11-20T12:00:01.000Z',
    ...(hash ? { attestationHash: hash } : {}),
    unverified: [{ sequence: 2, code: 'QUANTITY_SHORT', message: '85025: 1 performed, 2 claimed' }],
  });
  const receiptWith = async (data: unknown) => {
    t.log
      .grow(2)
      .append(testEvent(CLAIM))
      .append(testEvent(CLAIM, 'treatment.verified', data));
    return t.files.write('receipt.json', JSON.stringify(await t.log.receipt(CLAIM)));
  };
  const verify = async (receipt: string, attestation: unknown, key: unknown = keys.jwk) =>
    runVerifier(
      'receipt',
      receipt,
      '--key',
      t.key,
      '--attestation',
      await t.files.write('attestation.json', JSON.stringify(attestation)),
      '--provider-key',
      await t.files.write('provider.jwk', JSON.stringify(key)).then((f) => `@${f}`),
    );
  const hash = attestationHash(signed.statement, signed.attestation);

  it('verifies the signed confirmation the provider posted against the receipt, naming the lines it covers', async () => {
    const { exit, result, stderr } = await verify(await receiptWith(verification(hash)), signed.body);
    expect(exit).toBe(0);
    expect(result.attestation).toEqual({
      keyId: keys.keyId,
      signedAt: '2026-11-20T12:00:00.000Z',
      attestationHash: hash,
      verifiedLines: [1],
      unverifiedLines: [{ sequence: 2, code: 'QUANTITY_SHORT' }],
    });
    expect(stderr).toMatch(/the provider's attestation \(key .*\) is the one its verification commits to/);
  });

  it('verifies the signed statement form {statement, keyId, signature}, and a key given as keygen prints it', async () => {
    const file = { statement: signed.statement, keyId: keys.keyId, signature: signed.attestation.signature };
    const { exit } = await verify(await receiptWith(verification(hash)), file, {
      keyId: keys.keyId,
      publicKeyJwk: keys.jwk,
    });
    expect(exit).toBe(0);
  });

  it('fails (1) when the statement was altered after signing', async () => {
    const altered = {
      ...signed.body,
      performed: [{ ...signed.body.performed[0], quantity: 2 }, signed.body.performed[1]],
    };
    const { exit, result } = await verify(await receiptWith(verification(hash)), altered);
    expect(exit).toBe(1);
    expect(result).toMatchObject({ code: 'VERIFIER.ATTESTATION_SIGNATURE_INVALID', entry: 1 });
  });

  it('fails (1) with another provider key than the one that signed', async () => {
    const { exit, result } = await verify(await receiptWith(verification(hash)), signed.body, providerKeys().jwk);
    expect(exit).toBe(1);
    expect(result).toMatchObject({ code: 'VERIFIER.ATTESTATION_SIGNATURE_INVALID' });
  });

  it('fails (1) when the ledger commits to another attestation than the one given', async () => {
    const other = signedConfirmation(keys);
    const otherHash = attestationHash(
      { ...other.statement, signedAt: '2026-11-21T00:00:00.000Z' },
      { keyId: keys.keyId, signature: other.attestation.signature },
    );
    const { exit, result } = await verify(await receiptWith(verification(otherHash)), signed.body);
    expect(exit).toBe(1);
    expect(result).toMatchObject({ code: 'VERIFIER.ATTESTATION_MISMATCH' });
  });

  it('fails (1) when a verified line is more than the provider attested', async () => {
    const items = [
      { sequence: 1, code: '99213', quantity: 1 },
      { sequence: 2, code: '85025', quantity: 2 },
    ];
    const { exit, result, stderr } = await verify(await receiptWith(verification(hash, items)), signed.body);
    expect(exit).toBe(1);
    expect(result).toMatchObject({ code: 'VERIFIER.ATTESTATION_MISMATCH' });
    expect(stderr).toMatch(/line 2 .* was verified but the provider attested 1/);
  });

  it('fails (1) when the verification commits to no attestation (confirmed unsigned)', async () => {
    const { exit, result } = await verify(await receiptWith(verification(undefined)), signed.body);
    expect(exit).toBe(1);
    expect(result).toMatchObject({ code: 'VERIFIER.ATTESTATION_NOT_COMMITTED' });
  });

  it('fails (1) for a statement about another claim', async () => {
    const { exit, result } = await verify(
      await receiptWith(verification(hash)),
      signedConfirmation(keys, 'claim-8').body,
    );
    expect(exit).toBe(1);
    expect(result).toMatchObject({ code: 'VERIFIER.ATTESTATION_MISMATCH' });
  });

  it('is a usage error (2) to give --attestation without --provider-key, and an input error for a bad key', async () => {
    const receipt = await receiptWith(verification(hash));
    const attestation = await t.files.write('a.json', JSON.stringify(signed.body));
    expect((await runVerifier('receipt', receipt, '--key', t.key, '--attestation', attestation)).exit).toBe(2);
    const bad = await runVerifier(
      'receipt',
      receipt,
      '--key',
      t.key,
      '--attestation',
      attestation,
      '--provider-key',
      '{}',
    );
    expect(bad).toMatchObject({ exit: 2, result: { code: 'VERIFIER.KEY_INVALID' } });
  });
});
