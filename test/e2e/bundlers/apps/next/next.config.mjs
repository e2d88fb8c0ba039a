// No transpilePackages, no webpack or Turbopack rule: the package must work as it ships.
// NEXT_DIST_DIR keeps the Turbopack and the webpack build of the matrix apart.
export default { distDir: process.env.NEXT_DIST_DIR || '.next' };
