import { canonicalize } from 'json-canonicalize';
import { DataSource, EntityManager } from 'typeorm';
import { v4 as uuidv4, v7 as uuidv7 } from 'uuid';
import { ClaimAdjudicatedV1, ClaimSubmittedV1, CloudEvent, Topics, TreatmentVerifiedV1 } from '@claimchain/wire';
import {
  consistencyProof,
  formatCheckpoint,
  generateNoteKey,
  hashLeaf,
  inclusionProof,
  leafHashOfEvent,
  parseSignerKey,
  rootHash,
  signNote,
} from '@claimchain/ledger';
import { buildEvent, classifyFailure, EventContext, PermanentEventError } from '@claimchain/messaging';
import { migratedDataSource, testOutboxWriter } from '@claimchain/testing';
import { dataSourceOptions } from '../persistence/data-source.options';
import { AdjudicationRepository } from './adjudication.repository';
import { ContractRepository } from '../contracts/contract.repository';
import { PolicyRepository } from '../policies/policy.repository';
import { ReviewRepository } from '../reviews/review.repository';
import { LedgerTrustRepository } from '../ledger-trust/ledger-trust.repository';
import { AdjudicateClaimService } from './adjudicate-claim.service';
import { DecideWithdrawalService } from './decide-withdrawal.service';
import { DecideCancellationService } from './decide-cancellation.service';
import { PayoutTriggersConsumer } from './payout-triggers.consumer';
import { HeldClaimsHttpController } from './held-claims.http.controller';
import { anchoredNotices } from '../../../ledger-anchoring/src/log/checkpoint/checkpoint.service';
import { AdjudicationPool } from '../adjudication-pool/adjudication.pool';
import { DecideReviewService } from '../reviews/decide-review/decide-review.service';
import {
  LedgerCircuitBreakerService,
  LedgerCircuitOpenError,
  LedgerProofInvalidError,
  UnprovenAnchorError,
} from '../ledger-trust/ledger-circuit-breaker.service';
import { LedgerProofSource, LedgerUnreachableError } from '../ledger-trust/ledger-proof.source';
import { InMemorySubtreeStore } from '../../../../libs/ledger/test/in-memory-subtree.store';
import { CONTRACT_LIMITS, ContractDefinition, contractIdOf, DEMO_CONTRACT } from '../engine/contract.definition';
import { Adjudication, adjudicate } from '../engine/adjudicate';
import { replayAdjudication } from '../engine/replay';
import { contractSettings } from '../contracts/contract-settings.module';
import { ContractSeederService } from '../contracts/contract-seeder.service';
import { PublishContractService } from '../contracts/publish-contract/publish-contract.service';
import { BacktestContractService } from '../contracts/backtest-contract/backtest-contract.service';
import { BacktestSampleRepository } from '../contracts/backtest-contract/backtest-sample.repository';
import { RemittanceReader } from '../remittance/remittance.reader';
import { RemittanceRepository } from '../remittance/remittance.repository';
import { toClaimResponse } from '../remittance/claim-response.mapper';
import { ContractPeriod } from '../contracts/contract-state';

const CPT = 'http://www.ama-assn.org/go/cpt';
const INSURER = 'insurer-race';
const PROVIDER = 'clinic-race';
const MEMBER = 'd'.repeat(64);

/** 100.00 a plan year, no deductible or coinsurance: a claim's benefit is its net until the limit runs out. */
const CONTRACT: ContractDefinition = {
  insurerId: INSURER,
  name: 'race',
  version: '1',
  parameters: {
    currency: 'EUR',
    coinsurancePercent: 0,
    annualLimit: '100.00',
    excludedCodes: [],
    perCodeLimits: [{ code: `${CPT}|REVIEW`, maxAmount: '1.00', action: 'pend' }],
  },
  rules: [
    {
      name: 'covered',
      conditions: { all: [{ fact: 'quantity', operator: 'greaterThan', value: 0 }] },
      event: { type: 'pay-line' },
    },
  ],
};
const CONTRACT_ID = contractIdOf(CONTRACT);

describe(`${AdjudicateClaimService.name} on the real Postgres`, () => {
  let ds: DataSource;
  const adjudicationRepo = new AdjudicationRepository();
  const contractRepo = new ContractRepository();
  const policyRepo = new PolicyRepository();
  const reviewRepo = new ReviewRepository();
  const ledgerTrustRepo = new LedgerTrustRepository();
  let service: AdjudicateClaimService;
  let breaker: LedgerCircuitBreakerService;
  const pool = new AdjudicationPool({ workers: 2, timeoutMs: 5000 });
  const signer = parseSignerKey(generateNoteKey('claimchain.int/payout').signerKey);

  /** The log payout checks, a real RFC 9162 tree; a test may swap in a rewritten history. */
  const honestLog = new InMemorySubtreeStore();
  let log = honestLog;
  let ledgerReachable = true;
  const b64 = (h: Buffer) => h.toString('base64');
  const proofs: LedgerProofSource = {
    consistencyProof: async (from, to) => {
      if (!ledgerReachable) throw new LedgerUnreachableError('ledger unreachable (test)');
      return (await consistencyProof(log, from, to)).map(b64);
    },
  };

  /** A log of `size` leaves none of which the honest log has: another history. */
  function rewrittenLog(size: number): InMemorySubtreeStore {
    const other = new InMemorySubtreeStore();
    other.append(Array.from({ length: size }, (_, i) => hashLeaf(Buffer.from(`rewritten ${i}`))));
    return other;
  }

  /**
   * A signed checkpoint proving the leaf, as the ledger anchors it: a filler and then the claim's leaf are appended
   * to the log (so no two claims share a checkpoint) and the checkpoint covers the log right after them.
   * `tamper` breaks the inclusion proof.
   */
  async function anchorOf(leaf: Buffer, tamper: boolean) {
    log.append([hashLeaf(Buffer.from(`filler ${log.size}`)), leaf]);
    const size = log.size;
    const root = await rootHash(log, size);
    const proof = await inclusionProof(log, size - 1, size);
    if (tamper) proof[0] = leaf;
    return {
      leafIndex: size - 1,
      leafHash: b64(leaf),
      treeSize: size,
      rootHash: b64(root),
      inclusionProof: proof.map(b64),
      checkpoint: signNote(formatCheckpoint({ origin: 'claimchain.int/payout', size, root }), signer),
    };
  }

  const submittedClaims = new Map<string, ClaimSubmittedV1>();

  /**
   * What the consumers would have stored for a claim: the claim, its verification and the anchors of both (the
   * submission's only with `anchorSubmission`, see ADR 18).
   */
  async function pendingClaim(
    coverage: string,
    net: string,
    code = '99213',
    tamper = false,
    anchorSubmission = true,
    lines = 1,
    attestationHash?: string,
  ): Promise<string> {
    const claimId = uuidv4();
    const verification: CloudEvent<TreatmentVerifiedV1> = buildEvent(Topics.TreatmentsVerified, {
      source: 'test/payout-race',
      subject: claimId,
      data: {
        claimId,
        confirmationId: uuidv4(),
        providerId: PROVIDER,
        items: [{ sequence: 1, system: CPT, code, quantity: 1, performedAt: '2026-06-01' }],
        verifiedAt: new Date().toISOString(),
        ...(attestationHash ? { attestationHash } : {}),
      },
    });
    const submitted: ClaimSubmittedV1 = {
      claimId,
      insurerId: INSURER,
      providerId: PROVIDER,
      patientPseudonym: MEMBER,
      coverage,
      currency: 'EUR',
      total: net,
      items: Array.from({ length: lines }, (_, i) => ({
        sequence: i + 1,
        system: CPT,
        code,
        servicedDate: '2026-06-01',
        quantity: 1,
        unitPrice: net,
        net,
      })),
      submittedAt: new Date().toISOString(),
    };
    submittedClaims.set(claimId, submitted);
    const claim = buildEvent(Topics.ClaimsSubmitted, { source: 'test/payout-race', subject: claimId, data: submitted });
    const claimAnchor = anchorSubmission ? [await submissionAnchorOf(claim)] : [];
    const anchor = await anchorOf(leafHashOfEvent(verification), tamper);
    await ds.transaction((em) =>
      adjudicationRepo.rememberFacts(em, {
        claims: [claim],
        verifications: [verification],
        anchors: [
          ...claimAnchor,
          { eventId: verification.id, eventType: 'treatment.verified', eventSubject: claimId, ...anchor },
        ],
      }),
    );
    return claimId;
  }

  /** The ledger's anchor of a claim's submission; of `anchored` (another event) when given, under the claim's id. */
  async function submissionAnchorOf(claim: CloudEvent, anchored: CloudEvent = claim) {
    const anchor = await anchorOf(leafHashOfEvent(anchored), false);
    return { eventId: claim.id, eventType: 'claim.submitted', eventSubject: claim.subject, ...anchor };
  }

  /** A policy (on `contractId`) whose 2026 plan year has `benefitPaid` of its 100.00 limit used already. */
  async function policy(benefitPaid: string, contractId = CONTRACT_ID): Promise<{ id: string; coverage: string }> {
    const id = uuidv7();
    const coverage = `cov-${id}`;
    await ds.transaction(async (em) => {
      await policyRepo.insertPolicy(em, {
        id,
        insurerId: INSURER,
        coverageId: coverage,
        contractId,
        memberPseudonym: MEMBER,
        start: '2026-01-01',
        end: '2026-12-31',
      });
      await policyRepo.saveAccumulators(em, id, { '2026-01-01': { deductibleMet: '0.00', benefitPaid } });
    });
    return { id, coverage };
  }

  /** As the consumers run it: in its own transaction, under the claim's lock. */
  const trigger = (claimId: string) =>
    ds.transaction(async (em: EntityManager) => {
      await adjudicationRepo.lockClaim(em, claimId);
      await service.tryAdjudicate(em, claimId);
    });

  const paidFor = async (claimIds: string[]): Promise<string> =>
    (
      await ds.query(
        `SELECT coalesce(sum(amount), 0)::numeric(17,2)::text AS s FROM payouts WHERE claim_id = ANY($1)`,
        [claimIds],
      )
    )[0].s;

  const benefitPaid = async (policyId: string): Promise<string> =>
    (await policyRepo.accumulators(ds.manager, policyId))[0].benefitPaid;

  beforeAll(async () => {
    ds = await migratedDataSource(
      `${process.env.DATABASE_PREFIX ?? 'claimchain_test'}_payout_race`,
      dataSourceOptions(''),
    );
    await ds.transaction((em) => contractRepo.insertContract(em, { id: CONTRACT_ID, definition: CONTRACT }));
    breaker = new LedgerCircuitBreakerService(ds, ledgerTrustRepo, proofs, []);
    service = new AdjudicateClaimService(
      adjudicationRepo,
      contractRepo,
      policyRepo,
      testOutboxWriter('payout'),
      breaker,
      contractSettings(false),
      pool,
    );
  });

  afterAll(async () => {
    await pool.close();
    await ds?.destroy();
  });

  it('lets only one of two racing claims spend the last of an annual limit', async () => {
    // Ten policies with 40.00 left, two 30.00 claims each, all twenty adjudicated at once.
    const pairs = await Promise.all(
      Array.from({ length: 10 }, async () => {
        const p = await policy('60.00');
        return {
          policy: p,
          claims: [await pendingClaim(p.coverage, '30.00'), await pendingClaim(p.coverage, '30.00')],
        };
      }),
    );
    await Promise.all(pairs.flatMap((pair) => pair.claims.map(trigger)));

    for (const { policy: p, claims } of pairs) {
      expect(await paidFor(claims)).toBe('40.00');
      expect(await benefitPaid(p.id)).toBe('100.00');
      const decisions: { decision: string; payable: string }[] = await ds.query(
        `SELECT decision, payable::text FROM adjudications WHERE claim_id = ANY($1) ORDER BY payable DESC`,
        [claims],
      );
      expect(decisions).toEqual([
        { decision: 'approved', payable: '30.00' },
        { decision: 'partial', payable: '10.00' },
      ]);
    }
  });

  it('replays every stored decision from its recorded inputs to the same canonical JSON', async () => {
    const rows: { claim_id: string; result: Adjudication & { contractId: string; verifiedEventId: string } }[] =
      await ds.query(`SELECT claim_id, result FROM adjudications`);
    expect(rows.length).toBeGreaterThan(0);
    for (const { claim_id, result } of rows) {
      const { contractId: _c, verifiedEventId: _v, ...stored } = result;
      const [pending] = await ds.query(
        `SELECT provider_id, currency, patient_pseudonym, items FROM claims WHERE claim_id = $1`,
        [claim_id],
      );
      const policy = (await policyRepo.findPolicy(ds.manager, result.policyId!))!;
      const replayed = await adjudicate(
        CONTRACT,
        {
          providerId: pending.provider_id,
          currency: pending.currency,
          patientPseudonym: pending.patient_pseudonym,
          items: pending.items,
        },
        {
          policy: {
            id: policy.id,
            contractId: policy.contractId,
            memberPseudonym: policy.memberPseudonym,
            start: policy.start,
            end: policy.end,
          },
          accumulators: result.accumulators.before,
        },
      );
      expect(canonicalize(replayed)).toBe(canonicalize(stored));
    }
  });

  it('replays each announced decision from the claim, contract and decision events alone', async () => {
    const rows: { payload: CloudEvent<ClaimAdjudicatedV1> }[] = await ds.query(
      `SELECT payload FROM outbox WHERE topic = $1`,
      [Topics.ClaimsAdjudicated],
    );
    expect(rows.length).toBeGreaterThan(0);
    const published = {
      contractId: CONTRACT_ID,
      insurerId: INSURER,
      name: CONTRACT.name,
      version: CONTRACT.version,
      definition: CONTRACT as unknown as Record<string, unknown>,
      publishedAt: new Date().toISOString(),
    };
    for (const { payload } of rows) {
      const claim = submittedClaims.get(payload.subject)!;
      expect((await replayAdjudication(published, claim, payload.data)).matches).toBe(true);
      // A decision that claims other starting accumulators no longer replays to its hash.
      const year = Object.keys(payload.data.replay!.accumulatorsBefore)[0];
      const tampered = structuredClone(payload.data);
      tampered.replay!.accumulatorsBefore[year] = { deductibleMet: '0.00', benefitPaid: '1.00' };
      expect((await replayAdjudication(published, claim, tampered)).matches).toBe(false);
    }
  });

  it('decides claims on one policy in one batch as it would one after another, and pays none twice on a redelivery', async () => {
    // 40.00 left on the policy; three 30.00 claims in one batch (one transaction), as a consumer batch hands them.
    const p = await policy('60.00');
    const claims = [
      await pendingClaim(p.coverage, '30.00'),
      await pendingClaim(p.coverage, '30.00'),
      await pendingClaim(p.coverage, '30.00'),
    ];
    const batch = () =>
      ds.transaction(async (em: EntityManager) => {
        await adjudicationRepo.lockClaims(em, claims);
        await service.tryAdjudicateMany(em, claims);
      });
    await batch();
    expect(await paidFor(claims)).toBe('40.00');
    expect(await benefitPaid(p.id)).toBe('100.00');
    const payables: { payable: string }[] = await ds.query(
      `SELECT payable::text FROM adjudications WHERE claim_id = ANY($1) ORDER BY payable DESC`,
      [claims],
    );
    expect(payables.map((r) => r.payable)).toEqual(['30.00', '10.00', '0.00']);
    await batch(); // the same batch again, as after a crash before the offsets were committed
    expect(await paidFor(claims)).toBe('40.00');
    const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM outbox WHERE message_key = ANY($1) AND topic = $2`, [
      claims,
      Topics.ClaimsAdjudicated,
    ]);
    expect(n).toBe(3);
  });

  it('pends a claim with more lines than a contract decides at once, and pays the rest of its batch', async () => {
    const p = await policy('0.00');
    const tooLong = await pendingClaim(p.coverage, '1.00', '99213', false, true, CONTRACT_LIMITS.maxClaimLines + 1);
    const normal = await pendingClaim(p.coverage, '30.00');
    await ds.transaction(async (em: EntityManager) => {
      await adjudicationRepo.lockClaims(em, [tooLong, normal]);
      await service.tryAdjudicateMany(em, [tooLong, normal]);
    });
    const rows: { claim_id: string; decision: string; result: Adjudication }[] = await ds.query(
      `SELECT claim_id, decision, result FROM adjudications WHERE claim_id = ANY($1)`,
      [[tooLong, normal]],
    );
    const of = (id: string) => rows.find((r) => r.claim_id === id)!;
    expect(of(tooLong).decision).toBe('pended');
    expect(new Set(of(tooLong).result.lines.flatMap((l) => l.pendReasons))).toEqual(
      new Set(['claim-lines-over-limit']),
    );
    expect(of(tooLong).result.lines).toHaveLength(CONTRACT_LIMITS.maxClaimLines + 1);
    expect(of(normal).decision).toBe('approved');
    expect(await paidFor([tooLong, normal])).toBe('30.00');
    // The pended claim consumed nothing of the policy.
    expect(await benefitPaid(p.id)).toBe('30.00');
  });

  it('adjudicates and pays a claim once however often it is triggered', async () => {
    const p = await policy('0.00');
    const claimId = await pendingClaim(p.coverage, '25.00');
    await Promise.all([trigger(claimId), trigger(claimId), trigger(claimId)]);
    await trigger(claimId);
    expect(await paidFor([claimId])).toBe('25.00');
    expect(await benefitPaid(p.id)).toBe('25.00');
    const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM outbox WHERE message_key = $1 AND topic = $2`, [
      claimId,
      Topics.PayoutsReleased,
    ]);
    expect(n).toBe(1);
  });

  it('stores the full result and announces the decision in the same transaction as the payout', async () => {
    const p = await policy('90.00');
    const claimId = await pendingClaim(p.coverage, '30.00');
    await trigger(claimId);
    const [row] = await ds.query(`SELECT policy_id, result FROM adjudications WHERE claim_id = $1`, [claimId]);
    expect(row.policy_id).toBe(p.id);
    expect(row.result).toMatchObject({
      contractId: CONTRACT_ID,
      policyId: p.id,
      decision: 'partial',
      payable: '10.00',
      accumulators: {
        before: { '2026-01-01': { benefitPaid: '90.00' } },
        after: { '2026-01-01': { benefitPaid: '100.00' } },
      },
    });
    expect(row.result.lines[0].adjustments).toEqual([{ reason: 'CO-119', amount: '20.00' }]);
    const topics: { topic: string }[] = await ds.query(`SELECT topic FROM outbox WHERE message_key = $1 ORDER BY seq`, [
      claimId,
    ]);
    expect(topics.map((t) => t.topic)).toEqual([Topics.ClaimsAdjudicated, Topics.PayoutsReleased]);
  });

  it('pays nothing and spends no limit when the policy is used up', async () => {
    const p = await policy('100.00');
    const claimId = await pendingClaim(p.coverage, '30.00');
    await trigger(claimId);
    expect(await paidFor([claimId])).toBe('0.00');
    const [{ decision }] = await ds.query(`SELECT decision FROM adjudications WHERE claim_id = $1`, [claimId]);
    expect(decision).toBe('denied');
    expect(await benefitPaid(p.id)).toBe('100.00');
  });

  it('denies a claim on a coverage with no policy (CO-31), even with a contract of its insurer, and pays nothing', async () => {
    const claimId = await pendingClaim(`cov-unenrolled-${uuidv4()}`, '30.00');
    await trigger(claimId);
    expect(await paidFor([claimId])).toBe('0.00');
    const [row] = await ds.query(`SELECT contract_id, decision, payable::text FROM adjudications WHERE claim_id = $1`, [
      claimId,
    ]);
    expect(row).toEqual({ contract_id: CONTRACT_ID, decision: 'denied', payable: '0.00' });
    // The insurer reads why in the remittance: the line's adjudication carries the reason code.
    const remittance = toClaimResponse(
      await new RemittanceReader(ds, new RemittanceRepository()).find(claimId, INSURER),
    ) as { item: { adjudication: { reason?: { coding: { code: string; display: string }[] } }[] }[] };
    const reasons = remittance.item[0].adjudication.flatMap((a) => a.reason?.coding ?? []);
    expect(reasons).toEqual([expect.objectContaining({ code: '31', display: 'CO-31' })]);
    const announced = await ds.query(`SELECT payload FROM outbox WHERE message_key = $1 ORDER BY seq`, [claimId]);
    expect(announced.map((r: { payload: CloudEvent }) => r.payload.type)).toEqual(['claim.adjudicated']);
  });

  it('denies the lines serviced outside the only policy of the coverage (CO-27 after its end)', async () => {
    const p = await policy('0.00');
    await ds.query(`UPDATE policies SET period_end = '2026-05-31' WHERE id = $1`, [p.id]);
    const claimId = await pendingClaim(p.coverage, '30.00');
    await trigger(claimId);
    expect(await paidFor([claimId])).toBe('0.00');
    const [{ result }] = await ds.query(`SELECT result FROM adjudications WHERE claim_id = $1`, [claimId]);
    expect(result.lines.map((l: { reasons: string[] }) => l.reasons)).toEqual([['CO-27']]);
  });

  it('publishes the demo contract at start only when the development setting asks for it', async () => {
    const demoId = contractIdOf(DEMO_CONTRACT);
    const demoRows = async () =>
      (await ds.query(`SELECT count(*)::int AS n FROM contracts WHERE id = $1`, [demoId]))[0].n as number;
    const seeder = (demo: boolean) =>
      new ContractSeederService(
        ds,
        new PublishContractService(ds, contractRepo, testOutboxWriter('payout')),
        contractSettings(demo),
      );
    await seeder(false).onApplicationBootstrap();
    expect(await demoRows()).toBe(0);
    await seeder(true).onApplicationBootstrap();
    expect(await demoRows()).toBe(1);
    await ds.query(`DELETE FROM outbox WHERE topic = $1 AND payload->'data'->>'contractId' = $2`, [
      Topics.ContractsPublished,
      demoId,
    ]);
    await ds.query(`DELETE FROM contracts WHERE id = $1`, [demoId]);
  });

  it('backtests a contract on the latest decided claims, each from the accumulators it was decided on', async () => {
    const half: ContractDefinition = {
      ...CONTRACT,
      name: 'half',
      parameters: { ...CONTRACT.parameters, coinsurancePercent: 50 },
    };
    const halfId = contractIdOf(half);
    await ds.transaction((em) => contractRepo.insertContract(em, { id: halfId, definition: half }));
    const p = await policy('80.00');
    const claimId = await pendingClaim(p.coverage, '30.00');
    await trigger(claimId);
    const backtests = new BacktestContractService(
      ds,
      contractRepo,
      new BacktestSampleRepository(),
      contractSettings(false),
      pool,
    );
    // The claim was decided with 20.00 of the annual limit left: 20.00 paid. Under `half` it would get 15.00 (its
    // 50 % coinsurance), from the same starting point, whatever the policy has paid since.
    expect(await backtests.backtest(halfId, INSURER, 1)).toEqual({
      contractId: halfId,
      claims: [
        {
          claimId,
          decided: { contractId: CONTRACT_ID, decision: 'partial', payable: '20.00' },
          backtest: { decision: 'approved', payable: '15.00' },
        },
      ],
      totals: { claims: 1, changed: 1, decidedPayable: '20.00', backtestPayable: '15.00' },
    });
    // Nothing was stored or paid by it.
    expect(await paidFor([claimId])).toBe('20.00');
    // A contract that requires the provider's signed attestation (ADR 26) would have pended it: its verification,
    // as stored, carried none.
    const signedOnly: ContractDefinition = {
      ...CONTRACT,
      name: 'signed-only',
      parameters: { ...CONTRACT.parameters, attestationRequired: true },
    };
    const signedOnlyId = contractIdOf(signedOnly);
    await ds.transaction((em) => contractRepo.insertContract(em, { id: signedOnlyId, definition: signedOnly }));
    expect((await backtests.backtest(signedOnlyId, INSURER, 1)).claims[0].backtest).toEqual({
      decision: 'pended',
      payable: '0.00',
    });
    await expect(backtests.backtest(halfId, 'another-insurer', 1)).rejects.toMatchObject({
      code: 'CONTRACT.NOT_FOUND',
    });
  });

  const reviews = () =>
    new DecideReviewService(ds, reviewRepo, adjudicationRepo, contractRepo, policyRepo, service, breaker, pool);
  const reviewer = { subject: 'reviewer-1', role: 'insurer' as const, tenant: INSURER };

  describe(DecideReviewService.name, () => {
    const approve = (claimId: string) =>
      reviews().decide(claimId, { decision: 'approve', reason: 'checked' }, reviewer, `key-${uuidv4()}`);

    it('serialises a review with automatic claims on the same policy', async () => {
      const p = await policy('60.00');
      const pended = await pendingClaim(p.coverage, '30.00', 'REVIEW');
      await trigger(pended);
      const [{ decision }] = await ds.query(`SELECT decision FROM adjudications WHERE claim_id = $1`, [pended]);
      expect(decision).toBe('pended');
      expect(await benefitPaid(p.id)).toBe('60.00');

      const automatic = await pendingClaim(p.coverage, '30.00');
      const [review] = await Promise.all([approve(pended), trigger(automatic)]);
      expect(['30.00', '10.00']).toContain(review.body.payable);
      expect(await paidFor([pended, automatic])).toBe('40.00');
      expect(await benefitPaid(p.id)).toBe('100.00');
    });

    it('decides nothing while the ledger circuit breaker is open, and decides once ops reset it', async () => {
      const p = await policy('0.00');
      const pended = await pendingClaim(p.coverage, '30.00', 'REVIEW');
      await trigger(pended);
      await ds.transaction((em) => ledgerTrustRepo.setCircuit(em, true, 'forked (test)', 'payout'));
      try {
        await expect(approve(pended)).rejects.toMatchObject({
          code: 'REVIEW.PAYMENTS_STOPPED',
          kind: 'unavailable',
          retryAfterSeconds: 60,
        });
        expect(await paidFor([pended])).toBe('0.00');
      } finally {
        await ds.transaction((em) => ledgerTrustRepo.setCircuit(em, false, 'investigated', 'ops-1'));
      }
      expect((await approve(pended)).body).toMatchObject({ decision: 'approved', payable: '30.00' });
      expect(await paidFor([pended])).toBe('30.00');
    });

    it('pends an unsigned verification under a contract that requires an attestation, and pays it on approval', async () => {
      const signedOnly: ContractDefinition = {
        ...CONTRACT,
        name: 'signed-only-review',
        parameters: { ...CONTRACT.parameters, attestationRequired: true },
      };
      const signedOnlyId = contractIdOf(signedOnly);
      await ds.transaction((em) => contractRepo.insertContract(em, { id: signedOnlyId, definition: signedOnly }));
      const p = await policy('0.00', signedOnlyId);
      const signed = await pendingClaim(p.coverage, '30.00', '99213', false, true, 1, 'a'.repeat(64));
      const unsigned = await pendingClaim(p.coverage, '30.00');
      await trigger(signed);
      await trigger(unsigned);
      const decided = async (claimId: string) =>
        (
          (await ds.query(`SELECT decision, result FROM adjudications WHERE claim_id = $1`, [claimId])) as {
            decision: string;
            result: { unattested?: true; lines: { pendReasons: string[] }[] };
          }[]
        )[0];
      expect((await decided(signed)).decision).toBe('approved');
      const pended = await decided(unsigned);
      expect(pended).toMatchObject({ decision: 'pended', result: { unattested: true } });
      expect(pended.result.lines.map((l) => l.pendReasons)).toEqual([['attestation-missing']]);

      // The reviewer's approval settles the missing attestation; the decision records it for replay.
      expect((await approve(unsigned)).body).toMatchObject({ decision: 'approved', payable: '30.00' });
      expect(await paidFor([unsigned])).toBe('30.00');
      const [{ payload }] = (await ds.query(`SELECT payload FROM outbox WHERE message_key = $1 AND topic = $2`, [
        unsigned,
        Topics.ClaimsAdjudicated,
      ])) as { payload: CloudEvent<ClaimAdjudicatedV1> }[];
      expect(payload.data.replay).toMatchObject({ unattested: true });
      expect(payload.data.review).toMatchObject({ reviewer: 'reviewer-1', outcome: { decision: 'approve' } });
    });

    it('never pays a claim cancelled while pended', async () => {
      const p = await policy('0.00');
      const pended = await pendingClaim(p.coverage, '30.00', 'REVIEW');
      await trigger(pended);
      await ds.query(`INSERT INTO cancellations (claim_id, event_id, cancelled_at) VALUES ($1, $2, now())`, [
        pended,
        uuidv4(),
      ]);
      await expect(approve(pended)).rejects.toMatchObject({ code: 'REVIEW.CLAIM_CANCELLED' });
      expect(await paidFor([pended])).toBe('0.00');
      expect((await reviewRepo.pendedClaims(ds.manager, INSURER, 200)).map((r) => r.claimId)).not.toContain(pended);
    });
  });

  describe(LedgerCircuitBreakerService.name, () => {
    const adjudicated = async (claimId: string): Promise<number> =>
      (await ds.query(`SELECT count(*)::int AS n FROM adjudications WHERE claim_id = $1`, [claimId]))[0].n;

    it('refuses a claim whose inclusion proof fails, and keeps paying the others (the breaker stays closed)', async () => {
      const p = await policy('0.00');
      const tampered = await pendingClaim(p.coverage, '10.00', '99213', true);
      await expect(trigger(tampered)).rejects.toThrow(UnprovenAnchorError);
      await expect(trigger(tampered)).rejects.toThrow(/inclusion proof does not verify/);
      expect(await adjudicated(tampered)).toBe(0);
      // Anyone who can write to the anchors' topic could send a bad proof: it must not stop everyone's payments.
      expect(await ledgerTrustRepo.circuit(ds.manager)).toMatchObject({ open: false });
      const sound = await pendingClaim(p.coverage, '10.00');
      await trigger(sound);
      expect(await paidFor([sound])).toBe('10.00');
    });

    it('pays nothing until the claim’s own submission is anchored, then pays it', async () => {
      const p = await policy('0.00');
      const claimId = await pendingClaim(p.coverage, '10.00', '99213', false, false);
      await trigger(claimId);
      expect(await adjudicated(claimId)).toBe(0);
      const [{ submitted_event: claim }] = await ds.query(`SELECT submitted_event FROM claims WHERE claim_id = $1`, [
        claimId,
      ]);
      const anchor = await submissionAnchorOf(claim as CloudEvent);
      await ds.transaction((em) =>
        adjudicationRepo.rememberFacts(em, { claims: [], verifications: [], anchors: [anchor] }),
      );
      await trigger(claimId);
      expect(await paidFor([claimId])).toBe('10.00');
    });

    it('refuses a claim whose submission anchor commits to another event than the claim it holds', async () => {
      const p = await policy('0.00');
      const claimId = await pendingClaim(p.coverage, '10.00', '99213', false, false);
      const [{ submitted_event: held }] = await ds.query(`SELECT submitted_event FROM claims WHERE claim_id = $1`, [
        claimId,
      ]);
      const claim = held as CloudEvent<ClaimSubmittedV1>;
      // The ledger recorded a claim with this id and other amounts (what was anchored is not what payout holds).
      const other = { ...claim, data: { ...claim.data, total: '9999.00' } };
      const anchor = await submissionAnchorOf(claim, other);
      await ds.transaction((em) =>
        adjudicationRepo.rememberFacts(em, { claims: [], verifications: [], anchors: [anchor] }),
      );
      await expect(trigger(claimId)).rejects.toThrow(
        new UnprovenAnchorError(`ledger leaf ${anchor.leafIndex} does not commit to claim submission ${claim.id}`),
      );
      expect(await adjudicated(claimId)).toBe(0);
    });

    it('pays nothing on an anchor stored without its inclusion proof or root, and keeps the breaker closed', async () => {
      const p = await policy('0.00');
      for (const column of ['inclusion_proof', 'root_hash']) {
        const unproven = await pendingClaim(p.coverage, '10.00');
        // As a row stored before ledger.anchored.v1 required them: the check used to be skipped and the claim paid.
        await ds.query(`UPDATE verification_anchors SET ${column} = NULL WHERE claim_id = $1`, [unproven]);
        await expect(trigger(unproven)).rejects.toThrow(
          new PermanentEventError(
            `anchor of leaf ${honestLog.size - 1} carries no ${column === 'root_hash' ? 'root hash' : 'inclusion proof'}: nothing is paid on it`,
          ),
        );
        expect(await adjudicated(unproven)).toBe(0);
      }
      // Anyone who can write to the topic could send such an anchor: it must not stop everyone's payments.
      expect(await ledgerTrustRepo.circuit(ds.manager)).toMatchObject({ open: false });
    });

    /** Decides these claims in one call, as the consumer decides a batch. */
    const decideTogether = (claimIds: string[]) =>
      ds.transaction(async (em: EntityManager) => {
        await adjudicationRepo.lockClaims(em, claimIds);
        await service.tryAdjudicateMany(em, claimIds);
      });
    const seenRoot = async (size: number) => (await ledgerTrustRepo.seenCheckpoints(ds.manager, [size])).get(size);

    it('places a batch of claims on checkpoints never seen in the history together, and pays them all', async () => {
      const claims: string[] = [];
      for (let i = 0; i < 3; i += 1) claims.push(await pendingClaim((await policy('0.00')).coverage, '10.00'));
      // Each claim appended 4 leaves and was anchored twice: six new checkpoints, proven as a chain in one step.
      const sizes = Array.from({ length: 6 }, (_, k) => honestLog.size - 2 * k);
      await decideTogether(claims);
      expect(await paidFor(claims)).toBe('30.00');
      for (const size of sizes) expect(await seenRoot(size)).toBe(b64(await rootHash(honestLog, size)));
    });

    it('pays none of a batch, and records none of its checkpoints, when one new checkpoint does not prove consistent', async () => {
      const sound = await pendingClaim((await policy('0.00')).coverage, '10.00');
      const soundSize = honestLog.size;
      // The second claim's checkpoints belong to another history of a larger size: no proof links them.
      log = rewrittenLog(honestLog.size + 8);
      try {
        const forged = await pendingClaim((await policy('0.00')).coverage, '10.00');
        await expect(decideTogether([sound, forged])).rejects.toThrow(LedgerProofInvalidError);
        expect(await paidFor([sound, forged])).toBe('0.00');
        expect(await seenRoot(soundSize)).toBeUndefined();
        expect(await ledgerTrustRepo.circuit(ds.manager)).toMatchObject({ open: false });
      } finally {
        log = honestLog;
      }
      await trigger(sound);
      expect(await paidFor([sound])).toBe('10.00');
    });

    it('opens when two checkpoints of one tree size have different roots', async () => {
      const p = await policy('0.00');
      const first = await pendingClaim(p.coverage, '10.00');
      await trigger(first);
      // Another claim anchored by a checkpoint of the same size over another history: a forked log.
      log = rewrittenLog(honestLog.size - 4); // each claim appends 4 leaves: filler, submission, filler, verification
      try {
        const forked = await pendingClaim(p.coverage, '10.00');
        await expect(trigger(forked)).rejects.toBeInstanceOf(PermanentEventError);
        expect(await ledgerTrustRepo.circuit(ds.manager)).toMatchObject({
          open: true,
          reason: expect.stringMatching(/forked/),
        });
        expect(await adjudicated(forked)).toBe(0);
        // While open, even a claim whose anchor verifies is not paid; its event fails and waits (DLQ) for a replay.
        log = honestLog;
        const sound = await pendingClaim(p.coverage, '10.00');
        await expect(trigger(sound)).rejects.toBeInstanceOf(LedgerCircuitOpenError);
        expect(await paidFor([sound])).toBe('0.00');
        await ds.transaction((em) => ledgerTrustRepo.setCircuit(em, false, 'investigated', 'ops-1'));
        await trigger(sound);
        expect(await paidFor([sound])).toBe('10.00');
      } finally {
        log = honestLog;
        await ds.transaction((em) => ledgerTrustRepo.setCircuit(em, false, 'test over', 'ops-1'));
      }
    });

    it('waits, breaker closed, while the consistency proof to a new checkpoint does not verify', async () => {
      const p = await policy('0.00');
      const before = await pendingClaim(p.coverage, '10.00');
      await trigger(before);
      const claim = await pendingClaim(p.coverage, '10.00');
      // The ledger (or whoever answers for it on the network) serves a proof from another history.
      const served = log;
      log = rewrittenLog(honestLog.size + 5);
      try {
        await expect(trigger(claim)).rejects.toThrow(LedgerProofInvalidError);
        await expect(trigger(claim)).rejects.toThrow(/consistency proof from tree size \d+ to \d+ does not verify/);
        // Retriable: the consumer waits and retries (its health names the wait); nothing paid, nobody else stopped.
        expect(classifyFailure(new LedgerProofInvalidError('x'))).toBe('transient');
        expect(await ledgerTrustRepo.circuit(ds.manager)).toMatchObject({ open: false });
        expect(await paidFor([claim])).toBe('0.00');
      } finally {
        log = served;
      }
      // A proof that verifies: the checkpoint joins the history and the claim is paid.
      await trigger(claim);
      expect(await paidFor([claim])).toBe('10.00');
    });

    it('checks a checkpoint older than the newest seen against it, even when anchors arrive out of order', async () => {
      const p = await policy('0.00');
      const older = await pendingClaim(p.coverage, '10.00');
      const newer = await pendingClaim(p.coverage, '10.00');
      await trigger(newer);
      await trigger(older);
      expect(await paidFor([older, newer])).toBe('20.00');
      const largest = await ledgerTrustRepo.largestSeenCheckpoint(ds.manager);
      expect(largest?.size).toBe(honestLog.size);
      expect((await ledgerTrustRepo.seenCheckpoints(ds.manager, [honestLog.size - 2])).get(honestLog.size - 2)).toBe(
        b64(await rootHash(honestLog, honestLog.size - 2)),
      );
    });

    it('pays nothing while the ledger cannot be reached for a proof, and does not open the breaker', async () => {
      const p = await policy('0.00');
      const claim = await pendingClaim(p.coverage, '10.00');
      ledgerReachable = false;
      try {
        await expect(trigger(claim)).rejects.toBeInstanceOf(LedgerUnreachableError);
      } finally {
        ledgerReachable = true;
      }
      expect(await ledgerTrustRepo.circuit(ds.manager)).toMatchObject({ open: false });
      expect(await paidFor([claim])).toBe('0.00');
      await trigger(claim);
      expect(await paidFor([claim])).toBe('10.00');
    });
  });
  describe('contract lifecycle (ADR 21)', () => {
    /** A contract of the insurer (its terms as CONTRACT's) in force over `period`; a draft when effectiveFrom is null. */
    async function contractIn(period: ContractPeriod): Promise<string> {
      const definition = { ...CONTRACT, name: `lifecycle-${uuidv4()}` };
      const id = contractIdOf(definition);
      await ds.transaction(async (em) => {
        await contractRepo.insertContract(em, { id, definition, effectiveFrom: period.effectiveFrom });
        await contractRepo.setPeriod(em, id, period);
      });
      return id;
    }
    const decided = async (claimId: string) =>
      (await ds.query(`SELECT decision, result FROM adjudications WHERE claim_id = $1`, [claimId]))[0] as {
        decision: string;
        result: Adjudication;
      };

    it('pends, without running it, a claim whose contract is a draft or not in force on its service date', async () => {
      // The claim is served on 2026-06-01.
      const notInForce: ContractPeriod[] = [
        { effectiveFrom: null, retiredFrom: null },
        { effectiveFrom: '2026-06-02', retiredFrom: null },
        { effectiveFrom: '0001-01-01', retiredFrom: '2026-06-01' },
      ];
      for (const period of notInForce) {
        const p = await policy('0.00', await contractIn(period));
        const claimId = await pendingClaim(p.coverage, '10.00');
        await trigger(claimId);
        expect(await paidFor([claimId])).toBe('0.00');
        const { decision, result } = await decided(claimId);
        expect({ period, decision, pendReasons: result.lines.map((l) => l.pendReasons) }).toEqual({
          period,
          decision: 'pended',
          pendReasons: [['contract-not-active']],
        });
        // No accumulator was consumed, and the pend is announced with its stable reason code.
        expect(await benefitPaid(p.id)).toBe('0.00');
        const [{ payload }] = await ds.query(`SELECT payload FROM outbox WHERE message_key = $1 AND topic = $2`, [
          claimId,
          Topics.ClaimsPended,
        ]);
        expect(payload.data.lines[0].pendReasons).toEqual(['contract-not-active']);
      }
      // In force from its first day to the day before its retirement: decided and paid.
      const p = await policy('0.00', await contractIn({ effectiveFrom: '2026-06-01', retiredFrom: '2026-06-02' }));
      const inForce = await pendingClaim(p.coverage, '10.00');
      await trigger(inForce);
      expect(await paidFor([inForce])).toBe('10.00');
    });

    it('never decides a claim without a policy by a draft', async () => {
      const draft = await contractIn({ effectiveFrom: null, retiredFrom: null });
      const claimId = await pendingClaim(`cov-unenrolled-${uuidv4()}`, '30.00');
      await trigger(claimId);
      const [row] = await ds.query(`SELECT contract_id, decision FROM adjudications WHERE claim_id = $1`, [claimId]);
      expect(row.contract_id).not.toBe(draft);
      expect(row.decision).toBe('denied');
    });

    it('lets a reviewer deny, not approve, a claim whose contract is still not in force on its date', async () => {
      const contractId = await contractIn({ effectiveFrom: null, retiredFrom: null });
      const p = await policy('0.00', contractId);
      const claimId = await pendingClaim(p.coverage, '10.00', '99213', false, true, 2);
      await trigger(claimId);
      // An approval runs the contract to price the lines: not while it is not in force.
      await expect(
        reviews().decide(claimId, { decision: 'approve', reason: 'looks fine' }, reviewer, `key-${uuidv4()}`),
      ).rejects.toMatchObject({ code: 'REVIEW.CONTRACT_NOT_ACTIVE', kind: 'conflict' });
      expect((await decided(claimId)).decision).toBe('pended');

      // A denial runs nothing: every line is denied, the one its verification left out with its own code.
      const denial = { decision: 'deny' as const, denialCode: 'CO-26', reason: 'served before the contract' };
      expect((await reviews().decide(claimId, denial, reviewer, `key-${uuidv4()}`)).body).toEqual({
        claimId,
        decision: 'denied',
        payable: '0.00',
        currency: 'EUR',
      });
      expect(await paidFor([claimId])).toBe('0.00');
      expect(await benefitPaid(p.id)).toBe('0.00');
      const [{ payload }] = (await ds.query(`SELECT payload FROM outbox WHERE message_key = $1 AND topic = $2`, [
        claimId,
        Topics.ClaimsAdjudicated,
      ])) as { payload: CloudEvent<ClaimAdjudicatedV1> }[];
      expect(payload.data).toMatchObject({
        decision: 'denied',
        review: { reviewer: 'reviewer-1', outcome: { decision: 'deny', code: 'CO-26' } },
        replay: { unrun: 'contract-not-active', unverified: [{ sequence: 2, code: 'NOT_VERIFIED' }] },
      });
      expect(payload.data.lines.map((l) => l.reasons)).toEqual([['CO-26'], ['CO-112']]);
      // And it replays from the events, without running the contract.
      const [{ definition }] = (await ds.query(`SELECT definition FROM contracts WHERE id = $1`, [contractId])) as {
        definition: ContractDefinition;
      }[];
      const published = {
        contractId,
        insurerId: INSURER,
        name: definition.name,
        version: definition.version,
        definition: definition as unknown as Record<string, unknown>,
        publishedAt: new Date().toISOString(),
      };
      const replayed = await replayAdjudication(published, submittedClaims.get(claimId)!, payload.data);
      expect(replayed.matches).toBe(true);
    });

    it('denies again, on a review that approves, the lines the verification left out of a claim pended unrun', async () => {
      const p = await policy('0.00');
      // One line verified of 201: more than a contract decides at once, so pended without running it.
      const claimId = await pendingClaim(p.coverage, '0.10', '99213', false, true, CONTRACT_LIMITS.maxClaimLines + 1);
      await trigger(claimId);
      expect((await decided(claimId)).decision).toBe('pended');
      const approved = await reviews().decide(
        claimId,
        { decision: 'approve', reason: 'ok' },
        reviewer,
        `key-${uuidv4()}`,
      );
      expect(approved.body).toMatchObject({ decision: 'partial', payable: '0.10' });
      expect(await paidFor([claimId])).toBe('0.10');
    });
  });

  describe('the provider’s attestation (ADR 15)', () => {
    const attestation = 'a'.repeat(64);
    const adjudicated = async (claimId: string): Promise<number> =>
      (await ds.query(`SELECT count(*)::int AS n FROM adjudications WHERE claim_id = $1`, [claimId]))[0].n;

    it('pays a verification carrying the attestation hash the ledger recorded', async () => {
      const p = await policy('0.00');
      const claimId = await pendingClaim(p.coverage, '10.00', '99213', false, true, 1, attestation);
      await trigger(claimId);
      expect(await paidFor([claimId])).toBe('10.00');
    });

    it('refuses, never pays, a verification whose attestation is not the one the ledger recorded', async () => {
      const p = await policy('0.00');
      const forgeries: [string, string, RegExp][] = [
        // Another attestation than the provider signed and the ledger recorded.
        [
          `jsonb_set(envelope, '{data,attestationHash}', '"${'b'.repeat(64)}"')`,
          'another',
          /does not commit to verification [0-9a-f-]{36} with attestation b{64}$/,
        ],
        // The attestation stripped: paid as if the provider had signed nothing.
        [`envelope #- '{data,attestationHash}'`, 'stripped', /does not commit to verification [0-9a-f-]{36}$/],
      ];
      for (const [forged, what, message] of forgeries) {
        const claimId = await pendingClaim(p.coverage, '10.00', '99213', false, true, 1, attestation);
        await ds.query(`UPDATE verifications SET envelope = ${forged} WHERE claim_id = $1`, [claimId]);
        const refused = await trigger(claimId).then(
          () => undefined,
          (error: unknown) => error,
        );
        expect({ what, refused }).toEqual({ what, refused: expect.any(UnprovenAnchorError) });
        expect((refused as Error).message).toMatch(message);
        // Dead-lettered with its reason, never retried: it can never succeed.
        expect(classifyFailure(refused)).toBe('permanent');
        expect(await adjudicated(claimId)).toBe(0);
        expect(await paidFor([claimId])).toBe('0.00');
      }
    });
  });

  describe('a ledger notice covering many claims (ADR 23)', () => {
    const cancellations = new DecideCancellationService(adjudicationRepo, testOutboxWriter('payout'));
    const withdrawals = new DecideWithdrawalService(adjudicationRepo, testOutboxWriter('payout'));
    const consumer = () => new PayoutTriggersConsumer(adjudicationRepo, service, cancellations, withdrawals);
    const held = async (claimIds: string[]): Promise<{ claim_id: string; reason: string; attempts: number }[]> =>
      ds.query(`SELECT claim_id::text, reason, attempts FROM held_claims WHERE claim_id = ANY($1) ORDER BY reason`, [
        claimIds,
      ]);

    /** A claim's two events as the other services send them (no anchors yet). */
    function claimEvents(coverage: string, net: string, insurerId = INSURER) {
      const claimId = uuidv4();
      const submitted = buildEvent(Topics.ClaimsSubmitted, {
        source: 'test/payout-notice',
        subject: claimId,
        data: {
          claimId,
          insurerId,
          providerId: PROVIDER,
          patientPseudonym: MEMBER,
          coverage,
          currency: 'EUR',
          total: net,
          items: [
            { sequence: 1, system: CPT, code: '99213', servicedDate: '2026-06-01', quantity: 1, unitPrice: net, net },
          ],
          submittedAt: new Date().toISOString(),
        },
      });
      const verified = buildEvent(Topics.TreatmentsVerified, {
        source: 'test/payout-notice',
        subject: claimId,
        data: {
          claimId,
          confirmationId: uuidv4(),
          providerId: PROVIDER,
          items: [{ sequence: 1, system: CPT, code: '99213', quantity: 1, performedAt: '2026-06-01' }],
          verifiedAt: new Date().toISOString(),
        },
      });
      return { claimId, submitted, verified };
    }

    /**
     * The ledger's one notice for a checkpoint covering these events' leaves (appended to the log payout checks), as
     * the checkpointer builds it; `tampered` events get a broken inclusion proof.
     */
    async function noticeOf(anchored: CloudEvent[], tampered: CloudEvent[] = []): Promise<CloudEvent> {
      const from = log.size;
      log.append(anchored.map((e) => leafHashOfEvent(e)));
      const size = log.size;
      const root = await rootHash(log, size);
      const entries = await Promise.all(
        anchored.map(async (e, i) => {
          const proof = await inclusionProof(log, from + i, size);
          if (tampered.includes(e)) proof[0] = Buffer.alloc(32, 9);
          return {
            eventId: e.id,
            eventType: e.type,
            eventSubject: e.subject,
            leafIndex: from + i,
            leafHash: b64(leafHashOfEvent(e)),
            inclusionProof: proof.map(b64),
          };
        }),
      );
      const checkpoint = signNote(formatCheckpoint({ origin: 'claimchain.int/payout', size, root }), signer);
      const [notice, ...more] = anchoredNotices(
        { origin: 'claimchain.int/payout', treeSize: size, rootHash: b64(root), checkpoint },
        entries,
      );
      expect(more).toHaveLength(0);
      return notice.event;
    }

    /** The consumer's handler on one batch, in one transaction, as the transport runs it. */
    const consume = (events: CloudEvent[]) =>
      ds.transaction((em) =>
        consumer().record(events, new EventContext([em, { topic: Topics.LedgerAnchored, partition: 0, offset: '0' }])),
      );

    it('pays every claim of a notice but the ones failing for their own reasons, which it holds, and commits', async () => {
      const p = await policy('0.00');
      const [sound, tampered, orphan] = [
        claimEvents(p.coverage, '10.00'),
        claimEvents(p.coverage, '10.00'),
        claimEvents('cov-without-policy', '10.00', 'insurer-without-contract'),
      ];
      const all = [sound, tampered, orphan];
      const notice = await noticeOf(
        all.flatMap((c) => [c.submitted, c.verified]),
        [tampered.verified],
      );
      // Two events of one claim (its submission and verification) and the notice with both anchors: one batch.
      await consume([...all.flatMap((c) => [c.submitted, c.verified]), notice]);

      expect(await paidFor([sound.claimId])).toBe('10.00');
      expect(await paidFor([tampered.claimId, orphan.claimId])).toBe('0.00');
      expect(await held(all.map((c) => c.claimId))).toEqual([
        { claim_id: tampered.claimId, reason: expect.stringMatching(/inclusion proof does not verify/), attempts: 1 },
        { claim_id: orphan.claimId, reason: 'no contract in force for insurer insurer-without-contract', attempts: 1 },
      ]);
      // One claim's forged-looking anchor is that claim's problem: nobody else's payments stop.
      expect(await ledgerTrustRepo.circuit(ds.manager)).toMatchObject({ open: false });

      // Redelivered (the inbox would skip it; even handled again): no second payout, the holds only counted.
      await consume([notice]);
      expect(await paidFor([sound.claimId])).toBe('10.00');
      expect((await held(all.map((c) => c.claimId))).map((h) => h.attempts)).toEqual([2, 2]);

      // Once the insurer has a contract, ops retry: the orphan is decided (and released), the tampered one stays held.
      const ORPHAN_CONTRACT = { ...CONTRACT, insurerId: 'insurer-without-contract' };
      await ds.transaction((em) =>
        contractRepo.insertContract(em, { id: contractIdOf(ORPHAN_CONTRACT), definition: ORPHAN_CONTRACT }),
      );
      const ops = new HeldClaimsHttpController(ds, adjudicationRepo, service);
      const retried = await ops.retry({ limit: 100 });
      expect(retried.released).toContain(orphan.claimId);
      expect(retried.held.map((h) => h.claimId)).toContain(tampered.claimId);
      expect(retried.held.map((h) => h.claimId)).not.toContain(orphan.claimId);
      const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM adjudications WHERE claim_id = $1`, [
        orphan.claimId,
      ]);
      expect(n).toBe(1);
      expect(await paidFor([tampered.claimId])).toBe('0.00');
    });

    it('lists held claims a page at a time, oldest first, and retries a bounded number of the oldest', async () => {
      await ds.query(`DELETE FROM held_claims`);
      // Five claims without a contract (held), four of them in one batch: one hold time, so the id breaks the tie.
      const orphans = Array.from({ length: 5 }, () =>
        claimEvents('cov-without-policy', '10.00', 'insurer-paged-without-contract'),
      );
      const events = (cs: typeof orphans) => cs.flatMap((c) => [c.submitted, c.verified]);
      await consume([...events(orphans.slice(0, 1)), await noticeOf(events(orphans.slice(0, 1)))]);
      await consume([...events(orphans.slice(1)), await noticeOf(events(orphans.slice(1)))]);
      const ops = new HeldClaimsHttpController(ds, adjudicationRepo, service);
      const oldestFirst = [
        orphans[0].claimId,
        ...orphans
          .slice(1)
          .map((c) => c.claimId)
          .sort(),
      ];

      const seen: string[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < 3; page += 1) {
        const listed = await ops.list({ limit: 2, cursor });
        expect(listed.total).toBe(5);
        seen.push(...listed.items.map((h) => h.claimId));
        cursor = listed.nextCursor ?? undefined;
        if (page < 2) expect(cursor).toMatch(/^\d+_[0-9a-f-]{36}$/);
      }
      expect(cursor).toBeUndefined();
      expect(seen).toEqual(oldestFirst);

      // The insurer publishes a contract; ops retry two at a time: the two oldest are decided, three remain.
      const PAGED_CONTRACT = { ...CONTRACT, insurerId: 'insurer-paged-without-contract' };
      await ds.transaction((em) =>
        contractRepo.insertContract(em, { id: contractIdOf(PAGED_CONTRACT), definition: PAGED_CONTRACT }),
      );
      const first = await ops.retry({ limit: 2 });
      expect(first).toEqual({ released: oldestFirst.slice(0, 2), held: [], remaining: 3 });
      const rest = await ops.retry({ limit: 500 });
      expect(rest).toEqual({ released: oldestFirst.slice(2), held: [], remaining: 0 });
      const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM adjudications WHERE claim_id = ANY($1)`, [
        oldestFirst,
      ]);
      expect(n).toBe(5);
    });

    it('commits nothing of a batch that fails as a whole (the breaker open), and pays it all once retried', async () => {
      const p = await policy('0.00');
      const claims = [claimEvents(p.coverage, '10.00'), claimEvents(p.coverage, '10.00')];
      const events = claims.flatMap((c) => [c.submitted, c.verified]);
      const notice = await noticeOf(events);
      await ds.transaction((em) => ledgerTrustRepo.setCircuit(em, true, 'forked (test)', 'payout'));
      try {
        await expect(consume([...events, notice])).rejects.toBeInstanceOf(LedgerCircuitOpenError);
      } finally {
        await ds.transaction((em) => ledgerTrustRepo.setCircuit(em, false, 'investigated', 'ops-1'));
      }
      const ids = claims.map((c) => c.claimId);
      const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM verification_anchors WHERE claim_id = ANY($1)`, [
        ids,
      ]);
      expect(n).toBe(0);
      expect(await held(ids)).toEqual([]);
      await consume([...events, notice]);
      expect(await paidFor(ids)).toBe('20.00');
    });
  });
});
