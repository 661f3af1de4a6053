export * from './types';
export * from './errors';
export * from './messages';
export * from './search-attributes';
export { toMilliseconds } from './duration';
