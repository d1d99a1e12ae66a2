/** One page of tasks, newest first; each filter is served by an index (state, type, tags GIN). */
export const listTasksSql = (s: string) => `
SELECT * FROM ${s}.tasks
 WHERE ($1::text IS NULL OR state = $1)
   AND ($2::text IS NULL OR namespace = $2)
   AND ($3::text IS NULL OR name = $3)
   AND ($4::text IS NULL OR tags @> ARRAY[$4::text])
   AND ($5::bigint IS NULL OR id < $5)
 ORDER BY id DESC
 LIMIT $6`;
