import { createHash } from 'node:crypto';
import {
  applyDecorators,
  CallHandler,
  createParamDecorator,
  ExecutionContext,
  NestInterceptor,
  UseInterceptors,
} from '@nestjs/common';
import { ApiHeader } from '@nestjs/swagger';
import { canonicalize } from 'json-canonicalize';
import { map, Observable } from 'rxjs';
import { EntityManager, MigrationInterface, QueryRunner } from 'typeorm';
import { DomainError } from './domain-error';

/**
 * `Idempotency-Key` for every POST that creates something: the first request with a key stores its response in the
 * same transaction as what it created; a retry with the same key and body gets that response again, with a
 * different body a 422. Concurrent requests with one key serialise on the key's row, so exactly one creates.
 */
export const IDEMPOTENCY_HEADER = 'idempotency-key';

export interface StoredResponse<T> {
  status: number;
  body: T;
  replayed: boolean;
}

/** The reply to a create behind an Idempotency-Key: the stored status, `Location` if given, and
 * `Idempotent-Replayed: true` when a retry got the original answer. Returns the body to send. */
export function answerStored<T>(
  reply: { status(code: number): unknown; header(name: string, value: string): unknown },
  result: StoredResponse<T>,
  location?: string,
): T {
  reply.status(result.status);
  if (location) reply.header('location', location);
  if (result.replayed) reply.header('idempotent-replayed', 'true');
  return result.body;
}

/** The key's format: what clients generate (a UUID or similar opaque token). */
const KEY_PATTERN = /^[A-Za-z0-9_.:-]{8,128}$/;

export function requireIdempotencyKey(header: string | string[] | undefined): string {
  const key = Array.isArray(header) ? header[0] : header;
  if (!key || !KEY_PATTERN.test(key)) {
    throw new DomainError('IDEMPOTENCY.KEY_REQUIRED', 'invalid', 'An Idempotency-Key header is required', [
      { pointer: '/headers/idempotency-key', detail: '8 to 128 characters of A-Z a-z 0-9 _ . : -' },
    ]);
  }
  return key;
}

/** A handler parameter: the request's Idempotency-Key, checked (400 `IDEMPOTENCY.KEY_REQUIRED` before anything else). */
export const IdempotencyKey = createParamDecorator((_: unknown, ctx: ExecutionContext): string =>
  requireIdempotencyKey(
    ctx.switchToHttp().getRequest<{ headers: Record<string, string | string[] | undefined> }>().headers[
      IDEMPOTENCY_HEADER
    ],
  ),
);

/**
 * Every create behind an Idempotency-Key, in one place: documents the header, and answers the `StoredResponse` the
 * handler returns with its stored status, `Location: locationOf(body)` when given, and `Idempotent-Replayed`. The
 * handler takes the key with `@IdempotencyKey()` and returns what `oncePerKey` gave it.
 */
export function IdempotentCreate<T>(keyDescription: string, locationOf?: (body: T) => string): MethodDecorator {
  return applyDecorators(
    ApiHeader({ name: 'Idempotency-Key', required: true, description: keyDescription }),
    UseInterceptors(new StoredResponseInterceptor(locationOf)),
  );
}

class StoredResponseInterceptor<T> implements NestInterceptor<StoredResponse<T>, T> {
  constructor(private readonly locationOf?: (body: T) => string) {}

  intercept(ctx: ExecutionContext, next: CallHandler<StoredResponse<T>>): Observable<T> {
    const reply = ctx.switchToHttp().getResponse<Parameters<typeof answerStored>[0]>();
    return next.handle().pipe(map((result) => answerStored(reply, result, this.locationOf?.(result.body))));
  }
}

/** SHA-256 of the request body's canonical JSON (RFC 8785): equal for equal requests whatever the key order. */
export function requestFingerprint(body: unknown): string {
  return createHash('sha256')
    .update(canonicalize(body ?? null))
    .digest('hex');
}

/**
 * Runs `create` at most once per (scope, key), inside `em`'s transaction. `scope` is the caller (tenant) plus the
 * operation, so two tenants never collide on a key.
 */
export async function oncePerKey<T>(
  em: EntityManager,
  scope: string,
  key: string,
  requestBody: unknown,
  create: () => Promise<{ status: number; body: T }>,
): Promise<StoredResponse<T>> {
  const hash = requestFingerprint(requestBody);
  // Blocks behind a concurrent transaction holding the same key until it commits, then sees its row.
  const claimed: unknown[] = await em.query(
    `INSERT INTO idempotency_keys (scope, key, request_hash) VALUES ($1, $2, $3)
     ON CONFLICT (scope, key) DO NOTHING RETURNING key`,
    [scope, key, hash],
  );
  if (claimed.length === 0) {
    const [row]: { request_hash: string; status: number; body: T }[] = await em.query(
      `SELECT request_hash, status, body FROM idempotency_keys WHERE scope = $1 AND key = $2`,
      [scope, key],
    );
    if (row.request_hash !== hash) {
      throw new DomainError(
        'IDEMPOTENCY.KEY_REUSED',
        'unprocessable',
        'This Idempotency-Key was used with a different request body',
        [{ pointer: '/headers/idempotency-key', detail: 'use a new key for a different request' }],
      );
    }
    return { status: row.status, body: row.body, replayed: true };
  }
  const response = await create();
  await em.query(`UPDATE idempotency_keys SET status = $3, body = $4::jsonb WHERE scope = $1 AND key = $2`, [
    scope,
    key,
    response.status,
    JSON.stringify(response.body),
  ]);
  return { ...response, replayed: false };
}

/** The table behind oncePerKey; services that take Idempotency-Key list this migration. */
export class IdempotencyKeys1732400000010 implements MigrationInterface {
  name = 'IdempotencyKeys1732400000010';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE idempotency_keys (
        scope        text NOT NULL,
        key          text NOT NULL,
        request_hash char(64) NOT NULL,
        status       int,
        body         jsonb,
        created_at   timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (scope, key)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE idempotency_keys`);
  }
}

/** Idempotency-Keys are read by when they were first used: the retention pruner's index. */
export class IdempotencyKeysCreatedAt1733400000010 implements MigrationInterface {
  name = 'IdempotencyKeysCreatedAt1733400000010';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX idempotency_keys_created_at`);
  }
}

/**
 * A key is honoured for `keepMs` after its first use, then pruned (messaging's RetentionPruner runs this rule): a
 * retry after that is a new request. claim-intake still refuses a second claim for the same service
 * (CLAIM.DUPLICATE), so a late retry cannot claim twice.
 */
export function idempotencyKeysRetention(keepMs: number): {
  name: string;
  table: string;
  column: string;
  keepMs: number;
} {
  return { name: 'idempotency-keys', table: 'idempotency_keys', column: 'created_at', keepMs };
}

/**
 * The same contract as oncePerKey for many requests at once (group commit): claim every key in one statement, in a
 * fixed order so concurrent batches cannot deadlock on each other's keys. Returns the keys this transaction claimed;
 * the others were already used, and `storedResponses` says with what. Each key is stored with the response its
 * request will get if it succeeds (one write, no update after); a request that is refused must `releaseKeys`.
 *
 * `lock` names a transaction-scoped advisory lock to take once the row's key is claimed, for a caller that also
 * serialises on something else (claim intake: the patient). The same statement takes them, after every key and in
 * the order of their lock ids; so every batch locks keys first, then these, each in one global order, and two
 * batches cannot wait on each other in a cycle.
 */
export async function claimKeys(
  em: EntityManager,
  rows: readonly {
    scope: string;
    key: string;
    body: unknown;
    response: { status: number; body: unknown };
    lock?: string;
  }[],
): Promise<Set<string>> {
  const sorted = [...rows].sort((a, b) => (a.scope + '\0' + a.key < b.scope + '\0' + b.key ? -1 : 1));
  // `locked` sorts the claimed rows before it takes a lock, so every key is claimed before the first lock.
  const claimed: { scope: string; key: string }[] = await em.query(
    `WITH claimed AS (
       INSERT INTO idempotency_keys (scope, key, request_hash, status, body)
       SELECT s, k, h, st, b::jsonb FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::text[]) AS t(s, k, h, st, b)
       ON CONFLICT (scope, key) DO NOTHING RETURNING scope, key
     ), locked AS (
       SELECT count(pg_advisory_xact_lock(id)) FROM (
         SELECT DISTINCT hashtext(t.lock) AS id
           FROM unnest($1::text[], $2::text[], $6::text[]) AS t(s, k, lock) JOIN claimed c ON c.scope = t.s AND c.key = t.k
          WHERE t.lock IS NOT NULL
          ORDER BY id
       ) ids
     )
     SELECT scope, key FROM claimed, locked`,
    [
      sorted.map((r) => r.scope),
      sorted.map((r) => r.key),
      sorted.map((r) => requestFingerprint(r.body)),
      sorted.map((r) => r.response.status),
      sorted.map((r) => JSON.stringify(r.response.body)),
      sorted.map((r) => r.lock ?? null),
    ],
  );
  return new Set(claimed.map((c) => `${c.scope}\0${c.key}`));
}

export async function storedResponses<T>(
  em: EntityManager,
  keys: readonly { scope: string; key: string }[],
): Promise<Map<string, { requestHash: string; status: number; body: T }>> {
  if (keys.length === 0) return new Map();
  const rows: { scope: string; key: string; request_hash: string; status: number; body: T }[] = await em.query(
    `SELECT k.scope, k.key, k.request_hash, k.status, k.body
       FROM idempotency_keys k JOIN unnest($1::text[], $2::text[]) AS r(scope, key) USING (scope, key)`,
    [keys.map((k) => k.scope), keys.map((k) => k.key)],
  );
  return new Map(
    rows.map((r) => [`${r.scope}\0${r.key}`, { requestHash: r.request_hash, status: r.status, body: r.body }]),
  );
}

/** Gives keys back when their request failed, so a retry is evaluated afresh (as oncePerKey's rollback does). */
export async function releaseKeys(em: EntityManager, keys: readonly { scope: string; key: string }[]): Promise<void> {
  if (keys.length === 0) return;
  await em.query(
    `DELETE FROM idempotency_keys k USING unnest($1::text[], $2::text[]) AS r(scope, key)
      WHERE k.scope = r.scope AND k.key = r.key`,
    [keys.map((k) => k.scope), keys.map((k) => k.key)],
  );
}

/** Whether a replayed request carries the same body as the one that used the key first. */
export function sameRequest(requestHash: string, body: unknown): boolean {
  return requestHash === requestFingerprint(body);
}
