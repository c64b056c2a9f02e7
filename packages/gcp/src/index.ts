/** Placeholder until this backend lands: see README.md. */
export const plannedProvider = 'gcp' as const;
