/**
 * The effect union and its log live in core next to the decisions that produce them
 * (lib/core/effects.ts). This module only keeps the old import path working for modules
 * that still use it (output-router.ts, dead-letter-output.ts); import from core instead.
 */
export { EffectLog, type Effect } from '../core/effects.js';
