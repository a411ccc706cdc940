/**
 * The general argument checks (lib/internal/validate.ts) every public entry point uses: the error
 * class (TypeError for a wrong type, ValueError — a RangeError — for a value out of range) and a
 * message naming the argument and the value received.
 */
import { describe as group, expect, test } from '@jest/globals';
import { ValueError } from 'threadkit';
import {
  booleanOption, checkMilliseconds, checkTimeout, describe, optionsObject, positiveInteger, stringArray,
} from '../../lib/internal/validate';

group('validate', () => {
  test('describe names the kind of value and, for primitives, the value', () => {
    expect(describe(null)).toBe('null');
    expect(describe(undefined)).toBe('undefined');
    expect(describe('5')).toBe('string "5"');
    expect(describe('x'.repeat(50))).toBe(`string "${'x'.repeat(40)}…"`);
    expect(describe(1.5)).toBe('number 1.5');
    expect(describe(2n)).toBe('bigint 2');
    expect(describe(false)).toBe('boolean false');
    expect(describe(function named() {})).toBe('function named');
    expect(describe({})).toBe('object');
    expect(describe([])).toBe('[object Array]');
    expect(describe(Symbol('s'))).toBe('symbol');
  });

  test('checkTimeout: undefined or a non-negative number, Infinity included', () => {
    expect(checkTimeout(undefined)).toBeUndefined();
    expect(checkTimeout(0)).toBe(0);
    expect(checkTimeout(Infinity)).toBe(Infinity);
    expect(() => checkTimeout(-1)).toThrow(ValueError);
    expect(() => checkTimeout(NaN, 'options.timeout')).toThrow('Expected `options.timeout` to be a non-negative number of milliseconds, got NaN');
    expect(() => checkTimeout('5')).toThrow(new TypeError('Expected `timeout` to be a number of milliseconds or undefined, got string "5"'));
  });

  test('checkMilliseconds: as checkTimeout, but undefined is a TypeError too', () => {
    expect(checkMilliseconds(0, 'ms')).toBe(0);
    expect(() => checkMilliseconds(undefined, 'ms')).toThrow(new TypeError('Expected `ms` to be a number of milliseconds, got undefined'));
    expect(() => checkMilliseconds(-0.5, 'interval')).toThrow(new ValueError('Expected `interval` to be a non-negative number of milliseconds, got -0.5'));
  });

  test('positiveInteger, booleanOption, optionsObject and stringArray take undefined as their default', () => {
    expect(positiveInteger(undefined, 'n', 7)).toBe(7);
    expect(positiveInteger(3, 'n', 7)).toBe(3);
    expect(() => positiveInteger(0, 'maxWorkers', 1)).toThrow(new ValueError('Expected `maxWorkers` to be a positive integer, got 0'));
    expect(() => positiveInteger('2', 'maxWorkers', 1)).toThrow(TypeError);
    expect(booleanOption(undefined, 'wait', true)).toBe(true);
    expect(() => booleanOption(1, 'wait', true)).toThrow('Expected `wait` to be a boolean, got number 1');
    expect(optionsObject(undefined)).toEqual({});
    expect(() => optionsObject(3 as never)).toThrow('Expected `options` to be an object, got number 3');
    const flags = ['--a'];
    expect(stringArray(undefined, 'execArgv')).toEqual([]);
    expect(stringArray(flags, 'execArgv')).not.toBe(flags);
    expect(() => stringArray(['--a', 1], 'execArgv')).toThrow('Expected `execArgv` to be an array of strings, got [object Array]');
  });
});
