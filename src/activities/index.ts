export { createActivities } from './create-activities';
export type { ActivityDependencies } from './create-activities';
