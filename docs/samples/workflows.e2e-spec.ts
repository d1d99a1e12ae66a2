import { TaskValidationError } from 'nestjs-tasker';
import { createTaskerTestingApp, TaskerTestingApp } from 'nestjs-tasker/testing';
import { describeTask, InvoiceExports, InvoiceStore, InvoicingModule } from './workflows';

/** Runs the samples of docs/workflows.md. */
describe('docs/workflows.md samples', () => {
  let kit: TaskerTestingApp;
  beforeAll(async () => {
    kit = await createTaskerTestingApp({ imports: [InvoicingModule] });
  });
  afterAll(() => kit?.close());

  it('the invoice export runs its four steps in order, passing results along', async () => {
    const task = await kit.get(InvoiceExports).start('2024-05', 'eu');
    const done = await kit.tasker.waitForTask(task.id);
    expect(done.state).toBe('complete');
    expect(done).toMatchObject({ tags: ['month-end', 'eu'], initiator: 'month-end-scheduler', reason: 'month end 2024-05' });
    expect(TaskerTestingApp.results(done)).toEqual({
      collect_invoices: ['eu-2024-05-001', 'eu-2024-05-002'],
      render_pdfs: { urls: ['https://files.example.com/eu-2024-05-001.pdf', 'https://files.example.com/eu-2024-05-002.pdf'] },
      upload_to_erp: { batchId: 'batch-1', count: 2 },
      notify_accounting: { message: 'Invoices 2024-05 (eu) uploaded as batch-1' },
    });
    expect(done.steps.map((s) => [s.name, s.retryLimit, s.retryable])).toEqual([
      ['collect_invoices', 3, true],
      ['render_pdfs', 5, true],
      ['upload_to_erp', 1, false],
      ['notify_accounting', 3, true],
    ]);
    expect(await describeTask(kit.tasker, done.id)).toEqual([
      'collect_invoices: complete, attempt 1/3, done',
      'render_pdfs: complete, attempt 1/5, done',
      'upload_to_erp: complete, attempt 1/1, done',
      'notify_accounting: complete, attempt 1/3, done',
    ]);
  });

  it('the same idempotency key returns the same task', async () => {
    const a = await kit.get(InvoiceExports).start('2024-06', 'us');
    const b = await kit.get(InvoiceExports).start('2024-06', 'us');
    expect(b.id).toBe(a.id);
    await kit.tasker.waitForTask(a.id);
    expect(kit.get(InvoiceStore).uploads.filter((u) => u[0].includes('us-2024-06'))).toHaveLength(1);
  });

  it('a context that fails the DTO is refused with each field', async () => {
    const error = await kit.tasker.createTask({ name: 'invoice_export', namespace: 'billing', context: { month: 'May', region: 'mars' } }).catch((e) => e);
    expect(error).toBeInstanceOf(TaskValidationError);
    expect((error as TaskValidationError).errors).toEqual([
      { field: 'context.month', messages: ['month must look like 2024-05'] },
      { field: 'context.region', messages: ['region must be one of the following values: eu, us'] },
    ]);
  });

  it('runAt delays the start: the steps wait, with the reason', async () => {
    const task = await kit.get(InvoiceExports).startLater('2024-07', 'eu', new Date(Date.now() + 3_600_000));
    expect(await describeTask(kit.tasker, task.id)).toEqual([
      'collect_invoices: pending, attempt 0/3, not_before_run_at',
      'render_pdfs: pending, attempt 0/5, waiting_for_dependencies',
      'upload_to_erp: pending, attempt 0/1, waiting_for_dependencies',
      'notify_accounting: pending, attempt 0/3, waiting_for_dependencies',
    ]);
    expect((await kit.tasker.cancelTask(task.id)).state).toBe('cancelled');
  });
});
