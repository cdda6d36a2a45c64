// Preloaded into a replica under `--cpu-prof`: SIGTERM exits normally, so Node
// writes the profile (a signal's default death would not).
process.once('SIGTERM', () => {
  process.exit(0);
});
