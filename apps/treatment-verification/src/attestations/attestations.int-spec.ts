import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Producer } from 'kafkajs';
import { DataSource } from 'typeorm';
import { v4 as uuidv4, v7 as uuidv7 } from 'uuid';
import { attestationHash, CloudEvent, Topics, treatmentStatement } from '@claimchain/wire';
import { buildEvent, createKafka } from '@claimchain/messaging';
import { claimSubmittedDraft, CPT, ownerSigned, waitFor } from '@claimchain/testing';
import { ConfirmTreatmentService } from '../confirmations/confirm-treatment/confirm-treatment.service';
import { keygen, signConfirmation } from '../../../../scripts/sign-confirmation';
import { RunningSystem, startSystem } from '../../../../test/e2e/system';

const run = promisify(execFile);
const ROOT = join(__dirname, '../../../..');
const PERFORMED = [{ system: CPT, code: '99213', quantity: 1, performedAt: '2026-11-20' }];
/** An insurer whose policy requires signed confirmations (set through the ops API below); others use the default. */
const STRICT_INSURER = `insurer-strict-${uuidv4().slice(0, 8)}`;

interface Problem {
  status: number;
  code: string;
  errors: { pointer: string; detail: string }[];
}

/**
 * Signed attestations (issue 15.1), on the running service with the real broker: ops register, rotate and revoke
 * providers' Ed25519 keys; an insurer's policy decides whether a signature is required; every way a signature can
 * fail is refused with a problem naming why; and the attestation's hash travels in treatments.verified.v1, so the
 * ledger commits to exactly what the provider signed.
 */
describe(`${ConfirmTreatmentService.name} with signed attestations`, () => {
  let system: RunningSystem;
  let ds: DataSource;
  let producer: Producer;
  const dir = mkdtempSync(join(tmpdir(), 'claimchain-attest-'));
  let keyFiles = 0;

  beforeAll(async () => {
    system = await startSystem({
      services: ['treatment-verification'],
      env: { CONFIRMATION_SIGNATURES_REQUIRED: 'false' },
    });
    ds = system.app('treatment-verification').get(DataSource);
    producer = createKafka('attestations-int-spec', process.env.KAFKA_BROKERS!.split(',')).producer();
    await producer.connect();
    const res = await ops('PUT', '/v1/attestation-policies', { insurerId: STRICT_INSURER, signatureRequired: true });
    expect(await res.json()).toEqual({
      insurerId: STRICT_INSURER,
      signatureRequired: true,
      dateToleranceDays: 0,
      source: 'insurer',
    });
  });

  afterAll(async () => {
    await producer?.disconnect();
    await system?.stop();
  });

  const provider = () => `clinic-${uuidv4().slice(0, 8)}`;
  const newKeyFile = () => {
    const file = join(dir, `k${(keyFiles += 1)}.pem`);
    return { file, ...keygen(file) };
  };
  const ops = async (method: string, path: string, body?: unknown) =>
    fetch(system.url('treatment-verification', path), {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        'idempotency-key': uuidv4(),
        ...(await system.as('ops', 'ops-1')),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const register = async (providerId: string, key: ReturnType<typeof newKeyFile>) =>
    ops('POST', '/v1/provider-keys', { providerId, publicKeyJwk: key.publicKeyJwk });
  const revoke = (keyId: string) => ops('POST', `/v1/provider-keys/${keyId}/revoke`);
  const post = async (as: string, body: unknown) =>
    fetch(system.url('treatment-verification', '/v1/confirmations'), {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'idempotency-key': uuidv4(),
        ...(await system.as('provider', as)),
      },
      body: JSON.stringify(body),
    });
  const signed = (keyFile: string, providerId: string, claimId: string, performed = PERFORMED) =>
    signConfirmation({ keyFile, providerId, claimId, performed });
  /** claim-intake's claims.submitted.v1 for a claim naming `providerId`. */
  const sendClaim = async (providerId: string, insurerId: string, claimId: string) => {
    const event: CloudEvent = buildEvent(
      Topics.ClaimsSubmitted,
      claimSubmittedDraft(claimId, { providerId, insurerId, source: 'claimchain/claim-intake' }),
    );
    await producer.send({
      topic: Topics.ClaimsSubmitted,
      messages: [{ key: claimId, value: ownerSigned(Topics.ClaimsSubmitted, event) }],
    });
  };
  /** Sends a claim and waits until it is in its provider's worklist. */
  const claimArrives = async (providerId: string, insurerId = STRICT_INSURER, claimId = uuidv7()) => {
    await sendClaim(providerId, insurerId, claimId);
    await waitFor(`claim ${claimId} to arrive`, async () => {
      const res = await fetch(system.url('treatment-verification', '/v1/worklist?limit=200'), {
        headers: await system.as('provider', providerId),
      });
      return ((await res.json()) as { items: { claimId: string }[] }).items.some((c) => c.claimId === claimId);
    });
    return claimId;
  };
  const eventData = async (claimId: string) =>
    (await ds.query(`SELECT topic, payload->'data' AS data FROM outbox WHERE message_key = $1 ORDER BY seq`, [
      claimId,
    ])) as {
      topic: string;
      data: Record<string, unknown>;
    }[];
  const problem = async (res: Response) => {
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    return (await res.json()) as Problem;
  };

  describe('provider keys', () => {
    it('registers a key once (a second registration answers it again) and lists it, for ops only', async () => {
      const clinic = provider();
      const key = newKeyFile();
      const first = await register(clinic, key);
      expect(first.status).toBe(201);
      expect(await first.json()).toMatchObject({ keyId: key.keyId, status: 'active', revokedAt: null });
      expect((await register(clinic, key)).status).toBe(200);
      const listed = (await (await ops('GET', `/v1/provider-keys?providerId=${clinic}`)).json()) as {
        items: unknown[];
      };
      expect(listed.items).toEqual([expect.objectContaining({ keyId: key.keyId, publicKeyJwk: key.publicKeyJwk })]);

      const asProvider = await fetch(system.url('treatment-verification', `/v1/provider-keys?providerId=${clinic}`), {
        headers: await system.as('provider', clinic),
      });
      expect(asProvider.status).toBe(403);
    });

    it('refuses a key that is not an Ed25519 JWK, naming the field', async () => {
      const res = await ops('POST', '/v1/provider-keys', {
        providerId: provider(),
        publicKeyJwk: { kty: 'EC', crv: 'P-256', x: 'a', y: 'b' },
      });
      expect(res.status).toBe(400);
      expect((await problem(res)).errors.map((e) => e.pointer)).toContain('/publicKeyJwk/kty');
    });

    it('refuses a key id that is not the key’s thumbprint, naming it', async () => {
      const key = newKeyFile();
      const res = await ops('POST', '/v1/provider-keys', {
        providerId: provider(),
        publicKeyJwk: key.publicKeyJwk,
        keyId: newKeyFile().keyId,
      });
      expect(res.status).toBe(400);
      expect((await problem(res)).errors.map((e) => e.pointer)).toEqual(['/keyId']);
    });
  });

  describe('a signed confirmation', () => {
    it('is verified, and treatments.verified.v1 carries the hash of exactly what the provider signed', async () => {
      const clinic = provider();
      const key = newKeyFile();
      await register(clinic, key);
      const claimId = await claimArrives(clinic);
      const body = signed(key.file, clinic, claimId);
      const res = await post(clinic, body);
      expect(res.status).toBe(201);
      const { confirmationId } = (await res.json()) as { confirmationId: string };

      const expected = attestationHash(
        treatmentStatement({ claimId, providerId: clinic, performed: PERFORMED, signedAt: body.attestation.signedAt }),
        body.attestation,
      );
      expect(await eventData(claimId)).toEqual([
        { topic: Topics.TreatmentsVerified, data: expect.objectContaining({ attestationHash: expected }) },
      ]);
      const read = await fetch(system.url('treatment-verification', `/v1/confirmations/${confirmationId}`), {
        headers: await system.as('provider', clinic),
      });
      expect(await read.json()).toMatchObject({ attestation: { ...body.attestation, hash: expected } });
    });

    it('is made by the README command, whose output the API accepts', async () => {
      const clinic = provider();
      const keyFile = join(dir, 'cli.pem');
      const tsx = (args: string[]) =>
        run(process.execPath, ['--import', 'tsx', 'scripts/sign-confirmation.ts', ...args], { cwd: ROOT });
      // keygen prints the registration body.
      const registration = (await tsx(['keygen', '--provider', clinic, '--out', keyFile])).stdout;
      const { keyId } = JSON.parse(registration) as ReturnType<typeof keygen>;
      expect((await ops('POST', '/v1/provider-keys', JSON.parse(registration))).status).toBe(201);
      const claimId = await claimArrives(clinic);
      const { stdout } = await tsx([
        'sign',
        '--key',
        keyFile,
        '--provider',
        clinic,
        '--claim',
        claimId,
        '--performed',
        JSON.stringify(PERFORMED),
      ]);
      const body = JSON.parse(stdout) as { attestation: { keyId: string } };
      expect(body.attestation.keyId).toBe(keyId);
      expect((await post(clinic, body)).status).toBe(201);
    });
  });

  describe('refusals', () => {
    it('refuses an unsigned confirmation when the claim’s insurer requires a signature, naming /attestation', async () => {
      const clinic = provider();
      const claimId = await claimArrives(clinic);
      const res = await post(clinic, { claimId, performed: PERFORMED });
      expect(res.status).toBe(422);
      expect(await problem(res)).toMatchObject({
        code: 'CONFIRMATION.SIGNATURE_REQUIRED',
        errors: [{ pointer: '/attestation' }],
      });
      // The default here is "optional": another insurer's claim needs none.
      const relaxed = await claimArrives(clinic, 'insurer-relaxed');
      expect((await post(clinic, { claimId: relaxed, performed: PERFORMED })).status).toBe(201);
    });

    it.each([
      ['a key never registered', 'CONFIRMATION.SIGNATURE_KEY_UNKNOWN', '/attestation/keyId'],
      ['another provider’s key', 'CONFIRMATION.SIGNATURE_KEY_UNKNOWN', '/attestation/keyId'],
      ['a confirmation altered after signing', 'CONFIRMATION.SIGNATURE_INVALID', '/attestation/signature'],
      ['another key than the one it names', 'CONFIRMATION.SIGNATURE_INVALID', '/attestation/signature'],
      ['a revoked key', 'CONFIRMATION.SIGNATURE_KEY_REVOKED', '/attestation/keyId'],
      ['a signing time an hour ahead', 'CONFIRMATION.SIGNATURE_INVALID', '/attestation/signedAt'],
    ])('refuses a confirmation signed with %s (%s, naming %s)', async (what, code, pointer) => {
      const clinic = provider();
      const key = newKeyFile();
      const other = newKeyFile();
      const claimId = await claimArrives(clinic);
      let body: ReturnType<typeof signed> & { performed: typeof PERFORMED } = signed(key.file, clinic, claimId);
      if (what !== 'a key never registered') {
        await register(what === 'another provider’s key' ? provider() : clinic, key);
      }
      if (what === 'a confirmation altered after signing')
        body = { ...body, performed: [{ ...PERFORMED[0], quantity: 2 }] };
      if (what === 'another key than the one it names') {
        body = { ...body, attestation: { ...signed(other.file, clinic, claimId).attestation, keyId: key.keyId } };
      }
      if (what === 'a revoked key') expect((await revoke(key.keyId)).status).toBe(200);
      if (what === 'a signing time an hour ahead') {
        const signedAt = new Date(Date.now() + 3_600_000).toISOString();
        body = signConfirmation({ keyFile: key.file, providerId: clinic, claimId, performed: PERFORMED, signedAt });
      }

      const res = await post(clinic, body);
      expect(res.status).toBe(422);
      expect(await problem(res)).toMatchObject({ code, errors: [{ pointer }] });
      expect(await eventData(claimId)).toEqual([]);
    });

    it('answers a bad signature alike whether the claim names the caller, another provider or does not exist', async () => {
      const clinic = provider();
      const key = newKeyFile();
      await register(clinic, key);
      const theirs = await claimArrives(provider());
      const answers = await Promise.all(
        [theirs, uuidv7()].map(async (claimId) => {
          const body = signed(key.file, clinic, claimId);
          const res = await post(clinic, { ...body, performed: [{ ...PERFORMED[0], code: '99214' }] });
          const { status, code, errors } = await problem(res);
          return { status, code, errors };
        }),
      );
      expect(answers[0]).toEqual(answers[1]);
    });
  });

  it('rotates: a confirmation signed with the new key is accepted, and with the revoked old key refused', async () => {
    const clinic = provider();
    const old = newKeyFile();
    const current = newKeyFile();
    await register(clinic, old);
    await register(clinic, current);
    expect((await revoke(old.keyId)).status).toBe(200);
    const listed = (await (await ops('GET', `/v1/provider-keys?providerId=${clinic}`)).json()) as {
      items: { keyId: string; status: string }[];
    };
    expect(Object.fromEntries(listed.items.map((k) => [k.keyId, k.status]))).toEqual({
      [old.keyId]: 'revoked',
      [current.keyId]: 'active',
    });
    const claimId = await claimArrives(clinic);
    expect((await post(clinic, signed(old.file, clinic, claimId))).status).toBe(422);
    expect((await post(clinic, signed(current.file, clinic, claimId))).status).toBe(201);
    // A revoked key cannot come back.
    expect((await register(clinic, old)).status).toBe(409);
    expect((await revoke(newKeyFile().keyId)).status).toBe(404);
    // A key belongs to one provider.
    const taken = await register(provider(), current);
    expect(taken.status).toBe(409);
    expect((await problem(taken)).code).toBe('PROVIDER_KEY.TAKEN');
  });

  it('rejects an unsigned confirmation that waited for a claim whose insurer requires a signature', async () => {
    const clinic = provider();
    const claimId = uuidv7();
    const waiting = await post(clinic, { claimId, performed: PERFORMED });
    expect(waiting.status).toBe(202);
    const { confirmationId } = (await waiting.json()) as { confirmationId: string };
    await sendClaim(clinic, STRICT_INSURER, claimId);
    const decided = await waitFor('the confirmation to be decided', async () => {
      const res = await fetch(system.url('treatment-verification', `/v1/confirmations/${confirmationId}`), {
        headers: await system.as('provider', clinic),
      });
      const body = (await res.json()) as { outcome: string; reasons: { code: string }[] };
      return body.outcome !== 'pending' && body;
    });
    expect(decided).toMatchObject({ outcome: 'rejected', reasons: [{ code: 'SIGNATURE_REQUIRED' }] });
    expect((await eventData(claimId)).map((e) => e.topic)).toEqual([Topics.TreatmentsRejected]);
  });
});
