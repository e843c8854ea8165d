// The library's public entry: what a Node program (a CI step, an auditor's script, a
// service) needs without Hardhat. Each line names the file that owns the concept; the
// Hardhat tasks in tasks/ are thin wrappers over these same functions.

// Errors: every error the library throws is a DstackGovernanceError (short message, details).
export { DstackGovernanceError, InvalidInputError, describeError } from "./util/errors.js";

// Contract ABIs (DstackApp / DstackKms, upstream-compatible).
export { dstackAppAbi } from "./abi/dstack-app.js";
export { dstackKmsAbi } from "./abi/dstack-kms.js";

// Compose hashing: exact-bytes hashing, app-compose building (dstack SDK or Phala Cloud
// serialisation), image pinning and policy checks.
export * from "./compose/index.js";

// Chain reads: app and KMS state, the compose-hash allowlist and its history.
export { type AppInfo, type KmsInfo, readAppInfo, readKmsInfo } from "./chain/app-state.js";
export type { ChainClient, SignerClient } from "./chain/clients.js";
export { type ComposeHashHistory, readComposeHashHistory } from "./chain/compose-hash-history.js";
export { scanLogs } from "./chain/log-scan.js";

// Attestation: the end-to-end verifier and its pieces.
export {
  type AttestationEvidence,
  type AttestationVerdict,
  type QuoteSignatureMode,
  type VerifyAttestationOptions,
  verifyAttestation,
} from "./attestation/verify.js";
export { CHECK_IDS, type CheckId, type CheckResult, type CheckStatus } from "./attestation/types.js";
export { type AttestationBundle, normalizeBundle } from "./attestation/bundle.js";
export { type EventLogEntry, parseEventLog } from "./attestation/event-log.js";
export { checkEventLogReplay, replayEventLog } from "./attestation/replay.js";
export { parseTdxQuote, type TdxQuote } from "./attestation/quote.js";
export { type EndpointStyle, fetchLiveAttestation } from "./attestation/live.js";
export { formatVerdict } from "./attestation/report-text.js";
export { renderVerdictHtml } from "./attestation/report-html.js";

// Governance: Safe transactions and proposal files, timelock operations, who controls what.
export { safeTransaction, safeTxHash, safeTxTypedData, type SafeTransaction } from "./governance/safe-tx.js";
export { buildProposal, parseProposal, serializeProposal, type SafeProposal } from "./governance/proposal.js";
export { readSafe, type SafeInfo } from "./governance/safe-state.js";
export { operationId, timelockOperation, type TimelockOperation } from "./governance/timelock-operation.js";
export { type ControlNode, controlWarnings, walkControl } from "./governance/control.js";

// Following governance and CVMs over time.
export { type GovernanceEvent, readGovernanceEvents } from "./watch/governance-events.js";
export { runMonitor } from "./monitor/monitor.js";
