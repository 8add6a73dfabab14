/**
 * What a ledger leaf commits to. The leaf bytes are the RFC 8785 (JCS) canonical JSON, UTF-8 encoded, of
 *
 *   { id, type, subject, time, source, tenantid, datahash }
 *
 * taken from the event's CloudEvents attributes, where `datahash` is the lowercase hex SHA-256 of the JCS of the
 * event's `data`. `tenantid` is omitted when absent (undefined or null: CloudEvents treats a null attribute as
 * absent, and two spellings of "no tenant" must not give two leaves).
 *
 * Why this shape: JCS makes the bytes independent of key order and number formatting, so anyone holding the event can
 * recompute the leaf in any language. Committing to a hash of `data` rather than `data` itself keeps leaves small and
 * lets an auditor check that an event is in the log without being shown a patient's claim payload. Transport details
 * (`specversion`, `datacontenttype`, `correlationid`, …) are left out: they can change without the fact changing.
 */
import { createHash } from 'node:crypto';
import { canonicalize } from 'json-canonicalize';
import { LedgerError } from './ledger.errors';
import { hashLeaf } from './rfc9162.hasher';

/** The parts of a CloudEvent the ledger commits to; a full `CloudEvent` satisfies it. */
export interface CommittableEvent {
  readonly id: string;
  readonly type: string;
  readonly subject: string;
  readonly time: string;
  readonly source: string;
  readonly tenantid?: string | null;
  readonly data: unknown;
}

export function leafCommitment(event: CommittableEvent): Buffer {
  const { id, type, subject, time, source, tenantid, data } = event;
  if (data === undefined) {
    throw new LedgerError('LEDGER.EVENT_NOT_COMMITTABLE', `event ${id} has no data to commit to`);
  }
  const datahash = createHash('sha256').update(jcs(data, id), 'utf8').digest('hex');
  const leaf =
    tenantid == null
      ? { id, type, subject, time, source, datahash }
      : { id, type, subject, time, source, tenantid, datahash };
  return Buffer.from(jcs(leaf, id), 'utf8');
}

export function leafHashOfEvent(event: CommittableEvent): Buffer {
  return hashLeaf(leafCommitment(event));
}

function jcs(value: unknown, eventId: string): string {
  try {
    return canonicalize(value);
  } catch (err) {
    // e.g. NaN or Infinity, which JSON (and so JCS) cannot represent.
    throw new LedgerError('LEDGER.EVENT_NOT_COMMITTABLE', `event ${eventId} is not JCS-serialisable: ${String(err)}`);
  }
}
