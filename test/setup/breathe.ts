// Before every test, one turn of the event loop (test/helpers/breathe.ts says why): vitest runs a
// file's tests one after another without one, so a file of many synchronous tests (a table that
// asks `ssh -G` case by case) kept its worker from reading its runner's answers for minutes, and
// the run failed with `Timeout calling "onTaskUpdate"` though every test passed (188 tests of
// ssh-config-keywords-table on a busy machine, this session).
import { beforeEach } from 'vitest';
import { breathe } from '../helpers/breathe.js';

beforeEach(breathe);
