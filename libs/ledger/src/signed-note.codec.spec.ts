import { formatCheckpoint, parseCheckpoint } from './checkpoint.codec';
import {
  generateNoteKey,
  NoteVerifier,
  noteKeyId,
  openNote,
  parseSignerKey,
  parseVerifierKey,
  signNote,
} from './signed-note.codec';
import { emptyRoot } from './rfc9162.hasher';
import { noteVectors as go } from '../test/vectors';
import { codeOf } from '../test/ledger-error.outcome';

const peter = () => parseVerifierKey(go.verifierKey);
const enoch = () => parseVerifierKey(go.otherVerifierKey);
const signedByPeter = `${go.text}\n${go.signatureLine}`;
const signedByBoth = `${go.text}\n${go.signatureLine}${go.otherSignatureLine}`;

/** Every proper substring and every single-character increment of `key`, as the Go tests mangle keys. */
function manglings(key: string): string[] {
  const out: string[] = [];
  for (let i = 0; i <= key.length; i++) {
    for (let j = i + 1; j <= key.length; j++) if (i !== 0 || j !== key.length) out.push(key.slice(i, j));
  }
  for (let i = 0; i < key.length; i++) {
    out.push(key.slice(0, i) + String.fromCharCode(key.charCodeAt(i) + 1) + key.slice(i + 1));
  }
  return out;
}

describe(parseVerifierKey.name, () => {
  it('reads the sumdb verifier key', () => {
    expect(peter()).toMatchObject({ name: go.name, keyId: parseInt(go.keyId, 16) });
  });

  it('rejects every mangling of the sumdb verifier key', () => {
    const accepted = manglings(go.verifierKey).filter((k) => codeOf(() => parseVerifierKey(k)) === 'accepted');
    expect(accepted).toEqual([]);
  });

  it('rejects a key of the wrong length even when its key ID matches', () => {
    expect(codeOf(() => parseVerifierKey(go.badVerifierKeys[0].key))).toBe('LEDGER.KEY_MALFORMED');
  });

  it('rejects an unknown algorithm even when its key ID matches', () => {
    expect(codeOf(() => parseVerifierKey(go.badVerifierKeys[1].key))).toBe('LEDGER.KEY_UNKNOWN_ALGORITHM');
  });

  it('rejects a key whose ID does not match', () => {
    expect(codeOf(() => parseVerifierKey(go.verifierKey.replace('c74f20a3', 'c74f20a4')))).toBe(
      'LEDGER.KEY_ID_MISMATCH',
    );
  });
});

describe(parseSignerKey.name, () => {
  it('reads the sumdb signer key, with its verifier key', () => {
    expect(parseSignerKey(go.signerKey)).toMatchObject({
      name: go.name,
      keyId: parseInt(go.keyId, 16),
      verifierKey: go.verifierKey,
    });
  });

  it('rejects every mangling of the sumdb signer key', () => {
    const accepted = manglings(go.signerKey).filter((k) => codeOf(() => parseSignerKey(k)) === 'accepted');
    expect(accepted).toEqual([]);
  });
});

describe(generateNoteKey.name, () => {
  it('makes a signer and verifier that agree', () => {
    const { signerKey, verifierKey } = generateNoteKey('claimchain.example/ledger');
    const signer = parseSignerKey(signerKey);
    expect(signer.verifierKey).toBe(verifierKey);
    const note = signNote('hello\n', signer);
    expect(openNote(note, [parseVerifierKey(verifierKey)]).verifiedBy).toEqual(['claimchain.example/ledger']);
  });

  it('makes a different key each time', () => {
    expect(generateNoteKey('log').signerKey).not.toBe(generateNoteKey('log').signerKey);
  });

  it.each(['', 'two words', 'a+b'])('rejects the name %p', (name) => {
    expect(codeOf(() => generateNoteKey(name))).toBe('LEDGER.KEY_MALFORMED');
  });
});

describe(noteKeyId.name, () => {
  it('is the first four bytes of SHA-256(name, newline, algorithm, public key)', () => {
    const publicKey = Buffer.from(go.verifierKey.split('+')[2], 'base64');
    expect(noteKeyId(go.name, publicKey).toString(16)).toBe(go.keyId);
  });
});

describe(signNote.name, () => {
  it('reproduces the sumdb signature byte for byte', () => {
    expect(signNote(go.text, parseSignerKey(go.signerKey))).toBe(signedByPeter);
  });

  it.each([
    ['text without a final newline', 'abc'],
    ['text with a control character', 'a\tb\n'],
    ['text that is not valid Unicode', 'lone \ud800 surrogate\n'],
  ])('rejects %s', (_, text) => {
    expect(codeOf(() => signNote(text, parseSignerKey(go.signerKey)))).toBe('LEDGER.NOTE_MALFORMED');
  });
});

describe(openNote.name, () => {
  it('opens the sumdb note with its verifier', () => {
    expect(openNote(signedByPeter, [peter()])).toEqual({ text: go.text, verifiedBy: [go.name] });
  });

  it('opens a note given as UTF-8 bytes', () => {
    expect(openNote(Buffer.from(signedByPeter, 'utf8'), [peter()]).text).toBe(go.text);
  });

  it('ignores signatures by unknown keys', () => {
    expect(openNote(signedByBoth, [peter()]).verifiedBy).toEqual([go.name]);
  });

  it('reports every known key that signed', () => {
    expect(openNote(signedByBoth, [peter(), enoch()]).verifiedBy).toEqual([go.name, 'EnochRoot']);
  });

  it('counts a repeated signature once', () => {
    expect(openNote(`${go.text}\n${go.signatureLine}${go.signatureLine}`, [peter()]).verifiedBy).toEqual([go.name]);
  });

  it('rejects a note signed only by unknown keys', () => {
    expect(codeOf(() => openNote(signedByBoth, []))).toBe('LEDGER.NOTE_UNKNOWN_KEY');
  });

  it('rejects a note signed by another key of the same name', () => {
    const impostor = parseSignerKey(generateNoteKey(go.name).signerKey);
    expect(codeOf(() => openNote(signNote(go.text, impostor), [peter()]))).toBe('LEDGER.NOTE_UNKNOWN_KEY');
  });

  it('rejects a note whose body was modified after signing', () => {
    const modified = signedByPeter.replace('cryptography', 'cryptographY');
    expect(codeOf(() => openNote(modified, [peter()]))).toBe('LEDGER.NOTE_BAD_SIGNATURE');
  });

  it('rejects a note whose signature was modified', () => {
    const line = Buffer.from(go.signatureLine, 'utf8');
    // As the Go test does: splice "ABCD" into the base64 at byte 60, keeping it valid base64.
    const bad = Buffer.concat([
      Buffer.from(`${go.text}\n`),
      line.subarray(0, 60),
      Buffer.from('ABCD'),
      line.subarray(60),
    ]);
    expect(codeOf(() => openNote(bad, [peter()]))).toBe('LEDGER.NOTE_BAD_SIGNATURE');
  });

  it('rejects a note when two verifiers claim the signing key', () => {
    expect(codeOf(() => openNote(`${go.text}\n${go.otherSignatureLine}`, [enoch(), peter(), enoch()]))).toBe(
      'LEDGER.NOTE_AMBIGUOUS_KEY',
    );
  });

  it('ignores a duplicated verifier whose key did not sign', () => {
    expect(openNote(signedByPeter, [enoch(), peter(), enoch()]).verifiedBy).toEqual([go.name]);
  });

  it('rejects more than 100 signatures', () => {
    expect(codeOf(() => openNote(`${go.text}\n${go.signatureLine.repeat(101)}`, [peter()]))).toBe(
      'LEDGER.NOTE_MALFORMED',
    );
  });

  it.each([
    ['text alone', Buffer.from(go.text)],
    ['text and blank line', Buffer.from(`${go.text}\n`)],
    ['a signature without its newline', Buffer.from(`${go.text}\n${go.signatureLine.slice(0, -1)}`)],
    ['a control character', Buffer.from(`\x01${signedByPeter}`)],
    ['invalid UTF-8', Buffer.concat([Buffer.from([0xff]), Buffer.from(signedByPeter)])],
    ['a name with a space', Buffer.from(`${go.text}\n— Bad Name ${go.signatureLine.split(' ')[2]}`)],
    ['a line that is not a signature', Buffer.from(`${signedByPeter}Unexpected line.\n`)],
  ])('rejects a note with %s as malformed', (_, note) => {
    expect(codeOf(() => openNote(note, [peter()]))).toBe('LEDGER.NOTE_MALFORMED');
  });

  it('rejects a signature line whose base64 is not canonical', () => {
    const unpadded = signedByPeter.replace('AM=\n', 'AM\n');
    expect(codeOf(() => openNote(unpadded, [peter()]))).toBe('LEDGER.NOTE_MALFORMED');
  });

  it('round-trips a signed checkpoint', () => {
    const { signerKey, verifierKey } = generateNoteKey('claimchain.example/ledger');
    const checkpoint = { origin: 'claimchain.example/ledger', size: 0, root: emptyRoot() };
    const note = signNote(formatCheckpoint(checkpoint), parseSignerKey(signerKey));
    const verifiers: NoteVerifier[] = [parseVerifierKey(verifierKey)];
    expect(parseCheckpoint(openNote(note, verifiers).text)).toEqual({ ...checkpoint, extensions: [] });
  });

  it('rejects a checkpoint signed by another log key', () => {
    const ours = parseVerifierKey(generateNoteKey('claimchain.example/ledger').verifierKey);
    const theirs = parseSignerKey(generateNoteKey('claimchain.example/ledger').signerKey);
    const note = signNote(
      formatCheckpoint({ origin: 'claimchain.example/ledger', size: 0, root: emptyRoot() }),
      theirs,
    );
    expect(codeOf(() => openNote(note, [ours]))).toBe('LEDGER.NOTE_UNKNOWN_KEY');
  });
});
