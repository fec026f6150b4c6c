import type { Command } from 'commander';
import { registerToggleCommand } from '../toggle-command';

export function registerResume(program: Command): void {
  registerToggleCommand(
    program,
    'resume',
    'resume a paused schedule: it continues at its next time, without a burst of missed runs',
  );
}
