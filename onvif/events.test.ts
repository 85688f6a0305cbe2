import { describe, expect, it } from 'vitest';
import { classifyTopic, parseNotifications } from './events.js';

/** A NotificationMessage as the onvif package hands it over (xml2js with prefixes stripped, then linerase). */
const message = (topic: string, name: string, value: unknown, op = 'Changed', at: unknown = new Date('2026-11-25T10:00:00Z')) => ({
  topic: { _: topic, $: { Dialect: 'http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet' } },
  message: { message: { $: { UtcTime: at, PropertyOperation: op }, source: { simpleItem: { $: { Name: 'Source', Value: 'vs_1' } } }, data: { simpleItem: { $: { Name: name, Value: value } } } } },
});

describe('ONVIF event parsing', () => {
  it('classifies the topics of the standard and of the common vendors', () => {
    expect(classifyTopic('tns1:VideoSource/GlobalSceneChange/ImagingService')).toBe('tamper');
    expect(classifyTopic('tns1:RuleEngine/TamperDetector/Tamper')).toBe('tamper');
    expect(classifyTopic('tns1:VideoSource/SignalLoss')).toBe('video_loss');
    expect(classifyTopic('tns1:VideoSource/MotionAlarm')).toBe('motion');
    expect(classifyTopic('tns1:RuleEngine/CellMotionDetector/Motion')).toBe('motion');
    expect(classifyTopic('tns1:Device/Trigger/DigitalInput')).toBe('other');
  });

  it('reads zero, one and several messages with their state, time and whether they are the initial state', () => {
    expect(parseNotifications({ currentTime: new Date() })).toEqual([]);
    expect(parseNotifications(null)).toEqual([]);
    const one = parseNotifications({ notificationMessage: message('tns1:VideoSource/MotionAlarm', 'State', true, 'Initialized') });
    expect(one).toEqual([{ kind: 'motion', topic: 'tns1:VideoSource/MotionAlarm', active: true, at: new Date('2026-11-25T10:00:00Z'), initial: true }]);
    const many = parseNotifications({ notificationMessage: [
      message('tns1:RuleEngine/TamperDetector/Tamper', 'IsTamper', 'false'),
      message('tns1:RuleEngine/CellMotionDetector/Motion', 'IsMotion', 1, 'Changed', '2026-11-25T10:00:05Z'),
      message('tns1:Device/Trigger/DigitalInput', 'LogicalState', 'maybe'),
    ] });
    expect(many.map((m) => [m.kind, m.active, m.initial])).toEqual([['tamper', false, false], ['motion', true, false], ['other', null, false]]);
    expect(many[1].at.toISOString()).toBe('2026-11-25T10:00:05.000Z');
  });

  it('skips what is not a notification instead of throwing', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    expect(parseNotifications({ notificationMessage: [{}, { topic: 42 }, message('tns1:VideoSource/MotionAlarm', 'State', true, 'Changed', 'not a date')] }, now))
      .toEqual([{ kind: 'motion', topic: 'tns1:VideoSource/MotionAlarm', active: true, at: now, initial: false }]);
  });
});
