import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { CloudEvent, LEDGER_RECORDED_TOPICS } from '@claimchain/contracts';
import { EventContext } from '@claimchain/messaging';
import { LedgerAppenderService } from './ledger-appender.service';
import { CheckpointService } from '../checkpoint/checkpoint.service';

/** Every domain event is recorded on the ledger, whichever service produced it. */
@Controller()
export class DomainEventsConsumer {
  constructor(
    private readonly appender: LedgerAppenderService,
    private readonly checkpoints: CheckpointService,
  ) {}

  @EventPattern([...LEDGER_RECORDED_TOPICS])
  async record(@Payload() event: CloudEvent, @Ctx() ctx: EventContext): Promise<void> {
    const index = await this.appender.append(ctx.em, event);
    if (index !== undefined) this.checkpoints.noteAppended(index + 1);
  }
}
