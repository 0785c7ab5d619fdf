import type { ModeHandler } from "@macp/modes";

/** What the kernel needs from a mode registry entry. */
export interface ModeEntryView {
  readonly descriptor: { readonly modeVersion: string };
  readonly handler: ModeHandler;
  /** Strict modes get the canonical SessionStart validation. */
  readonly strict: boolean;
}

/** Resolves a mode id to its registry entry (the mode registry satisfies this). */
export interface ModeLookup {
  /** The entry registered under `mode`, or undefined when the mode is unknown. */
  get(mode: string): ModeEntryView | undefined;
}
