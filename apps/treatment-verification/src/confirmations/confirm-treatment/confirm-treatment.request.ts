import { z } from 'zod';
import { IsoDate } from '@claimchain/contracts';

export const ConfirmTreatmentRequest = z.object({
  claimId: z.string().uuid(),
  performed: z
    .array(
      z.object({
        system: z.string().min(1),
        code: z.string().min(1),
        quantity: z.number().int().positive(),
        performedAt: IsoDate,
      }),
    )
    .min(1)
    .max(500),
});
export type ConfirmTreatmentRequest = z.infer<typeof ConfirmTreatmentRequest>;
