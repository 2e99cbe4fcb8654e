/** Texts the page shows that the browser test also looks for; one copy so they cannot drift. */

/** Shown in #transcript when a recording held no recognisable speech (the API answers ''). */
export const EMPTY_TRANSCRIPT = 'No speech was recognised in the recording.';
