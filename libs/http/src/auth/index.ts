export * from './principal';
export * from './token-verifier';
export * from './auth.guard';
export * from './auth.module';
export * from './dev-tokens';
