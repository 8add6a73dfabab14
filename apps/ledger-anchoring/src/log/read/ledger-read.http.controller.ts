import { Controller, Get, Header, Inject, Query } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { DomainError, Public, ZodPipe } from '@claimchain/http';
import { inclusionProof, NoteSigner } from '@claimchain/ledger';
import { LedgerRepository, PostgresSubtreeReader } from '../../persistence/ledger.repository';
import { NOTE_SIGNER } from '../checkpoint/note-signer.provider';

const InclusionQuery = z.object({
  index: z.coerce.number().int().nonnegative(),
  treeSize: z.coerce.number().int().positive(),
});
type InclusionQuery = z.infer<typeof InclusionQuery>;

export interface InclusionProofDto {
  leafIndex: number;
  treeSize: number;
  leafHash: string;
  hashes: string[];
}

/**
 * The public, PHI-free read side of the log for auditors: the latest signed checkpoint, the key that verifies it,
 * and inclusion proofs (hashes base64, as in C2SP).
 */
@Public()
@Controller('v1/ledger')
export class LedgerReadHttpController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly repo: LedgerRepository,
    @Inject(NOTE_SIGNER) private readonly signer: NoteSigner,
  ) {}

  @Get('checkpoint')
  @Header('content-type', 'text/plain; charset=utf-8')
  async checkpoint(): Promise<string> {
    const latest = await this.repo.latestCheckpoint(this.dataSource.manager);
    if (!latest) throw new DomainError('LEDGER.NO_CHECKPOINT', 'not-found', 'No checkpoint has been signed yet');
    return latest.note;
  }

  /** The note verifier key, `<name>+<keyid>+<base64 key>`. */
  @Get('public-key')
  @Header('content-type', 'text/plain; charset=utf-8')
  publicKey(): string {
    return this.signer.verifierKey + '\n';
  }

  @Get('proofs/inclusion')
  async inclusion(
    @Query(new ZodPipe(InclusionQuery, 'LEDGER.QUERY_INVALID')) q: InclusionQuery,
  ): Promise<InclusionProofDto> {
    const em = this.dataSource.manager;
    const latest = await this.repo.latestCheckpoint(em);
    const checkpointed = latest ? Number(latest.tree_size) : 0;
    if (q.treeSize > checkpointed) {
      throw new DomainError(
        'LEDGER.TREE_SIZE_UNKNOWN',
        'unprocessable',
        `No checkpoint covers tree size ${q.treeSize}`,
        [{ pointer: '/treeSize', detail: `at most ${checkpointed}` }],
      );
    }
    if (q.index >= q.treeSize) {
      throw new DomainError('LEDGER.INDEX_OUT_OF_RANGE', 'unprocessable', 'index must be below treeSize', [
        { pointer: '/index', detail: `below ${q.treeSize}` },
      ]);
    }
    const leafHash = await this.repo.leafHash(em, q.index);
    const hashes = await inclusionProof(new PostgresSubtreeReader(em), q.index, q.treeSize);
    return {
      leafIndex: q.index,
      treeSize: q.treeSize,
      leafHash: leafHash!.toString('base64'),
      hashes: hashes.map((h) => h.toString('base64')),
    };
  }
}
