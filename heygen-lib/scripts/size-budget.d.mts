/** The size budget of the browser build, min+gzip, in bytes (size-budget.mjs). */
export declare const SIZE_BUDGET: number;
