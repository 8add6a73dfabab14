import 'reflect-metadata';
import { loadServiceConfig } from '@claimchain/config';
import { runService, startHybridApp } from '@claimchain/messaging';
import { TreatmentVerificationModule } from './app.module';

const config = loadServiceConfig('treatment-verification');
runService('treatment-verification', () => startHybridApp(TreatmentVerificationModule.forRoot(config), config));
