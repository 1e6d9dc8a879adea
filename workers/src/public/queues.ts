/** The BullMQ queues between the API and the workers, the failure categories of a job, and marking a run cancelled for running workers. */
export * from '../jobs/queues.ts';
export { FAILURE_CATEGORIES, failureCategory } from '../jobs/errors.ts';
export { markRunCancelled } from '../jobs/cancel.ts';
