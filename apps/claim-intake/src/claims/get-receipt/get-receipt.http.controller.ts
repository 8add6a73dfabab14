import { Controller, Get, Inject, Param } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { ClaimReceiptV1, RECEIPT_FORMAT_V1 } from '@claimchain/wire';
import { CurrentPrincipal, DomainError, Principal, Roles, ZodPipe } from '@claimchain/http';
import { ClaimsRepository } from '../claims.repository';

/** The ledger's public verifier key, configured (LEDGER_VERIFIER_KEY) and copied into receipts for information. */
export const LEDGER_VERIFIER_KEY = Symbol('LEDGER_VERIFIER_KEY');

@ApiTags('claims')
@Controller('v1/claims')
export class GetReceiptHttpController {
  constructor(
    private readonly claims: ClaimsRepository,
    @Inject(LEDGER_VERIFIER_KEY) private readonly verifierKey: string,
  ) {}

  /**
   * A self-contained `claimchain.receipt.v1` bundle: every anchored event of the claim with its data, ledger leaf
   * position, inclusion proof and the signed checkpoint it is proven against. `claimchain-verify receipt` checks it
   * offline with only the ledger's verifier key. Events not yet anchored are left out until they are.
   */
  @Get(':id/receipt')
  @Roles('insurer')
  async receipt(
    @Param('id', new ZodPipe(z.string().uuid(), 'CLAIM.ID_INVALID')) id: string,
    @CurrentPrincipal() insurer: Principal,
  ): Promise<ClaimReceiptV1> {
    const claim = await this.claims.find(id);
    if (!claim || claim.insurer_id !== insurer.tenant) {
      throw new DomainError('CLAIM.NOT_FOUND', 'not-found', `No claim ${id}`);
    }
    const entries = (await this.claims.timeline(id)).flatMap((e) =>
      e.envelope && e.ledger_index !== null && e.inclusion_proof && e.checkpoint
        ? [
            {
              event: e.envelope,
              leafIndex: Number(e.ledger_index),
              treeSize: Number(e.tree_size),
              inclusionProof: e.inclusion_proof,
              checkpoint: e.checkpoint,
              // The salt of a salted leaf: the insurer's alone (this route is its own), never on the public ledger.
              ...(e.data_salt && { dataSalt: e.data_salt }),
            },
          ]
        : [],
    );
    if (entries.length === 0) {
      throw new DomainError('CLAIM.RECEIPT_NOT_READY', 'conflict', 'No event of this claim is on the ledger yet');
    }
    // Parsed against the shared contract, so claim-intake cannot hand out a receipt the verifier would not read.
    return ClaimReceiptV1.parse({ format: RECEIPT_FORMAT_V1, claimId: id, verifierKey: this.verifierKey, entries });
  }
}
