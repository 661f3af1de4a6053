/** Helpers for users' own tests: the offline and scripted models. */
export { OfflineModel, ScriptedModel, callTools, reply } from '../models';
export type { ScriptedStep } from '../models';
