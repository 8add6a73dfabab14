import { z } from 'zod';

/** How many of the caller's most recent decided claims to run through the contract. */
export const BacktestContractRequest = z.object({ limit: z.number().int().min(1).max(200).default(50) }).strict();
export type BacktestContractRequest = z.infer<typeof BacktestContractRequest>;
