// Backstage's own scaffolder rendering, for tests/conformance/scaffolder.
//
// Usage: NODE_PATH=<node_modules> node oracle.js request.json > answer.json
//
// The request holds three lists; each answer is keyed by the item's id:
//
// - skeletons: [{id, skeleton, output, values, options}] runs the real fetch:template
//   handler (createFetchTemplateAction from @backstage/plugin-scaffolder-backend) with
//   a mock action context: workspacePath = output, templateInfo.baseUrl a file:// URL
//   inside the skeleton folder and url '.', so fetchContents copies the skeleton from
//   disk exactly as for a template registered from a file. `options` are the action's
//   other inputs (copyWithoutTemplating, templateFileExtension, cookiecutterCompat,
//   trimBlocks, lstripBlocks, replace). Answer: {ok: true} or {error}.
// - values: [{id, input, context}] renders a step input as NunjucksWorkflowRunner does,
//   by calling the runner's own render(input, context, renderer) with a renderer built
//   as its execute() builds one (Backstage's default filters, regex execution allowed,
//   the always()/failure() globals). Answer: {missing: true} when the result is
//   undefined, else {value}; plus {truthy}: helper.isTruthy(result), what a step's `if`
//   decides from it.
// - texts: [{id, template, context, cookiecutter}] renders with nunjitsu configured as
//   fetch:template configures it (its filters, allowRegexExecution, cookiecutterCompat).
//   Answer: {ok: text} or {error}.
//
// Only what a file:// template needs is real; the UrlReader is never called.

'use strict';

const fs = require('node:fs');
const fsp = require('node:fs/promises');
const os = require('node:os');
const path = require('node:path');

const modules = process.env.NODE_PATH.split(path.delimiter)[0];
const { createFetchTemplateAction } = require('@backstage/plugin-scaffolder-backend');
const { ScmIntegrations } = require('@backstage/integration');
const { ConfigReader } = require('@backstage/config');
const { createTemplateRenderer } = require('nunjitsu');
// Not exported by the package: reached by path, as Backstage's own code at 4.3.0.
const dist = path.join(modules, '@backstage/plugin-scaffolder-backend/dist');
const { NunjucksWorkflowRunner } = require(path.join(dist, 'scaffolder/tasks/NunjucksWorkflowRunner.cjs.js'));
const { isTruthy } = require(path.join(dist, 'scaffolder/tasks/helper.cjs.js'));
const { createDefaultFilters } = require(path.join(dist, 'lib/templating/filters/createDefaultFilters.cjs.js'));
const { convertFiltersToRecord } = require(path.join(dist, 'util/templating.cjs.js'));

const integrations = ScmIntegrations.fromConfig(new ConfigReader({}));
const filters = convertFiltersToRecord(createDefaultFilters({ integrations }));

const silent = { info() {}, warn() {}, error() {}, debug() {}, child() { return silent; } };
const noReader = {
  readTree() { throw new Error('the UrlReader is not used for file:// templates'); },
  readUrl() { throw new Error('the UrlReader is not used for file:// templates'); },
  search() { throw new Error('the UrlReader is not used for file:// templates'); },
};

async function renderSkeleton(item, scratch) {
  const action = createFetchTemplateAction({ reader: noReader, integrations });
  const temporary = [];
  const ctx = {
    input: { url: '.', values: item.values, ...item.options },
    workspacePath: item.output,
    templateInfo: { baseUrl: 'file://' + path.join(item.skeleton, 'template.yaml'), entityRef: 'template:default/conformance' },
    logger: silent,
    output() {},
    async createTemporaryDirectory() {
      const dir = await fsp.mkdtemp(path.join(scratch, 'tmp-'));
      temporary.push(dir);
      return dir;
    },
    async checkpoint({ fn }) { return fn(); },
    getInitiatorCredentials: async () => ({}),
    isDryRun: false,
    signal: undefined,
    each: undefined,
  };
  await fsp.mkdir(item.output, { recursive: true });
  try {
    await action.handler(ctx);
    return { ok: true };
  } catch (error) {
    return { error: String(error && error.message ? error.message : error) };
  }
}

function runnerRenderer() {
  return createTemplateRenderer({
    allowRegexExecution: true,
    filters,
    globals: { always: () => true, failure: () => false },
  });
}

function renderValue(item) {
  const renderer = runnerRenderer();
  const context = renderer.prepareContext(item.context);
  const result = NunjucksWorkflowRunner.prototype.render.call(null, item.input, context, renderer);
  const truthy = isTruthy(result);
  return result === undefined ? { missing: true, truthy } : { value: result, truthy };
}

function renderText(item) {
  const renderer = createTemplateRenderer({
    filters,
    allowRegexExecution: true,
    cookiecutterCompat: !!item.cookiecutter,
  });
  try {
    return { ok: renderer.render(item.template, item.context) };
  } catch (error) {
    return { error: String(error.message) };
  }
}

async function main() {
  const request = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const scratch = await fsp.mkdtemp(path.join(os.tmpdir(), 'backlot-scaffolder-oracle-'));
  const answer = { skeletons: {}, values: {}, texts: {} };
  try {
    for (const item of request.skeletons || []) {
      answer.skeletons[item.id] = await renderSkeleton(item, scratch);
    }
    for (const item of request.values || []) {
      answer.values[item.id] = renderValue(item);
    }
    for (const item of request.texts || []) {
      answer.texts[item.id] = renderText(item);
    }
  } finally {
    await fsp.rm(scratch, { recursive: true, force: true });
  }
  process.stdout.write(JSON.stringify(answer));
}

main().catch(error => {
  process.stderr.write(String(error && error.stack ? error.stack : error) + '\n');
  process.exit(1);
});
