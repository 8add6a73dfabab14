import 'reflect-metadata';
import { runService, startHybridApp } from '@claimchain/runtime';
import { ClaimIntakeModule } from './app.module';
import { loadClaimIntakeConfig } from './claim-intake.config';

const config = loadClaimIntakeConfig();
runService('claim-intake', () => startHybridApp(ClaimIntakeModule.forRoot(config), config));
