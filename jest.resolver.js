/**
 * Jest resolver: the Kubernetes model packages (kubernetes-models, @kubernetes-models/*) and two of their
 * dependencies publish ES modules only (package.json "exports" with an `import` condition and no `require`), which
 * jest's CommonJS resolution cannot find. For those packages alone, resolve with the `import` condition; jest.config.js
 * transforms them to CommonJS. Everything else resolves as before.
 */
const ESM_ONLY = /^(kubernetes-models|@kubernetes-models\/[^/]+|is-cidr|cidr-regex)(\/|$)/;

module.exports = (request, options) =>
  ESM_ONLY.test(request)
    ? options.defaultResolver(request, { ...options, conditions: ['import', 'node', 'default'] })
    : options.defaultResolver(request, options);
