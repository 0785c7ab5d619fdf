/** A run status as a coloured label (the text carries the meaning; colour only helps). */
export function StatusBadge({ status }: { status: string }) {
  return <span class={`badge status-${status}`}>{status.replace("_", " ")}</span>;
}
