// Process entry: registers every command, runs, and sets the exit code.
import { main } from './main.ts';
import './commands.ts';

export async function run(): Promise<void> {
  // kafkajs on Node 24 warns about negative timeouts on every connect (known upstream); nothing else is hidden.
  process.removeAllListeners('warning');
  process.on('warning', (w) => {
    if (w.name !== 'TimeoutNegativeWarning' && w.name !== 'ExperimentalWarning')
      process.stderr.write(`${w.name}: ${w.message}\n`);
  });
  const code = await main(process.argv.slice(2));
  process.exitCode = code;
}
