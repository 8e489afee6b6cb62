// The terminal Prompter, on @inquirer/prompts. Ctrl-C at a prompt becomes an InterruptedError
// (exit 130, no stack).
import { confirm, input, select } from '@inquirer/prompts';
import { InterruptedError } from '../core/errors.js';
import type { Prompter } from '../scaffold/prompter.js';

async function interruptible<T>(prompt: Promise<T>): Promise<T> {
  try {
    return await prompt;
  } catch (error) {
    if (error instanceof Error && error.name === 'ExitPromptError') throw new InterruptedError();
    throw error;
  }
}

export function terminalPrompter(): Prompter {
  return {
    input: (question) => interruptible(input(question)),
    select: (question) =>
      interruptible(
        select({
          message: question.message,
          choices: question.choices.map((choice) => ({
            ...choice,
            name: choice.name ?? choice.value,
          })),
          default: question.default,
        }),
      ),
    confirm: (question) => interruptible(confirm(question)),
  };
}
