import { z } from 'zod';
import { IsoDate } from '@claimchain/wire';

/** Activates a draft: it decides the claims served on or after `effectiveFrom` (today or later, UTC). */
export const ActivateContractRequest = z.object({ effectiveFrom: IsoDate }).strict();
export type ActivateContractRequest = z.infer<typeof ActivateContractRequest>;

/** Retires a contract: it decides no claim served on or after `retiredFrom` (today or later, UTC). */
export const RetireContractRequest = z.object({ retiredFrom: IsoDate }).strict();
export type RetireContractRequest = z.infer<typeof RetireContractRequest>;
