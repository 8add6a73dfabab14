import { Module } from '@nestjs/common';
import { ContractsModule } from '../contracts/contracts.module';
import { PolicyRepository } from './policy.repository';
import { EnrolPolicyService } from './enrol-policy/enrol-policy.service';
import { EnrolPolicyHttpController } from './enrol-policy/enrol-policy.http.controller';
import { GetPolicyHttpController } from './get-policy/get-policy.http.controller';

/** Policies: a member enrolled on a contract for a period, and its plan-year accumulators. */
@Module({
  imports: [ContractsModule],
  controllers: [EnrolPolicyHttpController, GetPolicyHttpController],
  providers: [PolicyRepository, EnrolPolicyService],
  exports: [PolicyRepository],
})
export class PoliciesModule {}
