import { Command } from 'commander'

export interface InitFlags {
  name?: string
}

/** `agora init <dir>`: scaffold a new server project. */
export function initCommand(): Command {
  return new Command('init')
    .description('create a new Agora server project in <dir> (which must be empty or absent)')
    .argument('<dir>', 'directory to create')
    .option('--name <name>', 'package and server name (default: the directory name)')
    .addHelpText(
      'after',
      `
Example:
  agora init my-server && cd my-server && npm install && npm start`,
    )
    .action(async (dir: string, flags: InitFlags) => (await import('../actions/init.ts')).init(dir, flags))
}
