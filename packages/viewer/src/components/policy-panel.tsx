import type { ApiRun, PolicyDescriptor, RunStateProjection } from "../api/types.js";
import type { CommitmentView } from "../lib/mode-view.js";

function flattenRules(rules: unknown, prefix = ""): [string, string][] {
  if (rules === null || typeof rules !== "object" || Array.isArray(rules)) return [[prefix || "rules", JSON.stringify(rules)]];
  const entries = Object.entries(rules as Record<string, unknown>);
  if (entries.length === 0) return [[prefix || "rules", "{}"]];
  return entries.flatMap(([key, value]) => (value !== null && typeof value === "object" && !Array.isArray(value) ? flattenRules(value, `${prefix}${key}.`) : [[`${prefix}${key}`, JSON.stringify(value)] as [string, string]]));
}

/**
 * The bound policy (its rules as the runtime describes them), the policy's verdict on the
 * Commitment and the run's outcome.
 */
export function PolicyPanel(props: { run: ApiRun | undefined; projection: RunStateProjection | undefined; commitment: CommitmentView | undefined; policy: PolicyDescriptor | undefined }) {
  const { run, projection, commitment, policy } = props;
  const evaluations = projection?.policy.commitmentEvaluations ?? [];
  const decision = projection?.decision.current;
  const outcome = projection?.policy.outcomePositive ?? decision?.outcomePositive ?? commitment?.outcomePositive;
  const status = projection?.run.status ?? run?.status;
  return (
    <section class="panel policy" aria-label="Policy and outcome">
      <h2>Policy and outcome</h2>
      <dl class="facts">
        <dt>Policy</dt>
        <dd>
          {projection?.policy.policyVersion || commitment?.policyVersion || "—"}
          {policy?.description && <span class="muted"> — {policy.description}</span>}
        </dd>
        <dt>Commitment</dt>
        <dd class="commitment">
          {commitment ? (
            <>
              <strong>{commitment.action || "—"}</strong> by {commitment.by} (#{commitment.seq}){commitment.reason && <>: {commitment.reason}</>}
            </>
          ) : (
            <span class="muted">none yet</span>
          )}
        </dd>
        <dt>Verdict</dt>
        <dd class="verdict">
          {evaluations.length === 0 ? (
            commitment ? (
              // The runtime evaluates the bound policy when a Commitment arrives and refuses one it denies.
              <span>
                <span class="badge verdict-allow">allow</span> the runtime accepted the Commitment under {projection?.policy.policyVersion || commitment.policyVersion || "its policy"}
              </span>
            ) : (
              <span class="muted">no Commitment yet</span>
            )
          ) : (
            <ul>
              {evaluations.map((evaluation) => (
                <li key={`${evaluation.commitmentId}-${evaluation.ts}`}>
                  <span class={`badge verdict-${evaluation.decision.toLowerCase()}`}>{evaluation.decision}</span> {evaluation.commitmentId}
                  {evaluation.reasons.length > 0 && <>: {evaluation.reasons.join("; ")}</>}
                </li>
              ))}
            </ul>
          )}
        </dd>
        <dt>Outcome</dt>
        <dd class="outcome">
          {status ?? "—"}
          {outcome === true && " · positive"}
          {outcome === false && " · negative"}
          {decision?.action && (
            <>
              {" "}
              · decision <strong>{decision.action}</strong>
              {decision.finalized ? " (final)" : " (proposed)"}
            </>
          )}
          {(projection?.run.error ?? run?.errorMessage) && <span class="error"> · {projection?.run.error ?? run?.errorMessage}</span>}
        </dd>
      </dl>
      {policy && (
        <details>
          <summary>Rules of {policy.policyId}</summary>
          <dl class="rules">
            {flattenRules(policy.rules).map(([key, value]) => (
              <div key={key}>
                <dt>{key}</dt>
                <dd>{value}</dd>
              </div>
            ))}
          </dl>
        </details>
      )}
    </section>
  );
}
