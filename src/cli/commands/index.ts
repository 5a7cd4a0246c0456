// Every verb tsrun has, one file each.
import type { CommandModule } from 'yargs';
import { command as create } from './create';
import { command as del } from './delete';
import { command as exec } from './exec';
import { command as kill } from './kill';
import { command as list } from './list';
import { command as run } from './run';
import { command as spec } from './spec';
import { command as start } from './start';
import { command as state } from './state';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const commands: CommandModule<any, any>[] = [create, start, state, kill, del, run, exec, list, spec];
