import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { MethodDefinition } from '@grpc/proto-loader';
import { loadLndProtos } from '../src/core/lnd/protos';
import type { HtlcEvent } from '../src/core/lnd/types';

/**
 * A server that behaves like LND's Go gRPC server on the wire: a plain node:http2 TLS server that
 * writes pre-encoded gRPC frames (5-byte prefix + protobuf) in large writes. A grpc-js server is
 * itself the bottleneck (about 40-70k messages/s), so it cannot show the client's limit.
 */
export class GoLikeServer {
  private server!: http2.Http2SecureServer;
  port = 0;
  private streamPayload: Buffer = Buffer.alloc(0);
  private getInfoFrame: Buffer;
  streamsServed = 0;
  private readonly sessions = new Set<http2.ServerHttp2Session>();

  constructor(private readonly tls: { cert: string; key: string }) {
    const def = loadLndProtos().packageDefinition['lnrpc.Lightning'] as unknown as Record<string, MethodDefinition<object, object>>;
    const info = def.GetInfo.responseSerialize({ identity_pubkey: '02'.padEnd(66, 'a'), alias: 'go-like', version: '0.21.0-beta', synced_to_chain: true } as object);
    this.getInfoFrame = frame(info);
  }

  /** Pre-encodes the events as one buffer of gRPC frames. */
  setEvents(events: HtlcEvent[]): number {
    const def = loadLndProtos().packageDefinition['routerrpc.Router'] as unknown as Record<string, MethodDefinition<object, object>>;
    const ser = def.SubscribeHtlcEvents.responseSerialize;
    const frames = [frame(ser({ event_type: 'UNKNOWN', subscribed_event: {} } as object))];
    for (const ev of events) frames.push(frame(ser(ev as object)));
    this.streamPayload = Buffer.concat(frames);
    return this.streamPayload.length;
  }

  async start(): Promise<string> {
    this.server = http2.createSecureServer({ cert: this.tls.cert, key: this.tls.key, allowHTTP1: false });
    this.server.on('session', (session) => {
      this.sessions.add(session);
      session.on('close', () => this.sessions.delete(session));
    });
    this.server.on('stream', (stream, headers) => {
      const path = headers[':path'];
      if (path === '/lnrpc.Lightning/GetInfo') {
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
        stream.end(this.getInfoFrame);
        return;
      }
      if (path === '/routerrpc.Router/SubscribeHtlcEvents') {
        this.streamsServed++;
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
        const payload = this.streamPayload;
        const CHUNK = 256 * 1024;
        let off = 0;
        const pump = () => {
          while (off < payload.length) {
            const end = Math.min(payload.length, off + CHUNK);
            const ok = stream.write(payload.subarray(off, end));
            off = end;
            if (!ok) {
              stream.once('drain', pump);
              return;
            }
          }
          stream.end();
        };
        pump();
        stream.on('error', () => {});
        return;
      }
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '12' }, { endStream: true });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return `127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sessions) s.destroy();
    await closed;
  }
}

function frame(msg: Buffer): Buffer {
  const f = Buffer.allocUnsafe(5 + msg.length);
  f[0] = 0;
  f.writeUInt32BE(msg.length, 1);
  msg.copy(f, 5);
  return f;
}
