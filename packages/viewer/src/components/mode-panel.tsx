import type { RunStateProjection } from "../api/types.js";
import type { ModeView, ReplyView } from "../lib/mode-view.js";

function Replies({ replies }: { replies: readonly ReplyView[] }) {
  if (replies.length === 0) return <p class="muted">No replies yet.</p>;
  return (
    <ul class="replies">
      {replies.map((reply) => (
        <li key={`${reply.seq}-${reply.by}`} class={`reply reply-${reply.kind.split(" ")[0]}`}>
          <strong>{reply.by}</strong> {reply.kind}
          {reply.value !== undefined && <span class="value"> {reply.value}</span>}
          {reply.confidence !== undefined && <span class="muted"> (confidence {reply.confidence})</span>}
          {reply.reason !== "" && <span class="reason">: {reply.reason}</span>} <span class="muted">#{reply.seq}</span>
        </li>
      ))}
    </ul>
  );
}

function Meter({ value, max, label }: { value: number; max: number; label: string }) {
  return (
    <div class="meter-row">
      <meter min={0} max={Math.max(max, 1)} value={value} aria-label={label} />
      <span>{label}</span>
    </div>
  );
}

function Tally({ projection }: { projection: RunStateProjection | undefined }) {
  const tallies = projection?.policy.voteTally ?? [];
  if (tallies.length === 0) return null;
  return (
    <div class="tally">
      <h3>Vote tally (control plane's fold)</h3>
      {tallies.map((tally) => (
        <div key={tally.commitmentId}>
          <Meter value={tally.allow} max={tally.threshold} label={`${tally.commitmentId}: ${tally.allow} allow / ${tally.deny} deny, threshold ${tally.threshold}, ${tally.quorum.cast} of ${tally.quorum.required} cast`} />
        </div>
      ))}
      {projection?.policy.quorumStatus !== undefined && <p>Quorum: {projection.policy.quorumStatus}</p>}
    </div>
  );
}

/** The mode's own view: decision, task, quorum, proposal or handoff. */
export function ModePanel({ view, modeName, projection }: { view: ModeView; modeName: string; projection: RunStateProjection | undefined }) {
  return (
    <section class="panel mode" aria-label="Mode view">
      <h2>
        {view.kind === "other" ? "Messages" : `${view.kind[0]?.toUpperCase()}${view.kind.slice(1)}`} <span class="muted">{modeName}</span>
      </h2>
      {view.kind === "decision" && (
        <>
          {view.proposals.length === 0 && <p class="muted">No proposal yet.</p>}
          {view.proposals.map((proposal) => {
            const votes = proposal.replies.filter((reply) => reply.kind === "vote");
            const approve = votes.filter((vote) => /^(approve|allow|yes|accept)/i.test(vote.value ?? "")).length;
            return (
              <article key={proposal.id} class="item">
                <h3>
                  Proposal {proposal.id}: {proposal.option || "—"}
                </h3>
                <p>
                  by <strong>{proposal.by || "?"}</strong> {proposal.rationale && <span>— {proposal.rationale}</span>}
                </p>
                <p>
                  Evaluations {proposal.replies.filter((reply) => reply.kind === "evaluation").length} · objections {proposal.replies.filter((reply) => reply.kind === "objection").length} · votes{" "}
                  {approve} for, {votes.length - approve} against
                </p>
                <Replies replies={proposal.replies} />
              </article>
            );
          })}
          <Tally projection={projection} />
        </>
      )}
      {view.kind === "task" && (
        <>
          {view.tasks.length === 0 && <p class="muted">No task yet.</p>}
          {view.tasks.map((task) => (
            <article key={task.id} class="item">
              <h3>
                Task {task.id}: {task.title || "—"} <span class={`badge task-${task.status}`}>{task.status}</span>
              </h3>
              <p>
                requested by <strong>{task.by || "?"}</strong>
                {task.requestedAssignee && <> for {task.requestedAssignee}</>}; assignee <strong>{task.assignee ?? "none yet"}</strong>
              </p>
              {task.instructions && <p class="muted">{task.instructions}</p>}
              <Meter value={task.progress ?? 0} max={100} label={`progress ${task.progress === undefined ? "—" : `${Math.round(task.progress)} %`}`} />
              <Replies replies={task.updates} />
            </article>
          ))}
        </>
      )}
      {view.kind === "quorum" && (
        <>
          {view.requests.length === 0 && <p class="muted">No approval request yet.</p>}
          {view.requests.map((request) => (
            <article key={request.id} class="item">
              <h3>
                Request {request.id}: {request.action || "—"}
              </h3>
              <p>
                by <strong>{request.by || "?"}</strong> {request.summary && <>— {request.summary}</>}
              </p>
              <Meter value={request.approvals} max={request.requiredApprovals} label={`${request.approvals} of ${request.requiredApprovals} required approvals (${request.rejections} rejected, ${request.abstentions} abstained)`} />
              <p class="verdict">{request.requiredApprovals > 0 && request.approvals >= request.requiredApprovals ? "threshold reached" : "threshold not reached"}</p>
              <Replies replies={request.ballots} />
            </article>
          ))}
          <Tally projection={projection} />
        </>
      )}
      {view.kind === "proposal" && (
        <>
          {view.proposals.length === 0 && <p class="muted">No offer yet.</p>}
          {view.proposals.map((proposal) => (
            <article key={proposal.id} class="item">
              <h3>
                {proposal.supersedes ? "Counter-offer" : "Offer"} {proposal.id}: {proposal.title || "—"} <span class={`badge proposal-${proposal.status}`}>{proposal.status}</span>
              </h3>
              <p>
                by <strong>{proposal.by || "?"}</strong>
                {proposal.supersedes && <> (replaces {proposal.supersedes})</>} {proposal.summary && <>— {proposal.summary}</>}
              </p>
              <Replies replies={proposal.replies} />
            </article>
          ))}
        </>
      )}
      {view.kind === "handoff" && (
        <>
          {view.handoffs.length === 0 && <p class="muted">No handoff offer yet.</p>}
          {view.handoffs.map((handoff) => (
            <article key={handoff.id} class="item">
              <h3>
                Handoff {handoff.id}: {handoff.by || "?"} → {handoff.target || "?"} <span class={`badge handoff-${handoff.disposition}`}>{handoff.disposition}</span>
              </h3>
              <p>
                scope {handoff.scope || "—"}
                {handoff.reason && <>; {handoff.reason}</>}; {handoff.contexts} context message{handoff.contexts === 1 ? "" : "s"}
              </p>
              <Replies replies={handoff.replies} />
            </article>
          ))}
        </>
      )}
      {view.kind === "other" && (
        <ul>
          {view.counts.map((entry) => (
            <li key={entry.messageType}>
              {entry.messageType}: {entry.count}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
