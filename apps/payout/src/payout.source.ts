/** The CloudEvents `source` of every event payout writes, whichever feature writes it. */
export const PAYOUT_SOURCE = 'claimchain/payout';
