/**
 * tidal-wal: a durable write-ahead log for signal events, on Effect (README; the bytes on disk: docs/FORMAT.md).
 *
 * @since 0.1.0
 */

export { AppendOutcome } from "./AppendOutcome.ts"
export * as GroupCommitWindow from "./GroupCommitWindow.ts"
export type { RecoveryReport } from "./internal/recovery/RecoveryReport.ts"
export type { ReplayedEvents } from "./internal/recovery/ReplayedEvents.ts"
export type { SegmentInfo } from "./internal/segment/SegmentInfo.ts"
export type { RetentionHold } from "./internal/wal/retentionHolds.ts"
export {
  F32_MAX,
  isSignalEvent,
  ReplayedEvent,
  SignalEvent,
  SignalType,
  validateSignalEvent
} from "./SignalEvent.ts"
export {
  decodeSignalEventJson,
  ReplayedEventFromJson,
  type ReplayedEventJson,
  ReplayedEventToJson,
  SignalEventFromJson,
  type SignalEventJson
} from "./SignalEventJson.ts"
export {
  decodeWalConfig,
  type GroupCommit,
  type RecoveryMode,
  type ReplayMode,
  type ResolvedWalConfig,
  WalConfig,
  type WalConfigInput,
  walConfigFromConfig
} from "./WalConfig.ts"
export {
  CheckpointError,
  type CheckpointReason,
  ClosedError,
  type ClosedReason,
  CorruptionError,
  type CorruptionReason,
  InvalidConfigError,
  InvalidEventError,
  IoError,
  type IoOperation,
  isWalError,
  LockedError,
  UnsupportedVersionError,
  type WalError
} from "./WalError.ts"
export { type OpenError, WalHandle, type WalHandleShape } from "./WalHandle.ts"
export * as WalReader from "./WalReader.ts"
