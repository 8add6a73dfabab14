import { LedgerAnchoringConfig } from '../../ledger-anchoring.config';
import { AnchorSink } from './anchor-sink';
import { DirectoryAnchorSink } from './directory.anchor-sink';

/** The anchor sinks this deployment publishes to; none when LEDGER_ANCHOR_DIR is unset. */
export function anchorSinksFrom(config: LedgerAnchoringConfig['ledger']): AnchorSink[] {
  const sinks: AnchorSink[] = [];
  if (config.anchorDir) sinks.push(new DirectoryAnchorSink(config.anchorDir));
  return sinks;
}
