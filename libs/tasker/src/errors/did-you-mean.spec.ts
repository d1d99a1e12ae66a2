import { closestNames, closestTaskTypes, editDistance } from './did-you-mean';

describe('editDistance', () => {
  it.each([
    ['', '', 0],
    ['abc', '', 3],
    ['', 'abc', 3],
    ['kitten', 'sitting', 3],
    ['validate_payment', 'validat_payment', 1],
    ['ab', 'ba', 2],
  ])('%s → %s is %i', (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
    expect(editDistance(b, a)).toBe(d);
  });
});

describe('closestNames', () => {
  const steps = ['validate_payment', 'update_inventory', 'send_confirmation'];
  it('finds a step name with a slip in it', () => {
    expect(closestNames('validat_payment', steps)).toEqual(['validate_payment']);
    expect(closestNames('send_confirmaton', steps)).toEqual(['send_confirmation']);
    expect(closestNames('Update_Inventory', steps)).toEqual(['update_inventory']);
  });
  it('suggests nothing for a different word', () => {
    expect(closestNames('charge_card', steps)).toEqual([]);
    expect(closestNames('a', ['b'])).toEqual([]);
    expect(closestNames('ab', ['xy'])).toEqual([]);
  });
  it('orders by distance and leaves out the exact name', () => {
    expect(closestNames('step_a', ['step_a', 'step_b', 'stepp_a', 'stp_ab'])).toEqual(['step_b', 'stepp_a', 'stp_ab']);
  });
});

describe('closestTaskTypes', () => {
  const registered = ['accounts/signup_welcome', 'accounts/user_onboarding', 'fulfillment/order_processing'];
  it('names the same task name in another namespace first', () => {
    expect(closestTaskTypes('default', 'signup_welcome', registered)).toEqual(['accounts/signup_welcome']);
  });
  it('finds a near name in the same or another namespace', () => {
    expect(closestTaskTypes('accounts', 'user_onbording', registered)).toEqual(['accounts/user_onboarding']);
    expect(closestTaskTypes('fulfilment', 'order_processing', registered)).toEqual(['fulfillment/order_processing']);
  });
  it('suggests nothing when nothing is close', () => {
    expect(closestTaskTypes('billing', 'invoice', registered)).toEqual([]);
  });
});
