/** The dashboard page (replaced by the full page in this change). */
export const DASHBOARD_HTML = '<!doctype html><title>Tasker</title><p>Tasker dashboard</p>';
