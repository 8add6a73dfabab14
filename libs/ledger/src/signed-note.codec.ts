/**
 * C2SP signed notes (https://c2sp.org/signed-note) with Ed25519, in the key encoding of golang.org/x/mod/sumdb/note so
 * checkpoints verify with the Go tooling witnesses already run.
 *
 *   note      = text (ending in "\n") "\n" 1*( "— " name " " base64(keyID ‖ signature) "\n" )
 *   keyID     = SHA-256(name ‖ "\n" ‖ 0x01 ‖ 32-byte public key)[:4], big-endian
 *   verifier  = name "+" hex8(keyID) "+" base64(0x01 ‖ public key)
 *   signer    = "PRIVATE+KEY+" name "+" hex8(keyID) "+" base64(0x01 ‖ 32-byte seed)
 *
 * Opening follows the spec: signatures by unknown keys are ignored, a bad signature by a known key rejects the note,
 * and a note needs at least one good signature by a known key.
 */
import { createHash, createPrivateKey, createPublicKey, KeyObject, randomBytes, sign, verify } from 'node:crypto';
import { LedgerError } from './ledger.errors';

export interface NoteSigner {
  readonly name: string;
  /** uint32; the first four bytes of every signature this key makes. */
  readonly keyId: number;
  /** The public half, `<name>+<hex keyID>+<base64 key>`, to hand to verifiers. */
  readonly verifierKey: string;
  sign(message: Buffer): Buffer;
}

export interface NoteVerifier {
  readonly name: string;
  readonly keyId: number;
  verify(message: Buffer, signature: Buffer): boolean;
}

export interface NoteKeyPair {
  /** Secret: anyone holding it can sign as `name`. */
  readonly signerKey: string;
  readonly verifierKey: string;
}

export interface OpenedNote {
  readonly text: string;
  /** Names of the known keys whose signatures verified, in note order. */
  readonly verifiedBy: string[];
}

const ALG_ED25519 = 0x01;
const ED25519_SIZE = 32;
const ED25519_SIGNATURE_SIZE = 64;
// DER wrappers that turn a raw 32-byte Ed25519 seed / public key into PKCS#8 / SPKI, the forms node:crypto imports.
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const SIGNATURE_LINE_PREFIX = '\u2014 ';
// The spec asks verifiers to cap signatures (and accept at least 16); 100 is the Go implementation's cap.
const MAX_SIGNATURES = 100;

export function generateNoteKey(name: string): NoteKeyPair {
  checkName(name);
  const seed = randomBytes(ED25519_SIZE);
  const publicKey = Buffer.concat([Buffer.from([ALG_ED25519]), rawPublicKey(privateKeyFromSeed(seed))]);
  const id = hex8(noteKeyId(name, publicKey));
  const privateKey = Buffer.concat([Buffer.from([ALG_ED25519]), seed]);
  return {
    signerKey: `PRIVATE+KEY+${name}+${id}+${privateKey.toString('base64')}`,
    verifierKey: `${name}+${id}+${publicKey.toString('base64')}`,
  };
}

export function parseSignerKey(signerKey: string): NoteSigner {
  const [private1, private2, name, id, key] = splitKey(signerKey, 5);
  if (private1 !== 'PRIVATE' || private2 !== 'KEY') throw malformedKey();
  const { keyId, alg, material } = decodeKeyParts(name, id, key);
  checkAlgorithm(alg, material);
  const privateKey = privateKeyFromSeed(material);
  // The key ID hashes the public key, so it can only be checked once that is derived from the seed.
  const publicKey = Buffer.concat([Buffer.from([ALG_ED25519]), rawPublicKey(privateKey)]);
  if (noteKeyId(name, publicKey) !== keyId) throw keyIdMismatch(name);
  return {
    name,
    keyId,
    verifierKey: `${name}+${hex8(keyId)}+${publicKey.toString('base64')}`,
    sign: (message) => sign(null, message, privateKey),
  };
}

export function parseVerifierKey(verifierKey: string): NoteVerifier {
  const [name, id, key] = splitKey(verifierKey, 3);
  const { keyId, alg, material } = decodeKeyParts(name, id, key);
  if (noteKeyId(name, Buffer.concat([Buffer.from([alg]), material])) !== keyId) throw keyIdMismatch(name);
  checkAlgorithm(alg, material);
  const publicKey = publicKeyFromRaw(material);
  return {
    name,
    keyId,
    verify: (message, signature) =>
      signature.length === ED25519_SIGNATURE_SIZE && verify(null, message, publicKey, signature),
  };
}

/** Signs `text` (which must end in a newline) and returns the signed note. */
export function signNote(text: string, signer: NoteSigner): string {
  if (!text.endsWith('\n') || !isNoteText(text)) {
    throw new LedgerError(
      'LEDGER.NOTE_MALFORMED',
      'note text must be newline-terminated text without control characters',
    );
  }
  checkName(signer.name);
  const keyId = Buffer.alloc(4);
  keyId.writeUInt32BE(signer.keyId);
  const signature = Buffer.concat([keyId, signer.sign(Buffer.from(text, 'utf8'))]);
  return `${text}\n${SIGNATURE_LINE_PREFIX}${signer.name} ${signature.toString('base64')}\n`;
}

/** Parses `note` and checks its signatures against `verifiers`; pass bytes when they came off the wire. */
export function openNote(note: string | Uint8Array, verifiers: readonly NoteVerifier[]): OpenedNote {
  const message = typeof note === 'string' ? note : decodeUtf8(note);
  if (!isNoteText(message)) throw malformedNote('contains control characters or invalid UTF-8');
  // The text ends at the last blank line: the text itself may contain blank lines, signatures never do.
  const split = message.lastIndexOf('\n\n');
  if (split < 0) throw malformedNote('has no blank line before its signatures');
  const text = message.slice(0, split + 1);
  const block = message.slice(split + 2);
  if (block === '' || !block.endsWith('\n')) throw malformedNote('signature block must end in a newline');
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > MAX_SIGNATURES) throw malformedNote(`has more than ${MAX_SIGNATURES} signatures`);

  const textBytes = Buffer.from(text, 'utf8');
  const verifiedBy: string[] = [];
  const seen = new Set<string>();
  for (const line of lines) {
    const { name, keyId, signature } = parseSignatureLine(line);
    const matches = verifiers.filter((v) => v.name === name && v.keyId === keyId);
    if (matches.length === 0) continue; // unknown keys are ignored, as the spec requires
    if (matches.length > 1) {
      throw new LedgerError('LEDGER.NOTE_AMBIGUOUS_KEY', `more than one verifier for key ${name}+${hex8(keyId)}`);
    }
    const key = `${name}+${keyId}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (!matches[0].verify(textBytes, signature)) {
      throw new LedgerError('LEDGER.NOTE_BAD_SIGNATURE', `invalid signature for key ${name}+${hex8(keyId)}`);
    }
    verifiedBy.push(name);
  }
  if (verifiedBy.length === 0) throw new LedgerError('LEDGER.NOTE_UNKNOWN_KEY', 'note has no signature by a known key');
  return { text, verifiedBy };
}

/** The C2SP key ID: first four bytes, big-endian, of SHA-256(name ‖ "\n" ‖ algorithm byte ‖ public key). */
export function noteKeyId(name: string, algorithmAndPublicKey: Buffer): number {
  return createHash('sha256').update(`${name}\n`, 'utf8').update(algorithmAndPublicKey).digest().readUInt32BE(0);
}

function parseSignatureLine(line: string): { name: string; keyId: number; signature: Buffer } {
  if (!line.startsWith(SIGNATURE_LINE_PREFIX)) throw malformedNote('has a line that is not a signature');
  const rest = line.slice(SIGNATURE_LINE_PREFIX.length);
  const space = rest.indexOf(' ');
  const name = space < 0 ? rest : rest.slice(0, space);
  const sig = space < 0 ? null : decodeBase64(rest.slice(space + 1));
  if (!isValidName(name) || sig === null || sig.length < 5) throw malformedNote('has a malformed signature line');
  return { name, keyId: sig.readUInt32BE(0), signature: sig.subarray(4) };
}

function splitKey(key: string, parts: number): string[] {
  // Only the last field (base64) may contain '+', so split on the first parts-1 of them.
  const fields: string[] = [];
  let rest = key;
  for (let i = 1; i < parts; i++) {
    const plus = rest.indexOf('+');
    if (plus < 0) throw malformedKey();
    fields.push(rest.slice(0, plus));
    rest = rest.slice(plus + 1);
  }
  return [...fields, rest];
}

function decodeKeyParts(name: string, id: string, key: string): { keyId: number; alg: number; material: Buffer } {
  const decoded = decodeBase64(key);
  if (!isValidName(name) || !/^[0-9a-fA-F]{8}$/.test(id) || decoded === null || decoded.length === 0) {
    throw malformedKey();
  }
  return { keyId: parseInt(id, 16), alg: decoded[0], material: decoded.subarray(1) };
}

function checkAlgorithm(alg: number, material: Buffer): void {
  if (alg !== ALG_ED25519) throw new LedgerError('LEDGER.KEY_UNKNOWN_ALGORITHM', `unknown key algorithm ${alg}`);
  if (material.length !== ED25519_SIZE) throw malformedKey();
}

function privateKeyFromSeed(seed: Buffer): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

function rawPublicKey(privateKey: KeyObject): Buffer {
  return createPublicKey(privateKey).export({ format: 'der', type: 'spki' }).subarray(SPKI_ED25519_PREFIX.length);
}

function publicKeyFromRaw(raw: Buffer): KeyObject {
  try {
    return createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, raw]), format: 'der', type: 'spki' });
  } catch {
    throw malformedKey();
  }
}

/** Non-empty, no Unicode white space, no '+': what keeps names unambiguous inside keys and signature lines. */
function isValidName(name: string): boolean {
  return name !== '' && !/[\p{White_Space}+]/u.test(name);
}

function checkName(name: string): void {
  if (!isValidName(name)) throw new LedgerError('LEDGER.KEY_MALFORMED', `invalid key name ${JSON.stringify(name)}`);
}

// Valid UTF-8 (no lone surrogates once encoded) and no ASCII control characters other than newline.
function isNoteText(s: string): boolean {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point: the spec forbids them
  return !/[\x00-\x09\x0b-\x1f]|\p{Surrogate}/u.test(s);
}

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw malformedNote('is not valid UTF-8');
  }
}

// Buffer.from(s, 'base64') skips junk and accepts missing padding; a signature or key must have one spelling only.
function decodeBase64(s: string): Buffer | null {
  const bytes = Buffer.from(s, 'base64');
  return bytes.toString('base64') === s ? bytes : null;
}

function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}

function malformedKey(): LedgerError {
  return new LedgerError('LEDGER.KEY_MALFORMED', 'malformed note key');
}

function keyIdMismatch(name: string): LedgerError {
  return new LedgerError('LEDGER.KEY_ID_MISMATCH', `key ID does not match the key for ${name}`);
}

function malformedNote(why: string): LedgerError {
  return new LedgerError('LEDGER.NOTE_MALFORMED', `malformed note: ${why}`);
}
