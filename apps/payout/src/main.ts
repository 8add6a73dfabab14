import 'reflect-metadata';
import { runService, startHybridApp } from '@claimchain/runtime';
import { PayoutModule } from './app.module';
import { loadPayoutConfig } from './payout.config';

const config = loadPayoutConfig();
runService('payout', () => startHybridApp(PayoutModule.forRoot(config), config));
