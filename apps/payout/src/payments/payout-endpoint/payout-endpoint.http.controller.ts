import { Body, Controller, Delete, Get, HttpCode, Inject, Post, Put, Res } from '@nestjs/common';
import { FastifyReply } from 'fastify';
import { ApiResponse, ApiTags } from '@nestjs/swagger';
import { ApiZodBody, CurrentPrincipal, Principal, Roles, ZodPipe } from '@claimchain/http';
import { PayoutEndpointResponseDto } from './payout-endpoint.mapper';
import { PayoutEndpointPolicy, PayoutEndpointRequest, payoutEndpointRequest } from './payout-endpoint.request';
import { PayoutEndpointService } from './payout-endpoint.service';

/** Which webhook URLs are accepted (WEBHOOK_ALLOW_HTTP, WEBHOOK_ALLOW_LOOPBACK): a PayoutEndpointPolicy. */
export const PAYOUT_ENDPOINT_POLICY = Symbol('PAYOUT_ENDPOINT_POLICY');

const INVALID = 'PAYOUT_ENDPOINT.INVALID';

/**
 * The calling insurer's payout webhook (its own tenant only: there is no id in the path). No Idempotency-Key: PUT
 * and DELETE are idempotent as they stand, and a stored response would keep the secret in clear.
 */
@ApiTags('payout-endpoint')
@Controller('v1/payout-endpoint')
export class PayoutEndpointHttpController {
  private readonly request: typeof PayoutEndpointRequest;

  constructor(
    private readonly service: PayoutEndpointService,
    @Inject(PAYOUT_ENDPOINT_POLICY) policy: PayoutEndpointPolicy,
  ) {
    this.request = payoutEndpointRequest(policy);
  }

  /** 201 with the signing secret when created; 200 without it when an existing registration gets a new URL. */
  @Put()
  @Roles('insurer')
  @ApiZodBody(PayoutEndpointRequest, 'where the insurer is sent each payout instruction (HMAC-signed POST)')
  @ApiResponse({ status: 201, description: 'registered; `secret` is shown this once' })
  @ApiResponse({ status: 200, description: 'the URL changed; the secret did not (and is not shown)' })
  @ApiResponse({
    status: 400,
    description: 'PAYOUT_ENDPOINT.INVALID, naming /url (not https, credentials, or an internal/loopback address)',
  })
  async put(
    @Body() body: unknown,
    @CurrentPrincipal() insurer: Principal,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<PayoutEndpointResponseDto> {
    const { url } = new ZodPipe(this.request, INVALID).transform(body);
    const result = await this.service.put(insurer.tenant, url);
    void reply.status(result.created ? 201 : 200).header('cache-control', 'no-store');
    return result.body;
  }

  @Get()
  @Roles('insurer')
  @ApiResponse({ status: 200, description: 'the registration, without the secret' })
  @ApiResponse({ status: 404, description: 'PAYOUT_ENDPOINT.NOT_FOUND' })
  async get(@CurrentPrincipal() insurer: Principal): Promise<PayoutEndpointResponseDto> {
    return this.service.get(insurer.tenant);
  }

  /** A new secret, shown once; the old one stops signing at once. */
  @Post('secret')
  @HttpCode(200)
  @Roles('insurer')
  @ApiResponse({ status: 200, description: 'the registration with its new `secret`' })
  @ApiResponse({ status: 404, description: 'PAYOUT_ENDPOINT.NOT_FOUND' })
  async rotate(
    @CurrentPrincipal() insurer: Principal,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<PayoutEndpointResponseDto> {
    void reply.header('cache-control', 'no-store');
    return this.service.rotateSecret(insurer.tenant);
  }

  /** Payouts not yet submitted go to the simulated bank again; ones already on the webhook stay there. */
  @Delete()
  @HttpCode(204)
  @Roles('insurer')
  @ApiResponse({ status: 204, description: 'removed' })
  @ApiResponse({ status: 404, description: 'PAYOUT_ENDPOINT.NOT_FOUND' })
  async delete(@CurrentPrincipal() insurer: Principal): Promise<void> {
    await this.service.delete(insurer.tenant);
  }
}
