// Temporary: TaskerAuditService lives in ../tasker-audit.service.ts. Only tasker.service.ts still imports
// it by this path; delete this file once that import is updated.
export { TaskerAuditService } from '../tasker-audit.service';
