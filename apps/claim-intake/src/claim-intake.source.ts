/** The CloudEvents `source` of every event claim-intake writes, whichever use case writes it. */
export const CLAIM_INTAKE_SOURCE = 'claimchain/claim-intake';
