/**
 * What an authorized request may do: the result of `Auth.authorize` (shared with the orchestrator).
 */
export { OPEN_CONTEXT } from '@miroir/protocol';
export type { AuthContext } from '@miroir/protocol';
