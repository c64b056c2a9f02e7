/** Placeholder until the backend lands: see README.md. */
export const plannedProvider = 'local' as const;
