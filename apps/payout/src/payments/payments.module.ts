import { DynamicModule, Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { PayoutConfig } from '../payout.config';
import { OutboxWriter } from '@claimchain/messaging';
import { SimulatedBankRail } from './simulated-bank.rail';
import { DEFAULT_DISPATCHER_OPTIONS, PayoutDispatcherService } from './payout-dispatcher.service';
import { PaymentDispatchRepository } from './payment-dispatch.repository';
import { InsurerPaymentRails } from './payment-rails';
import { PayoutEndpointRepository } from './payout-endpoint/payout-endpoint.repository';
import { PayoutEndpointService } from './payout-endpoint/payout-endpoint.service';
import {
  PAYOUT_ENDPOINT_POLICY,
  PayoutEndpointHttpController,
} from './payout-endpoint/payout-endpoint.http.controller';
import { WebhookSecretCipher } from './payout-endpoint/webhook-secret.cipher';
import { ListPayoutsHttpController } from './list-payouts/list-payouts.http.controller';
import { RetryPayoutHttpController } from './retry-payout/retry-payout.http.controller';
import { RetryPayoutService } from './retry-payout/retry-payout.service';
import { PayoutMetrics } from '../payout.metrics';

/**
 * Payments: released payouts sent to each insurer's registered webhook (else, in development and tests only, the
 * simulated bank; else they wait for a rail), retried with backoff, settled once; the insurers' webhook
 * registrations and the ops endpoints to list and retry payouts.
 */
@Module({})
export class PaymentsModule {
  static forRoot(payments: PayoutConfig['payments']): DynamicModule {
    return {
      module: PaymentsModule,
      controllers: [PayoutEndpointHttpController, ListPayoutsHttpController, RetryPayoutHttpController],
      providers: [
        PayoutEndpointRepository,
        PayoutEndpointService,
        PaymentDispatchRepository,
        RetryPayoutService,
        { provide: WebhookSecretCipher, useFactory: () => new WebhookSecretCipher(payments.webhookSecretKey) },
        {
          provide: PAYOUT_ENDPOINT_POLICY,
          useValue: { allowHttp: payments.webhookAllowHttp, allowLoopback: payments.webhookAllowLoopback },
        },
        // Each insurer's registered webhook, else the simulated bank when SIMULATED_BANK asks for it.
        {
          provide: PayoutDispatcherService,
          inject: [DataSource, PaymentDispatchRepository, OutboxWriter, WebhookSecretCipher, PayoutMetrics],
          useFactory: (
            ds: DataSource,
            repo: PaymentDispatchRepository,
            outbox: OutboxWriter,
            cipher: WebhookSecretCipher,
            metrics: PayoutMetrics,
          ) =>
            new PayoutDispatcherService(
              ds,
              repo,
              outbox,
              new InsurerPaymentRails(payments.simulatedBank ? new SimulatedBankRail() : undefined, cipher, {
                timeoutMs: payments.webhookTimeoutMs,
                allowLoopback: payments.webhookAllowLoopback,
              }),
              {
                maxAttempts: payments.maxAttempts,
                retryBaseMs: payments.retryBaseMs,
                retryMaxMs: payments.retryMaxMs,
                // Well beyond a webhook call's timeout: the outcome of an attempt is recorded long before.
                leaseMs: Math.max(DEFAULT_DISPATCHER_OPTIONS.leaseMs, payments.webhookTimeoutMs * 4),
              },
              metrics,
            ),
        },
      ],
    };
  }
}
