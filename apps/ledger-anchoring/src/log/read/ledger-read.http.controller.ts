import { Controller, Get, Header, Headers, Inject, Param, Query, Res } from '@nestjs/common';
import { FastifyReply } from 'fastify';
import { Public, ZodPipe } from '@claimchain/http';
import { NoteSigner } from '@claimchain/ledger';
import { NOTE_SIGNER } from '../checkpoint/note-signer.provider';
import {
  CheckpointDto,
  ConsistencyProofDto,
  ConsistencyQuery,
  EntriesDto,
  EntriesQuery,
  InclusionProofDto,
  InclusionQuery,
  ReceiptDto,
  ReceiptParams,
} from './ledger-read.dto';
import { LedgerReadService } from './ledger-read.service';

const INVALID = 'LEDGER.QUERY_INVALID';

/**
 * The public, PHI-free read side of the log for auditors (no tenant access needed): the latest signed checkpoint,
 * the key that verifies it, entries, inclusion and consistency proofs, and per-event receipts. Shapes in
 * ledger-read.dto.ts. Constructor tokens are explicit so the controller also runs without decorator metadata
 * (the benchmark runs under tsx).
 */
@Public()
@Controller('v1/ledger')
export class LedgerReadHttpController {
  constructor(
    @Inject(LedgerReadService) private readonly reads: LedgerReadService,
    @Inject(NOTE_SIGNER) private readonly signer: NoteSigner,
  ) {}

  /** The C2SP signed note as text/plain; `{origin, treeSize, rootHash, note}` on `Accept: application/json`. */
  @Get('checkpoint')
  @Header('vary', 'accept')
  async checkpoint(
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string | CheckpointDto> {
    const checkpoint = await this.reads.latestCheckpoint();
    if (accept?.includes('application/json')) return checkpoint;
    void reply.header('content-type', 'text/plain; charset=utf-8');
    return checkpoint.note;
  }

  /** The note verifier key, `<name>+<keyid>+<base64 key>`. */
  @Get('public-key')
  @Header('content-type', 'text/plain; charset=utf-8')
  publicKey(): string {
    return this.signer.verifierKey + '\n';
  }

  /** Entries [start, end), at most 1000, only those a signed checkpoint covers. */
  @Get('entries')
  async entries(@Query(new ZodPipe(EntriesQuery, INVALID)) q: EntriesQuery): Promise<EntriesDto> {
    return this.reads.entries(q.start, q.end);
  }

  /** By `index` or `leafHash`, in the tree of `treeSize` (default: the latest checkpoint's). */
  @Get('proofs/inclusion')
  async inclusion(@Query(new ZodPipe(InclusionQuery, INVALID)) q: InclusionQuery): Promise<InclusionProofDto> {
    return q.leafHash
      ? this.reads.inclusionByLeafHash(q.leafHash, q.treeSize)
      : this.reads.inclusionByIndex(q.index!, q.treeSize);
  }

  @Get('proofs/consistency')
  async consistency(@Query(new ZodPipe(ConsistencyQuery, INVALID)) q: ConsistencyQuery): Promise<ConsistencyProofDto> {
    return this.reads.consistency(q.from, q.to);
  }

  /** The event's leaf, index and inclusion proof against the latest signed checkpoint, with that checkpoint. */
  @Get('events/:eventId/receipt')
  async receipt(@Param(new ZodPipe(ReceiptParams, INVALID)) p: ReceiptParams): Promise<ReceiptDto> {
    return this.reads.receipt(p.eventId);
  }
}
