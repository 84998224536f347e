// The size budget of the browser build, min+gzip, in bytes: one number for `npm run size`, the
// size test and the bench. 4 KB until issue 14; its bounded, cancellable calls cost about 735 B,
// so 5 KB until issue 11 (size-limit, esbuild) brings it back down or settles a new figure.
export const SIZE_BUDGET = 5120;
