import { readFileSync } from 'node:fs';
import { canonicalize } from 'json-canonicalize';
import { CloudEvent, EventProducer, ownerOf, TopicName, TopicOwners } from '@claimchain/wire';
import { NoteSigner, NoteVerifier, parseSignerKey, parseVerifierKey } from '@claimchain/ledger';
import { PermanentEventError } from './failure';

/**
 * Event authenticity (ADR 18). Each service signs every event it produces: Ed25519 over the RFC 8785 (JCS) form of
 * the whole CloudEvents envelope as produced, less this attribute, which carries the signature inside the envelope:
 *
 *   signature = <key name> "+" hex8(key ID) "+" base64(Ed25519 signature)
 *
 * Keys are C2SP note keys (the ledger's checkpoint key format, libs/ledger): the key name is the producing
 * service's name, the key ID a hash of name and public key. The signature travels in the envelope, so it is stored
 * with the event in the outbox and survives every re-publication of the same bytes (the relay, a dead-letter
 * replay). Every consumer accepts an event only when its topic's owner (contracts' TopicOwners) signed it with one
 * of the keys configured for that owner; anything else is dead-lettered at once.
 */
export const SIGNATURE_ATTRIBUTE = 'signature';

/** Why an event was refused as not authentic: bounded, it labels the dead-letter metric. */
export type SignatureFailure = 'unsigned' | 'malformed' | 'not-owner' | 'unknown-key' | 'bad-signature';

export class EventSignatureError extends PermanentEventError {
  readonly code = 'MESSAGING.EVENT_NOT_AUTHENTIC';
  constructor(
    readonly topic: string,
    readonly failure: SignatureFailure,
    detail: string,
  ) {
    super(`event on ${topic} is not authentic (${failure}): ${detail}`);
  }
}

/** The bytes a signature covers: the JCS of the envelope without its signature attribute. */
export function signedBytesOf(envelope: Record<string, unknown>): Buffer {
  const { [SIGNATURE_ATTRIBUTE]: _signature, ...rest } = envelope;
  return Buffer.from(canonicalize(rest), 'utf8');
}

/** Signs the events this service produces, with its one current key. */
export class EventSigner {
  readonly name: string;
  private readonly prefix: string;

  constructor(private readonly key: NoteSigner) {
    this.name = key.name;
    this.prefix = `${key.name}+${key.keyId.toString(16).padStart(8, '0')}+`;
  }

  /** The event with its signature attribute (set, or replaced if it had one). */
  sign<T extends CloudEvent>(event: T): T {
    const signature = this.key.sign(signedBytesOf(event as unknown as Record<string, unknown>)).toString('base64');
    return { ...event, [SIGNATURE_ATTRIBUTE]: this.prefix + signature };
  }
}

/**
 * Checks that an envelope (as parsed from the wire, before any schema strips what it does not know) is signed by a
 * key of its topic's owner. One Ed25519 verification per event: the signed bytes are the envelope's JCS, so a
 * verification costs a canonicalisation plus the signature check (see bench/event-signature.bench.ts).
 */
export class EventAuthenticator {
  private readonly keys = new Map<string, NoteVerifier>();

  constructor(verifiers: readonly NoteVerifier[]) {
    for (const v of verifiers) this.keys.set(`${v.name}+${v.keyId}`, v);
    const missing = [...new Set(Object.values(TopicOwners))].filter((p) => !verifiers.some((v) => v.name === p));
    if (missing.length > 0) {
      throw new Error(`EVENT_VERIFIER_KEYS has no key for ${missing.join(', ')}: their events could not be accepted`);
    }
  }

  /** Throws EventSignatureError unless `envelope` on `topic` carries a good signature by the topic's owner. */
  verify(topic: TopicName, envelope: Record<string, unknown>): void {
    const value = envelope[SIGNATURE_ATTRIBUTE];
    if (value === undefined) throw new EventSignatureError(topic, 'unsigned', 'it carries no signature');
    const parts = typeof value === 'string' ? /^([^+\s]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/]{86}==)$/.exec(value) : null;
    if (!parts) throw new EventSignatureError(topic, 'malformed', 'its signature is not <name>+<keyid>+<base64>');
    const [, name, keyIdHex] = parts;
    const owner: EventProducer = ownerOf(topic);
    if (name !== owner) {
      throw new EventSignatureError(topic, 'not-owner', `signed by ${name}; only ${owner} produces ${topic}`);
    }
    const key = this.keys.get(`${name}+${parseInt(keyIdHex, 16)}`);
    if (!key) throw new EventSignatureError(topic, 'unknown-key', `${name}+${keyIdHex} is not a configured key`);
    if (!key.verify(signedBytesOf(envelope), Buffer.from(parts[3], 'base64'))) {
      throw new EventSignatureError(topic, 'bad-signature', `the signature by ${name}+${keyIdHex} does not verify`);
    }
  }
}

/** The signer and authenticator a service's configuration names (EVENT_SIGNING_KEY_FILE, EVENT_VERIFIER_KEYS). */
export interface EventKeys {
  signingKeyFile?: string;
  verifierKeys: readonly string[];
}

export function eventSignerOf(service: string, keys: EventKeys): EventSigner {
  if (!keys.signingKeyFile) throw new Error(`EVENT_SIGNING_KEY_FILE is not set: ${service} cannot sign its events`);
  const signer = parseSignerKey(readFileSync(keys.signingKeyFile, 'utf8').trim());
  if (signer.name !== service) {
    throw new Error(`${keys.signingKeyFile} is a key for "${signer.name}", not "${service}"`);
  }
  return new EventSigner(signer);
}

export function eventAuthenticatorOf(keys: EventKeys): EventAuthenticator {
  return new EventAuthenticator(keys.verifierKeys.map(parseVerifierKey));
}
