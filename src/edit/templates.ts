import type { FormatName } from '../tree.js';

/** What a new file opens with: a short example in the file's own format. */
export function newFileTemplate(format: FormatName): string {
  switch (format) {
    case 'yaml':
      return '# New secrets file: replace these examples with your own.\n# Values are encrypted on save; keys stay readable.\ndatabase:\n    user: app\n    password: change-me\napi_token: change-me\n';
    case 'json':
      return '{\n\t"database": {\n\t\t"user": "app",\n\t\t"password": "change-me"\n\t},\n\t"api_token": "change-me"\n}\n';
    case 'dotenv':
      return '# New secrets file: replace these examples with your own.\nDATABASE_PASSWORD=change-me\nAPI_TOKEN=change-me\n';
    case 'ini':
      return '[database]\nuser     = app\npassword = change-me\n';
    case 'binary':
      return 'Replace this text with your secret.\n';
  }
}
