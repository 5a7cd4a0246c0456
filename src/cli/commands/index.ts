// Every verb tsrun has, one file each.
import type { CommandModule } from 'yargs';
import { command as commit } from './commit';
import { command as create } from './create';
import { command as del } from './delete';
import { command as events } from './events';
import { command as exec } from './exec';
import { command as features } from './features';
import { command as kill } from './kill';
import { command as list } from './list';
import { command as logs } from './logs';
import { pauseCommand, resumeCommand } from './pause';
import { command as prune } from './prune';
import { command as ps } from './ps';
import { command as run } from './run';
import { command as spec } from './spec';
import { command as start } from './start';
import { command as state } from './state';
import { command as stop } from './stop';
import { command as update } from './update';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const commands: CommandModule<any, any>[] = [
  create, start, state, kill, stop, del, run, exec, list, logs, ps, pauseCommand, resumeCommand, update, events, features, spec, commit, prune,
];
