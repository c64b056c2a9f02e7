import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import { timestamp } from './clock.js';
import { type EmulatorContext, requiredString, unaryHandlers } from './context.js';
import { matchesFilter, parseFilter } from './filter.js';
import { statusError } from './grpc-status.js';
import type { Wire } from './vertex-state.js';

/** Cloud Monitoring alert policies: stored as given (the emulator does not evaluate them). */
export function alertPolicyService(context: EmulatorContext): UntypedServiceImplementation {
  const policies = new Map<string, Wire>();
  const find = (name: string) => {
    const policy = policies.get(name);
    if (!policy) throw statusError('NOT_FOUND', `Alert policy "${name}" not found.`);
    return policy;
  };
  return unaryHandlers(context, 'AlertPolicyService', {
    CreateAlertPolicy(request) {
      const parent = requiredString(request, 'name');
      const input = (request.alertPolicy ?? {}) as Wire;
      if (!input.displayName)
        throw statusError('INVALID_ARGUMENT', 'Field "alert_policy.display_name" is required.');
      if (!Array.isArray(input.conditions) || input.conditions.length === 0) {
        throw statusError(
          'INVALID_ARGUMENT',
          'Field "alert_policy.conditions" needs at least one condition.',
        );
      }
      const policy = {
        ...input,
        name: `${parent}/alertPolicies/${context.nextId()}`,
        creationRecord: { mutateTime: timestamp() },
      };
      policies.set(policy.name, policy);
      return policy;
    },
    GetAlertPolicy(request) {
      return find(requiredString(request, 'name'));
    },
    ListAlertPolicies(request) {
      const parent = requiredString(request, 'name');
      const clauses = parseFilter(
        // Cloud Monitoring writes label filters as user_labels.KEY.
        (request.filter as string | undefined)?.replace(/user_labels\./g, 'labels.'),
      );
      if (clauses instanceof Error) throw statusError('INVALID_ARGUMENT', clauses.message);
      const alertPolicies = [...policies.values()].filter(
        (policy) =>
          String(policy.name).startsWith(`${parent}/`) &&
          matchesFilter(clauses, {
            labels: policy.userLabels as Record<string, string>,
            displayName: policy.displayName as string,
          }),
      );
      return { alertPolicies, nextPageToken: '', totalSize: alertPolicies.length };
    },
    UpdateAlertPolicy(request) {
      const input = (request.alertPolicy ?? {}) as Wire;
      const existing = find(String(input.name ?? ''));
      const updated = { ...existing, ...input, mutationRecord: { mutateTime: timestamp() } };
      policies.set(String(existing.name), updated);
      return updated;
    },
    DeleteAlertPolicy(request) {
      const name = requiredString(request, 'name');
      find(name);
      policies.delete(name);
      return {};
    },
  });
}
