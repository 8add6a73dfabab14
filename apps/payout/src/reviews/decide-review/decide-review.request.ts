import { z } from 'zod';

/** approve: the pended lines are priced as submitted; deny: they are denied with `denialCode` (CARC-style). */
export const DecideReviewRequest = z.discriminatedUnion('decision', [
  z.object({ decision: z.literal('approve'), reason: z.string().min(1).max(500) }).strict(),
  z
    .object({
      decision: z.literal('deny'),
      reason: z.string().min(1).max(500),
      denialCode: z.string().regex(/^(CO|PR|OA|PI)-[A-Z0-9]{1,5}$/, 'a CARC-style code like "CO-50"'),
    })
    .strict(),
]);
export type DecideReviewRequest = z.infer<typeof DecideReviewRequest>;
