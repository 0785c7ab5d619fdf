import { useEffect, useState } from "preact/hooks";
import { api } from "../api/client.js";
import type { PolicyDescriptor } from "../api/types.js";

/**
 * The descriptor of the policy a run is bound to, from the runtime's registry (through the
 * control plane). The list is read instead of `/runtime/policies/:id`, so an unknown id is
 * simply absent rather than a failed request.
 */
export function usePolicy(policyId: string | undefined): PolicyDescriptor | undefined {
  const [policy, setPolicy] = useState<PolicyDescriptor | undefined>();
  useEffect(() => {
    if (policyId === undefined || policyId === "") return;
    const controller = new AbortController();
    api<PolicyDescriptor[]>("GET", "/runtime/policies", undefined, controller.signal).then(
      (policies) => setPolicy(policies.find((entry) => entry.policyId === policyId)),
      () => setPolicy(undefined),
    );
    return () => controller.abort();
  }, [policyId]);
  return policy;
}
