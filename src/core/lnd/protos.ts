import * as path from 'node:path';
import * as fs from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/**
 * Options used everywhere the LND protos are loaded. `longs: String` keeps every uint64 (channel
 * ids, amounts, timestamps) as a decimal string, so no value ever passes through a JS number.
 * `enums: String` gives LND's enum names; a number we do not know (newer LND) stays a number.
 */
export const PROTO_LOADER_OPTIONS: protoLoader.Options = {
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
  routerrpc: { Router: grpc.ServiceClientConstructor };
  lnrpc: { Lightning: grpc.ServiceClientConstructor };
  packageDefinition: protoLoader.PackageDefinition;
}

let cached: LndGrpcObjects | undefined;

export function loadLndProtos(): LndGrpcObjects {
  if (cached) return cached;
  const dir = protosDir();
  const packageDefinition = protoLoader.loadSync(['router.proto', 'lightning.proto'], {
    ...PROTO_LOADER_OPTIONS,
    includeDirs: [dir],
  });
  const loaded = grpc.loadPackageDefinition(packageDefinition) as unknown as {
    routerrpc: { Router: grpc.ServiceClientConstructor };
    lnrpc: { Lightning: grpc.ServiceClientConstructor };
  };
  cached = { routerrpc: loaded.routerrpc, lnrpc: loaded.lnrpc, packageDefinition };
  return cached;
}
