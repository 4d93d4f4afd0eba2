#!/usr/bin/env node
/*
 * Backstage's own accept/reject verdict for catalog descriptor files.
 *
 * Usage: node oracle.js <input.json>
 *   input.json: [{"id": "...", "path": "/abs/file.yaml"}, ...]
 * Prints on stdout:
 *   {"<id>": {"verdicts": [{"accepted": bool, "reason": str, "entityRef": str|null,
 *                           "line": int, "endLine": int}],
 *             "fileError": null | str}}
 * with one verdict per non-empty YAML document of the file, in file order
 * (reason is "" when accepted; line/endLine: the document's 1-based lines).
 *
 * The packages are resolved through NODE_PATH (or a node_modules folder next to
 * this script): @backstage/catalog-model, @backstage/plugin-scaffolder-common
 * and yaml, pinned in package.json.
 *
 * What is emulated, step by step, is what the catalog backend
 * (@backstage/plugin-catalog-backend, default CatalogBuilder set-up plus the
 * scaffolder entity-model module) does to each document of a file location:
 *
 *  1. parseEntityYaml: yaml.parseAllDocuments(text) with default options
 *     (YAML 1.2 core schema, no merge keys, unique keys). A document with
 *     errors is rejected (first error); a document whose toJSON() is null is
 *     skipped (no verdict); anything but a plain object is rejected.
 *  2. ProcessorOutputCollector: the envelope schema, then
 *     `metadata.annotations || {}` must be an object, and the two location
 *     annotations are added (this is why `annotations: ~` is accepted).
 *  3. Pre-processing: PlaceholderProcessor resolves `$text` / `$json` / `$yaml`
 *     (an object with exactly one key, a known resolver and a string value;
 *     a non-string value throws). Paths are resolved relative to the
 *     descriptor's folder. Remote URLs are not fetched: they reject the entity
 *     with a reason that says so.
 *  4. Policies: EntityPolicies.allOf([SchemaValidEntityPolicy,
 *     DefaultNamespaceEntityPolicy, NoForeignRootFieldsEntityPolicy,
 *     FieldFormatEntityPolicy]).
 *  5. Validation: the entity schema again, then every processor's
 *     validateEntityKind: BuiltinKindsEntityProcessor (the eight built-in
 *     validators) and ScaffolderEntitiesProcessor (Template v1beta3). A throw
 *     rejects; if none returns true: "No processor recognized the entity".
 *  6. Post-processing: every relation field the backend turns into a
 *     relation is parsed with parseEntityRef(target, {defaultKind,
 *     defaultNamespace: <the entity's namespace>}); a throw rejects.
 *
 * Not emulated: reading the targets of Location entities, remote placeholder
 * URLs, catalog rules (allowed kinds per location), conflicts between entities.
 */
'use strict';

const fs = require('fs');
const path = require('path');

function fatal(message) {
  process.stderr.write(`oracle.js: ${message}\n`);
  process.exit(3);
}

let YAML;
let catalogModel;
let scaffolderCommon;
try {
  YAML = require('yaml');
  catalogModel = require('@backstage/catalog-model');
  scaffolderCommon = require('@backstage/plugin-scaffolder-common');
} catch (e) {
  fatal(`cannot load the oracle's npm packages (set NODE_PATH): ${e.message}`);
}

const REQUIRED_EXPORTS = {
  yaml: [YAML, ['parseAllDocuments']],
  '@backstage/catalog-model': [
    catalogModel,
    [
      'EntityPolicies',
      'SchemaValidEntityPolicy',
      'DefaultNamespaceEntityPolicy',
      'NoForeignRootFieldsEntityPolicy',
      'FieldFormatEntityPolicy',
      'entityEnvelopeSchemaValidator',
      'entitySchemaValidator',
      'stringifyEntityRef',
      'getCompoundEntityRef',
      'parseEntityRef',
      'ANNOTATION_LOCATION',
      'ANNOTATION_ORIGIN_LOCATION',
      'apiEntityV1alpha1Validator',
      'componentEntityV1alpha1Validator',
      'resourceEntityV1alpha1Validator',
      'groupEntityV1alpha1Validator',
      'locationEntityV1alpha1Validator',
      'userEntityV1alpha1Validator',
      'systemEntityV1alpha1Validator',
      'domainEntityV1alpha1Validator',
    ],
  ],
  '@backstage/plugin-scaffolder-common': [
    scaffolderCommon,
    ['templateEntityV1beta3Validator'],
  ],
};
for (const [pkg, [mod, names]] of Object.entries(REQUIRED_EXPORTS)) {
  const missing = names.filter(n => mod[n] === undefined);
  if (missing.length) {
    fatal(`${pkg} does not export ${missing.join(', ')}`);
  }
}

const {
  EntityPolicies,
  SchemaValidEntityPolicy,
  DefaultNamespaceEntityPolicy,
  NoForeignRootFieldsEntityPolicy,
  FieldFormatEntityPolicy,
  ANNOTATION_LOCATION,
  ANNOTATION_ORIGIN_LOCATION,
} = catalogModel;

const validateEnvelope = catalogModel.entityEnvelopeSchemaValidator();
const validateEntity = catalogModel.entitySchemaValidator();

const policy = EntityPolicies.allOf([
  new SchemaValidEntityPolicy(),
  new DefaultNamespaceEntityPolicy(),
  new NoForeignRootFieldsEntityPolicy(),
  new FieldFormatEntityPolicy(),
]);

// The processors that implement validateEntityKind, in the backend's order.
const KIND_PROCESSORS = [
  {
    name: 'BuiltinKindsEntityProcessor',
    validators: [
      catalogModel.apiEntityV1alpha1Validator,
      catalogModel.componentEntityV1alpha1Validator,
      catalogModel.resourceEntityV1alpha1Validator,
      catalogModel.groupEntityV1alpha1Validator,
      catalogModel.locationEntityV1alpha1Validator,
      catalogModel.userEntityV1alpha1Validator,
      catalogModel.systemEntityV1alpha1Validator,
      catalogModel.domainEntityV1alpha1Validator,
    ],
  },
  {
    name: 'ScaffolderEntitiesProcessor',
    validators: [scaffolderCommon.templateEntityV1beta3Validator],
  },
];

// [spec field, default kind] per kind, as BuiltinKindsEntityProcessor emits them.
const RELATION_FIELDS = {
  Component: [
    ['owner', 'Group'],
    ['subcomponentOf', 'Component'],
    ['providesApis', 'API'],
    ['consumesApis', 'API'],
    ['dependsOn', undefined],
    ['dependencyOf', undefined],
    ['system', 'System'],
  ],
  API: [
    ['owner', 'Group'],
    ['system', 'System'],
  ],
  Resource: [
    ['owner', 'Group'],
    ['dependsOn', undefined],
    ['dependencyOf', undefined],
    ['system', 'System'],
  ],
  User: [['memberOf', 'Group']],
  Group: [
    ['parent', 'Group'],
    ['children', 'Group'],
    ['members', 'User'],
  ],
  System: [
    ['owner', 'Group'],
    ['domain', 'Domain'],
  ],
  Domain: [
    ['owner', 'Group'],
    ['subdomainOf', 'Domain'],
  ],
};

class Rejection extends Error {
  constructor(stage, cause) {
    super(`${stage}: ${describe(cause)}`);
  }
}

function describe(e) {
  if (e instanceof Error) {
    let text = e.message;
    if (e.cause instanceof Error && !text.includes(e.cause.message)) {
      text += `; caused by ${e.cause.message}`;
    }
    return text.split('\n')[0];
  }
  return String(e).split('\n')[0];
}

function isPlainObject(value) {
  if (Object.prototype.toString.call(value) !== '[object Object]') {
    return false;
  }
  const proto = Object.getPrototypeOf(value);
  return proto === null || proto === Object.prototype;
}

/* ---------------------------------------------------------------- placeholders */

function readPlaceholderText(key, value, baseDir) {
  if (typeof value !== 'string') {
    throw new Error(
      `Placeholder $${key} expected a string value parameter, in the form of an absolute URL or a relative path`,
    );
  }
  if (/^[a-zA-Z][a-zA-Z0-9+.-]+:/.test(value)) {
    throw new Error(
      `Placeholder $${key} points at ${value}; the oracle does not read remote locations`,
    );
  }
  try {
    return fs.readFileSync(path.resolve(baseDir, value)).toString('utf-8');
  } catch (e) {
    throw new Error(
      `Placeholder $${key} could not read location ${value}, ${e.message}`,
    );
  }
}

const RESOLVERS = {
  text(key, value, baseDir) {
    return readPlaceholderText(key, value, baseDir);
  },
  json(key, value, baseDir) {
    const content = readPlaceholderText(key, value, baseDir);
    try {
      return JSON.parse(content);
    } catch (e) {
      throw new Error(
        `Placeholder $${key} failed to parse JSON data at ${value}, ${e}`,
      );
    }
  },
  yaml(key, value, baseDir) {
    const content = readPlaceholderText(key, value, baseDir);
    let documents;
    try {
      documents = YAML.parseAllDocuments(content, { merge: false }).filter(
        d => d,
      );
    } catch (e) {
      throw new Error(
        `Placeholder $${key} failed to parse YAML data at ${value}, ${e}`,
      );
    }
    if (documents.length !== 1) {
      throw new Error(
        `Placeholder $${key} expected to find exactly one document of data at ${value}, found ${documents.length}`,
      );
    }
    const document = documents[0];
    if (document.errors?.length) {
      throw new Error(
        `Placeholder $${key} found an error in the data at ${value}, ${document.errors[0]}`,
      );
    }
    return document.toJSON();
  },
};

// Returns [value, changed], like the backend's PlaceholderProcessor.
function resolvePlaceholders(data, baseDir) {
  if (!data || !(data instanceof Object)) {
    return [data, false];
  }
  if (Array.isArray(data)) {
    const items = data.map(item => resolvePlaceholders(item, baseDir));
    return items.every(([, changed]) => !changed)
      ? [data, false]
      : [items.map(([item]) => item), true];
  }
  const keys = Object.keys(data);
  if (!keys.some(k => k.startsWith('$'))) {
    const entries = Object.entries(data).map(([k, v]) => [
      k,
      resolvePlaceholders(v, baseDir),
    ]);
    return entries.every(([, [, changed]]) => !changed)
      ? [data, false]
      : [Object.fromEntries(entries.map(([k, [v]]) => [k, v])), true];
  }
  if (keys.length !== 1) {
    return [data, false];
  }
  const resolverKey = keys[0].substring(1);
  const resolver = Object.prototype.hasOwnProperty.call(RESOLVERS, resolverKey)
    ? RESOLVERS[resolverKey]
    : undefined;
  if (!resolver) {
    return [data, false];
  }
  return [resolver(resolverKey, data[keys[0]], baseDir), true];
}

/* ---------------------------------------------------------------- the steps */

async function judgeEntity(raw, file) {
  let entity = raw;

  // ProcessorOutputCollector: envelope, then the location annotations.
  try {
    entity = validateEnvelope(entity);
  } catch (e) {
    throw new Rejection('envelope', e);
  }
  const annotations = entity.metadata.annotations || {};
  if (typeof annotations !== 'object' || Array.isArray(annotations)) {
    throw new Rejection(
      'annotations',
      new Error('metadata.annotations must be a valid object'),
    );
  }
  const location = `file:${file}`;
  entity = {
    ...entity,
    metadata: {
      ...entity.metadata,
      annotations: {
        ...annotations,
        [ANNOTATION_ORIGIN_LOCATION]: location,
        [ANNOTATION_LOCATION]: location,
      },
    },
  };
  const entityRef = catalogModel.stringifyEntityRef(entity);

  // Pre-processing: placeholders.
  try {
    [entity] = resolvePlaceholders(entity, path.dirname(file));
  } catch (e) {
    throw new Rejection('placeholder', e);
  }

  // Policies.
  try {
    entity = await policy.enforce(entity);
  } catch (e) {
    throw new Rejection('policy', e);
  }
  if (!entity) {
    throw new Rejection('policy', new Error('Policy returned no data'));
  }

  // Validation.
  if (catalogModel.stringifyEntityRef(entity) !== entityRef) {
    throw new Rejection(
      'validate',
      new Error('The entity kind, namespace, or name changed during processing'),
    );
  }
  try {
    validateEntity(entity);
  } catch (e) {
    throw new Rejection('validate', e);
  }
  let valid = false;
  for (const processor of KIND_PROCESSORS) {
    try {
      for (const validator of processor.validators) {
        if (await validator.check(entity)) {
          valid = true;
          break;
        }
      }
    } catch (e) {
      throw new Rejection(
        'validate',
        new Error(`${processor.name} threw: ${describe(e)}`),
      );
    }
  }
  if (!valid) {
    throw new Rejection(
      'validate',
      new Error(
        `No processor recognized the entity ${entityRef} as valid, possibly caused by a foreign kind or apiVersion`,
      ),
    );
  }

  // Post-processing: the references that become relations.
  const selfNamespace = catalogModel.getCompoundEntityRef(entity).namespace;
  const fields = [...(RELATION_FIELDS[entity.kind] ?? [])];
  if (
    entity.apiVersion === 'scaffolder.backstage.io/v1beta3' &&
    entity.kind === 'Template'
  ) {
    fields.push(['owner', 'Group']);
  }
  for (const [field, defaultKind] of fields) {
    const targets = entity.spec?.[field];
    if (!targets) {
      continue;
    }
    for (const target of [targets].flat()) {
      try {
        catalogModel.parseEntityRef(target, {
          defaultKind,
          defaultNamespace: selfNamespace,
        });
      } catch (e) {
        throw new Rejection('relation', new Error(`spec.${field}: ${describe(e)}`));
      }
    }
  }
  return entityRef;
}

async function judgeFile(file) {
  let text;
  try {
    text = fs.readFileSync(file).toString('utf8');
  } catch (e) {
    return { verdicts: [], fileError: `cannot read ${file}: ${e.message}` };
  }
  // The line counter only records where lines start; parsing is unchanged.
  const lineCounter = new YAML.LineCounter();
  let documents;
  try {
    documents = YAML.parseAllDocuments(text, { lineCounter }).filter(d => d);
  } catch (e) {
    return { verdicts: [], fileError: `Failed to parse YAML, ${describe(e)}` };
  }
  const verdicts = [];
  const verdict = (document, accepted, reason, entityRef = null) => {
    const [start, , end] = document.range ?? [0, 0, 0];
    verdicts.push({
      accepted,
      reason,
      entityRef,
      line: lineCounter.linePos(start).line,
      endLine: lineCounter.linePos(Math.max(start, end - 1)).line,
    });
  };
  for (let i = 0; i < documents.length; i++) {
    const document = documents[i];
    if (document.errors?.length) {
      verdict(document, false, `yaml: ${describe(document.errors[0])}`);
      continue;
    }
    let json;
    try {
      json = document.toJSON();
    } catch (e) {
      // The backend's parser throws out of the whole file at this point.
      for (let j = i; j < documents.length; j++) {
        verdict(documents[j], false, `yaml: ${describe(e)}`);
      }
      break;
    }
    if (json === null || json === undefined) {
      continue;
    }
    if (!isPlainObject(json)) {
      const type = Array.isArray(json) ? 'object (an array)' : typeof json;
      verdict(document, false, `yaml: Expected object at root, got ${type}`);
      continue;
    }
    try {
      verdict(document, true, '', await judgeEntity(json, file));
    } catch (e) {
      verdict(document, false, describe(e));
    }
  }
  return { verdicts, fileError: null };
}

async function main() {
  const inputPath = process.argv[2];
  if (!inputPath) {
    fatal('usage: node oracle.js <input.json>');
  }
  let items;
  try {
    items = JSON.parse(fs.readFileSync(inputPath, 'utf8'));
  } catch (e) {
    fatal(`cannot read ${inputPath}: ${e.message}`);
  }
  if (!Array.isArray(items)) {
    fatal('the input must be a JSON array of {id, path}');
  }
  const result = {};
  for (const item of items) {
    result[item.id] = await judgeFile(path.resolve(item.path));
  }
  process.stdout.write(JSON.stringify(result));
}

main().catch(e => fatal(e && e.stack ? e.stack : String(e)));
