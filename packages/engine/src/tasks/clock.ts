/** The engine's task clock is the shared one (see `@miroir/protocol`'s `nowMicros`). */
import { nowMicros } from '@miroir/protocol';

export { nowMicros };

/** Alias of {@link nowMicros}, for call sites that rely on strict increase. */
export const nextMicros = nowMicros;
