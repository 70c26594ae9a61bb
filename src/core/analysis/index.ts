export * from './window';
export * from './opportunity';
