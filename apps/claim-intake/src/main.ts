import 'reflect-metadata';
import { loadServiceConfig } from '@claimchain/config';
import { runService, startHybridApp } from '@claimchain/messaging';
import { ClaimIntakeModule } from './app.module';

const config = loadServiceConfig('claim-intake');
runService('claim-intake', () => startHybridApp(ClaimIntakeModule.forRoot(config), config));
