/** Placeholder until the CLI lands: see README.md. */
export const commandName = 'mlscale' as const;
