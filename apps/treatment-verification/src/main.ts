import 'reflect-metadata';
import { runService, startHybridApp } from '@claimchain/runtime';
import { TreatmentVerificationModule } from './app.module';
import { loadTreatmentVerificationConfig } from './treatment-verification.config';

const config = loadTreatmentVerificationConfig();
runService('treatment-verification', () => startHybridApp(TreatmentVerificationModule.forRoot(config), config));
