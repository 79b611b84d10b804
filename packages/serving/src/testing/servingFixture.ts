import { initBackend } from '@deepline/core';
import { DeepseekModel } from '@deepline/layers';
import { Tokenizer } from '@deepline/tokenizer';
import { makeTempDir, removeDir } from '@deepline/test-helpers';
import { ServingServer, type ServingServerOptions } from '../http/server.js';
import { loadServedModel } from '../model/loadServedModel.js';
import { writeTinyModelDir } from './fixtureModelDir.js';

/** A tiny model directory, the library's own view of it (reference), and a way to start servers on it. */
export async function servingFixture() {
  await initBackend({ backend: 'cpu' });
  const dir = await makeTempDir('deepline-serving-');
  await writeTinyModelDir(dir);
  const reference = await DeepseekModel.load(dir);
  const tokenizer = await Tokenizer.fromFile(`${dir}/tokenizer.json`);
  const servers: ServingServer[] = [];
  const start = async (options: Omit<ServingServerOptions, 'model'> = {}) => {
    const server = new ServingServer({ model: loadServedModel({ dir, name: 'tiny' }), ...options });
    servers.push(server);
    const url = await server.listen();
    await server.whenReady();
    return { server, url };
  };
  const cleanup = async () => {
    await Promise.all(servers.map((s) => s.close({ timeoutMs: 1000 })));
    reference.dispose();
    await removeDir(dir);
  };
  return { dir, reference, tokenizer, start, cleanup };
}
