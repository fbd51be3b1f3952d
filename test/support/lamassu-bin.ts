import path from 'node:path';

/** The program `npm start` runs (bin/lamassu.js: the compiled build), for black-box tests and benchmarks. */
export const lamassuBin = path.resolve(import.meta.dirname, '../../bin/lamassu.js');
