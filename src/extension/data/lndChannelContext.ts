import { Emitter, Disposable, Logger, silentLogger } from '../../core/emitter';
import type { LndClient } from '../../core/lnd/client';
import { parseU64 } from '../../core/scid';
import type { ChannelContext, ChannelContextSource } from './types';

function u64(v: string | number | undefined | null): bigint | undefined {
  try {
    return v === undefined || v === null || v === '' ? undefined : parseU64(v);
  } catch {
    return undefined;
  }
}

/**
 * Aliases, capacity, balances and fees from LND (ListChannels with peer_alias_lookup, FeeReport),
 * refreshed on connect and every few minutes. Optional: the UI works without it (SCIDs, no
 * balances). The analysis module's channel context replaces it when present.
 */
export class LndChannelContext implements ChannelContextSource {
  private readonly byId = new Map<string, ChannelContext>();
  private readonly emitter = new Emitter<{ change: () => void }>();
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;

  constructor(
    private readonly client: () => LndClient | undefined,
    private readonly logger: Logger = silentLogger,
    private readonly intervalMs = 5 * 60_000,
  ) {}

  get(channelId: string): ChannelContext | undefined {
    return this.byId.get(channelId);
  }

  get size(): number {
    return this.byId.size;
  }

  onDidChange(listener: () => void): Disposable {
    return this.emitter.on('change', listener);
  }

  /** Starts periodic refreshes (call when connected). */
  start(): void {
    this.stopTimer();
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.intervalMs);
    this.timer.unref?.();
  }

  stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  clear(): void {
    this.byId.clear();
    this.emitter.emit('change');
  }

  refresh(): Promise<void> {
    if (!this.refreshing) this.refreshing = this.doRefresh().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private async doRefresh(): Promise<void> {
    const client = this.client();
    if (!client) return;
    let changed = false;
    try {
      const channels = await client.listChannels({ peer_alias_lookup: true });
      for (const ch of channels) {
        const prev = this.byId.get(ch.chan_id);
        this.byId.set(ch.chan_id, {
          ...prev,
          channelId: ch.chan_id,
          alias: ch.peer_alias || prev?.alias,
          remotePubkey: ch.remote_pubkey,
          active: ch.active,
          capacitySat: u64(ch.capacity),
          localBalanceSat: u64(ch.local_balance),
          remoteBalanceSat: u64(ch.remote_balance),
        });
      }
      changed = true;
      this.logger.debug(`channel context: ${channels.length} channels from ListChannels`);
    } catch (err) {
      this.logger.warn(`ListChannels failed (aliases and balances unavailable): ${(err as Error).message}`);
    }
    try {
      const report = await client.feeReport();
      for (const f of report.channel_fees ?? []) {
        const prev = this.byId.get(f.chan_id) ?? { channelId: f.chan_id };
        this.byId.set(f.chan_id, { ...prev, baseFeeMsat: u64(f.base_fee_msat), feePpm: u64(f.fee_per_mil) });
      }
      changed = true;
    } catch (err) {
      this.logger.debug(`FeeReport failed (fees unavailable): ${(err as Error).message}`);
    }
    if (changed) this.emitter.emit('change');
  }

  dispose(): void {
    this.stopTimer();
    this.emitter.clear();
  }
}
