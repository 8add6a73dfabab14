import { Topics } from '@claimchain/wire';
import { buildEvent } from './event-codec';
import { classifyFailure } from './failure';
import { EventTooLargeError, MAX_EVENT_BYTES, outboxInsert } from './outbox.writer';
import { generateNoteKey, parseSignerKey } from '@claimchain/ledger';
import { EventSigner } from './event-signature';

describe('outboxInsert', () => {
  const signer = new EventSigner(parseSignerKey(generateNoteKey('ledger-anchoring').signerKey));
  const checkpoint = (text: string) => ({
    topic: Topics.LedgerCheckpoints,
    event: buildEvent(Topics.LedgerCheckpoints, {
      source: 'test',
      subject: 'origin',
      data: { origin: 'origin', treeSize: 1, rootHash: `${'A'.repeat(43)}=`, checkpoint: text },
    }),
  });

  it('takes an event up to the size the broker accepts, counted in UTF-8 bytes', () => {
    const insert = outboxInsert([checkpoint('é'.repeat((MAX_EVENT_BYTES - 1000) / 2))], signer);
    expect(insert.params[0]).toEqual([Topics.LedgerCheckpoints]);
  });

  it('refuses an event larger than that, as a permanent failure a request answers with 413', () => {
    // Fewer UTF-16 units than MAX_EVENT_BYTES, more bytes: the bound is on what goes over the wire.
    const write = () => outboxInsert([checkpoint('x'), checkpoint('é'.repeat(MAX_EVENT_BYTES / 2 + 1))], signer);
    expect(write).toThrow(EventTooLargeError);
    expect(write).toThrow(/ledger\.checkpoints\.v1 event would be \d+ bytes/);
    const error = (() => {
      try {
        write();
      } catch (e) {
        return e;
      }
    })();
    expect(error).toMatchObject({ statusCode: 413 });
    expect(classifyFailure(error)).toBe('permanent');
  });
});
