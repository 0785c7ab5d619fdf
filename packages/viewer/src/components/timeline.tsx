import type { CanonicalEvent } from "../api/types.js";
import { formatClock } from "../lib/format.js";
import { describeEvent } from "../lib/messages.js";

const SHOWN = 400;

/**
 * Canonical events, newest first, each expandable to its full data (the decoded payload of a
 * message is under `payload`/`decodedPayload`). `current` marks the replay position.
 */
export function Timeline({ events, current }: { events: readonly CanonicalEvent[]; current?: number }) {
  const shown = events.slice(-SHOWN).reverse();
  return (
    <section class="panel timeline" aria-label="Timeline of canonical events">
      <h2>
        Timeline <span class="muted">({events.length} events)</span>
      </h2>
      {events.length > SHOWN && <p class="muted">Showing the latest {SHOWN}.</p>}
      {events.length === 0 && <p class="muted">No events yet.</p>}
      <ol class="events" reversed start={events.length}>
        {shown.map((event) => (
          <li key={event.seq} class={`event type-${event.type.split(".")[0]}${event.seq === current ? " current" : ""}`} data-seq={event.seq}>
            <details>
              <summary>
                <span class="seq">#{event.seq}</span> <span class="clock">{formatClock(event.ts)}</span> <span class="type">{event.type}</span>{" "}
                <span class="desc">{describeEvent(event)}</span>
              </summary>
              <pre>{JSON.stringify(event.data, null, 2)}</pre>
            </details>
          </li>
        ))}
      </ol>
    </section>
  );
}
