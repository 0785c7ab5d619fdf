/**
 * `quorumMet` of §12.9, shared by Decision's `voting.quorum` and Quorum's `threshold`:
 * `percentage` compares the share of participants (0–100 scale, divided before multiplied, in
 * IEEE doubles); every other type is a minimum count.
 */
export function isQuorumMet(type: string, value: number, voters: number, participantCount: number): boolean {
  if (type !== "percentage") return voters >= value;
  if (participantCount === 0) return value <= 0;
  return (voters / participantCount) * 100 >= value;
}
