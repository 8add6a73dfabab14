import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DomainError } from '@claimchain/http';
import { PayoutEndpointRepository } from './payout-endpoint.repository';
import { PayoutEndpointResponseDto, toPayoutEndpointDto } from './payout-endpoint.mapper';
import { WebhookSecretCipher } from './webhook-secret.cipher';
import { PaymentDispatchRepository } from '../payment-dispatch.repository';

const notFound = () =>
  new DomainError('PAYOUT_ENDPOINT.NOT_FOUND', 'not-found', 'No payout endpoint is registered for this insurer');

/**
 * An insurer's payout webhook: registering it routes the insurer's payouts not yet on a rail to the webhook (those
 * awaiting a rail are due at once), never one already on another rail. The signing secret is generated here, sealed before it is stored, and
 * shown once: in the answer that created or rotated it.
 */
@Injectable()
export class PayoutEndpointService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly repo: PayoutEndpointRepository,
    private readonly cipher: WebhookSecretCipher,
    private readonly payouts: PaymentDispatchRepository,
  ) {}

  /** Creates the registration (with a new secret, `created`), or points the existing one at a new URL. */
  async put(insurerId: string, url: string): Promise<{ created: boolean; body: PayoutEndpointResponseDto }> {
    return this.dataSource.transaction(async (em) => {
      const secret = WebhookSecretCipher.generate();
      const created = await this.repo.insert(em, {
        insurerId,
        url,
        secretCiphertext: this.cipher.seal(insurerId, secret),
      });
      if (created) {
        await this.payouts.wakeAwaitingRail(em, insurerId);
        return { created: true, body: toPayoutEndpointDto(created, secret) };
      }
      const updated = await this.repo.updateUrl(em, insurerId, url);
      if (!updated) throw notFound();
      return { created: false, body: toPayoutEndpointDto(updated) };
    });
  }

  async get(insurerId: string): Promise<PayoutEndpointResponseDto> {
    const row = await this.repo.find(this.dataSource.manager, insurerId);
    if (!row) throw notFound();
    return toPayoutEndpointDto(row);
  }

  /** A new secret replaces the old at once: deliveries from then on are signed with it. */
  async rotateSecret(insurerId: string): Promise<PayoutEndpointResponseDto> {
    const secret = WebhookSecretCipher.generate();
    const row = await this.repo.replaceSecret(this.dataSource.manager, insurerId, this.cipher.seal(insurerId, secret));
    if (!row) throw notFound();
    return toPayoutEndpointDto(row, secret);
  }

  async delete(insurerId: string): Promise<void> {
    if (!(await this.repo.delete(this.dataSource.manager, insurerId))) throw notFound();
  }
}
