import type { EmulatorContext } from './emulator-context.js';
import type { ArmResource } from './state.js';

/** How long an operation takes: the configured delay, plus a `slow` fault's extra when one is armed. */
export function settleDelay(context: EmulatorContext, base: number): number {
  const slow = context.faults.take('slow');
  return base + (slow?.extraMs ?? 0);
}

/** A resource's provisioning state (absent means done). */
export function provisioningState(resource: ArmResource): string {
  return String(resource.properties.provisioningState ?? 'Succeeded');
}
