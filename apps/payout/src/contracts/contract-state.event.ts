import { ContractStateChangedV1, Topics } from '@claimchain/wire';
import { EventDraft } from '@claimchain/messaging';
import { PAYOUT_SOURCE } from '../payout.source';
import { ContractRow } from './contract.repository';

/** The `contracts.states.v1` event of a change to `row` (as it is after the change), recorded on the ledger. */
export function contractStateEvent(
  row: ContractRow,
  change: ContractStateChangedV1['change'],
  at: Date,
): EventDraft<typeof Topics.ContractsStates> {
  return {
    source: PAYOUT_SOURCE,
    subject: row.id,
    tenantid: row.insurer_id === '*' ? undefined : row.insurer_id,
    time: at,
    data: {
      contractId: row.id,
      insurerId: row.insurer_id,
      change,
      effectiveFrom: row.effective_from,
      retiredFrom: row.retired_from,
      changedAt: at.toISOString(),
    },
  };
}
