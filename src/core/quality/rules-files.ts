/** The names a rules file may have at the dataset root, in the order they are looked for. */
export const RULES_FILES = ['dsv.yaml', 'dsv.yml', 'dsv.json']
