// The wizard talks to the user only through this interface, so tests can script the answers
// and the real terminal adapter (ui/inquirer.ts) stays a thin shell.

export interface Choice<T extends string> {
  value: T;
  name?: string;
  description?: string;
}

export interface Prompter {
  input(question: {
    message: string;
    default?: string;
    validate?: (value: string) => true | string;
  }): Promise<string>;
  select<T extends string>(question: {
    message: string;
    choices: readonly Choice<T>[];
    default?: T;
  }): Promise<T>;
  confirm(question: { message: string; default: boolean }): Promise<boolean>;
}
