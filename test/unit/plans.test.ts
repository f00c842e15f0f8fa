/** The agent actions Agent Mode may bill: exactly these names, as the API documents them. */
import { AGENT_ACTIONS, isAgentAction } from '../../workflows/domain/plans';

const DOCUMENTED = [
  'generate_request',
  'refine_request',
  'write_tests',
  'create_documentation',
  'explain_response',
  'debug_request',
  'generate_collection',
  'chat',
];

describe('isAgentAction', () => {
  it.each(DOCUMENTED)('accepts %s', (action) => {
    expect(isAgentAction(action)).toBe(true);
  });

  it('knows no other action', () => {
    expect([...AGENT_ACTIONS].sort()).toEqual([...DOCUMENTED].sort());
  });

  it.each([['Chat'], ['chat '], [''], ['unknown'], [5], [null], [undefined], [['chat']], [{ action: 'chat' }]])(
    'rejects %p',
    (value) => {
      expect(isAgentAction(value)).toBe(false);
    },
  );
});
