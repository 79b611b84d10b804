import type { Command } from '../command.js';
import { doctorCommand } from './doctor.js';
import { tokenizerCommand } from './tokenizer.js';
import { logitsCommand } from './logits.js';
import { runsCommand } from './runs.js';
import { dataCommand } from './data.js';
import { serveCommand } from './serve.js';
import { trainCommand } from './train.js';
import { pipelineCommand } from './pipeline.js';
import { quantizeCommand } from './quantize.js';
import { exportCommand } from './export.js';

/** Every top-level command, in help order. Packages' commands are added here. */
export const commands: Command[] = [doctorCommand, tokenizerCommand, logitsCommand, runsCommand, dataCommand, serveCommand, trainCommand, pipelineCommand, quantizeCommand, exportCommand];
