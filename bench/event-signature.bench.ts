/**
 * Benchmark of event authenticity (`npm run bench:event-signature`, ADR 18): signing a claims.submitted.v1 envelope
 * as the outbox does (JCS + Ed25519) and verifying it as every consumer does (JSON parse of the message, JCS less
 * the signature, Ed25519 verify), on one core, with the parts apart (JCS alone, Ed25519 alone) to show where the
 * time goes. Bounded: BENCH_SECONDS per measurement (default 2).
 */
import { performance } from 'node:perf_hooks';
import { canonicalize } from 'json-canonicalize';
import { Topics } from '@claimchain/wire';
import { generateNoteKey, parseSignerKey, parseVerifierKey } from '@claimchain/ledger';
import { buildEvent, EventAuthenticator, EventSigner, parseEnvelopeJson } from '@claimchain/messaging';
import { claimItem, claimSubmittedDraft } from '@claimchain/testing';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const PRODUCERS = ['claim-intake', 'treatment-verification', 'ledger-anchoring', 'payout'];

function perSecond(label: string, work: (i: number) => unknown): number {
  for (let i = 0; i < 2_000; i += 1) work(i); // warm-up
  let n = 0;
  const started = performance.now();
  const end = started + SECONDS * 1000;
  while (performance.now() < end) {
    for (let k = 0; k < 100; k += 1) work(n + k);
    n += 100;
  }
  const rate = n / ((performance.now() - started) / 1000);
  console.log(
    `${label.padEnd(58)} ${Math.round(rate).toLocaleString('en-US').padStart(9)} /s  (${(1e6 / rate).toFixed(1)} µs)`,
  );
  return rate;
}

function main(): void {
  const pairs = PRODUCERS.map((p) => generateNoteKey(p));
  const signer = new EventSigner(parseSignerKey(pairs[0].signerKey));
  const authenticator = new EventAuthenticator(pairs.map((p) => parseVerifierKey(p.verifierKey)));
  // A claim of 5 lines, a typical size on the pipeline.
  const draft = claimSubmittedDraft(undefined, { source: 'claimchain/claim-intake' });
  const items = [1, 2, 3, 4, 5].map((s) => ({ ...claimItem(s, '99213', '120.00'), servicedDate: '2026-11-20' }));
  const event = buildEvent(Topics.ClaimsSubmitted, { ...draft, data: { ...draft.data, items, total: '600.00' } });
  const wire = Buffer.from(JSON.stringify(signer.sign(event)));
  const envelope = parseEnvelopeJson(Topics.ClaimsSubmitted, wire);
  const key = parseSignerKey(pairs[0].signerKey);
  const bytes = Buffer.from(canonicalize(event));
  const signature = key.sign(bytes);
  const verifier = parseVerifierKey(pairs[0].verifierKey);

  console.log(`event authenticity, one core, a ${wire.length}-byte claims.submitted.v1 (5 lines):`);
  const sign = perSecond('sign (JCS + Ed25519 sign, as outboxInsert)', () => signer.sign(event));
  const verify = perSecond('verify (JSON parse + JCS + Ed25519 verify, as a consumer)', () =>
    authenticator.verify(Topics.ClaimsSubmitted, parseEnvelopeJson(Topics.ClaimsSubmitted, wire)),
  );
  perSecond('  of which verify on a parsed envelope (JCS + Ed25519)', () =>
    authenticator.verify(Topics.ClaimsSubmitted, envelope),
  );
  perSecond('  of which JCS alone', () => canonicalize(event));
  perSecond('  of which Ed25519 sign alone', () => key.sign(bytes));
  perSecond('  of which Ed25519 verify alone', () => verifier.verify(bytes, signature));
  console.log(
    `per core: ${Math.round(sign).toLocaleString('en-US')} events signed/s, ${Math.round(verify).toLocaleString('en-US')} verified/s`,
  );
}

main();
