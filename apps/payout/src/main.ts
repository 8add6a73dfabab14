import 'reflect-metadata';
import { loadServiceConfig } from '@claimchain/config';
import { runService, startHybridApp } from '@claimchain/messaging';
import { PayoutModule } from './app.module';

const config = loadServiceConfig('payout');
runService('payout', () => startHybridApp(PayoutModule.forRoot(config), config));
