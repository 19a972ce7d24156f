import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TsdbtError } from '../errors.ts';
import { assertModelIsSelect, firstToken } from './model-statement.ts';

const node = (raw: string) => ({ name: 'm', raw_code: raw, original_file_path: 'models/m.sql' });
const fails = (raw: string, rendered = raw): TsdbtError => {
  try {
    assertModelIsSelect(node(raw), rendered);
  } catch (e) {
    assert.ok(e instanceof TsdbtError);
    assert.equal(e.code, 'model-not-select');
    return e;
  }
  assert.fail(`accepted: ${rendered}`);
};

test('queries pass: select, with, values, table, parenthesised, after comments; empty SQL passes', () => {
  for (const sql of ['select 1', '  WITH a as (select 1) select * from a', 'values (1)', 'table x', '(select 1) union (select 2)', '-- c\n/* block\n */\nselect 1', '', '-- only a comment']) {
    assertModelIsSelect(node(sql), sql);
  }
  assert.deepEqual(firstToken('/* a */ -- b\n  Select'), { word: 'select', offset: 15 });
});

test('a DELETE is refused at its line, naming the statement and hooks', () => {
  const e = fails('-- remove test orders\ndelete from {{ ref("orders") }}\nwhere id < 0', '-- remove test orders\ndelete from "s"."orders"\nwhere id < 0');
  assert.equal(e.location, 'models/m.sql:2:1');
  assert.match(e.message, /DELETE/);
  assert.match(e.hint ?? '', /post_hook/);
});

test('CREATE TABLE names the object kind and says to keep only the SELECT', () => {
  const e = fails("{{ config(materialized='table') }}\n  create or replace table x as\nselect 1", '\n  create or replace table x as\nselect 1');
  assert.equal(e.location, 'models/m.sql:2:3');
  assert.match(e.message, /CREATE OR REPLACE TABLE/);
  assert.match(e.hint ?? '', /keep only the SELECT.*materialized/);
});

test('rendered lines that differ from the file: the line of the file that starts with the keyword', () => {
  const raw = '{% if true %}\n{% set x = 1 %}\n{% endif %}\n\ninsert into t select 1';
  const e = fails(raw, 'insert into t select 1');
  assert.equal(e.line, 5);
  assert.match(e.message, /INSERT INTO/);
});
