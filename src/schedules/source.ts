import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import type { Logger } from '../log/logger';
import type { JobRegistry } from '../runtime/job-registry';
import { parseSchedules } from './load';
import { SchedulesFileError } from './problems';
import type { SchedulesFile } from './schedule';
import { textHash } from './spec-diff';
import { readSchedulesText } from './yaml-read';

export interface LoadFailure {
  error: SchedulesFileError;
  at: Date;
}

interface SourceEvents {
  /** A valid new version of the file. */
  change: [SchedulesFile];
  /** A broken edit: the previous version stays current. */
  invalid: [LoadFailure];
}

/**
 * The schedules file as the running processes see it: the last valid version, plus the error of
 * the last broken edit (cleared by the next valid one). Polls the file's stat, which also catches
 * editors that save by writing a new file and renaming it over the old one.
 */
export class ScheduleSource extends EventEmitter<SourceEvents> {
  private valid?: SchedulesFile;
  private failure?: LoadFailure;
  private lastText?: string;
  private pending = Promise.resolve();
  private watching = false;

  constructor(
    readonly file: string,
    /** The job types a schedule may name. */
    private readonly jobs: JobRegistry,
    private readonly log: Logger,
    private readonly pollMs = 250,
  ) {
    super();
  }

  get current(): SchedulesFile {
    if (!this.valid) throw new Error('ScheduleSource.load() has not succeeded yet');
    return this.valid;
  }

  get lastError(): LoadFailure | undefined {
    return this.failure;
  }

  /** The first load: a broken file throws, since there is no previous version to keep running. */
  async load(): Promise<SchedulesFile> {
    const text = await readSchedulesText(this.file);
    this.valid = await this.versioned(parseSchedules(text, this.file, this.jobs), text);
    this.lastText = text;
    return this.valid;
  }

  /**
   * The file with its version: its text's hash, and its modification time read after the text (a
   * write in between makes it newer than the text, never older; the next poll reads that text).
   */
  private async versioned(parsed: SchedulesFile, text: string): Promise<SchedulesFile> {
    const modifiedAt = await fs.promises.stat(this.file).then(
      (stat) => stat.mtime,
      () => new Date(),
    );
    return { ...parsed, version: { hash: textHash(text), modifiedAt } };
  }

  watch(): void {
    if (this.watching) return;
    this.watching = true;
    fs.watchFile(this.file, { interval: this.pollMs }, this.onStat);
  }

  close(): void {
    if (this.watching) fs.unwatchFile(this.file, this.onStat);
    this.watching = false;
  }

  private readonly onStat = () => {
    // A listener's failure must not end the chain, or later edits would never load.
    this.pending = this.pending
      .then(() => this.reload())
      .catch((error) => this.log.error({ err: error }, 'applying the reloaded schedules failed'));
  };

  private async reload(): Promise<void> {
    // Parse the very text compared: a second read could see a newer edit than the one compared.
    const text = await readSchedulesText(this.file).catch((error: unknown) => error as SchedulesFileError);
    if (text === this.lastText) return;
    this.lastText = typeof text === 'string' ? text : undefined;
    const parsed = typeof text === 'string' ? this.parse(text) : text;
    if (parsed instanceof SchedulesFileError) {
      this.failure = { error: parsed, at: new Date() };
      this.log.error(
        { file: this.file, problems: parsed.problems },
        `schedules file has errors; the previous schedules keep running\n${parsed.message}`,
      );
      this.emit('invalid', this.failure);
      return;
    }
    this.valid = await this.versioned(parsed, text as string);
    this.failure = undefined;
    this.log.info({ file: this.file, schedules: parsed.schedules.length }, 'schedules file reloaded');
    this.emit('change', this.valid);
  }

  /**
   * Any failure to parse is a problem of the file, with a place: an unexpected one too, or it
   * would show in no `list`, API or grid, and the edit would look applied.
   */
  private parse(text: string): SchedulesFile | SchedulesFileError {
    try {
      return parseSchedules(text, this.file, this.jobs);
    } catch (error) {
      if (error instanceof SchedulesFileError) return error;
      this.log.error({ err: error, file: this.file }, 'parsing the schedules file failed unexpectedly');
      const message = `cannot load the file (${(error as Error).message})`;
      return new SchedulesFileError(this.file, [{ file: this.file, line: 1, column: 1, message }]);
    }
  }
}
