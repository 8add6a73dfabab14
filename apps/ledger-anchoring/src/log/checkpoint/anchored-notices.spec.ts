import { AnchoredEntry, EventCatalog, Topics } from '@claimchain/wire';
import { MAX_EVENT_BYTES } from '@claimchain/messaging';
import { anchoredNotices, NOTICE_ENTRY_BYTES } from './checkpoint.service';

const hash = (i: number) => Buffer.alloc(32, i % 256).toString('base64');
const checkpoint = { origin: 'claimchain.test/log', treeSize: 1_000_000, rootHash: hash(7), checkpoint: 'note' };

/** An entry as the checkpointer makes it at a tree of a million leaves: a 20-hash proof and a salt. */
function entry(i: number): AnchoredEntry {
  return {
    eventId: `0190f0e0-0000-7000-8000-${String(i).padStart(12, '0')}`,
    eventType: 'treatment.verified',
    eventSubject: `0190f0e1-0000-7000-8000-${String(i % 97).padStart(12, '0')}`,
    leafIndex: i,
    leafHash: hash(i),
    inclusionProof: Array.from({ length: 20 }, (_, k) => hash(i + k)),
    dataSalt: 'ab'.repeat(32),
  };
}

describe('anchoredNotices', () => {
  it('announces a small checkpoint in one notice listing every entry, in order, with the note once', () => {
    const entries = Array.from({ length: 5 }, (_, i) => entry(i));
    const notices = anchoredNotices(checkpoint, entries);
    expect(notices).toHaveLength(1);
    const [{ topic, event }] = notices;
    expect(topic).toBe(Topics.LedgerAnchored);
    expect(event.data).toEqual({ ...checkpoint, part: 1, parts: 1, entries });
    expect(EventCatalog[Topics.LedgerAnchored].schema.safeParse(event.data).success).toBe(true);
  });

  it('cuts a large checkpoint into parts well under the event size limit, each naming its checkpoint and part', () => {
    const entries = Array.from({ length: 2_000 }, (_, i) => entry(i));
    const notices = anchoredNotices(checkpoint, entries);
    expect(notices.length).toBeGreaterThan(1);
    const parts = notices.map((n) => n.event.data as { part: number; parts: number; entries: AnchoredEntry[] });
    expect(parts.map((p) => p.part)).toEqual(notices.map((_, i) => i + 1));
    expect(new Set(parts.map((p) => p.parts))).toEqual(new Set([notices.length]));
    // Every entry exactly once, in leaf order, across the parts; each part with the checkpoint.
    expect(parts.flatMap((p) => p.entries)).toEqual(entries);
    for (const { event } of notices) {
      expect(event.data).toMatchObject(checkpoint);
      expect(Buffer.byteLength(JSON.stringify(event))).toBeLessThan(NOTICE_ENTRY_BYTES + 4096);
      expect(Buffer.byteLength(JSON.stringify(event))).toBeLessThan(MAX_EVENT_BYTES / 3);
    }
    // Distinct keys, so a large checkpoint's parts spread over the partitions.
    expect(new Set(notices.map((n) => n.event.subject)).size).toBe(notices.length);
  });

  it('puts an entry larger than a part alone in its part rather than dropping it', () => {
    const notices = anchoredNotices(checkpoint, [entry(1), entry(2), entry(3)], 10);
    expect(notices.map((n) => (n.event.data as { entries: AnchoredEntry[] }).entries.length)).toEqual([1, 1, 1]);
  });
});
