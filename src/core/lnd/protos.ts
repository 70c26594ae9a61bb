import * as path from 'node:path';
import * as fs from 'node:fs';
import type * as Grpc from '@grpc/grpc-js';
import type * as ProtoLoader from '@grpc/proto-loader';

/**
 * Options used everywhere the LND protos are loaded. `longs: String` keeps every uint64 (channel
 * ids, amounts, timestamps) as a decimal string, so no value ever passes through a JS number.
 * `enums: String` gives LND's enum names; a number we do not know (newer LND) stays a number.
 */
export const PROTO_LOADER_OPTIONS: ProtoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

/** Finds protos/ both from the source tree (tests, tsx) and beside the bundle (dist/protos). */
export function protosDir(): string {
  const candidates = [
    path.resolve(__dirname, 'protos'),
    path.resolve(__dirname, '../protos'),
    path.resolve(__dirname, '../../protos'),
    path.resolve(__dirname, '../../../protos'),
  ];
  for (const dir of candidates) {
    if (fs.existsSync(path.join(dir, 'router.proto'))) return dir;
  }
  throw new Error(`protos/ not found near ${__dirname}`);
}

export interface LndGrpcObjects {
  routerrpc: { Router: Grpc.ServiceClientConstructor };
  lnrpc: { Lightning: Grpc.ServiceClientConstructor };
  packageDefinition: ProtoLoader.PackageDefinition;
}

let cached: LndGrpcObjects | undefined;

/**
 * gRPC and proto-loader are loaded on first use, not when the extension activates (issue 7: their
 * module setup, proto-loader's descriptor protos above all, was ~45 ms of an activation that
 * connects to nothing until a node is configured).
 */
export function grpcJs(): typeof Grpc {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('@grpc/grpc-js') as typeof Grpc;
}

export function loadLndProtos(): LndGrpcObjects {
  if (cached) return cached;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const protoLoader = require('@grpc/proto-loader') as typeof ProtoLoader;
  const grpc = grpcJs();
  const dir = protosDir();
  const packageDefinition = protoLoader.loadSync(['router.proto', 'lightning.proto'], {
    ...PROTO_LOADER_OPTIONS,
    includeDirs: [dir],
  });
  const loaded = grpc.loadPackageDefinition(packageDefinition) as unknown as {
    routerrpc: { Router: Grpc.ServiceClientConstructor };
    lnrpc: { Lightning: Grpc.ServiceClientConstructor };
  };
  cached = { routerrpc: loaded.routerrpc, lnrpc: loaded.lnrpc, packageDefinition };
  return cached;
}
