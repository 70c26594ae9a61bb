export * from './window';
export * from './opportunity';
export * from './storeWindow';
