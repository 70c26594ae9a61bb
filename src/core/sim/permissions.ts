/**
 * LND's macaroon permission model, for the calls the simulator serves.
 *
 * Copied from LND v0.21.0-beta (github.com/lightningnetwork/lnd):
 * - rpcserver.go: `MainRPCServerPermissions()` (the lnrpc.Lightning entries), `readPermissions`,
 *   `writePermissions`, `validActions` and `validEntities`;
 * - lnrpc/routerrpc/router_server.go: `macPermissions` (the routerrpc.Router entries);
 * - lnd.go `genDefaultMacaroons`: readonly.macaroon gets `readPermissions`, admin.macaroon gets
 *   `readPermissions` + `writePermissions`;
 * - macaroons/service.go `CheckMacAuth`: a call is allowed when the macaroon grants every
 *   permission the method requires, or else the special permission `uri:<full method>`.
 * The entries are unchanged from v0.18 to v0.21; test/unit/sim-permissions.test.ts pins them.
 */

/** One entity:action pair (LND's bakery.Op). */
export interface MacaroonOp {
  readonly entity: string;
  readonly action: string;
}

/** LND's `macaroons.PermissionEntityCustomURI`: `uri:/package.Service/Method` grants that call. */
export const URI_ENTITY = 'uri';

const op = (entity: string, action: string): MacaroonOp => Object.freeze({ entity, action });

/**
 * The permission each call the simulator serves requires, by full gRPC method name, exactly as in
 * LND's tables. The simulator refuses any call that is not in here (LND: "unknown permissions
 * required for method").
 */
export const LND_METHOD_PERMISSIONS: Readonly<Record<string, readonly MacaroonOp[]>> = Object.freeze({
  '/lnrpc.Lightning/GetInfo': Object.freeze([op('info', 'read')]),
  '/lnrpc.Lightning/ListChannels': Object.freeze([op('offchain', 'read')]),
  '/lnrpc.Lightning/GetChanInfo': Object.freeze([op('info', 'read')]),
  '/lnrpc.Lightning/GetNodeInfo': Object.freeze([op('info', 'read')]),
  '/lnrpc.Lightning/FeeReport': Object.freeze([op('offchain', 'read')]),
  '/lnrpc.Lightning/UpdateChannelPolicy': Object.freeze([op('offchain', 'write')]),
  '/lnrpc.Lightning/ForwardingHistory': Object.freeze([op('offchain', 'read')]),
  '/routerrpc.Router/SubscribeHtlcEvents': Object.freeze([op('offchain', 'read')]),
});

/** LND's `readPermissions`: what readonly.macaroon grants (every entity's read). */
export const LND_READ_PERMISSIONS: readonly MacaroonOp[] = Object.freeze([
  op('onchain', 'read'),
  op('offchain', 'read'),
  op('address', 'read'),
  op('message', 'read'),
  op('peers', 'read'),
  op('info', 'read'),
  op('invoices', 'read'),
  op('signer', 'read'),
  op('macaroon', 'read'),
]);

/** LND's `writePermissions`. */
export const LND_WRITE_PERMISSIONS: readonly MacaroonOp[] = Object.freeze([
  op('onchain', 'write'),
  op('offchain', 'write'),
  op('address', 'write'),
  op('message', 'write'),
  op('peers', 'write'),
  op('info', 'write'),
  op('invoices', 'write'),
  op('signer', 'generate'),
  op('macaroon', 'generate'),
  op('macaroon', 'write'),
]);

/** What admin.macaroon grants: read + write permissions. */
export const LND_ADMIN_PERMISSIONS: readonly MacaroonOp[] = Object.freeze([...LND_READ_PERMISSIONS, ...LND_WRITE_PERMISSIONS]);

/**
 * A macaroon an operator can bake on LND (`lncli bakemacaroon info:read
 * uri:/lnrpc.Lightning/ListChannels uri:/lnrpc.Lightning/FeeReport
 * uri:/lnrpc.Lightning/ForwardingHistory`) that reads everything the monitor reads except the HTLC
 * stream: LND refuses SubscribeHtlcEvents to it ("permission denied") and answers the rest. With
 * broad permissions alone that cannot happen (offchain:read covers both SubscribeHtlcEvents and
 * ForwardingHistory); this and an LND without routerrpc are the two ways to history-only mode.
 */
export const NO_HTLC_STREAM_PERMISSIONS: readonly string[] = Object.freeze([
  'info:read',
  'uri:/lnrpc.Lightning/ListChannels',
  'uri:/lnrpc.Lightning/FeeReport',
  'uri:/lnrpc.Lightning/ForwardingHistory',
]);

export const LND_VALID_ACTIONS: readonly string[] = Object.freeze(['read', 'write', 'generate']);
export const LND_VALID_ENTITIES: readonly string[] = Object.freeze(['onchain', 'offchain', 'address', 'message', 'peers', 'info', 'invoices', 'signer', 'macaroon', URI_ENTITY]);

/** Go's `%v` of a []string: `[a b c]`. */
const goList = (xs: readonly string[]): string => `[${xs.join(' ')}]`;

/**
 * Parses `entity:action` strings the way `lncli bakemacaroon` does and validates them as LND's
 * BakeMacaroon RPC does (with LND's error texts); `uri:` permissions must name a call in
 * `knownMethods`. The split is at the first colon, so `uri:/lnrpc.Lightning/GetInfo` works.
 */
export function parsePermissions(perms: readonly string[], knownMethods: ReadonlySet<string>): MacaroonOp[] {
  const help = `supported actions are ${goList(LND_VALID_ACTIONS)}, supported entities are ${goList(LND_VALID_ENTITIES)}`;
  if (perms.length === 0) throw new Error(`permission list cannot be empty. specify at least one action/entity pair. ${help}`);
  const ops: MacaroonOp[] = [];
  for (const p of perms) {
    const i = p.indexOf(':');
    // lncli's own check, before the RPC
    if (i <= 0 || i === p.length - 1) throw new Error(`invalid permission: ${p}`);
    const entity = p.slice(0, i);
    const action = p.slice(i + 1);
    if (!LND_VALID_ENTITIES.includes(entity)) throw new Error(`invalid permission entity. ${help}`);
    if (entity === URI_ENTITY) {
      if (!knownMethods.has(action)) throw new Error('invalid permission action, must be an existing URI in the format /package.Service/MethodName');
    } else if (!LND_VALID_ACTIONS.includes(action)) {
      throw new Error(`invalid permission action. ${help}`);
    }
    ops.push(op(entity, action));
  }
  return ops;
}
