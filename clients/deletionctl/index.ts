// deletionctl as a library: main(argv, io) returns the exit code (the bin is dist/cli.js).
export * from './main.js';
