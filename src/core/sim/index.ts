/**
 * LND simulator: a real grpc-js TLS server speaking LND's protos (routerrpc.Router
 * SubscribeHtlcEvents; lnrpc.Lightning GetInfo, ListChannels, GetChanInfo, GetNodeInfo, FeeReport,
 * ForwardingHistory, UpdateChannelPolicy) with LND's macaroons and permission checks, a deterministic node model and
 * HTLC traffic, fault injection, and a ground-truth ledger to compare a monitor's stats with. No
 * vscode imports.
 */
export {
  LndSimulator,
  LND_ERRORS,
  MACAROON_ROOT_KEY_FILE,
  type SimMode,
  type SimulatorOptions,
  type CredentialPaths,
} from './server';
export {
  SimEngine,
  DEFAULT_FAILURE_MIX,
  lndFailureString,
  type ScenarioKind,
  type FailureMix,
  type EngineOptions,
  type ChanRef,
  type Msat,
  type ForwardOptions,
  type ForwardResult,
  type ForwardHandle,
  type LinkFailOptions,
  type RebalanceOptions,
  type ForwardRecord,
  type SimCounters,
  type PendingHtlcView,
} from './engine';
export { TruthLedger, eventMember, forwardKey, type ChannelTruth, type NodeTruth, type GroundTruth, type TruthOptions } from './ledger';
export {
  buildNodeModel,
  makeScid,
  parseScid,
  outboundFeeMsat,
  requiredFeeMsat,
  bandwidthMsat,
  ALIAS_SCID_START_BLOCK,
  HOSTILE_ALIASES,
  type ChannelView,
  type PolicyModel,
  type NodeModel,
} from './model';
export { reasonKey, enumName, wireFailureTable, failureDetailTable, eventTypeTable, DOWNSTREAM_REASON, type EnumTable } from './enums';
export { generateTlsCert, goHexDecodeError, type TlsMaterial } from './certs';
export {
  LND_METHOD_PERMISSIONS,
  LND_READ_PERMISSIONS,
  LND_WRITE_PERMISSIONS,
  LND_ADMIN_PERMISSIONS,
  LND_VALID_ACTIONS,
  LND_VALID_ENTITIES,
  NO_HTLC_STREAM_PERMISSIONS,
  parsePermissions,
  type MacaroonOp,
} from './permissions';
export {
  mintMacaroon,
  macaroonSignature,
  checkMacaroon,
  addFirstPartyCaveat,
  macaroonPermissions,
  decodeMacaroon,
  decodeMacaroonId,
  encodeMacaroon,
  MacaroonFormatError,
  type RawMacaroon,
  type MacaroonIdentity,
} from './macaroon';
export { SimRpcError, MAX_FORWARDING_EVENTS, SIM_LND_RELEASE } from './rpc';
export { POLICY_PROTO_JSON, policyPackageDefinition, updateChannelPolicy, type PolicyUpdateReq } from './policyRpc';
export { Prng } from './prng';
