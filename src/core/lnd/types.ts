/**
 * Shapes of LND's messages as @grpc/proto-loader gives them with PROTO_LOADER_OPTIONS
 * (keepCase, longs: String, enums: String, defaults, oneofs). Every uint64 is a decimal string.
 * Enum fields are LND's names, or a number when LND sent a value newer than our protos.
 */
export type U64 = string;
export type EnumValue = string | number;

export interface HtlcInfo {
  incoming_timelock: number;
  outgoing_timelock: number;
  incoming_amt_msat: U64;
  outgoing_amt_msat: U64;
}

export interface HtlcEvent {
  incoming_channel_id: U64;
  outgoing_channel_id: U64;
  incoming_htlc_id: U64;
  outgoing_htlc_id: U64;
  timestamp_ns: U64;
  event_type: EnumValue; // UNKNOWN | SEND | RECEIVE | FORWARD
  forward_event?: { info: HtlcInfo | null } | null;
  forward_fail_event?: Record<string, never> | null;
  settle_event?: { preimage: Buffer } | null;
  link_fail_event?: {
    info: HtlcInfo | null;
    wire_failure: EnumValue;
    failure_detail: EnumValue;
    failure_string: string;
  } | null;
  subscribed_event?: Record<string, never> | null;
  final_htlc_event?: { settled: boolean; offchain: boolean } | null;
  /** Name of the oneof member that is set; undefined for a member our protos do not know. */
  event?: string;
}

export interface GetInfoResponse {
  version: string;
  commit_hash: string;
  identity_pubkey: string;
  alias: string;
  color: string;
  num_pending_channels: number;
  num_active_channels: number;
  num_inactive_channels: number;
  num_peers: number;
  block_height: number;
  block_hash: string;
  synced_to_chain: boolean;
  synced_to_graph: boolean;
  chains: { chain: string; network: string }[];
}

export interface ChannelConstraints {
  csv_delay: number;
  chan_reserve_sat: U64;
  dust_limit_sat: U64;
  max_pending_amt_msat: U64;
  min_htlc_msat: U64;
  max_accepted_htlcs: number;
}

export interface PendingHtlc {
  incoming: boolean;
  amount: U64;
  hash_lock: Buffer;
  expiration_height: number;
  htlc_index: U64;
  forwarding_channel: U64;
  forwarding_htlc_index: U64;
}

export interface Channel {
  active: boolean;
  remote_pubkey: string;
  channel_point: string;
  chan_id: U64;
  capacity: U64;
  local_balance: U64;
  remote_balance: U64;
  commit_fee: U64;
  total_satoshis_sent: U64;
  total_satoshis_received: U64;
  num_updates: U64;
  pending_htlcs: PendingHtlc[];
  private: boolean;
  initiator: boolean;
  chan_status_flags: string;
  lifetime: U64;
  uptime: U64;
  unsettled_balance: U64;
  local_constraints: ChannelConstraints | null;
  remote_constraints: ChannelConstraints | null;
  alias_scids: U64[];
  zero_conf: boolean;
  zero_conf_confirmed_scid: U64;
  peer_alias: string;
  peer_scid_alias: U64;
  memo: string;
}

export interface ListChannelsRequest {
  active_only?: boolean;
  inactive_only?: boolean;
  public_only?: boolean;
  private_only?: boolean;
  peer?: Buffer;
  peer_alias_lookup?: boolean;
}

export interface RoutingPolicy {
  time_lock_delta: number;
  min_htlc: U64; // int64 msat
  fee_base_msat: U64;
  fee_rate_milli_msat: U64;
  disabled: boolean;
  max_htlc_msat: U64;
  last_update: number;
  inbound_fee_base_msat: number;
  inbound_fee_rate_milli_msat: number;
}

export interface ChannelEdge {
  channel_id: U64;
  chan_point: string;
  last_update: number;
  node1_pub: string;
  node2_pub: string;
  capacity: U64;
  node1_policy: RoutingPolicy | null;
  node2_policy: RoutingPolicy | null;
}

export interface LightningNode {
  last_update: number;
  pub_key: string;
  alias: string;
  color: string;
}

export interface NodeInfo {
  node: LightningNode | null;
  num_channels: number;
  total_capacity: U64;
}

export interface ChannelFeeReport {
  chan_id: U64;
  channel_point: string;
  base_fee_msat: U64;
  fee_per_mil: U64;
  fee_rate: number;
  inbound_base_fee_msat: number;
  inbound_fee_per_mil: number;
}

export interface FeeReportResponse {
  channel_fees: ChannelFeeReport[];
  day_fee_sum: U64;
  week_fee_sum: U64;
  month_fee_sum: U64;
}

export interface ForwardingHistoryRequest {
  start_time?: U64;
  end_time?: U64;
  index_offset?: number;
  num_max_events?: number;
  peer_alias_lookup?: boolean;
}

export interface ForwardingEvent {
  timestamp: U64;
  chan_id_in: U64;
  chan_id_out: U64;
  amt_in: U64;
  amt_out: U64;
  fee: U64;
  fee_msat: U64;
  amt_in_msat: U64;
  amt_out_msat: U64;
  timestamp_ns: U64;
  peer_alias_in: string;
  peer_alias_out: string;
  incoming_htlc_id?: U64 | null;
  outgoing_htlc_id?: U64 | null;
}

export interface ForwardingHistoryResponse {
  forwarding_events: ForwardingEvent[];
  last_offset_index: number;
}
