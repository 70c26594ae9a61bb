export * from './types';
export * from './lnd';
export * from './lndmanagej';
export * from './service';
