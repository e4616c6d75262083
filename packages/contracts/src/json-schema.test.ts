import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { EVENT_CATALOG, EVENT_TYPES } from './event-catalog';
import { JSON_SCHEMA_DIALECT, allJsonSchemas, eventJsonSchema } from './json-schema';

// What an outside consumer does with the published documents: load them into its own validator.
function outsideValidator() {
  const ajv = new Ajv2020({ strict: false, allErrors: true, discriminator: true });
  addFormats(ajv);
  return ajv;
}

describe('emitted JSON Schemas', () => {
  const documents = allJsonSchemas();

  it('cover every event type and the public HTTP bodies', () => {
    expect(Object.keys(documents)).toEqual(
      expect.arrayContaining([
        ...EVENT_TYPES.map((t) => `events/${t}.v1.json`),
        'http/problem.json',
        'http/usage-event.json',
      ]),
    );
  });

  it('are plain 2020-12 documents with an id each', () => {
    const ids = Object.values(documents).map((d) => d.$id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const document of Object.values(documents)) {
      expect(document.$schema).toBe(JSON_SCHEMA_DIALECT);
      expect(JSON.parse(JSON.stringify(document))).toEqual(document);
    }
  });

  it.each(EVENT_TYPES.map((t) => [t]))(
    '%s: a standalone validator accepts its examples and rejects a broken one',
    (type) => {
      // given the published document of the type, loaded outside UsageFlow
      const validate = outsideValidator().compile(eventJsonSchema(type));
      // then the catalog examples pass
      for (const example of EVENT_CATALOG[type].examples) expect(validate(example)).toBe(true);
      // and an example of another type does not
      const other = EVENT_TYPES.find((t) => t !== type) ?? type;
      expect(validate(EVENT_CATALOG[other].examples[0])).toBe(false);
    },
  );

  it('inline the data schema (no $ref to resolve)', () => {
    expect(JSON.stringify(documents)).not.toContain('"$ref"');
  });
});
