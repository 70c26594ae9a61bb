/**
 * Checks our trimmed copies of LND's router.proto / lightning.proto:
 * they load with @grpc/proto-loader and protobufjs, decode real wire bytes
 * the way lnd encodes them, and keep LND's field numbers.
 */
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import * as protoLoader from '@grpc/proto-loader';
import * as protobuf from 'protobufjs';

const PROTOS_DIR = path.resolve(__dirname, '../../protos');

const LOADER_OPTIONS: protoLoader.Options = {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
    includeDirs: [PROTOS_DIR],
};

function loadRoot(): protobuf.Root {
    const root = new protobuf.Root();
    root.resolvePath = (_origin: string, target: string): string =>
        path.isAbsolute(target) ? target : path.join(PROTOS_DIR, target);
    root.loadSync(['router.proto', 'lightning.proto'], { keepCase: true });
    root.resolveAll();
    return root;
}

type MethodDef = protoLoader.MethodDefinition<object, object>;

describe('LND protos (trimmed copies)', () => {
    let pkg: protoLoader.PackageDefinition;
    let root: protobuf.Root;
    let subscribe: MethodDef;

    const decodeHtlcEvent = (hex: string): Record<string, unknown> =>
        subscribe.responseDeserialize(Buffer.from(hex, 'hex')) as Record<string, unknown>;

    before(() => {
        pkg = protoLoader.loadSync(['router.proto', 'lightning.proto'], LOADER_OPTIONS);
        root = loadRoot();
        const router = pkg['routerrpc.Router'] as protoLoader.ServiceDefinition;
        subscribe = router.SubscribeHtlcEvents as MethodDef;
    });

    it('decodes 5a00 as a subscribed_event', () => {
        const ev = decodeHtlcEvent('5a00');
        assert.equal(ev.event, 'subscribed_event');
        assert.deepEqual(ev.subscribed_event, {});
        assert.equal(ev.event_type, 'UNKNOWN');
        assert.equal(ev.incoming_channel_id, '0');
    });

    it('decodes a forward_fail_event with 64-bit ids as strings and round-trips', () => {
        const hex =
            '088180a4c98080e0b60d10808084808080c09a0c18eb0920be830128959a8cbc91fbdfae1830034200';
        const ev = decodeHtlcEvent(hex);
        assert.equal(ev.incoming_channel_id, '967570232596561921');
        assert.equal(ev.outgoing_channel_id, '879609302220865536');
        assert.equal(ev.incoming_htlc_id, '1259');
        assert.equal(ev.outgoing_htlc_id, '16830');
        assert.equal(ev.timestamp_ns, '1755700000123456789');
        assert.equal(ev.event_type, 'FORWARD');
        assert.equal(ev.event, 'forward_fail_event');
        assert.deepEqual(ev.forward_fail_event, {});

        const reencoded = subscribe.responseSerialize(ev);
        assert.equal(Buffer.from(reencoded).toString('hex'), hex);

        // protobufjs directly agrees.
        const HtlcEvent = root.lookupType('routerrpc.HtlcEvent');
        const viaRoot = HtlcEvent.encode(HtlcEvent.fromObject(ev)).finish();
        assert.equal(Buffer.from(viaRoot).toString('hex'), hex);
    });

    it('decodes LinkFailEvent enums by name, and unknown enum numbers as numbers', () => {
        const HtlcEvent = root.lookupType('routerrpc.HtlcEvent');
        const LinkFailEvent = root.lookupType('routerrpc.LinkFailEvent');

        const bytes = HtlcEvent.encode(
            HtlcEvent.fromObject({
                incoming_channel_id: '967570232596561921',
                event_type: 'FORWARD',
                link_fail_event: {
                    info: { incoming_amt_msat: '100000', outgoing_amt_msat: '99000' },
                    wire_failure: 15,
                    failure_detail: 6,
                    failure_string: 'insufficient bandwidth',
                },
            }),
        ).finish();
        const ev = decodeHtlcEvent(Buffer.from(bytes).toString('hex'));
        assert.equal(ev.event, 'link_fail_event');
        const lf = ev.link_fail_event as Record<string, unknown>;
        assert.equal(lf.wire_failure, 'TEMPORARY_CHANNEL_FAILURE');
        assert.equal(lf.failure_detail, 'INSUFFICIENT_BALANCE');
        assert.equal(lf.failure_string, 'insufficient bandwidth');
        assert.deepEqual(lf.info, {
            incoming_timelock: 0,
            outgoing_timelock: 0,
            incoming_amt_msat: '100000',
            outgoing_amt_msat: '99000',
        });

        // An enum value newer than our copy (e.g. a future lnd) must not crash.
        const lfBytes = LinkFailEvent.encode(
            LinkFailEvent.create({ wire_failure: 1000, failure_detail: 999 }),
        ).finish();
        // Wrap as HtlcEvent field 10 (link_fail_event, length-delimited).
        const wrapped = Buffer.concat([
            Buffer.from([0x52, lfBytes.length]),
            Buffer.from(lfBytes),
        ]);
        const unknown = decodeHtlcEvent(wrapped.toString('hex'));
        assert.equal(unknown.event, 'link_fail_event');
        const ulf = unknown.link_fail_event as Record<string, unknown>;
        assert.equal(ulf.failure_detail, 999);
        assert.equal(ulf.wire_failure, 1000);

        // Failure codes 997..999 exist with LND's numbers.
        const codes = root.lookupEnum('lnrpc.Failure.FailureCode').values;
        assert.equal(codes.INTERNAL_FAILURE, 997);
        assert.equal(codes.UNKNOWN_FAILURE, 998);
        assert.equal(codes.UNREADABLE_FAILURE, 999);
        assert.equal(codes.INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS, 1);
        assert.equal(codes.INVALID_ONION_BLINDING, 25);
        const details = root.lookupEnum('routerrpc.FailureDetail').values;
        assert.equal(details.INSUFFICIENT_BALANCE, 6);
        assert.equal(details.EXTERNAL_VALIDATION_FAILED, 27);
    });

    it('keeps LND field numbers', () => {
        const id = (type: string, field: string): number => {
            const f = root.lookupType(type).fields[field];
            assert.ok(f, `${type}.${field} missing`);
            return f.id;
        };
        const htlc = 'routerrpc.HtlcEvent';
        assert.equal(id(htlc, 'incoming_channel_id'), 1);
        assert.equal(id(htlc, 'outgoing_channel_id'), 2);
        assert.equal(id(htlc, 'timestamp_ns'), 5);
        assert.equal(id(htlc, 'event_type'), 6);
        assert.equal(id(htlc, 'forward_event'), 7);
        assert.equal(id(htlc, 'forward_fail_event'), 8);
        assert.equal(id(htlc, 'settle_event'), 9);
        assert.equal(id(htlc, 'link_fail_event'), 10);
        assert.equal(id(htlc, 'subscribed_event'), 11);
        assert.equal(id(htlc, 'final_htlc_event'), 12);
        assert.deepEqual(root.lookupType(htlc).oneofs.event.oneof, [
            'forward_event',
            'forward_fail_event',
            'settle_event',
            'link_fail_event',
            'subscribed_event',
            'final_htlc_event',
        ]);

        assert.equal(id('routerrpc.LinkFailEvent', 'info'), 1);
        assert.equal(id('routerrpc.LinkFailEvent', 'wire_failure'), 2);
        assert.equal(id('routerrpc.LinkFailEvent', 'failure_detail'), 3);
        assert.equal(id('routerrpc.LinkFailEvent', 'failure_string'), 4);
        assert.equal(
            root.lookupType('routerrpc.LinkFailEvent').fields.wire_failure.resolvedType?.fullName,
            '.lnrpc.Failure.FailureCode',
        );

        assert.equal(id('lnrpc.Channel', 'chan_id'), 4);
        assert.equal(root.lookupType('lnrpc.Channel').fields.chan_id.options?.jstype, 'JS_STRING');
        assert.equal(id('lnrpc.Channel', 'unsettled_balance'), 11);
        assert.equal(id('lnrpc.Channel', 'alias_scids'), 31);
        assert.equal(id('lnrpc.Channel', 'peer_scid_alias'), 35);
        assert.equal(id('lnrpc.Channel', 'memo'), 36);
        assert.equal(id('lnrpc.ListChannelsResponse', 'channels'), 11);
        assert.equal(id('lnrpc.GetInfoResponse', 'version'), 14);
        assert.equal(id('lnrpc.GetInfoResponse', 'commit_hash'), 20);
        assert.equal(id('lnrpc.ForwardingEvent', 'chan_id_out'), 4);
        assert.equal(id('lnrpc.ForwardingEvent', 'timestamp_ns'), 11);
        assert.equal(id('lnrpc.ForwardingEvent', 'incoming_htlc_id'), 14);
        assert.equal(id('lnrpc.ForwardingEvent', 'outgoing_htlc_id'), 15);
        assert.equal(id('lnrpc.RoutingPolicy', 'fee_rate_milli_msat'), 4);
        assert.equal(id('lnrpc.RoutingPolicy', 'inbound_fee_rate_milli_msat'), 10);
        assert.equal(id('lnrpc.ChannelFeeReport', 'chan_id'), 5);
        assert.equal(id('lnrpc.ChannelFeeReport', 'inbound_fee_per_mil'), 7);
        assert.equal(id('lnrpc.Failure', 'code'), 1);
    });

    it('exposes only the services and methods we use', () => {
        const router = pkg['routerrpc.Router'] as protoLoader.ServiceDefinition;
        assert.deepEqual(Object.keys(router), ['SubscribeHtlcEvents']);
        assert.equal(router.SubscribeHtlcEvents.path, '/routerrpc.Router/SubscribeHtlcEvents');
        assert.equal(router.SubscribeHtlcEvents.requestStream, false);
        assert.equal(router.SubscribeHtlcEvents.responseStream, true);

        const lightning = pkg['lnrpc.Lightning'] as protoLoader.ServiceDefinition;
        assert.deepEqual(Object.keys(lightning).sort(), [
            'FeeReport',
            'ForwardingHistory',
            'GetChanInfo',
            'GetInfo',
            'GetNodeInfo',
            'ListChannels',
        ]);
        for (const m of Object.values(lightning)) {
            assert.equal(m.requestStream, false);
            assert.equal(m.responseStream, false);
        }

        const svc = root.lookupService('lnrpc.Lightning');
        const io = Object.fromEntries(
            svc.methodsArray.map((m) => [m.name, `${m.requestType}->${m.responseType}`]),
        );
        assert.deepEqual(io, {
            GetInfo: 'GetInfoRequest->GetInfoResponse',
            ListChannels: 'ListChannelsRequest->ListChannelsResponse',
            GetChanInfo: 'ChanInfoRequest->ChannelEdge',
            GetNodeInfo: 'NodeInfoRequest->NodeInfo',
            FeeReport: 'FeeReportRequest->FeeReportResponse',
            ForwardingHistory: 'ForwardingHistoryRequest->ForwardingHistoryResponse',
        });
    });

    it('decodes uint64 channel ids with JS_STRING as exact strings', () => {
        const lightning = pkg['lnrpc.Lightning'] as protoLoader.ServiceDefinition;
        const list = lightning.ListChannels as MethodDef;
        const Resp = root.lookupType('lnrpc.ListChannelsResponse');
        const bytes = Resp.encode(
            Resp.fromObject({
                channels: [
                    {
                        active: true,
                        chan_id: '967570232596561921',
                        peer_scid_alias: '17592186044416000001',
                        alias_scids: ['17592186044416000002'],
                        capacity: '5000000',
                    },
                ],
            }),
        ).finish();
        const out = list.responseDeserialize(Buffer.from(bytes)) as {
            channels: Array<Record<string, unknown>>;
        };
        assert.equal(out.channels.length, 1);
        assert.equal(out.channels[0].chan_id, '967570232596561921');
        assert.equal(out.channels[0].peer_scid_alias, '17592186044416000001');
        assert.deepEqual(out.channels[0].alias_scids, ['17592186044416000002']);
        assert.equal(out.channels[0].capacity, '5000000');
        assert.equal(out.channels[0].active, true);
    });
});
