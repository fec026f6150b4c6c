import type { Config } from '../config/config';
import { createKafka } from '../kafka/client';
import { ensureTopics, type TopicSpec } from '../kafka/topics';
import type { Logger } from '../log/logger';
import type { SchedulesFile } from '../schedules/schedule';
import type { ScheduleSource } from '../schedules/source';

/** The `topics:` block of the schedules file, ensured at start and again only when an edit changes it. */
export class FileTopics {
  private readonly kafka;
  private ensured = '[]';
  private source?: ScheduleSource;

  constructor(
    config: Config,
    private readonly log: Logger,
  ) {
    this.kafka = createKafka(config);
  }

  /** Ensures the file's topics now (a failure stops the start) and after every valid edit. */
  async follow(source: ScheduleSource, file: SchedulesFile): Promise<void> {
    await this.ensure(file.topics);
    this.source = source;
    source.on('change', this.onChange);
  }

  close(): void {
    this.source?.off('change', this.onChange);
  }

  private readonly onChange = (file: SchedulesFile) => {
    this.ensure(file.topics).catch((error) =>
      this.log.error({ err: error }, 'creating the topics of the schedules file failed'),
    );
  };

  private async ensure(topics: TopicSpec[]): Promise<void> {
    const wanted = JSON.stringify(topics);
    if (wanted === this.ensured) return;
    const created = await ensureTopics(this.kafka, topics);
    this.ensured = wanted;
    if (created.length) this.log.info({ topics: created }, `created Kafka topics: ${created.join(', ')}`);
  }
}
