/** Every command the extension registers; package.json must contribute exactly these (checked by test/unit/manifest.test.ts). */
export const COMMANDS = {
  connect: 'htlcMonitor.connect',
  startMonitoring: 'htlcMonitor.startMonitoring',
  stopMonitoring: 'htlcMonitor.stopMonitoring',
  showTopOpportunities: 'htlcMonitor.showTopOpportunities',
  startDemoNode: 'htlcMonitor.startDemoNode',
  export: 'htlcMonitor.export',
  resetStatistics: 'htlcMonitor.resetStatistics',
  showLog: 'htlcMonitor.showLog',
  forgetMacaroon: 'htlcMonitor.forgetMacaroon',
  refresh: 'htlcMonitor.refresh',
  selectWindow: 'htlcMonitor.selectWindow',
  showActionableOnly: 'htlcMonitor.showActionableOnly',
  showAllChannels: 'htlcMonitor.showAllChannels',
  copyChannelId: 'htlcMonitor.copyChannelId',
  copyScid: 'htlcMonitor.copyScid',
  copyDetails: 'htlcMonitor.copyDetails',
  showInAnalysis: 'htlcMonitor.showInAnalysis',
} as const;

export type CommandId = (typeof COMMANDS)[keyof typeof COMMANDS];
