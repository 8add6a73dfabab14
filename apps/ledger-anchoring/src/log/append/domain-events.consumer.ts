import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { CloudEvent, LEDGER_RECORDED_TOPICS } from '@claimchain/wire';
import { EventContext } from '@claimchain/messaging';
import { LedgerAppenderService } from './ledger-appender.service';

/**
 * Every domain event is recorded on the ledger, whichever service produced it. Batch mode: the transport hands over
 * all not-yet-seen events of a Kafka batch in one transaction, and they become leaves in one append (one lock, one
 * frontier read, one INSERT each for leaves and nodes). The checkpoint leader hears the append through Postgres
 * NOTIFY, on whichever replica it runs.
 */
@Controller()
export class DomainEventsConsumer {
  constructor(private readonly appender: LedgerAppenderService) {}

  @EventPattern([...LEDGER_RECORDED_TOPICS], { batch: true })
  async record(@Payload() events: CloudEvent[], @Ctx() ctx: EventContext): Promise<void> {
    await this.appender.appendBatch(ctx.em, events);
  }
}
