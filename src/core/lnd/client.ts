import type * as grpc from '@grpc/grpc-js';
import type { MethodDefinition } from '@grpc/proto-loader';
import { classifyGrpcError, LndError } from './errors';
import { certAltNames, LndEndpoint, parseHostPort, readMacaroon, readTlsCert } from './config';
import { grpcJs, loadLndProtos } from './protos';
import type {
  ChannelEdge,
  FeeReportResponse,
  ForwardingHistoryRequest,
  ForwardingHistoryResponse,
  GetInfoResponse,
  HtlcEvent,
  ListChannelsRequest,
  Channel,
  NodeInfo,
} from './types';

export interface LndConnectionConfig {
  /** host:port of LND's gRPC interface, e.g. 127.0.0.1:10009 or [::1]:10009. */
  server: string;
  /** Path to LND's tls.cert. */
  tlsCertPath?: string;
  /** The certificate itself (PEM), instead of a path. */
  tlsCertPem?: Buffer | string;
  /** Path to a macaroon file (binary as LND writes it, or hex text). */
  macaroonPath?: string;
  /** The macaroon as hex, instead of a path. */
  macaroonHex?: string;
  /** Verify the certificate against this name instead of the host (like lncli --tlscertpath + a name in the cert). */
  tlsServerName?: string;
  /** Deadline of unary calls, ms. Default 15 s. */
  callTimeoutMs?: number;
}

/** LND's own clients allow 200 MiB: ListChannels and ForwardingHistory outgrow gRPC's 4 MiB default. */
export const MAX_RECEIVE_BYTES = 200 * 1024 * 1024;

export type HtlcStreamDeserializer = (buf: Buffer) => HtlcEvent;

/**
 * A thin typed client for the LND calls we use. TLS is always verified against the given
 * tls.cert; the macaroon goes as hex in the `macaroon` metadata of every call.
 */
export class LndClient {
  readonly endpoint: LndEndpoint;
  private readonly client: grpc.Client;
  private readonly callTimeoutMs: number;
  private readonly methods: Record<string, MethodDefinition<object, object>>;
  /** The names tls.cert covers ("DNS:localhost", "IP Address:127.0.0.1"), for certificate errors. */
  private certNames: string[] = [];

  private constructor(endpoint: LndEndpoint, creds: grpc.ChannelCredentials, options: grpc.ChannelOptions, callTimeoutMs: number) {
    this.endpoint = endpoint;
    this.callTimeoutMs = callTimeoutMs;
    this.client = new (grpcJs().Client)(endpoint.target, creds, options);
    const def = loadLndProtos().packageDefinition;
    this.methods = {
      ...(def['routerrpc.Router'] as unknown as Record<string, MethodDefinition<object, object>>),
      ...(def['lnrpc.Lightning'] as unknown as Record<string, MethodDefinition<object, object>>),
    };
  }

  /** Validates the inputs (each bad one fails with its own message) and builds the client. */
  static create(config: LndConnectionConfig): LndClient {
    const endpoint = parseHostPort(config.server);
    let cert: Buffer;
    if (config.tlsCertPem !== undefined) cert = Buffer.from(config.tlsCertPem);
    else if (config.tlsCertPath) cert = readTlsCert(config.tlsCertPath);
    else throw new LndError('config', "No TLS certificate given: pass LND's tls.cert (e.g. ~/.lnd/tls.cert).");
    const macaroonHex = readMacaroon({ path: config.macaroonPath, hex: config.macaroonHex });

    const g = grpcJs();
    const callCreds = g.credentials.createFromMetadataGenerator((_params, callback) => {
      const md = new g.Metadata();
      md.add('macaroon', macaroonHex);
      callback(null, md);
    });
    const creds = g.credentials.combineChannelCredentials(g.credentials.createSsl(cert), callCreds);
    const options: grpc.ChannelOptions = {
      'grpc.max_receive_message_length': MAX_RECEIVE_BYTES,
      // LND's server rejects pings more often than every 5 s; ping every 30 s, even when idle.
      'grpc.keepalive_time_ms': 30_000,
      'grpc.keepalive_timeout_ms': 10_000,
      'grpc.keepalive_permit_without_calls': 1,
      'grpc.initial_reconnect_backoff_ms': 1_000,
      'grpc.max_reconnect_backoff_ms': 10_000,
    };
    if (config.tlsServerName) options['grpc.ssl_target_name_override'] = config.tlsServerName;
    const client = new LndClient(endpoint, creds, options, config.callTimeoutMs ?? 15_000);
    client.certNames = certAltNames(cert);
    return client;
  }

  get target(): string {
    return this.endpoint.target;
  }

  getInfo(): Promise<GetInfoResponse> {
    return this.unary('lnrpc.Lightning', 'GetInfo', {});
  }

  async listChannels(req: ListChannelsRequest = {}): Promise<Channel[]> {
    const res = await this.unary<{ channels: Channel[] }>('lnrpc.Lightning', 'ListChannels', req);
    return res.channels ?? [];
  }

  getChanInfo(chanId: string): Promise<ChannelEdge> {
    return this.unary('lnrpc.Lightning', 'GetChanInfo', { chan_id: chanId });
  }

  getNodeInfo(pubKey: string): Promise<NodeInfo> {
    return this.unary('lnrpc.Lightning', 'GetNodeInfo', { pub_key: pubKey, include_channels: false });
  }

  feeReport(): Promise<FeeReportResponse> {
    return this.unary('lnrpc.Lightning', 'FeeReport', {});
  }

  forwardingHistory(req: ForwardingHistoryRequest): Promise<ForwardingHistoryResponse> {
    return this.unary('lnrpc.Lightning', 'ForwardingHistory', req);
  }

  /**
   * Opens routerrpc.Router/SubscribeHtlcEvents. A custom deserializer may replace proto-loader's:
   * the monitor passes one that keeps the message bytes (its normaliser reads them directly).
   */
  subscribeHtlcEvents<T = HtlcEvent>(deserialize?: (buf: Buffer) => T): grpc.ClientReadableStream<T> {
    const m = this.methods['SubscribeHtlcEvents'];
    return this.client.makeServerStreamRequest(
      m.path,
      m.requestSerialize as (v: object) => Buffer,
      deserialize ?? (m.responseDeserialize as unknown as (buf: Buffer) => T),
      {},
      new (grpcJs().Metadata)(),
      {},
    );
  }

  /** Waits until the channel is connected (or throws the classified reason). */
  async ready(timeoutMs = 10_000): Promise<void> {
    await this.getInfoWithin(timeoutMs);
  }

  private getInfoWithin(timeoutMs: number): Promise<GetInfoResponse> {
    return this.unary('lnrpc.Lightning', 'GetInfo', {}, timeoutMs);
  }

  close(): void {
    this.client.close();
  }

  private unary<T>(service: string, method: string, request: object, timeoutMs = this.callTimeoutMs): Promise<T> {
    const m = this.methods[method];
    if (!m) return Promise.reject(new LndError('other', `unknown method ${service}/${method}`));
    return new Promise<T>((resolve, reject) => {
      this.client.makeUnaryRequest(
        m.path,
        m.requestSerialize as (v: object) => Buffer,
        m.responseDeserialize as (b: Buffer) => T,
        request,
        new (grpcJs().Metadata)(),
        { deadline: Date.now() + timeoutMs },
        (err, value) => {
          if (err) reject(classifyGrpcError(err, method, this.endpoint.target, this.certNames));
          else resolve(value as T);
        },
      );
    });
  }
}
