import 'reflect-metadata';
import { runService, startHybridApp } from '@claimchain/runtime';
import { LedgerAnchoringModule } from './app.module';
import { loadLedgerAnchoringConfig } from './ledger-anchoring.config';

const config = loadLedgerAnchoringConfig();
runService('ledger-anchoring', () => startHybridApp(LedgerAnchoringModule.forRoot(config), config));
