import type { ApiRun, CanonicalEvent, PolicyDescriptor, RunStateProjection } from "../api/types.js";
import type { GraphModel } from "../lib/graph-model.js";
import type { ModeView } from "../lib/mode-view.js";
import { ModePanel } from "./mode-panel.js";
import { ParticipantGraph } from "./participant-graph.js";
import { PolicyPanel } from "./policy-panel.js";
import { Timeline } from "./timeline.js";

/** The two columns a run page and its replay share: graph, mode and policy on the left, timeline on the right. */
export function RunColumns(props: {
  graph: GraphModel;
  modeView: ModeView;
  modeName: string;
  run: ApiRun | undefined;
  projection: RunStateProjection | undefined;
  policy: PolicyDescriptor | undefined;
  events: readonly CanonicalEvent[];
  current?: number;
}) {
  const { graph, modeView, modeName, run, projection, policy, events, current } = props;
  return (
    <div class="columns">
      <div class="column">
        <section class="panel" aria-label="Participants">
          <h2>Participants and messages</h2>
          <ParticipantGraph graph={graph} />
        </section>
        <ModePanel view={modeView} modeName={modeName} projection={projection} />
        <PolicyPanel run={run} projection={projection} commitment={modeView.commitment} policy={policy} />
      </div>
      <div class="column">
        <Timeline events={events} current={current} />
      </div>
    </div>
  );
}
