export { HtlcStore, storePathFor, StoreOpenError, STORE_DEFAULTS } from './store';
export type { StoreOptions, StoreEvents, FlushInfo, StoredFailure, FailureQuery, StoreSizes, RestoreInfo } from './store';
export { WINDOWS, WINDOW_MS, DAY_MS, parseWindow, isWindowName, planWindow, topReasonOf } from './windows';
export type { WindowName, WindowReport, WindowTotals, ChannelWindow, RoutePairWindow, ReasonTotals, FailureSeries, SeriesBucket } from './windows';
export { csvCell, toCsv, exportDocument } from './export';
export type { StoreFs } from './fsio';
export { loadSqlJs } from './sqlite';
export { CURRENT_VERSION, MIGRATIONS } from './schema';
