import { DynamicModule, Module } from '@nestjs/common';
import { ADJUDICATION_ALGORITHM, AdjudicationAlgorithm, POLICYLESS_ADJUDICATION_ALGORITHM } from '../engine/adjudicate';

/**
 * How this deployment treats claims without a policy (ADR 11): in production they are denied (CO-31); with the
 * development setting `DEMO_CONTRACT` the demo contract is published at start and the contract alone decides them.
 */
export interface ContractSettings {
  demoContract: boolean;
  /** The adjudication algorithm new decisions are made by. */
  algorithm: AdjudicationAlgorithm;
}

export const CONTRACT_SETTINGS = Symbol('CONTRACT_SETTINGS');

export function contractSettings(demoContract: boolean): ContractSettings {
  return { demoContract, algorithm: demoContract ? POLICYLESS_ADJUDICATION_ALGORITHM : ADJUDICATION_ALGORITHM };
}

/** Global: adjudication, reviews, simulation and the demo contract's seeder all read the one setting. */
@Module({})
export class ContractSettingsModule {
  static forRoot(demoContract: boolean): DynamicModule {
    return {
      module: ContractSettingsModule,
      global: true,
      providers: [{ provide: CONTRACT_SETTINGS, useValue: contractSettings(demoContract) }],
      exports: [CONTRACT_SETTINGS],
    };
  }
}
