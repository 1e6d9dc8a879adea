import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findRelationInText, relationOfPhrase, relationOneHot } from '../../src/guidance/relations.ts';

test('every phrasing the reference lists names its relation', () => {
  const cases: Array<[string, string]> = [
    ['to the left of', 'left of'],
    ['on the left of', 'left of'],
    ['left of', 'left of'],
    ['to the right of', 'right of'],
    ['on the right of', 'right of'],
    ['right of', 'right of'],
    ['above', 'above'],
    ['on the top of', 'above'],
    ['below', 'below'],
    ['on the bottom of', 'below'],
    ['near', 'near'],
    ['next to', 'near'],
    ['on side of', 'near'],
    ['  On The  Left Of ', 'left of'],
  ];
  for (const [phrase, relation] of cases) assert.equal(relationOfPhrase(phrase), relation, phrase);
});

test('"and", "on top of" and "on bottom of" are known and carry no spatial term, as in the reference; others are unknown', () => {
  for (const phrase of ['and', 'on top of', 'on bottom of']) assert.equal(relationOfPhrase(phrase), null, phrase);
  for (const phrase of ['left', 'top of', 'beside', '']) assert.equal(relationOfPhrase(phrase), undefined, phrase);
  assert.deepEqual(relationOneHot(null), [0, 0, 0, 0, 0]);
});

test('a relation read from text takes the longest listed phrasing, and none for "on top of"', () => {
  assert.equal(findRelationInText('a dog to the left of a cup'), 'left of');
  assert.equal(findRelationInText('a bee on the top of a car'), 'above');
  assert.equal(findRelationInText('a girl on top of a horse'), null);
  assert.equal(findRelationInText('a mouse on bottom of a key'), null);
  assert.equal(findRelationInText('a cat next to a dog'), 'near');
  assert.equal(findRelationInText('a dog and a cat'), null);
  assert.equal(findRelationInText('a nearby dog and a cat'), null, 'whole words only');
});
