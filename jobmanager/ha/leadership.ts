/** Whether this job manager leads, and who does (HA); without HA a job manager always leads. */
export interface Leadership {
  readonly isLeader: boolean;
  /** The leader epoch this job manager holds (0 while a standby, or without HA). */
  readonly epoch: number;
  /** The leader's URL as last seen (this job manager's own while it leads). */
  readonly leaderUrl: string | undefined;
}
