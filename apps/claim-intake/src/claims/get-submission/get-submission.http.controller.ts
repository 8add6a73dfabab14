import { createHash } from 'node:crypto';
import { Controller, Get, Param, Res } from '@nestjs/common';
import { ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import { FastifyReply } from 'fastify';
import { z } from 'zod';
import { CurrentPrincipal, DomainError, Principal, Roles, ZodPipe } from '@claimchain/http';
import { ClaimsRepository } from '../claims.repository';

export const SUBMISSION_SALT_HEADER = 'claimchain-submission-salt';

@ApiTags('claims')
@Controller('v1/claims')
export class GetSubmissionHttpController {
  constructor(private readonly claims: ClaimsRepository) {}

  /**
   * The claim exactly as the insurer sent it, byte for byte (decimals, key order and whitespace included). With the
   * salt in `Claimchain-Submission-Salt`, hex SHA-256(salt ‖ body) is the `submissionCommitment` of the claim's
   * claims.submitted.v1 event, which the ledger records: the stored submission provably never changed.
   */
  @Get(':id/submission')
  @Roles('insurer')
  @ApiProduces('application/fhir+json')
  @ApiResponse({ status: 200, description: 'the submitted FHIR Claim, as sent; Repr-Digest and the commitment salt' })
  @ApiResponse({ status: 404, description: 'CLAIM.NOT_FOUND (also for another insurer’s claim)' })
  async get(
    @Param('id', new ZodPipe(z.string().uuid(), 'CLAIM.ID_INVALID')) id: string,
    @CurrentPrincipal() insurer: Principal,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    const found = await this.claims.submission(id);
    if (!found || found.insurer_id !== insurer.tenant) {
      throw new DomainError('CLAIM.NOT_FOUND', 'not-found', `No claim ${id}`);
    }
    const digest = createHash('sha256').update(found.submission, 'utf8').digest('base64');
    void reply
      .header('content-type', 'application/fhir+json; charset=utf-8')
      .header('repr-digest', `sha-256=:${digest}:`);
    if (found.salt) void reply.header(SUBMISSION_SALT_HEADER, found.salt.toString('hex'));
    return found.submission;
  }
}
