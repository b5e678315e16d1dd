// src/format.ts: sizes and durations for people.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bytesWithHuman, formatDuration, formatRate, humanBytes, secondsWithHuman } from '../src/format.js';

test('sizes: KiB/MiB/GiB next to the exact bytes', () => {
  assert.equal(humanBytes(0), '0 bytes');
  assert.equal(humanBytes(1), '1 byte');
  assert.equal(humanBytes(1023), '1023 bytes');
  assert.equal(humanBytes(1024), '1.0 KiB');
  assert.equal(humanBytes(68965341), '65.8 MiB');
  assert.equal(humanBytes(188 * 1024 * 1024), '188 MiB');
  assert.equal(humanBytes(5n * 1024n ** 3n), '5.0 GiB');
  assert.equal(bytesWithHuman(68965341), '68965341 bytes (65.8 MiB)');
  assert.equal(bytesWithHuman(512), '512 bytes');
});

test('durations: 7 min 23 s', () => {
  assert.equal(formatDuration(443), '7 min 23 s');
  assert.equal(formatDuration(60), '1 min 0 s');
  assert.equal(formatDuration(59.6), '1 min 0 s');
  assert.equal(formatDuration(42), '42 s');
  assert.equal(formatDuration(2.54), '2.5 s');
  assert.equal(formatDuration(0.25), '250 ms');
  assert.equal(formatDuration(4000), '1 h 6 min');
  assert.equal(secondsWithHuman(1234), '1234 s (20 min 34 s)');
  assert.equal(secondsWithHuman(12), '12 s');
  assert.equal(formatRate(1000, 2, 'entries'), '500 entries/s');
  assert.equal(formatRate(100 * 1024 * 1024, 2, 'bytes'), '50.0 MiB/s');
});
