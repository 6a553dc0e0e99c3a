/**
 * Ready-made rules for the datasets our teams keep. A file's rules start from its
 * profile; what the rules file says for that file is laid over it (maps merge, lists
 * and single values replace).
 */
import type {FileRulesInput} from './rules.js'

const VALIDATION_STATUS = ['validated', 'pending', 'rejected', 'needs_review']

export const PROFILES: Record<string, FileRulesInput> = {
  /** Golden examples for an LLM task: input, expected output, labels, human validation. */
  golden: {
    key: ['id'],
    required: ['id', 'input_data', 'expected_output', 'validation_status'],
    types: {id: 'string', input_data: 'object', expected_output: 'object', labels: 'object', quality_score: 'number', validation_status: 'string'},
    ranges: {quality_score: {min: 0, max: 1}},
    allowed: {validation_status: VALIDATION_STATUS},
    rules: [
      {when: {validation_status: 'validated'}, require: ['validated_by'], message: 'a validated example names who validated it (validated_by)'},
    ],
    labels: ['expected_output.tier'],
    validated: {field: 'validation_status', values: ['validated']},
    confidence: 'quality_score',
  },
  /** Common Voice clip tables (the 13 TSV columns); `path` names a clip under clips/. */
  'common-voice': {
    key: ['path'],
    required: ['client_id', 'path', 'sentence', 'up_votes', 'down_votes', 'locale'],
    types: {up_votes: 'integer', down_votes: 'integer'},
    ranges: {up_votes: {min: 0}, down_votes: {min: 0}},
    lengths: {sentence: {min: 1, max: 500}},
    references: [{field: 'path', dir: 'clips'}],
    groups: ['client_id'],
    labels: ['gender'],
    validated: {field: 'up_votes', min: 2},
    confidence: {up: 'up_votes', down: 'down_votes'},
  },
  /** Speech-to-text failures with a human correction. */
  'stt-failed': {
    key: ['id'],
    required: ['audio_path', 'original_transcript', 'corrected_transcript', 'error_types', 'error_score'],
    types: {audio_path: 'string', original_transcript: 'string', corrected_transcript: 'string', error_types: 'array', error_score: 'number'},
    ranges: {error_score: {min: 0, max: 1}},
    lengths: {error_types: {min: 1}, corrected_transcript: {min: 1}},
    allowed: {validation_status: VALIDATION_STATUS},
    rules: [{differ: ['original_transcript', 'corrected_transcript'], message: 'a correction must differ from the original transcript'}],
    references: [{field: 'audio_path', dir: '/'}],
    labels: ['error_types'],
    validated: {field: 'validation_status', values: ['validated']},
  },
  /** Chat transcripts: `messages` of {role, content}. */
  conversations: {
    key: ['id'],
    required: ['messages'],
    types: {messages: 'array'},
    lengths: {messages: {min: 1}},
    allowed: {validation_status: VALIDATION_STATUS},
    schema: {
      type: 'object',
      properties: {
        messages: {
          type: 'array',
          items: {
            type: 'object',
            required: ['role', 'content'],
            properties: {role: {enum: ['system', 'user', 'assistant', 'tool']}, content: {type: 'string', minLength: 1}},
          },
        },
      },
    },
    labels: ['labels.topic'],
    validated: {field: 'validation_status', values: ['validated']},
  },
}
