/**
 * What a ledger leaf commits to. The leaf bytes are the RFC 8785 (JCS) canonical JSON, UTF-8 encoded, of one of two
 * versions; the leaf itself says which (ADR 16):
 *
 *   v1 (unsalted, every leaf before salting):  { id, type, subject, time, source, tenantid, datahash }
 *       datahash = lowercase hex SHA-256(JCS(data))
 *   v2 (salted):                               { v: 2, id, type, subject, time, source, tenantid, datahash }
 *       datahash = lowercase hex HMAC-SHA256(key = salt, JCS(data)), salt = 32 secret bytes per event
 *
 * taken from the event's CloudEvents attributes. `tenantid` is omitted when absent (undefined or null: CloudEvents
 * treats a null attribute as absent, and two spellings of "no tenant" must not give two leaves).
 *
 * Why this shape: JCS makes the bytes independent of key order and number formatting, so anyone holding the event can
 * recompute the leaf in any language. Committing to a hash of `data` rather than `data` itself keeps leaves small and
 * lets an auditor check that an event is in the log without being shown a patient's claim payload. Transport details
 * (`specversion`, `datacontenttype`, `correlationid`, …) are left out: they can change without the fact changing.
 * An unsalted datahash can be confirmed offline by guessing the data (issue 14 item 10: a cancellation's claim id,
 * insurer and timestamp are public, only its free-text reason is not); v2's salt is kept off the public ledger and
 * handed only to the event's parties (the claim receipt), so without it no guess can be checked.
 */
import { createHash, createHmac } from 'node:crypto';
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

/** Bytes in a v2 leaf's salt. */
export const LEAF_SALT_BYTES = 32;

/** The leaf of `event`: v2 (salted) when a salt is given, else v1 (unsalted, as every leaf before salting). */
export function leafCommitment(event: CommittableEvent, salt?: Buffer | null): Buffer {
  const { id, type, subject, time, source, tenantid, data } = event;
  if (data === undefined) {
    throw new LedgerError('LEDGER.EVENT_NOT_COMMITTABLE', `event ${id} has no data to commit to`);
  }
  const tenant = tenantid == null ? {} : { tenantid };
  if (salt == null) {
    const datahash = createHash('sha256').update(jcs(data, id), 'utf8').digest('hex');
    return Buffer.from(jcs({ id, type, subject, time, source, ...tenant, datahash }, id), 'utf8');
  }
  if (salt.length !== LEAF_SALT_BYTES) {
    throw new LedgerError('LEDGER.EVENT_NOT_COMMITTABLE', `event ${id}: a leaf salt is ${LEAF_SALT_BYTES} bytes`);
  }
  const datahash = createHmac('sha256', salt).update(jcs(data, id), 'utf8').digest('hex');
  return Buffer.from(jcs({ v: 2, id, type, subject, time, source, ...tenant, datahash }, id), 'utf8');
}

export function leafHashOfEvent(event: CommittableEvent, salt?: Buffer | null): Buffer {
  return hashLeaf(leafCommitment(event, salt));
}

/**
 * The ledger's salt for an event: HMAC-SHA256(key, "claimchain/leaf-salt/v2\n" + lowercase event id). Deterministic,
 * so replaying every topic from offset 0 rebuilds a byte-identical log; secret, since only the ledger holds the key.
 */
export function leafSaltOf(key: Buffer, eventId: string): Buffer {
  return createHmac('sha256', key).update(`claimchain/leaf-salt/v2\n${eventId.toLowerCase()}`, 'utf8').digest();
}

/** The salt as carried in events and receipts (`dataSalt`: 64 lowercase hex digits), or null for a v1 leaf. */
export function parseLeafSalt(hex: string | null | undefined): Buffer | null {
  if (hex == null) return null;
  if (!/^[0-9a-f]{64}$/.test(hex)) {
    throw new LedgerError('LEDGER.EVENT_NOT_COMMITTABLE', 'a leaf salt is 64 lowercase hex digits');
  }
  return Buffer.from(hex, 'hex');
}

function jcs(value: unknown, eventId: string): string {
  try {
    return canonicalize(value);
  } catch (err) {
    // e.g. NaN or Infinity, which JSON (and so JCS) cannot represent.
    throw new LedgerError('LEDGER.EVENT_NOT_COMMITTABLE', `event ${eventId} is not JCS-serialisable: ${String(err)}`);
  }
}
