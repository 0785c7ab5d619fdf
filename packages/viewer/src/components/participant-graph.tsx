import type { GraphModel } from "../lib/graph-model.js";

const WIDTH = 480;
const HEIGHT = 300;
const RADIUS = 22;

/**
 * Slots on an ellipse: the top one is kept for the session node (shown once a message goes to
 * everyone), the participants take the others in order, so nobody moves when it appears and no
 * edge between two participants runs through it.
 */
function layout(graph: GraphModel): Map<string, { x: number; y: number }> {
  const positions = new Map<string, { x: number; y: number }>();
  const ring = graph.nodes.filter((node) => !node.session);
  const slots = ring.length + 1;
  const [cx, cy] = [WIDTH / 2, HEIGHT / 2 + 6];
  const [rx, ry] = [WIDTH / 2 - RADIUS - 60, HEIGHT / 2 - RADIUS - 24];
  const at = (slot: number) => {
    const angle = -Math.PI / 2 + (2 * Math.PI * slot) / slots;
    return { x: cx + rx * Math.cos(angle), y: cy + ry * Math.sin(angle) };
  };
  ring.forEach((node, index) => positions.set(node.id, at(index + 1)));
  for (const node of graph.nodes) if (node.session) positions.set(node.id, at(0));
  return positions;
}

/**
 * Participants and the messages between them: one arrow per direction, labelled with the count
 * and the latest message type; messages to everyone go to the session node in the middle. The
 * newest message's arrows are highlighted. The list under the drawing says the same in text.
 */
export function ParticipantGraph({ graph }: { graph: GraphModel }) {
  const positions = layout(graph);
  const participants = graph.nodes.filter((node) => !node.session).length;
  return (
    <figure class="graph">
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={`Participant graph: ${participants} participants, ${graph.edges.length} message paths`}>
        <defs>
          <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M0,0 L10,5 L0,10 z" class="arrow-head" />
          </marker>
        </defs>
        {graph.edges.map((edge) => {
          const from = positions.get(edge.from);
          const to = positions.get(edge.to);
          if (!from || !to) return null;
          const dx = to.x - from.x;
          const dy = to.y - from.y;
          const length = Math.hypot(dx, dy) || 1;
          const [ux, uy] = [dx / length, dy / length];
          // Each direction on its own side, so A→B and B→A do not overlap.
          const [ox, oy] = [-uy * 6, ux * 6];
          const start = { x: from.x + ux * RADIUS + ox, y: from.y + uy * RADIUS + oy };
          const end = { x: to.x - ux * (RADIUS + 3) + ox, y: to.y - uy * (RADIUS + 3) + oy };
          const latest = edge.lastSeq === graph.latestSeq;
          return (
            <g key={`${edge.from}>${edge.to}`} class={`edge${latest ? " latest" : ""}`} data-from={edge.from} data-to={edge.to}>
              <line x1={start.x} y1={start.y} x2={end.x} y2={end.y} marker-end="url(#arrow)" />
              <text x={start.x + (end.x - start.x) * 0.4 + ox * 1.8} y={start.y + (end.y - start.y) * 0.4 + oy * 1.8 + 3} text-anchor="middle">
                {edge.count}× {edge.lastMessageType}
              </text>
            </g>
          );
        })}
        {graph.nodes.map((node) => {
          const at = positions.get(node.id);
          if (!at) return null;
          const active = node.lastSeq !== undefined && node.lastSeq === graph.latestSeq;
          return (
            <g key={node.id} class={`node${active ? " active" : ""}${node.session ? " session" : node.sent === 0 ? " silent" : ""}`} data-node={node.id}>
              <circle cx={at.x} cy={at.y} r={node.session ? RADIUS - 6 : RADIUS} />
              <text x={at.x} y={at.y + 4} text-anchor="middle" class="node-initial">
                {node.session ? "all" : node.id.slice(0, 2)}
              </text>
              {!node.session && (
                <text x={at.x} y={at.y + RADIUS + 14} text-anchor="middle" class="node-label">
                  {node.id} ({node.sent})
                </text>
              )}
            </g>
          );
        })}
      </svg>
      <figcaption>
        <ul class="edge-list">
          {graph.edges.map((edge) => (
            <li key={`${edge.from}>${edge.to}`}>
              {edge.from} → {edge.to === "(session)" ? "everyone" : edge.to}: {edge.count} message{edge.count === 1 ? "" : "s"}, latest {edge.lastMessageType}
            </li>
          ))}
        </ul>
      </figcaption>
    </figure>
  );
}
