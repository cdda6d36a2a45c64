// A service replica as a child process, for crash and multi-replica tests:
// the real composition (worker on, gRPC on a free port), configured by the
// parent through the environment. The parent kills it with SIGKILL at will.
import { composeApp } from '../../src/compose.js';
import { loadConfig } from '../../src/config/load-config.js';

const config = loadConfig({
  ...process.env,
  DELETION_ENV: 'test',
  GRPC_PORT: '0',
  HTTP_PORT: '0',
  LOG_LEVEL: 'silent',
});
const mongoUri = process.env.MONGODB_URI ?? '';
const app = await composeApp(config, mongoUri);
const ports = await app.start();
process.send?.({ ready: true, ...ports });
