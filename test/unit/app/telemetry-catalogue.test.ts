import { describe, expect, it } from 'vitest';
import {
  attributeKeys,
  persistenceAttributes,
  persistenceSpan,
} from '../../../src/app/telemetry-catalogue.js';

describe('persistenceAttributes: the db.* conventions of a persistence span, from its name', () => {
  it('names the collection and the operation of a collection call', () => {
    expect(persistenceAttributes(persistenceSpan('deletion_requests', 'get'))).toEqual({
      [attributeKeys.dbSystem]: 'mongodb',
      [attributeKeys.dbCollection]: 'deletion_requests',
      [attributeKeys.dbOperation]: 'get',
    });
  });

  it('names only the operation of a call on no one collection', () => {
    expect(persistenceAttributes(persistenceSpan('migrate'))).toEqual({
      [attributeKeys.dbSystem]: 'mongodb',
      [attributeKeys.dbOperation]: 'migrate',
    });
  });
});
