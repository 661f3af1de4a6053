export { createActivities } from './create-activities';
export type { ActivityDependencies, ApprovalSettings } from './create-activities';
