/**
 * A pure coordinator for a VRRP sync group (keepalived `vrrp_sync_group`): all members move
 * together. One member in FAULT puts every member in FAULT until no member has its own fault;
 * a member becoming MASTER pulls the BACKUP members to MASTER; a MASTER member going back to
 * BACKUP (it heard a higher priority) pushes the other MASTER members to BACKUP.
 *
 * Usage: after each `step()` of a member, report its new state with {@linkcode syncGroupStep}
 * and feed the returned commands to the named members' `step()` (as `{ type: "sync" }` events);
 * report their results too. Commands only target members in a different state, so this settles.
 *
 * @module
 */
import type { VrrpSyncGroupConfig } from "../config/types.ts";
import type { SyncCommand, VrrpStateName } from "./state.ts";

/** The coordinator's view of the group. */
export interface SyncGroupState {
  readonly name: string;
  readonly members: readonly string[];
  /** Last reported state of each member. */
  readonly states: Readonly<Record<string, VrrpStateName>>;
  /** Members whose own fault condition is set. */
  readonly faulted: readonly string[];
}

/** A member's report: its new state name and own fault flag (`VrrpState.name` / `.fault`). */
export interface MemberReport {
  readonly member: string;
  readonly state: VrrpStateName;
  readonly fault: boolean;
}

/** A command for one member. */
export interface MemberCommand {
  readonly member: string;
  readonly event: { readonly type: "sync"; readonly command: SyncCommand };
}

/** Result of {@linkcode syncGroupStep}. */
export interface SyncGroupStepResult {
  readonly group: SyncGroupState;
  readonly commands: readonly MemberCommand[];
}

/**
 * The coordinator state for a configured sync group (every member "initialize").
 *
 * @param config the sync group
 * @returns its initial state
 * @example
 * ```ts
 * const g = initialSyncGroup({ name: "G1", instances: ["R1", "R2"] });
 * g.states.R1; // "initialize"
 * ```
 */
export function initialSyncGroup(config: VrrpSyncGroupConfig): SyncGroupState {
  const states: Record<string, VrrpStateName> = {};
  for (const m of config.instances) states[m] = "initialize";
  return { name: config.name, members: [...config.instances], states, faulted: [] };
}

/**
 * Records a member's new state and returns the commands for the other members.
 *
 * @param group the coordinator state
 * @param report the member's state after its last step
 * @returns the new coordinator state and the commands to deliver
 * @example
 * ```ts
 * let g = initialSyncGroup({ name: "G1", instances: ["R1", "R2"] });
 * g = syncGroupStep(g, { member: "R2", state: "backup", fault: false }).group;
 * const r = syncGroupStep(g, { member: "R1", state: "master", fault: false });
 * r.commands; // [{ member: "R2", event: { type: "sync", command: "master" } }]
 * ```
 */
export function syncGroupStep(group: SyncGroupState, report: MemberReport): SyncGroupStepResult {
  if (!group.members.includes(report.member)) return { group, commands: [] };
  const before = group.states[report.member];
  const faulted = group.faulted.filter((m) => m !== report.member);
  if (report.fault) faulted.push(report.member);
  const next: SyncGroupState = {
    ...group,
    states: { ...group.states, [report.member]: report.state },
    faulted,
  };
  const others = group.members.filter((m) => m !== report.member);
  const to = (members: readonly string[], command: SyncCommand): MemberCommand[] =>
    members.map((member) => ({ member, event: { type: "sync", command } }));
  if (group.faulted.length === 0 && faulted.length > 0) {
    // Every member, the reporter included, is held in FAULT until the last own fault clears.
    return { group: next, commands: to(group.members, "fault") };
  }
  if (group.faulted.length > 0 && faulted.length === 0) {
    return { group: next, commands: to(group.members, "clear-fault") };
  }
  if (faulted.length > 0) return { group: next, commands: [] };
  if (report.state === "master" && before !== "master") {
    return {
      group: next,
      commands: to(others.filter((m) => next.states[m] === "backup"), "master"),
    };
  }
  if (report.state === "backup" && before === "master") {
    return {
      group: next,
      commands: to(others.filter((m) => next.states[m] === "master"), "backup"),
    };
  }
  return { group: next, commands: [] };
}
