import { applyDecorators, Controller, Get, Header, Headers, Inject, Param, Query, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { FastifyReply } from 'fastify';
import { ZodTypeAny } from 'zod';
import {
  LEDGER_API_PREFIX,
  LEDGER_MAX_ENTRIES_PER_REQUEST as MAX_ENTRIES_PER_REQUEST,
  LedgerRoutes,
} from '@claimchain/wire';
import { ApiZodQuery, openApiSchemaOf, Public, ZodPipe } from '@claimchain/http';
import { NoteSigner } from '@claimchain/ledger';
import { NOTE_SIGNER } from '../checkpoint/note-signer.provider';
import {
  CheckpointDto,
  ConsistencyProofDto,
  ConsistencyQuery,
  ConsistencyQueryFields,
  EntriesDto,
  EntriesQuery,
  EntriesQueryFields,
  InclusionProofDto,
  InclusionQuery,
  InclusionQueryFields,
  ReceiptDto,
  ReceiptParams,
} from './ledger-read.dto';
import { LedgerReadService } from './ledger-read.service';

const INVALID = 'LEDGER.QUERY_INVALID';

// OpenAPI only: these decorators describe the endpoints in /docs-json and change nothing they do.

const PROBLEM_SCHEMA = {
  type: 'object',
  required: ['type', 'title', 'status'],
  properties: {
    type: { type: 'string', format: 'uri' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string' },
    code: { type: 'string', description: 'a stable error code, e.g. LEDGER.QUERY_INVALID' },
    errors: {
      type: 'array',
      description: 'one per offending parameter, named by JSON pointer',
      items: {
        type: 'object',
        required: ['pointer', 'detail'],
        properties: { pointer: { type: 'string' }, detail: { type: 'string' } },
      },
    },
  },
};

/** The RFC 9457 problem+json answers of an endpoint: per status, the codes that produce it. */
const ApiProblems = (codesByStatus: Record<number, string>) =>
  applyDecorators(
    ...Object.entries(codesByStatus).map(([status, codes]) =>
      ApiResponse({
        status: Number(status),
        description: `${codes} (application/problem+json)`,
        content: { 'application/problem+json': { schema: PROBLEM_SCHEMA } },
      }),
    ),
  );

/** A public operation: anyone may call it, no bearer token (the read API carries no PHI). */
const ApiPublicOperation = (summary: string) => ApiOperation({ summary, security: [] });

const ApiJsonOk = (schema: ZodTypeAny, description: string) =>
  ApiOkResponse({ description, content: { 'application/json': { schema: openApiSchemaOf(schema) } } });

const QUERY_INVALID = 'LEDGER.QUERY_INVALID: a parameter is malformed or out of range, with a JSON pointer to each';
const NO_CHECKPOINT = 'LEDGER.NO_CHECKPOINT: no checkpoint has been signed yet';
const TREE_SIZE_UNKNOWN = 'LEDGER.TREE_SIZE_UNKNOWN: no signed checkpoint covers the tree size asked for';

/**
 * The public, PHI-free read side of the log for auditors (no tenant access needed): the latest signed checkpoint,
 * the key that verifies it, entries, inclusion and consistency proofs, and per-event receipts. Shapes in
 * ledger-read.dto.ts. Constructor tokens are explicit so the controller also runs without decorator metadata
 * (the benchmark runs under tsx).
 */
@Public()
@ApiTags('ledger')
@Controller(LEDGER_API_PREFIX)
export class LedgerReadHttpController {
  constructor(
    @Inject(LedgerReadService) private readonly reads: LedgerReadService,
    @Inject(NOTE_SIGNER) private readonly signer: NoteSigner,
  ) {}

  /** The C2SP signed note as text/plain; `{origin, treeSize, rootHash, note}` on `Accept: application/json`. */
  @Get(LedgerRoutes.checkpoint)
  @Header('vary', 'accept')
  @ApiPublicOperation('the latest signed checkpoint (C2SP tlog-checkpoint in a C2SP signed note)')
  @ApiOkResponse({
    description: 'text/plain: the signed note; with Accept: application/json, its fields and the note',
    content: {
      'text/plain': {
        schema: { type: 'string', description: 'origin, tree size, base64 root hash, blank line, signature lines' },
      },
      'application/json': { schema: openApiSchemaOf(CheckpointDto) },
    },
  })
  @ApiProblems({ 404: NO_CHECKPOINT })
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
  @Get(LedgerRoutes.publicKey)
  @Header('content-type', 'text/plain; charset=utf-8')
  @ApiPublicOperation('the key that verifies the checkpoints, as a note verifier key')
  @ApiOkResponse({
    description: 'the verifier key, <name>+<keyid hex>+<base64 key> (golang sumdb note / C2SP vkey), and a newline',
    content: {
      'text/plain': { schema: { type: 'string', pattern: '^[^+\\s]+\\+[0-9a-f]{8}\\+[A-Za-z0-9+/]+=*\\n$' } },
    },
  })
  publicKey(): string {
    return this.signer.verifierKey + '\n';
  }

  /** Entries [start, end), at most MAX_ENTRIES_PER_REQUEST, only those a signed checkpoint covers. */
  @Get(LedgerRoutes.entries)
  @ApiPublicOperation(`entries [start, end), at most ${MAX_ENTRIES_PER_REQUEST}, only those a signed checkpoint covers`)
  @ApiZodQuery(EntriesQueryFields)
  @ApiJsonOk(EntriesDto, 'the leaves and their hashes; fewer or none past the latest checkpoint')
  @ApiProblems({ 400: QUERY_INVALID })
  async entries(@Query(new ZodPipe(EntriesQuery, INVALID)) q: EntriesQuery): Promise<EntriesDto> {
    return this.reads.entries(q.start, q.end);
  }

  /** By `index` or `leafHash`, in the tree of `treeSize` (default: the latest checkpoint's). */
  @Get(LedgerRoutes.inclusionProof)
  @ApiPublicOperation('an RFC 9162 inclusion proof, by leaf index or leaf hash')
  @ApiZodQuery(InclusionQueryFields)
  @ApiJsonOk(InclusionProofDto, 'the proof against the root of the tree of treeSize')
  @ApiProblems({
    400: QUERY_INVALID,
    404: `${NO_CHECKPOINT} (no treeSize given); LEDGER.LEAF_NOT_FOUND: no leaf with this hash in the tree`,
    422: `${TREE_SIZE_UNKNOWN}; LEDGER.INDEX_OUT_OF_RANGE: index is not below treeSize`,
  })
  async inclusion(@Query(new ZodPipe(InclusionQuery, INVALID)) q: InclusionQuery): Promise<InclusionProofDto> {
    return q.leafHash
      ? this.reads.inclusionByLeafHash(q.leafHash, q.treeSize)
      : this.reads.inclusionByIndex(q.index!, q.treeSize);
  }

  @Get(LedgerRoutes.consistencyProof)
  @ApiPublicOperation('an RFC 9162 consistency proof that the tree of size to extends the tree of size from')
  @ApiZodQuery(ConsistencyQueryFields)
  @ApiJsonOk(ConsistencyProofDto, 'the proof (empty when from is 0 or equals to)')
  @ApiProblems({ 400: QUERY_INVALID, 422: TREE_SIZE_UNKNOWN })
  async consistency(@Query(new ZodPipe(ConsistencyQuery, INVALID)) q: ConsistencyQuery): Promise<ConsistencyProofDto> {
    return this.reads.consistency(q.from, q.to);
  }

  /** The event's leaf, index and inclusion proof against the latest signed checkpoint, with that checkpoint. */
  @Get(LedgerRoutes.receipt)
  @ApiPublicOperation(
    "an event's receipt: its leaf, index and inclusion proof, with the checkpoint they verify against",
  )
  @ApiParam({ name: 'eventId', schema: openApiSchemaOf(ReceiptParams.shape.eventId) })
  @ApiJsonOk(ReceiptDto, 'everything needed to check offline, with only the verifier key, that the event is in the log')
  @ApiProblems({
    400: 'LEDGER.QUERY_INVALID: eventId is not a UUID',
    404: 'LEDGER.EVENT_NOT_FOUND; LEDGER.EVENT_NOT_ANCHORED: in the log, but no signed checkpoint covers it yet',
  })
  async receipt(@Param(new ZodPipe(ReceiptParams, INVALID)) p: ReceiptParams): Promise<ReceiptDto> {
    return this.reads.receipt(p.eventId);
  }
}
