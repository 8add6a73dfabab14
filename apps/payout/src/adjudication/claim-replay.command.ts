/**
 * `npm run replay -- <claimId>`: re-adjudicates a decided claim from the inputs the ledger committed to and says
 * whether the decision comes out byte-identical.
 *
 * The ledger holds commitments, not data (no PHI on it, by design), so the inputs cannot be read from
 * /v1/ledger/entries. They are read from payout's database instead — the claim.submitted event as payout received
 * it, the claims.adjudicated event it produced, the contract, the stored decision — and none of them is trusted:
 * each event's leaf is recomputed and proven (RFC 9162 inclusion) against a checkpoint signed by the ledger key the
 * caller names, and the contract must hash to the id the proven decision names. Then the contract runs again on
 * that claim, policy and accumulators; the result's RFC 8785 bytes are compared with the stored decision and its
 * SHA-256 with the hash the ledger-proven event recorded.
 *
 * Prints one JSON line. Exit codes (as the verifier's): 0 identical, 1 different or not proven by the ledger,
 * 2 bad input (unknown or undecided claim, missing key), 3 database or ledger unreachable, 4 a bug.
 */
import { parseArgs } from 'node:util';
import { canonicalize } from 'json-canonicalize';
import { Client } from 'pg';
import { loadPayoutConfig } from '../payout.config';
import { ClaimAdjudicatedV1, ClaimSubmittedV1, CloudEvent, Topics } from '@claimchain/wire';
import {
  leafHashOfEvent,
  openNote,
  parseCheckpoint,
  parseLeafSalt,
  parseVerifierKey,
  verifyInclusion,
} from '@claimchain/ledger';
import { replayAdjudication, ReplayInputError, resultHashOf } from '../engine/replay';
import { Adjudication } from '../engine/adjudicate';
import { ContractDefinition } from '../engine/contract.definition';
import { AdjudicationPool } from '../adjudication-pool/adjudication.pool';

export const EXIT = { identical: 0, different: 1, input: 2, unreachable: 3, internal: 4 } as const;

const USAGE = 'usage: npm run replay -- <claimId> [--key <ledger verifier key>] [--ledger <url>] [--database <url>]';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

class InputError extends Error {}
class UnreachableError extends Error {}
class ContractNotRunError extends Error {}

export interface ReplayIo {
  env: NodeJS.ProcessEnv;
  stdout: { write(line: string): unknown };
  stderr: { write(line: string): unknown };
}

interface LedgerProof {
  eventId: string;
  leafIndex: number | null;
  verified: boolean;
  problem?: string;
}

export async function runReplay(argv: string[], io: ReplayIo): Promise<number> {
  const print = (o: object) => io.stdout.write(JSON.stringify(o) + '\n');
  try {
    const { positionals, values } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { key: { type: 'string' }, ledger: { type: 'string' }, database: { type: 'string' } },
    });
    const [claimId] = positionals;
    if (!claimId || !UUID.test(claimId) || positionals.length > 1) throw new InputError(USAGE);
    const config = loadPayoutConfig(io.env);
    const key = values.key ?? config.ledger.verifierKey;
    if (!key) throw new InputError(`the ledger's verifier key is needed: --key or LEDGER_VERIFIER_KEY\n${USAGE}`);
    const verifier = parseVerifierKey(key.trim());
    const inputs = await readInputs(values.database ?? config.databaseUrl, claimId);
    const ledgerUrl = values.ledger ?? config.ledger.url;
    const proofs = {
      claimSubmitted: await proveOnLedger(ledgerUrl, verifier, inputs.claimEvent, inputs.salts),
      claimAdjudicated: await proveOnLedger(ledgerUrl, verifier, inputs.adjudicatedEvent, inputs.salts),
    };
    // The contract runs on a worker thread with the service's per-claim timeout, as every decision does (ADR 17).
    const pool = new AdjudicationPool({ workers: 1, timeoutMs: config.adjudication.timeoutMs });
    const replayed = await replayAdjudication(
      {
        contractId: inputs.contract.id,
        insurerId: inputs.contract.definition.insurerId,
        name: inputs.contract.definition.name,
        version: inputs.contract.definition.version,
        definition: inputs.contract.definition as unknown as Record<string, unknown>,
        publishedAt: new Date(0).toISOString(),
      },
      inputs.claimEvent.data,
      inputs.adjudicatedEvent.data,
      async (contract, claim, coverage, review, algorithm) => {
        const outcome = await pool
          .adjudicate({
            contractId: inputs.contract.id,
            contract,
            claim,
            coverage,
            review: review ?? null,
            algorithm: algorithm!,
          })
          .finally(() => pool.close());
        if ('result' in outcome) return outcome.result;
        if ('refused' in outcome) throw new ReplayInputError(outcome.refused);
        throw new ContractNotRunError(`the contract did not decide the claim again (${outcome.unrun})`);
      },
    );
    const storedBytes = canonicalize(inputs.storedDecision);
    const recomputedBytes = canonicalize(replayed.result);
    const storedHash = resultHashOf(inputs.storedDecision);
    const recordedHash = inputs.adjudicatedEvent.data.replay!.resultHash;
    const proven = proofs.claimSubmitted.verified && proofs.claimAdjudicated.verified;
    const identical = storedBytes === recomputedBytes && recordedHash === replayed.resultHash && proven;
    print({
      result: identical ? 'identical' : 'different',
      claimId,
      storedHash,
      recomputedHash: replayed.resultHash,
      recordedHash,
      identical,
      bytesIdentical: storedBytes === recomputedBytes,
      ledger: proofs,
      decision: replayed.result.decision,
      payable: replayed.result.payable,
    });
    return identical ? EXIT.identical : EXIT.different;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof InputError || error instanceof ReplayInputError || isArgError(error)) {
      print({ result: 'input-error', message });
      return EXIT.input;
    }
    if (error instanceof ContractNotRunError) {
      print({ result: 'different', claimId: argv[0], message });
      return EXIT.different;
    }
    if (error instanceof UnreachableError) {
      print({ result: 'unreachable', message });
      return EXIT.unreachable;
    }
    io.stderr.write(`internal error: ${error instanceof Error ? (error.stack ?? message) : message}\n`);
    print({ result: 'internal-error', message });
    return EXIT.internal;
  }
}

const isArgError = (e: unknown) => e instanceof TypeError && 'code' in e && String(e.code).startsWith('ERR_PARSE_ARGS');

interface ReplayInputs {
  claimEvent: CloudEvent<ClaimSubmittedV1>;
  adjudicatedEvent: CloudEvent<ClaimAdjudicatedV1>;
  contract: { id: string; definition: ContractDefinition };
  storedDecision: Adjudication;
  /** The leaf salts payout kept of these events (ADR 16), by event id; none for v1 (unsalted) leaves. */
  salts: Map<string, string>;
}

/** Read-only: what payout stored about the claim's decision. */
async function readInputs(databaseUrl: string, claimId: string): Promise<ReplayInputs> {
  const db = new Client({ connectionString: databaseUrl });
  try {
    await db.connect();
  } catch (error) {
    throw new UnreachableError(`payout's database: ${String(error)}`);
  }
  try {
    const { rows } = await db.query<{
      submitted_event: CloudEvent<ClaimSubmittedV1> | null;
      stored: (Adjudication & { contractId?: string; verifiedEventId?: string }) | null;
      contract_id: string;
      definition: ContractDefinition;
    }>(
      `SELECT c.submitted_event, coalesce(r.result, a.result) AS stored, a.contract_id, k.definition
         FROM adjudications a
         JOIN claims c ON c.claim_id = a.claim_id
         JOIN contracts k ON k.id = a.contract_id
         LEFT JOIN review_decisions r ON r.claim_id = a.claim_id
        WHERE a.claim_id = $1`,
      [claimId],
    );
    const row = rows[0];
    if (!row) throw new InputError(`payout has no decision on claim ${claimId}`);
    if (!row.submitted_event) {
      throw new InputError(
        `payout did not keep the claim.submitted event of ${claimId} (received before replay existed)`,
      );
    }
    const events = await db.query<{ payload: CloudEvent<ClaimAdjudicatedV1> }>(
      `SELECT payload FROM outbox WHERE topic = $1 AND message_key = $2 ORDER BY seq DESC LIMIT 1`,
      [Topics.ClaimsAdjudicated, claimId],
    );
    const adjudicatedEvent = events.rows[0]?.payload;
    if (!adjudicatedEvent) throw new InputError(`claim ${claimId} has no final decision yet (pended or not decided)`);
    if (!adjudicatedEvent.data.replay)
      throw new ReplayInputError(`the decision on ${claimId} records no replay inputs`);
    // The stored row carries two keys beside the engine's result; the result itself is what was hashed.
    const { contractId: _c, verifiedEventId: _v, ...storedDecision } = row.stored!;
    const salts = await db.query<{ event_id: string; data_salt: string }>(
      `SELECT event_id::text, data_salt FROM event_salts WHERE event_id = ANY($1::uuid[])`,
      [[row.submitted_event!.id, adjudicatedEvent.id]],
    );
    return {
      claimEvent: row.submitted_event,
      adjudicatedEvent,
      contract: { id: row.contract_id.trim(), definition: row.definition },
      storedDecision: storedDecision as Adjudication,
      salts: new Map(salts.rows.map((r) => [r.event_id.toLowerCase(), r.data_salt])),
    };
  } finally {
    await db.end();
  }
}

/** The event's leaf, recomputed here, must be in the tree of a checkpoint the ledger key signed. */
async function proveOnLedger(
  ledgerUrl: string,
  verifier: ReturnType<typeof parseVerifierKey>,
  event: CloudEvent,
  salts: Map<string, string>,
): Promise<LedgerProof> {
  let res: Response;
  try {
    res = await fetch(`${ledgerUrl}/v1/ledger/events/${event.id}/receipt`, { signal: AbortSignal.timeout(10_000) });
  } catch (error) {
    throw new UnreachableError(`the ledger at ${ledgerUrl}: ${String(error)}`);
  }
  if (res.status === 404) return { eventId: event.id, leafIndex: null, verified: false, problem: 'not on the ledger' };
  if (!res.ok) throw new UnreachableError(`the ledger answered ${res.status} for event ${event.id}`);
  const r = (await res.json()) as { leafIndex: number; treeSize: number; inclusionProof: string[]; checkpoint: string };
  try {
    const checkpoint = parseCheckpoint(openNote(r.checkpoint, [verifier]).text);
    if (checkpoint.size !== r.treeSize) throw new Error(`checkpoint size ${checkpoint.size} ≠ ${r.treeSize}`);
    verifyInclusion(
      leafHashOfEvent(event, parseLeafSalt(salts.get(event.id.toLowerCase()))),
      r.leafIndex,
      r.treeSize,
      r.inclusionProof.map((h) => Buffer.from(h, 'base64')),
      checkpoint.root,
    );
    return { eventId: event.id, leafIndex: r.leafIndex, verified: true };
  } catch (error) {
    const problem = `the stored event does not match leaf ${r.leafIndex}: ${error instanceof Error ? error.message : String(error)}`;
    return { eventId: event.id, leafIndex: r.leafIndex, verified: false, problem };
  }
}

export { USAGE };
