import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { installable, isVersionSpec, pickVersion, reduceSpecs, satisfiesAll } from './versions.ts';

const available = ['0.9.0', '1.0.0', '1.1.0', '1.2.0-rc1', '2.0.0', '2.1.0b1'];

describe("hub version specifiers follow dbt_common's semver", () => {
  it('accepts only full versions with an optional matcher, as dbt (1.0 is not a version)', () => {
    for (const s of ['1.0.0', '>=1.0.0', '<2.0.0', '=1.2.3', '<=0.1.0', '>1.0.0-rc.1', '1.0.0b1']) assert.ok(isVersionSpec(s), s);
    for (const s of ['1.0', '^1.0.0', '~1.0.0', '1.x', '>= 1.0.0 <2', 'latest']) assert.ok(!isVersionSpec(s), s);
  });

  it('picks the highest installable version inside every range (resolve_to_specific_version)', () => {
    const r = reduceSpecs(['>=1.0.0', '<2.0.0'])!;
    assert.equal(pickVersion(r, installable(available, false)), '1.1.0');
    assert.equal(pickVersion(reduceSpecs(['1.0.0'])!, installable(available, false)), '1.0.0');
    assert.equal(pickVersion(reduceSpecs([])!, installable(available, false)), '2.0.0');
  });

  it('offers pre-releases only when asked (filter_installable), sorted oldest first', () => {
    assert.deepEqual(installable(available, false), ['0.9.0', '1.0.0', '1.1.0', '2.0.0']);
    assert.deepEqual(installable(available, true), ['0.9.0', '1.0.0', '1.1.0', '1.2.0-rc1', '2.0.0', '2.1.0b1']);
    assert.equal(pickVersion(reduceSpecs(['>=2.0.0'])!, installable(available, true)), '2.1.0b1');
  });

  it('intersects requirements from several requirers; disjoint ones reduce to null (VersionsNotCompatibleError)', () => {
    assert.equal(pickVersion(reduceSpecs(['>=1.0.0', '<3.0.0', '<=1.0.0'])!, available), '1.0.0');
    assert.equal(reduceSpecs(['<2.0.0', '>=2.0.0']), null);
    assert.equal(reduceSpecs(['1.0.0', '1.1.0']), null);
  });

  it("checks a hub version's require_dbt_version against the dbt version", () => {
    assert.ok(satisfiesAll('1.8.0', ['>=1.3.0', '<3.0.0']));
    assert.ok(!satisfiesAll('1.8.0', ['>=1.9.0']));
    assert.ok(satisfiesAll('1.8.0', []));
  });
});
