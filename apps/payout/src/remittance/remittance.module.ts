import { Module } from '@nestjs/common';
import { RemittanceRepository } from './remittance.repository';
import { RemittanceReader } from './remittance.reader';
import { GetRemittanceHttpController } from './get-remittance/get-remittance.http.controller';
import { GetExplanationOfBenefitHttpController } from './get-explanation-of-benefit/get-explanation-of-benefit.http.controller';

/** Remittance: a decided claim as FHIR ClaimResponse and ExplanationOfBenefit, for its insurer only. */
@Module({
  controllers: [GetRemittanceHttpController, GetExplanationOfBenefitHttpController],
  providers: [RemittanceRepository, RemittanceReader],
})
export class RemittanceModule {}
