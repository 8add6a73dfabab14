import 'reflect-metadata';
import { loadServiceConfig } from '@claimchain/config';
import { runService, startHybridApp } from '@claimchain/messaging';
import { LedgerAnchoringModule } from './app.module';

const config = loadServiceConfig('ledger-anchoring');
runService('ledger-anchoring', () => startHybridApp(LedgerAnchoringModule.forRoot(config), config));
