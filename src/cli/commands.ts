// Commands implemented by other folders register here.
import { registerCommand } from './main.ts';
import { runScanCommand, SCAN_OPTIONS } from './scan.ts';
import '../stream/command.ts';

registerCommand('scan', {
  usage: '[INPUT...] [options]',
  summary: 'scan files, folders, archives, HAR and stdin; write redacted copies and findings',
  options: SCAN_OPTIONS,
  run: runScanCommand,
});
