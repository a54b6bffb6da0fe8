/** Who drives a run: this process as `host:pid` (see claimRun in runs.ts), and whether another owner may still be alive. */
import { hostname } from 'node:os';

/** This process, as the owner of the runs it drives. */
export function processOwner(): string {
  return `${hostname()}:${process.pid}`;
}

/** Whether the owner of a run (`host:pid`) may still be running: false only for a process of this host that is gone. */
export function ownerAlive(owner: string): boolean {
  const at = owner.lastIndexOf(':');
  if (owner.slice(0, at) !== hostname()) return true;
  const pid = Number(owner.slice(at + 1));
  if (!Number.isInteger(pid) || pid <= 0) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
