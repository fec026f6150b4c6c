import type { Command } from 'commander';
import type { Comparison, Quality } from '../../domain/evaluation';
import { DEFAULT_RULE_AMOUNT_KES } from '../../domain/money';
import { action } from '../action';

async function optionsSchema() {
  const { z } = await import('zod');
  return z.object({
    count: z.coerce.number().int().min(1).max(2_000_000),
    fraudRate: z.coerce.number().min(0).max(1),
    seed: z.coerce.number().int().min(0),
    threshold: z.coerce.number().min(0).max(1),
    ruleAmount: z.coerce.number().positive(),
    stored: z.boolean().default(false),
  });
}

const percent = (value: number | null) =>
  value === null ? '   n/a' : `${(value * 100).toFixed(1).padStart(5)}%`;
const line = (name: string, q: Quality) =>
  `${name.padEnd(28)} precision ${percent(q.precision)}   recall ${percent(q.recall)}   ` +
  `(TP ${q.truePositives}, FP ${q.falsePositives}, FN ${q.falseNegatives})`;

function printComparison(comparison: Comparison, ruleAmount: number): void {
  console.log(`${comparison.labelled} labelled transactions, ${comparison.fraud} fraud`);
  console.log(line('built-in model', comparison.model));
  console.log(line(`amount rule (>= KES ${ruleAmount.toLocaleString('en-US')})`, comparison.rule));
}

export function registerEval(program: Command): void {
  program
    .command('eval')
    .description('precision and recall of the built-in model vs a plain amount-threshold rule')
    .option('--count <n>', 'transactions to simulate', '100000')
    .option('--fraud-rate <share>', 'share of fraud, 0–1', '0.05')
    .option('--seed <n>', 'simulator seed', '42')
    .option('--threshold <score>', 'model score that counts as fraud', '0.5')
    .option(
      '--rule-amount <kes>',
      'the rule flags amounts at or above this (KES)',
      String(DEFAULT_RULE_AMOUNT_KES),
    )
    .option('--stored', 'evaluate the predictions stored in PostgreSQL instead of a fresh simulation')
    .action(
      action(async ({ config }, raw: Record<string, unknown>) => {
        const parsed = (await optionsSchema()).safeParse(raw);
        if (!parsed.success) {
          const issue = parsed.error.issues[0];
          throw new Error(
            `--${String(issue?.path[0]).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: ${issue?.message}`,
          );
        }
        const options = parsed.data;
        if (!options.stored) {
          const { evaluateSimulation } = await import('../../domain/evaluate-simulation');
          printComparison(
            evaluateSimulation({ ...options, ruleAmountKes: options.ruleAmount }),
            options.ruleAmount,
          );
          return 0;
        }
        const [{ createPool }, { evaluateStored }] = await Promise.all([
          import('../../db/pool'),
          import('../../db/evaluation-store'),
        ]);
        const pool = createPool(config, 1);
        try {
          printComparison(await evaluateStored(pool, options.ruleAmount), options.ruleAmount);
        } finally {
          await pool.end();
        }
        return 0;
      }),
    );
}
