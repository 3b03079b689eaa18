import { describe, expect, it } from 'vitest';
import { TEAMS_STATUSES, TEAMS_STATUS_RULES, showsStatus, statusesOf } from '../../src/presence/teamsStatus.js';

const presence = (text: string) => {
  const [availability, activity] = text.split('/');
  return { availability: availability!, activity: activity! };
};

describe('statusesOf: Graph presence (availability/activity) to the Teams statuses it shows', () => {
  const table: [presence: string, statuses: string[]][] = [
    ['Available/Available', ['Available']],
    ['AvailableIdle/Available', ['Available']],
    ['Available/Inactive', ['Available']], // an Available session fading
    ['Busy/Busy', ['Busy']],
    ['Busy/InACall', ['Busy', 'InACall']],
    ['Busy/InAConferenceCall', ['Busy', 'InAMeeting']],
    ['Busy/InAMeeting', ['Busy', 'InAMeeting']],
    ['BusyIdle/Busy', ['Busy']],
    ['DoNotDisturb/Presenting', ['Presenting', 'DoNotDisturb']],
    ['DoNotDisturb/DoNotDisturb', ['DoNotDisturb']],
    ['DoNotDisturb/UrgentInterruptionsOnly', ['DoNotDisturb']],
    ['Away/Away', ['Away']],
    ['Away/OutOfOffice', ['Away', 'OutOfOffice']],
    ['BeRightBack/BeRightBack', ['BeRightBack']],
    ['Offline/OffWork', ['Offline']],
    ['Offline/Offline', ['Offline']],
    ['Offline/OutOfOffice', ['Offline', 'OutOfOffice']],
    ['PresenceUnknown/PresenceUnknown', []],
    ['busy/inacall', ['Busy', 'InACall']], // Graph's casing is not a contract
  ];
  it.each(table)('%s -> %o', (text, statuses) => {
    expect(statusesOf(presence(text))).toEqual(statuses);
  });

  it('unknown presence shows no status', () => {
    for (const status of TEAMS_STATUSES) expect(showsStatus(null, status)).toBe(false);
  });

  it('every status has a label and a rule that can match', () => {
    for (const status of TEAMS_STATUSES) {
      const rule = TEAMS_STATUS_RULES[status];
      expect(rule.label).not.toBe('');
      expect((rule.availability?.length ?? 0) + (rule.activity?.length ?? 0)).toBeGreaterThan(0);
    }
  });
});
