import type { SearchAttributeType } from '@temporalio/common';
import { searchAttributes } from '../contracts/search-attributes';

// Registering the project's search attributes with the Temporal CLI (the dev server's
// `--search-attribute` flags). Kept out of contracts/, which the workflow bundle includes.

/** The Temporal CLI's spelling of each type, for `--search-attribute KEY=TYPE`. */
const cliTypeNames: Record<SearchAttributeType, string> = {
  TEXT: 'Text',
  KEYWORD: 'Keyword',
  INT: 'Int',
  DOUBLE: 'Double',
  BOOL: 'Bool',
  DATETIME: 'Datetime',
  KEYWORD_LIST: 'KeywordList',
};

export function searchAttributeCliArgs(): string[] {
  return Object.values(searchAttributes).flatMap((k) => ['--search-attribute', `${k.name}=${cliTypeNames[k.type]}`]);
}
