import { generateNoteKey, parseSignerKey, parseVerifierKey } from '@claimchain/ledger';
import { CloudEvent, EventProducer, TopicName, Topics } from '@claimchain/wire';
import { buildEvent } from './event-codec';
import { EventAuthenticator, EventSignatureError, EventSigner, SIGNATURE_ATTRIBUTE } from './event-signature';
import { claimSubmittedDraft } from '@claimchain/testing';

const PRODUCERS: EventProducer[] = ['claim-intake', 'treatment-verification', 'ledger-anchoring', 'payout'];

function keysFor(name: string) {
  const pair = generateNoteKey(name);
  return { signer: new EventSigner(parseSignerKey(pair.signerKey)), verifier: parseVerifierKey(pair.verifierKey) };
}

describe(EventAuthenticator.name, () => {
  const keys = Object.fromEntries(PRODUCERS.map((p) => [p, keysFor(p)])) as Record<
    EventProducer,
    ReturnType<typeof keysFor>
  >;
  const authenticator = new EventAuthenticator(PRODUCERS.map((p) => keys[p].verifier));
  const claim = () => buildEvent(Topics.ClaimsSubmitted, claimSubmittedDraft('0190e8a0-0000-7000-8000-000000000001'));
  /** As a consumer sees it: the JSON off the wire. */
  const wire = (event: CloudEvent) => JSON.parse(JSON.stringify(event)) as Record<string, unknown>;
  const failureOf = (topic: TopicName, envelope: Record<string, unknown>) => {
    try {
      authenticator.verify(topic, envelope);
      return 'accepted';
    } catch (error) {
      return (error as EventSignatureError).failure;
    }
  };

  it("accepts an event signed by its topic's owner, whatever order its attributes come in", () => {
    const signed = wire(keys['claim-intake'].signer.sign(claim()));
    const reordered = Object.fromEntries(Object.entries(signed).reverse());
    expect(failureOf(Topics.ClaimsSubmitted, signed)).toBe('accepted');
    expect(failureOf(Topics.ClaimsSubmitted, reordered)).toBe('accepted');
  });

  it('covers attributes it does not know (another extension added by the producer)', () => {
    const signed = wire(keys['claim-intake'].signer.sign({ ...claim(), traceparent: '00-abc-def-01' } as CloudEvent));
    expect(failureOf(Topics.ClaimsSubmitted, signed)).toBe('accepted');
    expect(failureOf(Topics.ClaimsSubmitted, { ...signed, traceparent: '00-abc-xyz-01' })).toBe('bad-signature');
    const { traceparent: _dropped, ...without } = signed;
    expect(failureOf(Topics.ClaimsSubmitted, without)).toBe('bad-signature');
  });

  it('refuses an unsigned event, one signed by a service that does not own the topic, one by an unknown key, and one altered after signing', () => {
    const event = claim();
    expect(failureOf(Topics.ClaimsSubmitted, wire(event))).toBe('unsigned');
    expect(failureOf(Topics.ClaimsSubmitted, wire(keys.payout.signer.sign(event)))).toBe('not-owner');
    expect(failureOf(Topics.ClaimsSubmitted, wire(keysFor('claim-intake').signer.sign(event)))).toBe('unknown-key');
    const altered = wire(keys['claim-intake'].signer.sign(event));
    (altered.data as { total: string }).total = '999999.00';
    expect(failureOf(Topics.ClaimsSubmitted, altered)).toBe('bad-signature');
    expect(failureOf(Topics.ClaimsSubmitted, { ...wire(event), [SIGNATURE_ATTRIBUTE]: 'claim-intake+zz' })).toBe(
      'malformed',
    );
  });

  it('refuses a signature of the right key with its key id swapped for another configured key of the owner', () => {
    const next = keysFor('claim-intake');
    const both = new EventAuthenticator([...PRODUCERS.map((p) => keys[p].verifier), next.verifier]);
    const signed = wire(keys['claim-intake'].signer.sign(claim()));
    const [name, , sig] = (signed[SIGNATURE_ATTRIBUTE] as string).split('+', 3);
    const rest = (signed[SIGNATURE_ATTRIBUTE] as string).slice(`${name}+xxxxxxxx+`.length);
    const swapped = `${name}+${next.verifier.keyId.toString(16).padStart(8, '0')}+${rest}`;
    expect(sig).toBeDefined();
    expect(() => both.verify(Topics.ClaimsSubmitted, { ...signed, [SIGNATURE_ATTRIBUTE]: swapped })).toThrow(
      /bad-signature/,
    );
  });

  it('after a rotation, accepts events signed by the earlier key while it is listed, and not once it is removed', () => {
    const rotated = keysFor('claim-intake');
    const beforeRotation = wire(keys['claim-intake'].signer.sign(claim()));
    const afterRotation = wire(rotated.signer.sign(claim()));
    const others = PRODUCERS.filter((p) => p !== 'claim-intake').map((p) => keys[p].verifier);
    const during = new EventAuthenticator([rotated.verifier, keys['claim-intake'].verifier, ...others]);
    const after = new EventAuthenticator([rotated.verifier, ...others]);
    expect(() => during.verify(Topics.ClaimsSubmitted, beforeRotation)).not.toThrow();
    expect(() => during.verify(Topics.ClaimsSubmitted, afterRotation)).not.toThrow();
    expect(() => after.verify(Topics.ClaimsSubmitted, afterRotation)).not.toThrow();
    expect(() => after.verify(Topics.ClaimsSubmitted, beforeRotation)).toThrow(/unknown-key/);
  });

  it('refuses a configuration without a key for every producer', () => {
    expect(() => new EventAuthenticator([keys.payout.verifier])).toThrow(
      /EVENT_VERIFIER_KEYS has no key for claim-intake/,
    );
  });
});
