import type { Command } from 'commander';
import { registerToggleCommand } from '../toggle-command';

export function registerPause(program: Command): void {
  registerToggleCommand(
    program,
    'pause',
    'pause a schedule: no runs until it is resumed (stays paused across scheduler restarts)',
  );
}
